#!/bin/bash
#
# Undo exactly what was done: unstack stops what a stack
# started even after AMQP1_SERVICE changed; a second stack.sh without
# unstack.sh stops the first one's daemons before starting on the new
# config; clean removes only directories it created, and the CA it built
# goes out of the system trust store (DevStack's cleanup_CA).

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

# -- a mode change between stack and unstack ----------------------------------------

for change in qpid-dual/qpid qpid-dual/external qpid/qpid-hybrid; do
    from=${change%/*}
    to=${change#*/}
    sandbox_reset
    localrc "AMQP1_SERVICE=$from" AMQP1_DAEMONS=standin \
        STUB_RUN_PROCESS=background
    devstack_run stack pre-install install
    started=$(ls "$SANDBOX/pids" | sort | tr '\n' ' ')
    localrc "AMQP1_SERVICE=$to"
    : >"$SANDBOX/calls"
    devstack_run unstack
    expected=""
    for name in $started; do
        expected+="stop_process $name"$'\n'
    done
    is "$(calls '^stop_process' | sort)" "${expected%$'\n'}" \
        "$from -> $to: unstack stops every stand-in $from started"
    is "$(ls "$SANDBOX/pids")" "" "$from -> $to: none is left running"
done

# -- stack.sh again without unstack.sh ----------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_DAEMONS=standin STUB_RUN_PROCESS=background
devstack_run stack pre-install install
first=$(cat "$SANDBOX"/pids/* | sort)
# a third port (the sandbox's two are the first stack's): the new config
new_port=$(reserve_ports 1) || BAIL_OUT "no port from amqp1-fixtures port"
localrc AMQP1_SERVICE=qpid "AMQP1_NOTIFY_PORT=$new_port"
: >"$SANDBOX/calls"
devstack_run stack pre-install install
is "$(calls '^(stop_process|run_process)' | cut -d' ' -f1,2)" "stop_process amqp1-router
stop_process amqp1-broker
run_process amqp1-broker" \
    "the second stack.sh stops the first one's stand-ins, then starts the new"
for pid in $first; do
    ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" "the old stand-in $pid is stopped"
done
like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" "port=$new_port" \
    "the new one runs on the new config"
is "$(grep -c '^started=' "$SANDBOX/data/amqp1/devstack.state")" 1 \
    "and only it is recorded as started"
devstack_run unstack

# -- clean removes only what it created ----------------------------------------------

sandbox_reset
# directories that were there before the plugin
mkdir -p "$SANDBOX/etc/sasl2" "$SANDBOX/etc/qpid"
echo "someone else's" >"$SANDBOX/etc/sasl2/other.conf"
localrc AMQP1_SERVICE=qpid-dual AMQP1_DAEMONS=standin AMQP1_USERNAME=alice \
    AMQP1_PASSWORD=secret
devstack_run stack pre-install install
ok "$([[ -d $SANDBOX/etc/qpid-dispatch ]]; echo $?)" \
    "the plugin created etc/qpid-dispatch"
devstack_run unstack
devstack_run clean
is "$DEVSTACK_STATUS" 0 "clean succeeds"
ok "$([[ ! -e $SANDBOX/etc/qpid-dispatch ]]; echo $?)" \
    "clean removes the directory it created"
is "$(cat "$SANDBOX/etc/sasl2/other.conf" 2>/dev/null)" "someone else's" \
    "and leaves a directory it did not create, with its other files"
ok "$([[ -d $SANDBOX/etc/qpid && ! -e $SANDBOX/etc/qpid/qpidd.conf ]]; echo $?)" \
    "an existing directory stays, without the plugin's file"
ok "$([[ ! -e $SANDBOX/data/amqp1 ]]; echo $?)" "the plugin's data directory goes"

# an AMQP1_DATA_DIR that existed is kept, only the plugin's files go
sandbox_reset
mkdir -p "$SANDBOX/mine"
echo keep >"$SANDBOX/mine/keep"
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_DATA_DIR=$SANDBOX/mine"
devstack_run stack pre-install install
devstack_run clean
is "$(ls "$SANDBOX/mine")" "keep" "an existing AMQP1_DATA_DIR keeps what was not the plugin's"

# -- the CA --------------------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True AMQP1_DAEMONS=standin
devstack_run stack pre-install install
is "$(calls '^init_CA')" "init_CA" "without tls-proxy's CA the plugin builds DevStack's"
devstack_run clean
is "$(calls '^cleanup_CA')" "cleanup_CA" \
    "clean takes that CA out of the system trust store (DevStack's cleanup_CA)"

sandbox_reset
echo "tls-proxy's CA" >"$SANDBOX/data/ca-bundle.pem"
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True AMQP1_DAEMONS=standin
devstack_run stack pre-install install
devstack_run clean
is "$(calls '^(init_CA|cleanup_CA)')" "" \
    "a CA the plugin did not build is not its to remove"
is "$(find "$SANDBOX/data/CA" -name 'amqp1-router*' 2>/dev/null)" "" \
    "but its own certificate goes"

# -- a pid recorded long ago may be somebody else's now ---------------------------
# pid_max is 32768 on many machines: a stand-in that exited on its own
# leaves a pidfile whose pid another process may get.  Stopping it (and
# the sandbox's last clean-up) must leave that stranger alone.
sandbox_reset
sleep 300 &
stranger=$!
mkdir -p "$STUB_PIDS"
echo "$stranger" >"$STUB_PIDS/amqp1-router"
# the start time of the stand-in that once had that pid
echo 1 >"$STUB_PIDS/.amqp1-router.started"
_stub_kill amqp1-router
ok "$(kill -0 "$stranger" 2>/dev/null; echo $?)" \
    "a recycled pid in a pidfile is not signalled"
is "$(ls -A "$STUB_PIDS")" "" "and the stale pidfile goes"
kill "$stranger"
wait "$stranger" 2>/dev/null

done_testing
