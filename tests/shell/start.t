#!/bin/bash
#
# The start checks check the daemon: a port someone else
# holds stops stack.sh before the daemon starts, naming the port and its
# owner; a daemon that exits, or that listens without answering an AMQP
# open, stops it too.  Runs the plugin's real checks (ss, an AMQP open
# through proton) against real processes.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

if ! PY=$(command -v python3) || ! "$PY" -c 'import proton, amqp1_fixtures' 2>/dev/null; then
    plan skip_all "python3 with proton and this project is needed for the AMQP open"
fi
plan no_plan
sandbox_create

# a stand-ins' venv whose python is the real one (with proton) and whose
# amqp1-fixtures is $1
function fake_venv {
    local venv=$SANDBOX/venv-$2
    mkdir -p "$venv/bin"
    # a wrapper, not a link: python finds its venv through its own path
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$PY" >"$venv/bin/python"
    chmod +x "$venv/bin/python"
    ln -sf "$1" "$venv/bin/amqp1-fixtures"
    echo "$venv"
}

# listener port: a process holding the port without speaking AMQP
function listener {
    cat >"$SANDBOX/bin/listener" <<'EOF'
import socket
import sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
conns = []
while True:
    conns.append(s.accept()[0])
EOF
    "$PY" "$SANDBOX/bin/listener" "$1" &
    LISTENER=$!
    tap_on_exit "kill $LISTENER 2>/dev/null"
    until timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; do
        sleep 0.1
    done
}

# the sandbox's reserved port (devstack_stubs.sh), named in local.conf
port=$SANDBOX_BROKER_PORT

# -- a busy port ---------------------------------------------------------------------

listener "$port"
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_NOTIFY_PORT=$port" PYTHONPATH= \
    AMQP1_START_TIMEOUT=10
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a port another process holds stops stack.sh"
like "$(output)" "port $port, where qpidd is to listen on 127.0.0.1, is in use by python3[.0-9]* \(pid $LISTENER\): stop that \(a RabbitMQ left by unstack.sh without --all\?\) or set AMQP1_NOTIFY_PORT to a free port" \
    "naming the port, its owner and the setting"
is "$(calls '^run_process')" "" "before the daemon is started"

# the mesh's hub also listens for the other routers: a busy inter-router
# port stops stack.sh the same way, before the router starts
sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True AMQP1_DAEMONS=standin \
    HOST_IP=127.0.0.1 SERVICE_HOST=127.0.0.1 "AMQP1_INTER_ROUTER_PORT=$port" \
    "AMQP1_DEFAULT_PORT=$SANDBOX_ROUTER_PORT" AMQP1_NOTIFY_PORT=1 PYTHONPATH= \
    AMQP1_START_TIMEOUT=10
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "the hub's inter-router port held by another process stops stack.sh"
like "$(output)" "port $port, where qdrouterd is to listen for the other routers on 127.0.0.1, is in use by python3[.0-9]* \(pid $LISTENER\): stop that .* or set AMQP1_INTER_ROUTER_PORT to a free port" \
    "naming the port, its owner and AMQP1_INTER_ROUTER_PORT"
is "$(calls '^run_process')" "" "before the router is started"

# -- a daemon that listens but does not answer AMQP ----------------------------------

# the port held by the "daemon" itself: its pid is the unit's MainPID
cat >"$SANDBOX/bin/mute-daemon" <<EOF
#!/bin/bash
exec "$PY" -c '
import re, socket, sys
port = int(re.search(r"^port=(\d+)", open(sys.argv[1]).read(), re.M).group(1))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(5)
conns = []
while True:
    conns.append(s.accept()[0])
' "\${@: -1}"
EOF
chmod +x "$SANDBOX/bin/mute-daemon"
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_NOTIFY_PORT=$port" PYTHONPATH= \
    AMQP1_START_TIMEOUT=3 STUB_RUN_PROCESS=background \
    "AMQP1_STANDIN_VENV=$(fake_venv "$SANDBOX/bin/mute-daemon" mute)"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a daemon that never answers an AMQP open stops stack.sh"
