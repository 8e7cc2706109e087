#!/bin/bash
#
# What stops stack.sh early, with a message that says what to do: missing
# passwords, settings that cannot work together, oslo.messaging without
# its amqp driver, a daemon that does not come up.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

# dies_before_install name regex: the last stack died with a message
# matching regex, before installing anything
function dies_before_install {
    is "$DEVSTACK_STATUS" 1 "$1: stack.sh stops"
    like "$(output)" "$2" "$1: the message says why"
    is "$(calls '^(install_package|pip_install|run_process|restart_service)')" \
        "" "$1: nothing was installed or started"
}

# -- passwords --------------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=alice
devstack_run stack pre-install install
dies_before_install "username without password" \
    "AMQP1_USERNAME=alice is set but AMQP1_PASSWORD is empty: set AMQP1_PASSWORD in local.conf"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=alice \
    STUB_READ_PASSWORD=typed-at-the-prompt
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 0 "in stack.sh the missing password is asked for"
is "$(calls '^read_password')" "read_password AMQP1_PASSWORD" \
    "with stack.sh's read_password, into AMQP1_PASSWORD"
is "$(cat "$SANDBOX/data/amqp1/qdrouterd/qdrouterd.credentials")" \
    "alice:typed-at-the-prompt" "and the password typed is the one used"

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_USERNAME=alice STUB_READ_PASSWORD=
devstack_run stack pre-install install
dies_before_install "empty answer at the prompt" "AMQP1_PASSWORD is empty"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual \
    AMQP1_RPC_TRANSPORT_URL=amqp://bob@127.0.0.1:45672
devstack_run stack pre-install install
dies_before_install "URL with a user and no password" \
    "the URL of the qdrouterd names user 'bob' but no password"

# -- settings that cannot work ------------------------------------------------------

for mode in qpid qpid-dual; do
    sandbox_reset
    localrc AMQP1_SERVICE=$mode AMQP1_SSL=True
    devstack_run stack pre-install install
    dies_before_install "AMQP1_SSL with $mode" \
        "AMQP1_SSL=True secures the qdrouterd listener only.*qpidd does TLS only with an NSS certificate database.*Use AMQP1_SERVICE=qpid-hybrid or external"
done

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_DEFAULT_PORT=5672
devstack_run stack pre-install install
dies_before_install "router and broker on one port" \
    "qdrouterd and qpidd cannot both listen on port 5672"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_DEFAULT_PORT=5672
devstack_run stack pre-install install
dies_before_install "qpid-hybrid router on RabbitMQ's port" \
    "in qpid-hybrid mode RabbitMQ listens on 5672"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid ENABLED_SERVICES=mysql,key
devstack_run stack pre-install install
dies_before_install "qpid-hybrid without rabbit" \
    "qpid-hybrid sends notifications through DevStack's RabbitMQ: enable the rabbit service"

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DEFAULT_PORT=5673
devstack_run stack pre-install install
dies_before_install "qpid with two ports" \
    "AMQP1_SERVICE=qpid runs one qpidd for RPC and notifications"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual \
    'AMQP1_RPC_TRANSPORT_URL=amqp://r1:45672,r2:45672'
devstack_run stack pre-install install
dies_before_install "several hosts for a deployed router" \
    "URLs with several hosts need AMQP1_SERVICE=external"

sandbox_reset
localrc AMQP1_SERVICE=qpid SERVICE_HOST=
devstack_run stack pre-install install
dies_before_install "no address" "no address for the qpidd listener: set AMQP1_HOST"

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin \
    AMQP1_RPC_TRANSPORT_URL=amqp://a%3Ab:pw@127.0.0.1:5672 \
    AMQP1_NOTIFY_TRANSPORT_URL=amqp://a%3Ab:pw@127.0.0.1:5672
devstack_run stack pre-install install
dies_before_install "a colon in a stand-in username" \
    "the stand-in's credentials file cannot hold a username with a colon \('a:b'\)"

# -- oslo.messaging without the amqp driver ---------------------------------------
# a real python runs the check, finding fake_oslo_messaging's dist-info

REAL_PYTHON="PYTHON=$SANDBOX/bin/python"

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
localrc AMQP1_SERVICE=qpid-dual "$REAL_PYTHON"
devstack_run stack pre-install install post-config
is "$DEVSTACK_STATUS" 0 "oslo.messaging 14.9.3 with its amqp driver passes the check"
is "$(grep -c "oslo.messaging 14.9.3 provides the amqp driver" "$SANDBOX/out")" 2 \
    "checked in the install and post-config phases"

sandbox_reset
fake_oslo_messaging 15.0.0
localrc AMQP1_SERVICE=qpid-dual "$REAL_PYTHON"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "oslo.messaging 15: stack.sh stops in the install phase"
like "$(output)" "oslo.messaging 15.0.0 installed for $SANDBOX/bin/python has no 'amqp' driver: it was removed in oslo.messaging 15.0. Install oslo.messaging<15" \
    "the message names the installed version and what to do"
is "$(calls '^run_process')" "" "no daemon started for services that cannot use it"

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
echo 'raise ImportError("libqpid-proton-core.so.10: cannot open")' \
    >"$SANDBOX/site/pyngus.py"
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "unimportable client libraries stop stack.sh"
like "$(output)" "oslo.messaging 14.9.3 has the amqp driver but .* cannot import its client libraries \(pyngus: libqpid-proton-core.so.10: cannot open\)" \
    "naming the library and the error"

sandbox_reset
fake_oslo_messaging none
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install post-config
is "$DEVSTACK_STATUS" 0 "no oslo.messaging yet (no service installed it) is not fatal"
like "$(calls '^warn')" "oslo.messaging is not installed for .* yet" \
    "but is reported"

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install -- \
    'fake_oslo_messaging 15.1.0; source "$REPO_DIR/devstack/plugin.sh" stack post-config'
is "$DEVSTACK_STATUS" 1 "a later install that upgrades oslo.messaging is caught in post-config"
like "$(output)" "oslo.messaging 15.1.0 installed" "with the new version"
fake_oslo_messaging 14.9.3 amqp

sandbox_reset
localrc AMQP1_SERVICE=qpid PYTHON=/nonexistent/python3
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a PYTHON that does not run stops stack.sh"
like "$(output)" "cannot run /nonexistent/python3 to check oslo.messaging" \
    "saying which python"

# -- a daemon that does not come up -----------------------------------------------

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin AMQP1_START_TIMEOUT=1 \
    "AMQP1_NOTIFY_PORT=$port"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a daemon that never listens stops stack.sh"
like "$(output)" "qpidd is not accepting connections on 127.0.0.1:$port after 1s; see $SANDBOX/logs/qpidd.log and the journal of devstack@amqp1-broker.service" \
    "pointing at its log and unit"

done_testing
