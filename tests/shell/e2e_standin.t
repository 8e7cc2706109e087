#!/bin/bash
#
# End to end, without systemd: the plugin's stack phases with the
# stand-ins selected (AMQP1_DAEMONS=standin), in their own venv, and
# run_process starting them in the background; then an OpenStack-like
# service (e2e_client.py, with a config file from the plugin's
# iniset_rpc_backend) makes an oslo.messaging RPC call and sends a
# notification, for qpid, qpid-dual and qpid-hybrid (a private RabbitMQ
# node for its notifications), plain and with TLS, with each driver
# generation: oslo.messaging 14.x's own driver, and 18.x with this
# project's driver/ installed by the plugin's pip_install (run for real
# into a venv the test builds, as DevStack's pip_install does into
# $DEVSTACK_VENV).  Per mode also a subnode (the same machine, its own
# data directory, no daemons) whose service uses the controller's bus; a
# mode change between stack and unstack; a second stack.sh without
# unstack; then unstack and clean leave nothing running and nothing on
# disk.
#
# Needs a python with oslo.messaging<15, pyngus and python-qpid-proton
# (python3 on PATH, or AMQP1_E2E_PYTHON) with this checkout installed
# (the stand-ins' venv); skipped otherwise.  The 18.x generation builds
# its venv at AMQP1_E2E_VENV (default .tox/e2e-om18, reused) with pip.
# qpid-hybrid also needs rabbitmq-server (AMQP1_RABBITMQ_SERVER, or
# Debian's path, or PATH).

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

# the password goes through URLs, credentials files and config files
PASSWORD='e2e p@ss:w/rd%'

# -- what the test needs ----------------------------------------------------------

