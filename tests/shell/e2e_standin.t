#!/bin/bash
#
# End to end, without systemd: the plugin's stack phases with the
# stand-ins selected (AMQP1_DAEMONS=standin) and run_process starting them
# in the background; then an OpenStack-like service (e2e_client.py, with a
# config file from the plugin's iniset_rpc_backend) makes an oslo.messaging
# RPC call and sends a notification, for qpid, qpid-dual and qpid-hybrid
# (a private RabbitMQ node for its notifications), plain and with TLS;
# then unstack and clean leave nothing running and nothing on disk.
#
# Needs a python with oslo.messaging<15, pyngus and python-qpid-proton
# (python3 on PATH, or AMQP1_E2E_PYTHON) and the amqp1-fixtures command
# next to it or on PATH; skipped otherwise.  qpid-hybrid also needs
# rabbitmq-server (AMQP1_RABBITMQ_SERVER, or Debian's path, or PATH).

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

# the password goes through URLs, credentials files and config files
PASSWORD='e2e p@ss:w/rd%'

# -- what the test needs ----------------------------------------------------------

# e2e_python: a python whose oslo.messaging has the amqp driver
function e2e_python {
    local candidate
    for candidate in ${AMQP1_E2E_PYTHON:-} python3; do
        if "$candidate" - 2>/dev/null <<'EOF'
from importlib import metadata
import proton  # noqa
import pyngus  # noqa
dist = metadata.distribution('oslo.messaging')
assert 'amqp' in {ep.name for ep in dist.entry_points
                  if ep.group == 'oslo.messaging.drivers'}
EOF
        then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# free_port: a loopback port nothing listens on now
function free_port {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# listening port: is something accepting connections on 127.0.0.1:port?
function listening {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

if ! PY=$(e2e_python); then
    plan skip_all "no python with oslo.messaging's amqp driver, pyngus and proton (python3 on PATH or AMQP1_E2E_PYTHON)"
fi
FIXTURES=$(dirname "$PY")/amqp1-fixtures
if [[ ! -x "$FIXTURES" ]] && ! FIXTURES=$(command -v amqp1-fixtures); then
    plan skip_all "the amqp1-fixtures command is not installed"
fi
if ! error=$("$FIXTURES" serve --help 2>&1 >/dev/null); then
    plan skip_all "amqp1-fixtures cannot serve: $(tail -n 1 <<<"$error")"
fi

plan no_plan
note "python: $PY"
note "stand-ins: $FIXTURES"
sandbox_create
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)

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
    RABBIT_PORT=$(free_port)
    RABBIT_EPMD_PORT=$(free_port)
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
        RABBITMQ_DIST_PORT="$(free_port)" \
        RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$RABBIT_DIR/log" \
        RABBITMQ_LOGS=- \
        RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins" \
        RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false" \
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
        -mindepth 1 2>/dev/null
    find "$SANDBOX/data" -name '*amqp1*'
}

# scenario mode [localrc assignment...]
function scenario {
    local mode=$1 name=$1 router_port broker_port pid port pids=() ports=()
    local conf client status
    shift
    if [[ " $* " == *" AMQP1_SSL=True "* ]]; then
        name="$mode with TLS"
    fi
    note "AMQP1_SERVICE=$name"
    sandbox_reset
    if [[ -n "${STUB_CA_DIR:-}" ]]; then
        # as if tls-proxy had built DevStack's CA in this stack.sh run
        cp "$STUB_CA_DIR/ca.crt" "$SANDBOX/data/ca-bundle.pem"
    fi
    router_port=$(free_port)
    broker_port=$(free_port)
    localrc "AMQP1_SERVICE=$mode" AMQP1_DAEMONS=standin \
        AMQP1_USERNAME=e2e "AMQP1_PASSWORD=$PASSWORD" \
        "AMQP1_NOTIFY_PORT=$broker_port" AMQP1_START_TIMEOUT=30 STUB_RUN_PROCESS=background \
        "STUB_EXEC_PREFIX=$(dirname "$FIXTURES")" "PYTHON=$PY" PYTHONPATH= \
        "$@"
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
            localrc "AMQP1_DEFAULT_PORT=$router_port" RABBIT_USERID=guest RABBIT_PASSWORD=guest \
                RABBIT_HOST=127.0.0.1 "RABBIT_PORT=$RABBIT_PORT" \
                "RABBITMQCTL=$RABBIT_DIR/rabbitmqctl"
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
    for pid in "$SANDBOX"/pids/*; do
        if [[ -f "$pid" ]]; then
            pids+=("$(cat "$pid")")
        fi
    done
    is "${#pids[@]}" "${#ports[@]}" "$name: one stand-in per daemon started"
    for port in "${ports[@]}"; do
        ok "$(listening "$port"; echo $?)" "$name: port $port accepts connections"
    done
    ini_render "$conf" >"$conf"
    if [[ $mode == qpid-hybrid ]]; then
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
    client=$(timeout 120 "$PY" "$TESTS_DIR/e2e_client.py" \
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

    # unstack.sh, then clean.sh
    devstack_run unstack
    is "$DEVSTACK_STATUS" 0 "$name: unstack succeeds"
    for pid in "${pids[@]}"; do
        ok "$(! kill -0 "$pid" 2>/dev/null; echo $?)" \
            "$name: unstack stopped stand-in $pid"
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

RABBIT=missing
if rabbit_start; then
    RABBIT=started
fi
scenario qpid
scenario qpid-dual
if [[ $RABBIT == started ]] && rabbit_ready; then
    scenario qpid-hybrid
    make_ca
    scenario qpid-hybrid AMQP1_SSL=True "STUB_CA_DIR=$STUB_CA_DIR"
    # DevStack's own RabbitMQ is DevStack's to stop; the test's node goes
    rabbit_pids=$(cat "$RABBIT_DIR/server.pid" "$RABBIT_DIR/epmd.pid")
    rabbit_stop
    ok "$(! kill -0 $rabbit_pids 2>/dev/null; echo $?)" \
        "the test's RabbitMQ node and its epmd are stopped too"
else
    skip 1 "qpid-hybrid: no RabbitMQ node (rabbitmq-server and epmd needed)"
fi

done_testing