like "$(output)" "qpidd is not answering an AMQP open on 127.0.0.1:$port after 3s \(Timeout: .*\); see $SANDBOX/logs/qpidd.log and the journal of devstack@amqp1-broker.service" \
    "pointing at its log and unit"
devstack_run unstack

# -- a daemon that exits ------------------------------------------------------------

printf '#!/bin/sh\necho "port in use" >&2\nexit 3\n' >"$SANDBOX/bin/dying-daemon"
chmod +x "$SANDBOX/bin/dying-daemon"
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_NOTIFY_PORT=$port" PYTHONPATH= \
    AMQP1_START_TIMEOUT=10 STUB_RUN_PROCESS=background \
    "AMQP1_STANDIN_VENV=$(fake_venv "$SANDBOX/bin/dying-daemon" dying)"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a daemon that exits stops stack.sh"
like "$(output)" "qpidd \(devstack@amqp1-broker.service\) is not running: it exited right after it started; see $SANDBOX/logs/qpidd.log and the journal of devstack@amqp1-broker.service" \
    "saying so, with where to look"

# -- the real stand-in passes -------------------------------------------------------

PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_NOTIFY_PORT=$port" PYTHONPATH= \
    AMQP1_USERNAME=alice AMQP1_PASSWORD='s3cr:t@' AMQP1_START_TIMEOUT=60 \
    STUB_RUN_PROCESS=background "AMQP1_STANDIN_VENV=$PREFIX"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 0 "the stand-in passes the start check"
like "$(output)" "qpidd \(devstack@amqp1-broker.service, pid [0-9]+\) answers AMQP on 127.0.0.1:$port" \
    "after an AMQP open with its credentials"
devstack_run unstack

# a mesh subnode whose router cannot reach the hub's: stack.sh waits
# AMQP1_START_TIMEOUT for a message from the hub, then stops naming it
# (the hub here: a port nothing listens on)
sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True AMQP1_DAEMONS=standin \
    HOST_IP=127.0.0.1 SERVICE_HOST=192.0.2.10 DISABLED_SERVICES=amqp1-broker \
    AMQP1_MESH_HUB=127.0.0.2 "AMQP1_MESH_HUB_PORT=$port" \
    "AMQP1_DEFAULT_PORT=$SANDBOX_ROUTER_PORT" PYTHONPATH= AMQP1_USERNAME=alice \
    AMQP1_PASSWORD='s3cr:t@' AMQP1_START_TIMEOUT=2 \
    STUB_RUN_PROCESS=background "AMQP1_STANDIN_VENV=$PREFIX" \
    "STUB_XTRACE=$SANDBOX/xtrace"
started=$SECONDS
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a mesh subnode whose router does not join the hub's stops stack.sh"
like "$(output)" "this node's router \(devstack.amqp1.127-0-0-1\) has not joined the hub's at 127.0.0.2:$port within 2s \(.*Connection refused.*\): is the hub's stack.sh done, its router listening for routers on 127.0.0.2:55672 \(AMQP1_INTER_ROUTER_PORT\)" \
    "naming the hub's host and port and what to check"
like "$((SECONDS - started))" "^([0-9]|1[0-9])$" "within its bounded wait"
like "$(grep -c _amqp1_wait_mesh_joined "$SANDBOX/xtrace")" "^[1-9]" \
    "the wait is traced"
is "$(grep -hF -e 's3cr:t@' -e 's3cr%3At%40' "$SANDBOX/xtrace" "$SANDBOX/out")" "" \
    "the password appears nowhere, trace included"
devstack_run unstack

# a wrong password in the open is refused: the check really authenticates
sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_DAEMONS=standin "AMQP1_NOTIFY_PORT=$port" PYTHONPATH= \
    AMQP1_USERNAME=alice AMQP1_PASSWORD=right AMQP1_START_TIMEOUT=60 \
    STUB_RUN_PROCESS=background "AMQP1_STANDIN_VENV=$PREFIX"
devstack_run stack pre-install install -- \
    'AMQP1_PASSWORD=wrong; _amqp1_amqp_open broker || echo "status $?"'
like "$(cat "$SANDBOX/after")" "unauthorized-access.*
status 1" "an AMQP open with a wrong password fails, saying why"
devstack_run unstack

done_testing