# e2e_python: a python whose oslo.messaging has the amqp driver
function e2e_python {
    local candidate
    for candidate in ${AMQP1_E2E_PYTHON:-} python3; do
        if "$candidate" - 2>/dev/null <<'PYEOF'
from importlib import metadata
import proton  # noqa
import pyngus  # noqa
dist = metadata.distribution('oslo.messaging')
assert 'amqp' in {ep.name for ep in dist.entry_points
                  if ep.group == 'oslo.messaging.drivers'}
PYEOF
        then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# new_python: a venv with oslo.messaging 18.x and no amqp driver yet
# (the plugin installs driver/ into it); built once, reused
function new_python {
    local venv=${AMQP1_E2E_VENV:-$REPO_DIR/.tox/e2e-om18}
    if [[ ! -x "$venv/bin/python" ]] || \
            ! "$venv/bin/python" -c 'import oslo_messaging' 2>/dev/null; then
        "$PY" -m venv "$venv" >&2 || return 1
        "$venv/bin/pip" install -q 'oslo.messaging>=18,<19' 2>&1 | \
            grep -v '^WARNING: Location' >&2
        "$venv/bin/python" -c 'import oslo_messaging' || return 1
    fi
    echo "$venv/bin/python"
}

# listening port: is something accepting connections on 127.0.0.1:port?
function listening {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

if ! PY=$(e2e_python); then
    plan skip_all "no python with oslo.messaging's amqp driver, pyngus and proton (python3 on PATH or AMQP1_E2E_PYTHON)"
fi
# the stand-ins' venv for most scenarios: that python's, if it runs this
# checkout (tox's shell env does); the first scenario builds its own
STANDIN_VENV=$("$PY" -c 'import sys; print(sys.prefix)')
if ! "$PY" -c 'import amqp1_fixtures' 2>/dev/null || \
        ! "$STANDIN_VENV/bin/amqp1-fixtures" serve --help >/dev/null 2>&1; then
    plan skip_all "this checkout is not installed for $PY (amqp1-fixtures serve)"
fi

plan no_plan
note "python: $PY"
note "stand-ins: $STANDIN_VENV (and one venv the plugin builds)"
sandbox_create
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
# the ports: the sandbox's two for the daemons, and four more from the
# same allocator for the RabbitMQ node (AMQP, epmd, Erlang distribution)
# and restack's second qpidd; all held until this script exits
read -r RABBIT_PORT RABBIT_EPMD_PORT RABBIT_DIST_PORT RESTACK_PORT \
    <<<"$(reserve_ports 4 | tr '\n' ' ')"
if [[ -z "$RESTACK_PORT" ]]; then
    BAIL_OUT "no ports from amqp1-fixtures port"
fi
# and three for the mesh: two subnodes' routers and the hub's
# inter-router listener
read -r MESH_PORT1 MESH_PORT2 MESH_IR_PORT \
    <<<"$(reserve_ports 3 | tr '\n' ' ')"
if [[ -z "$MESH_IR_PORT" ]]; then
    BAIL_OUT "no ports from amqp1-fixtures port"
fi

NEW_PY=""
if [[ -f "$REPO_DIR/driver/setup.cfg" ]]; then
    if NEW_PY=$(new_python); then
        note "oslo.messaging 18.x python: $NEW_PY"
    else
        NEW_PY=""
        diag "could not build the oslo.messaging 18.x venv"
    fi
fi

# -- a private RabbitMQ node, as DevStack's rabbit service --------------------------

RABBIT_DIR=""

# rabbit_start: start the node in the background (it boots while the
# first scenarios run); false when RabbitMQ is not installed
function rabbit_start {
    local server ctl
    server=${AMQP1_RABBITMQ_SERVER:-/usr/lib/rabbitmq/bin/rabbitmq-server}
    if [[ ! -x "$server" ]] && ! server=$(command -v rabbitmq-server); then
        return 1
    fi
    ctl=$(dirname "$server")/rabbitmqctl
    if ! command -v epmd >/dev/null || [[ ! -x "$ctl" ]]; then
        return 1
    fi
    RABBIT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-e2e-rabbit.XXXXXX")
    tap_on_exit rabbit_stop
    echo "[]." >"$RABBIT_DIR/enabled_plugins"
    echo "log.console.level = warning" >"$RABBIT_DIR/rabbitmq.conf"
    : >"$RABBIT_DIR/rabbitmq-env.conf"
    # rabbitmqctl for the node: same HOME (cookie) and epmd
    cat >"$RABBIT_DIR/rabbitmqctl" <<EOF
#!/bin/sh
exec env HOME=$RABBIT_DIR ERL_EPMD_PORT=$RABBIT_EPMD_PORT \\
    RABBITMQ_CONF_ENV_FILE=$RABBIT_DIR/rabbitmq-env.conf \\
    $ctl -n e2e-$$@localhost "\$@"
EOF
    chmod +x "$RABBIT_DIR/rabbitmqctl"
    # its own epmd, so that nothing of it outlives the test
    epmd -port "$RABBIT_EPMD_PORT" -address 127.0.0.1 \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$RABBIT_DIR/epmd.pid"
    env HOME="$RABBIT_DIR" ERL_EPMD_PORT="$RABBIT_EPMD_PORT" \
        RABBITMQ_NODENAME="e2e-$$@localhost" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$RABBIT_PORT" \
        RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
        RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$RABBIT_DIR/log" \
        RABBITMQ_LOGS=- \
        RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins" \
        RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}" \
        "$server" </dev/null >"$RABBIT_DIR/server.out" 2>&1 &
    echo $! >"$RABBIT_DIR/server.pid"
}

# rabbit_ready: wait until the node accepts AMQP connections
function rabbit_ready {
    local i
    for (( i = 0; i < 300; i++ )); do
        if listening "$RABBIT_PORT"; then
            return 0
        fi
        sleep 0.2
    done
    diag "$(tail -n 20 "$RABBIT_DIR/server.out")"
    return 1
}

# rabbit_stop: stop the node and its epmd, remove its files
function rabbit_stop {
    local pid
    if [[ -z "$RABBIT_DIR" ]]; then
        return 0
    fi
    "$RABBIT_DIR/rabbitmqctl" stop >/dev/null 2>&1
    for pid in $(cat "$RABBIT_DIR/server.pid" "$RABBIT_DIR/epmd.pid" \
            2>/dev/null); do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$RABBIT_DIR"
    RABBIT_DIR=""
}

# -- a CA for AMQP1_SSL (DevStack's lib/tls is stubbed) -----------------------------

function make_ca {
    STUB_CA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-e2e-ca.XXXXXX")
    tap_on_exit rm -rf "$STUB_CA_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e CA" \
        -keyout "$STUB_CA_DIR/ca.key" -out "$STUB_CA_DIR/ca.crt" 2>/dev/null
}

# -- one scenario ---------------------------------------------------------------------

# ini_render file: the INI file iniset built, from the stub's records
function ini_render {
    awk -F '\t' -v f="$1" '
        $1 == f {
            if (!($2 in seen)) { seen[$2]; sections[++n] = $2 }
            key = $2 SUBSEP $3
            if (!(key in value)) { options[$2] = options[$2] SUBSEP $3 }
            value[key] = $4
        }
        END {
            for (i = 1; i <= n; i++) {
                print "[" sections[i] "]"
                m = split(substr(options[sections[i]], 2), opts, SUBSEP)
                for (j = 1; j <= m; j++) {
                    print opts[j] " = " value[sections[i] SUBSEP opts[j]]
                }
            }
        }' "$SANDBOX/ini"
}

# plain_amqp_reply port: what a listener answers an AMQP 1.0 SASL header
# sent without TLS
function plain_amqp_reply {
    "$PY" - "$1" <<'EOF'
import socket
import sys
with socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5) as s:
    s.settimeout(3)
    s.sendall(b'AMQP\x03\x01\x00\x00')
    try:
        print(repr(s.recv(8)))
    except OSError as exc:
        print(exc)
EOF
}

# leftovers: what is left of the plugin's files in the sandbox
function leftovers {
    find "$SANDBOX/etc" "$SANDBOX/var" "$SANDBOX/logs" "$SANDBOX/data/amqp1" \
        "$SANDBOX/subnode" -mindepth 1 2>/dev/null
    find "$SANDBOX/data" -name '*amqp1*'
}

# stack_pids: the pids of the stand-ins run_process started
function stack_pids {
    local pid
    for pid in "$SANDBOX"/pids/*; do
        if [[ -f "$pid" ]]; then
            cat "$pid"
        fi
    done
}

# service_check name python conf: the service's RPC call and notification
function service_check {
    local name=$1 python=$2 conf=$3 client status
    client=$(timeout 120 "$python" "$TESTS_DIR/e2e_client.py" \
        --config-file "$conf" 2>"$SANDBOX/client.err")
    status=$?
    is "$status" 0 "$name: the service's RPC call and notification work"
    if [[ $status -ne 0 ]]; then
        diag "$(cat "$conf")"
        diag "$(tail -n 30 "$SANDBOX/client.err")"
        diag "$(cat "$SANDBOX"/journal/* "$SANDBOX"/logs/* 2>/dev/null | tail -n 30)"
    fi
    like "$client" "rpc: call answered" "$name: RPC call answered"
    like "$client" "notification: received" "$name: notification received"
}

# scenario generation mode [localrc assignment...]: generation is
# "om14" (oslo.messaging's own driver) or "om18" (this project's)
function scenario {
    local gen=$1 mode=$2 name router_port broker_port port pids=() ports=()
    local conf python uc pip=""
    shift 2
    name="$mode/$gen"
    if [[ " $* " == *" AMQP1_SSL=True "* ]]; then
        name="$mode with TLS/$gen"
    fi
    if [[ " $* " == *" AMQP1_DAEMONS=distro "* ]]; then
        name="$mode with real daemons/$gen"
    fi
    if [[ " $* " == *" AMQP1_NOTIFY_DRIVER=amqp "* ]]; then
        name="$mode, notifications over amqp:// to RabbitMQ 4/$gen"
    fi
    if [[ $gen == om18 ]]; then
        python=$NEW_PY
        uc=18.2.0
        pip=$(dirname "$NEW_PY")/pip
    else
        python=$PY
        uc=14.9.3
    fi
    note "AMQP1_SERVICE=$name"
    sandbox_reset
    if [[ -n "${STUB_CA_DIR:-}" ]]; then
        # as if tls-proxy had built DevStack's CA in this stack.sh run
        cp "$STUB_CA_DIR/ca.crt" "$SANDBOX/data/ca-bundle.pem"
    fi
    router_port=$SANDBOX_ROUTER_PORT
    broker_port=$SANDBOX_BROKER_PORT
    localrc "AMQP1_SERVICE=$mode" AMQP1_DAEMONS=standin \
        AMQP1_USERNAME=e2e "AMQP1_PASSWORD=$PASSWORD" \
        "AMQP1_NOTIFY_PORT=$broker_port" AMQP1_START_TIMEOUT=60 \
        STUB_RUN_PROCESS=background "PYTHON=$python" PYTHONPATH= \
        "STUB_UC_OSLO_MESSAGING=$uc" "STUB_PIP=$pip" \
        "AMQP1_STANDIN_VENV=${E2E_STANDIN_VENV:-$STANDIN_VENV}" \
        "AMQP1_STANDIN_PYTHON=$PY" "$@"
    case $mode in
        qpid)
            # AMQP1_DEFAULT_PORT follows AMQP1_NOTIFY_PORT: one qpidd
            ports=("$broker_port")
            ;;
        qpid-dual)
            ports=("$router_port" "$broker_port")
            localrc "AMQP1_DEFAULT_PORT=$router_port"
            ;;
        qpid-hybrid)
            ports=("$router_port")
            localrc "AMQP1_DEFAULT_PORT=$router_port"
            if [[ " $* " != *" AMQP1_NOTIFY_DRIVER=amqp "* ]]; then
                # the test's RabbitMQ (3.x) node; with the amqp driver
                # the caller gives its RabbitMQ 4 node
                localrc RABBIT_USERID=guest RABBIT_PASSWORD=guest \
                    RABBIT_HOST=127.0.0.1 "RABBIT_PORT=$RABBIT_PORT" \
                    "RABBITMQCTL=$RABBIT_DIR/rabbitmqctl"
            fi
            ;;
    esac
    conf=$SANDBOX/nova.conf

    # stack.sh, then what lib/nova does for a cell conductor
    devstack_run stack pre-install install post-config extra -- \
        "rpc_backend_add_vhost nova_cell1 && iniset_rpc_backend nova $conf DEFAULT nova_cell1"
    is "$DEVSTACK_STATUS" 0 "$name: stack.sh's plugin phases succeed"
    if [[ $DEVSTACK_STATUS -ne 0 ]]; then
        diag "$(output)"
        diag "$(cat "$SANDBOX"/journal/* 2>/dev/null)"
    fi
    if [[ $gen == om18 ]]; then
        like "$(output)" "oslo.messaging 18\.[0-9.]+ provides the amqp driver \(from amqp1-driver\)" \
            "$name: the plugin installed the project's driver for the services"
    else
        like "$(output)" "oslo.messaging 14\.[0-9.]+ provides the amqp driver \(from oslo.messaging\)" \
            "$name: oslo.messaging's own driver"
    fi
    like "$(output)" "answers AMQP on 127.0.0.1:" \
        "$name: the start check saw each daemon answer an AMQP open"
    mapfile -t pids < <(stack_pids)
    is "${#pids[@]}" "${#ports[@]}" "$name: one daemon per port started"
    for port in "${ports[@]}"; do
        ok "$(listening "$port"; echo $?)" "$name: port $port accepts connections"
    done
    ini_render "$conf" >"$conf"
    if [[ $mode == qpid-hybrid && " $* " == *" AMQP1_NOTIFY_DRIVER=amqp "* ]]; then
        like "$(output)" "AMQP1: RabbitMQ 4\.[0-9.]+ answers AMQP 1.0 on 127.0.0.1:" \
            "$name: the plugin asked the RabbitMQ 4 node over AMQP 1.0 which it is"
        like "$(cat "$conf")" "\[oslo_messaging_notifications\]
transport_url = amqp://[^:]+:[^@]+@127.0.0.1:[0-9]+/nova_cell1" \
            "$name: notifications go over amqp:// to RabbitMQ, the cell's virtual host in the path"
    elif [[ $mode == qpid-hybrid ]]; then
        like "$(cat "$conf")" "\[oslo_messaging_notifications\]
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/nova_cell1" \
            "$name: notifications go to RabbitMQ's nova_cell1 vhost"
    fi

    if [[ -n "${STUB_CA_DIR:-}" ]]; then
        like "$(timeout 10 openssl s_client -connect "127.0.0.1:$router_port" \
                -CAfile "$SANDBOX/data/ca-bundle.pem" </dev/null 2>&1)" \
            "Verify return code: 0 \(ok\)" \
            "$name: the router presents a certificate from DevStack's CA"
        unlike "$(plain_amqp_reply "$router_port")" "^b'AMQP" \
            "$name: a plain AMQP connection gets no AMQP answer"
        like "$(cat "$conf")" "\[oslo_messaging_amqp\]
ssl = True
ssl_ca_file = $SANDBOX/data/ca-bundle.pem" \
            "$name: the service is told to use TLS with that CA"
    fi

    # an OpenStack service using that config
    service_check "$name" "$python" "$conf"

    # a subnode: services only, pointed at this controller's bus (once
    # per mode and generation that matters: E2E_SUBNODE)
    if [[ -n "${E2E_SUBNODE:-}" ]]; then
        subnode "$name" "$mode" "$python"
    fi

    # unstack.sh, after a mode change in local.conf, then clean.sh
    localrc AMQP1_SERVICE=external
    devstack_run unstack
    is "$DEVSTACK_STATUS" 0 "$name: unstack succeeds (AMQP1_SERVICE changed to external)"
    for pid in "${pids[@]}"; do
        ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" \
            "$name: unstack stopped stand-in $pid although the mode changed"
    done
    for port in "${ports[@]}"; do
        ok "$(! listening "$port"; echo $?)" "$name: port $port is closed"
    done
    devstack_run clean
    is "$DEVSTACK_STATUS" 0 "$name: clean succeeds"
    is "$(leftovers)" "" "$name: nothing of the plugin is left on disk"
    is "$(pgrep -f -- "$SANDBOX" || true)" "" \
        "$name: no process of this stack is left running"
}

# subnode name mode python: DevStack on a second node (here: this
# machine, its own data and log directories), amqp1-router and
# amqp1-broker disabled, SERVICE_HOST the controller's address; its
# service must reach the controller's daemons (and, in qpid-hybrid, the
# controller's RabbitMQ)
function subnode {
    local name="$1 subnode" mode=$2 python=$3 conf=$SANDBOX/subnode/nova.conf
    mkdir -p "$SANDBOX/subnode/data" "$SANDBOX/subnode/logs"
    cp "$SANDBOX/localrc" "$SANDBOX/localrc.controller"
    cp "$SANDBOX/calls" "$SANDBOX/calls.controller"
    : >"$SANDBOX/calls"
    localrc "DATA_DIR=$SANDBOX/subnode/data" "LOGDIR=$SANDBOX/subnode/logs" \
        "AMQP1_QDROUTERD_CONF=$SANDBOX/subnode/qdrouterd.conf" \
        "AMQP1_QPIDD_CONF=$SANDBOX/subnode/qpidd.conf" \
        "AMQP1_SASL_CONF_DIR=$SANDBOX/subnode/sasl2" \
        DISABLED_SERVICES=amqp1-router,amqp1-broker,rabbit \
        ENABLED_SERVICES=n-cpu,placement-client
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova $conf"
    is "$DEVSTACK_STATUS" 0 "$name: stack.sh's plugin phases succeed"
    if [[ $DEVSTACK_STATUS -ne 0 ]]; then
        diag "$(output)"
    fi
    is "$(calls '^(run_process|restart_service|install_package)')" "" \
        "$name: no daemon installed or started"
    is "$(find "$SANDBOX/subnode" -mindepth 1 ! -path "$SANDBOX/subnode/data" \
            ! -path "$SANDBOX/subnode/logs" 2>/dev/null)" "" \
        "$name: no daemon config, secret or record written"
    like "$(output)" "not on this node: amqp1-(router|broker) is disabled" \
        "$name: pre-install says the bus is elsewhere"
    mkdir -p "$SANDBOX/subnode"
    ini_render "$conf" >"$conf"
    like "$(cat "$conf")" "transport_url = amqp://e2e:[^@]+@127.0.0.1:" \
        "$name: the service points at the controller's bus (SERVICE_HOST)"
    if [[ $mode == qpid-hybrid ]]; then
        like "$(cat "$conf")" "\[oslo_messaging_notifications\]
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/" \
            "$name: and at the controller's RabbitMQ for notifications"
    fi
    service_check "$name" "$python" "$conf"
    devstack_run unstack
    is "$DEVSTACK_STATUS" 0 "$name: unstack succeeds"
    devstack_run clean
    is "$(calls '^(stop_process|stop_service)')" "" \
        "$name: unstack and clean stop nothing (the controller's bus stays)"
    rm -rf "$SANDBOX/subnode"
    cp "$SANDBOX/localrc.controller" "$SANDBOX/localrc"
    cat "$SANDBOX/calls.controller" "$SANDBOX/calls" >"$SANDBOX/calls.all"
    mv "$SANDBOX/calls.all" "$SANDBOX/calls"
}

# -- a router on every node, joined into a mesh (AMQP1_ROUTER_MESH) ------------------

# mesh_node node host router_port [assignment...]: stack one node of the
# mesh on this machine, with its own data, logs, configs and pids under
# $SANDBOX/node and its router on host:router_port (the controller is the
# node at SERVICE_HOST, 127.0.0.1); its service's config is
# $SANDBOX/node/nova.conf
function mesh_node {
    local node=$1 host=$2 port=$3 dir=$SANDBOX/$1
    shift 3
    mkdir -p "$dir/data" "$dir/logs"
    cp "$SANDBOX/localrc.mesh" "$SANDBOX/localrc"
    localrc "HOST_IP=$host" "DATA_DIR=$dir/data" "LOGDIR=$dir/logs" \
        "AMQP1_QDROUTERD_CONF=$dir/qdrouterd.conf" \
        "AMQP1_QPIDD_CONF=$dir/qpidd.conf" "AMQP1_SASL_CONF_DIR=$dir/sasl2" \
        "STUB_PIDS=$dir/pids" "AMQP1_DEFAULT_PORT=$port" "$@"
    cp "$SANDBOX/localrc" "$dir/localrc"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova $dir/nova.ini"
    is "$DEVSTACK_STATUS" 0 "$MESH_NAME $node: stack.sh's plugin phases succeed"
    if [[ $DEVSTACK_STATUS -ne 0 ]]; then
        diag "$(output)"
        diag "$(cat "$SANDBOX"/journal/* 2>/dev/null | tail -n 30)"
    fi
    like "$(output)" "qdrouterd \(devstack@amqp1-router.service, pid [0-9]+\) answers AMQP on $host:$port" \
        "$MESH_NAME $node: its own router (a stand-in) answers on $host:$port"
    ini_render "$dir/nova.ini" >"$dir/nova.conf"
}

# mesh_scenario generation: qpid-dual with AMQP1_ROUTER_MESH=True on a
# controller (127.0.0.1: its router is the hub, and qpidd) and two
# subnodes (127.0.0.2, 127.0.0.3: a router each, no broker), each router
# the stand-in the plugin starts from the qdrouterd.conf it wrote; a
# service on subnode1 calls a server on subnode2 and notifies a listener
# there: the call crosses subnode1's router, the hub and subnode2's
function mesh_scenario {
    local gen=$1 python uc pip="" node client status
    if [[ $gen == om18 ]]; then
        python=$NEW_PY uc=18.2.0 pip=$(dirname "$NEW_PY")/pip
    else
        python=$PY uc=14.9.3
    fi
    MESH_NAME="qpid-dual mesh/$gen"
    note "AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True, three nodes/$gen"
    sandbox_reset
    localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True \
        AMQP1_DAEMONS=standin AMQP1_USERNAME=e2e "AMQP1_PASSWORD=$PASSWORD" \
        "AMQP1_NOTIFY_PORT=$SANDBOX_BROKER_PORT" \
        "AMQP1_INTER_ROUTER_PORT=$MESH_IR_PORT" SERVICE_HOST=127.0.0.1 \
        "AMQP1_MESH_HUB_PORT=$SANDBOX_ROUTER_PORT" \
        AMQP1_START_TIMEOUT=60 STUB_RUN_PROCESS=background "PYTHON=$python" \
        PYTHONPATH= "STUB_UC_OSLO_MESSAGING=$uc" "STUB_PIP=$pip" \
        "AMQP1_STANDIN_VENV=$STANDIN_VENV" "AMQP1_STANDIN_PYTHON=$PY"
    cp "$SANDBOX/localrc" "$SANDBOX/localrc.mesh"
    mesh_node controller 127.0.0.1 "$SANDBOX_ROUTER_PORT"
    ok "$(listening "$MESH_IR_PORT"; echo $?)" \
        "$MESH_NAME controller: the hub listens for the other routers"
    for node in 1 2; do
        mesh_node "subnode$node" "127.0.0.$((node + 1))" \
            "$(eval echo "\$MESH_PORT$node")" \
            DISABLED_SERVICES=amqp1-broker,rabbit \
            ENABLED_SERVICES=n-cpu,placement-client
        like "$(output)" "AMQP1: this node's router \(devstack.amqp1.127-0-0-$((node + 1))\) has joined the mesh: reached 127.0.0.$((node + 1)):[0-9]+ from 127.0.0.1:$SANDBOX_ROUTER_PORT" \
            "$MESH_NAME subnode$node: its stack.sh waited until a message from the hub reached its router"
    done
    like "$(cat "$SANDBOX/controller/logs/qdrouterd.log")" \
        "router devstack.amqp1.127-0-0-2 joined.*
.*router devstack.amqp1.127-0-0-3 joined" \
        "$MESH_NAME: both subnodes' routers joined the hub (SASL PLAIN)"
    like "$(cat "$SANDBOX/subnode1/nova.conf")" \
        "transport_url = amqp://e2e:[^@]+@127.0.0.2:$MESH_PORT1/" \
        "$MESH_NAME subnode1: its service uses its own router"
    like "$(cat "$SANDBOX/subnode2/nova.conf")" \
        "transport_url = amqp://e2e:[^@]+@127.0.0.3:$MESH_PORT2/" \
        "$MESH_NAME subnode2: its service uses its own router"

    client=$(timeout 120 "$python" "$TESTS_DIR/e2e_client.py" \
        --config-file "$SANDBOX/subnode1/nova.conf" \
        --server-config-file "$SANDBOX/subnode2/nova.conf" \
        2>"$SANDBOX/client.err")
    status=$?
    is "$status" 0 "$MESH_NAME: a service on subnode1 calls a server on subnode2 across the mesh, and notifies a listener there through the controller's qpidd"
    if [[ $status -ne 0 ]]; then
        diag "$(tail -n 30 "$SANDBOX/client.err")"
        diag "$(cat "$SANDBOX"/journal/* "$SANDBOX"/*/logs/* 2>/dev/null | tail -n 40)"
    fi
    like "$client" "rpc: call answered" "$MESH_NAME: RPC call answered"
    like "$client" "notification: received" "$MESH_NAME: notification received"

    for node in subnode2 subnode1 controller; do
        cp "$SANDBOX/$node/localrc" "$SANDBOX/localrc"
        devstack_run unstack
        devstack_run clean
        is "$DEVSTACK_STATUS" 0 "$MESH_NAME $node: unstack and clean succeed"
    done
    is "$(pgrep -f -- "$SANDBOX" || true)" "" \
        "$MESH_NAME: no process of the three nodes is left running"
    is "$(find "$SANDBOX"/{controller,subnode1,subnode2} -mindepth 1 \
            ! -name nova.ini ! -name nova.conf ! -name localrc \
            ! -path '*/data' ! -path '*/logs' ! -path '*/pids' 2>/dev/null)" "" \
        "$MESH_NAME: no config, secret or record of the plugin is left"
    rm -rf "$SANDBOX"/{controller,subnode1,subnode2}
}

# -- AMQP1_SERVICE=rabbitmq with a real RabbitMQ 4 ------------------------------------

# rabbitmq4_found: is there a RabbitMQ >= 4 for the fixtures
# ($AMQP1_RABBITMQ4, as tools/run-tests.sh exports it)?
function rabbitmq4_found {
    [[ -n "$("$PY" -c 'from amqp1_fixtures.daemons import rabbitmq4
print(rabbitmq4.find_rabbitmq4_server() or "")' 2>/dev/null)" ]]
}

# rabbitmq4_stop: stop the node rabbitmq4_scenario started, if it runs
function rabbitmq4_stop {
    if [[ -n "${RMQ4_PID:-}" ]]; then
        kill -TERM "$RMQ4_PID" 2>/dev/null
        wait "$RMQ4_PID" 2>/dev/null
    fi
}

# rabbitmq4_scenario: DevStack's RabbitMQ is here a private RabbitMQ 4
# node ("amqp1-fixtures run rabbitmq --daemons", its user standing for
# DevStack's RABBIT_USERID); the plugin asks it over AMQP 1.0 which it is
# (tools/amqp_probe.py, really run), and a service with driver/ makes an
# RPC call and sends a notification through it over amqp://; then
# qpid-hybrid sends its notifications to the node the same way
# (AMQP1_NOTIFY_DRIVER=amqp)
function rabbitmq4_scenario {
    local line url="" rest user pass port name="rabbitmq/om18"
    local pip
    pip=$(dirname "$NEW_PY")/pip
    note "AMQP1_SERVICE=rabbitmq with a RabbitMQ 4 node"
    tap_on_exit rabbitmq4_stop
    coproc RMQ4 {
        exec "$(dirname "$PY")/amqp1-fixtures" run rabbitmq --daemons \
            --user stackrabbit 2>"$SANDBOX/rabbitmq4.err"
    }
    # its export lines come once the node answers AMQP 1.0
    while read -r -t 180 line <&"${RMQ4[0]}"; do
        if [[ $line == "export RPC_TRANSPORT_URL="* ]]; then
            url=${line#*=}
            break
        fi
    done
    if ! ok "$([[ -n $url ]]; echo $?)" "$name: a RabbitMQ 4 node runs"; then
        diag "$(tail -n 20 "$SANDBOX/rabbitmq4.err")"
        return 0
    fi
    rest=${url#amqp://}
    user=${rest%%:*}
    rest=${rest#*:}
    pass=${rest%%@*}
    port=${rest##*:}
    port=${port%%/*}
    sandbox_reset
    localrc AMQP1_SERVICE=rabbitmq "RABBIT_USERID=$user" \
        "RABBIT_PASSWORD=$pass" RABBIT_HOST=127.0.0.1 \
        "AMQP1_DEFAULT_PORT=$port" "AMQP1_NOTIFY_PORT=$port" \
        STUB_AVAILABLE=rabbitmq-server STUB_VERSIONS=rabbitmq-server=4.0.5-1 \
        "PYTHON=$NEW_PY" PYTHONPATH= STUB_UC_OSLO_MESSAGING=18.2.0 \
        "STUB_PIP=$pip"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova $SANDBOX/nova.conf"
    is "$DEVSTACK_STATUS" 0 "$name: stack.sh's plugin phases succeed"
    if [[ $DEVSTACK_STATUS -ne 0 ]]; then
        diag "$(output)"
    fi
    like "$(output)" "AMQP1: RabbitMQ 4\.[0-9.]+ answers AMQP 1.0 on 127.0.0.1:$port as $user" \
        "$name: the plugin asked the node over AMQP 1.0 which it is"
    unlike "$(output)" "$pass" "$name: the password is not in the output"
    ini_render "$SANDBOX/nova.conf" >"$SANDBOX/nova.conf"
    like "$(cat "$SANDBOX/nova.conf")" "transport_url = amqp://$user:[^@]+@127.0.0.1:$port/" \
        "$name: the service's URL is amqp:// to the node"
    service_check "$name" "$NEW_PY" "$SANDBOX/nova.conf"
    devstack_run unstack
    devstack_run clean
    is "$DEVSTACK_STATUS|$(calls '^(stop_process|stop_service|uninstall_package)')" \
        "0|" "$name: unstack and clean leave RabbitMQ alone"

    # qpid-hybrid with AMQP1_NOTIFY_DRIVER=amqp: RPC through the router
    # (a stand-in), notifications over amqp:// to the same node
    scenario om18 qpid-hybrid AMQP1_NOTIFY_DRIVER=amqp "RABBIT_USERID=$user" \
        "RABBIT_PASSWORD=$pass" RABBIT_HOST=127.0.0.1 "AMQP1_NOTIFY_PORT=$port" \
        STUB_AVAILABLE=rabbitmq-server STUB_VERSIONS=rabbitmq-server=4.0.5-1
    rabbitmq4_stop
    RMQ4_PID=""
}

# -- real qdrouterd/qpidd (realqpid), as AMQP1_DAEMONS=distro deploys them --------

# realqpid: the bundle's bin/ (AMQP1_REALQPID, or ../shared/realqpid beside
# the checkout, as CI lays it out)
function realqpid {
    local dir
    for dir in ${AMQP1_REALQPID:-} "$REPO_DIR/../shared/realqpid"; do
        if [[ -x "$dir/bin/qdrouterd" && -x "$dir/bin/qpidd" ]]; then
            (cd "$dir/bin" && pwd)
            return 0
        fi
    done
    return 1
}

# scenario_real generation mode: the distribution path (packages "found",
# sasldb written by the real saslpasswd2, the units restarted) with the
# real daemons started in place of the packages' units
function scenario_real {
    local gen=$1 mode=$2 sasl
    sasl=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v saslpasswd2)
    rm -f "$SANDBOX/bin/saslpasswd2"
    ln -s "$sasl" "$SANDBOX/bin/saslpasswd2"
    scenario "$gen" "$mode" AMQP1_DAEMONS=distro "STUB_REAL_DAEMONS=$REALQPID" \
        "STUB_AVAILABLE=qdrouterd qpidd sasl2-bin libsasl2-modules"
    rm -f "$SANDBOX/bin/saslpasswd2"
    ln -s "$SHELL_TESTS_DIR/fakebin.sh" "$SANDBOX/bin/saslpasswd2"
}

# restack: stack.sh twice without unstack.sh, changing the mode between
# them: the second restarts the stand-ins on the new config
function restack {
    local first second port1 port2 pid_before pids_after
    note "stack.sh again without unstack.sh"
    sandbox_reset
    port1=$SANDBOX_ROUTER_PORT
    port2=$SANDBOX_BROKER_PORT
    localrc AMQP1_SERVICE=qpid-dual AMQP1_DAEMONS=standin \
        AMQP1_USERNAME=e2e "AMQP1_PASSWORD=$PASSWORD" \
        "AMQP1_DEFAULT_PORT=$port1" "AMQP1_NOTIFY_PORT=$port2" \
        AMQP1_START_TIMEOUT=60 STUB_RUN_PROCESS=background "PYTHON=$PY" \
        PYTHONPATH= "AMQP1_STANDIN_VENV=$STANDIN_VENV"
    devstack_run stack pre-install install post-config
    is "$DEVSTACK_STATUS" 0 "restack: the first stack.sh (qpid-dual) succeeds"
    first=$(stack_pids | sort)
    port=$RESTACK_PORT
    localrc AMQP1_SERVICE=qpid "AMQP1_NOTIFY_PORT=$port" AMQP1_DEFAULT_PORT=
    devstack_run stack pre-install install post-config -- \
        "iniset_rpc_backend nova $SANDBOX/nova.conf"
    is "$DEVSTACK_STATUS" 0 "restack: the second stack.sh (qpid) succeeds"
    if [[ $DEVSTACK_STATUS -ne 0 ]]; then
        diag "$(output)"
    fi
    for pid_before in $first; do
        ok "$(! kill -0 "$pid_before" 2>/dev/null; echo $?)" \
            "restack: the first stack's stand-in $pid_before was stopped"
    done
    ok "$(! listening "$port1"; echo $?)" "restack: the old router's port is closed"
    ok "$(listening "$port"; echo $?)" "restack: qpidd listens on the new port"
    ini_render "$SANDBOX/nova.conf" >"$SANDBOX/nova.conf"
    service_check "restack" "$PY" "$SANDBOX/nova.conf"
    pids_after=$(stack_pids)
    devstack_run unstack
    for pid_before in $pids_after; do
        ok "$(! kill -0 "$pid_before" 2>/dev/null; echo $?)" \
            "restack: unstack stopped $pid_before"
    done
    devstack_run clean
    is "$(leftovers)" "" "restack: nothing left on disk"
}

RABBIT=missing
if rabbit_start; then
    RABBIT=started
fi
GENERATIONS="om14"
if [[ -n "$NEW_PY" ]]; then
    GENERATIONS+=" om18"
fi
# the first scenario: the plugin builds the stand-ins' venv itself
first_sub=""
if [[ -z "$NEW_PY" ]]; then
    first_sub=1
fi
E2E_SUBNODE=$first_sub E2E_STANDIN_VENV=$SANDBOX/data/amqp1/venv \
    scenario om14 qpid
# subnodes: every mode with the master generation (om18), and qpid-hybrid
# (the controller's RabbitMQ) with both; om14 alone where om18 is missing
for gen in $GENERATIONS; do
    sub=""
    if [[ $gen == om18 || -z "$NEW_PY" ]]; then
        sub=1
    fi
    if [[ $gen == om18 ]]; then
        E2E_SUBNODE=1 scenario om18 qpid
    fi
    E2E_SUBNODE=$sub scenario "$gen" qpid-dual
    if [[ $RABBIT == started ]] && rabbit_ready; then
        E2E_SUBNODE=1 scenario "$gen" qpid-hybrid
    else
        skip 1 "qpid-hybrid/$gen: no RabbitMQ node (rabbitmq-server and epmd needed)"
    fi
done
if [[ -z "$NEW_PY" ]]; then
    skip 1 "oslo.messaging 18.x: no driver/ in this checkout or no venv could be built"
fi
for gen in $GENERATIONS; do
    mesh_scenario "$gen"
done
if [[ -n "$NEW_PY" ]] && rabbitmq4_found; then
    rabbitmq4_scenario
else
    skip 1 "rabbitmq: no RabbitMQ 4 (AMQP1_RABBITMQ4) or no oslo.messaging 18.x venv"
fi
if REALQPID=$(realqpid); then
    note "real daemons: $REALQPID"
    for gen in $GENERATIONS; do
        scenario_real "$gen" qpid-dual
    done
else
    skip 1 "real daemons: no realqpid bundle (AMQP1_REALQPID or ../shared/realqpid)"
fi
restack
if [[ $RABBIT == started ]] && rabbit_ready; then
    make_ca
    for gen in $GENERATIONS; do
        scenario "$gen" qpid-hybrid AMQP1_SSL=True "STUB_CA_DIR=$STUB_CA_DIR"
    done
    # DevStack's own RabbitMQ is DevStack's to stop; the test's node goes
    rabbit_pids=$(cat "$RABBIT_DIR/server.pid" "$RABBIT_DIR/epmd.pid")
    rabbit_stop
    ok "$(! kill -0 $rabbit_pids 2>/dev/null; echo $?)" \
        "the test's RabbitMQ node and its epmd are stopped too"
fi

done_testing
