#!/bin/bash
#
# AMQP1_ROUTER_MESH=True: a router on every node (qpid-dual, qpid-hybrid),
# each subnode's router connected to the controller's (the hub) by an
# inter-router connector with the client listener's SASL and TLS, every
# node's services on their own node's router, notifications still to the
# one broker (or RabbitMQ).  Two and three nodes, each stacked in the
# sandbox in turn; what is checked is each node's rendered qdrouterd.conf
# (also parsed by the stand-ins' parser and compared with what the
# fixtures' renderer writes for the same mesh: conf_match.py) and the
# URLs its services get.  The daemons are recorded, not started: main's
# router stand-in does not join a mesh yet (tests/functional/router holds
# the mesh's behaviour tests).

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

CONTROLLER=192.0.2.10
PASSWORD='m3sh p@ss:w/rd'
NODES=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-mesh.XXXXXX")
tap_on_exit rm -rf "$NODES"
ROUTER_CONF=etc/qpid-dispatch/qdrouterd.conf

# node name host mode [assignment...]: stack one node (the controller
# when host is CONTROLLER, a subnode otherwise: no broker of its own) and
# keep its qdrouterd.conf and its services' URLs in $NODES/name
function node {
    local name=$1 host=$2 mode=$3 extra=()
    shift 3
    if [[ $host != "$CONTROLLER" ]]; then
        extra=(ENABLED_SERVICES=n-cpu,placement-client
            DISABLED_SERVICES=amqp1-broker)
        if [[ $mode == qpid-hybrid ]]; then
            extra+=("RABBIT_HOST=$CONTROLLER" RABBIT_PASSWORD=rabbitsecret)
        fi
    fi
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" AMQP1_ROUTER_MESH=True "HOST_IP=$host" \
        "SERVICE_HOST=$CONTROLLER" AMQP1_USERNAME=stack \
        "AMQP1_PASSWORD=$PASSWORD" ${extra[@]+"${extra[@]}"} "$@"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova /etc/nova/nova.conf"
    is "$DEVSTACK_STATUS" 0 "$name ($mode, $host): stack.sh's plugin phases succeed"
    [[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"
    mkdir -p "$NODES/$name"
    cp "$SANDBOX/$ROUTER_CONF" "$NODES/$name/qdrouterd.conf"
    ini_get /etc/nova/nova.conf DEFAULT transport_url >"$NODES/$name/rpc"
    ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url \
        >"$NODES/$name/notify"
}

# router_id name: the id in a node's kept qdrouterd.conf
function router_id {
    sed -n 's/^    id: //p' "$NODES/$1/qdrouterd.conf"
}

# -- two and three nodes, each mode ---------------------------------------------

for mode in qpid-dual qpid-hybrid; do
    note "AMQP1_SERVICE=$mode with AMQP1_ROUTER_MESH=True"
    rm -rf "${NODES:?}"/*

    node controller "$CONTROLLER" "$mode"
    conf=$(cat "$NODES/controller/qdrouterd.conf")
    like "$conf" $'router \\{\n    mode: interior\n    id: devstack.amqp1.192-0-2-10\n' \
        "$mode controller: an interior router named after its address"
    like "$conf" $'listener \\{\n    host: 192.0.2.10\n    port: 55672\n    role: inter-router\n    cost: 1\n    authenticatePeer: yes\n    saslMechanisms: PLAIN\n\\}' \
        "$mode controller: the hub listens for the other routers, with SASL PLAIN"
    unlike "$conf" "connector" "$mode controller: and connects to none"
    is "$(printf '%s' "$PASSWORD" | conf_match router "$SANDBOX/$ROUTER_CONF" \
            --host "$CONTROLLER" --port "$SANDBOX_ROUTER_PORT" --user stack \
            --log-file "$SANDBOX/logs/qdrouterd.log" \
            --router-id devstack.amqp1.192-0-2-10 --inter-router-port 55672)" "" \
        "$mode controller: its qdrouterd.conf means what render_qdrouterd_conf writes for the hub"
    like "$(printf '%s' "$PASSWORD" | conf_match router "$SANDBOX/$ROUTER_CONF" \
            --host "$CONTROLLER" --port "$SANDBOX_ROUTER_PORT" --user stack \
            --log-file "$SANDBOX/logs/qdrouterd.log" \
            --router-id devstack.amqp1.192-0-2-10)" \
        "^mode: plugin 'interior', renderer 'standalone'"$'\n'"inter_router_listeners: plugin \\[InterRouterListener\\(host='192.0.2.10', port=55672" \
        "$mode controller: (compared with a standalone router's, the mode and the listener differ)"
    like "$(output)" "AMQP1: this node's router \(devstack.amqp1.192-0-2-10\) is the mesh's hub: the other nodes' routers connect to it on 192.0.2.10:55672" \
        "$mode controller: pre-install says it is the hub"

    for n in 1 2; do
        host=192.0.2.1$n
        node "subnode$n" "$host" "$mode"
        conf=$(cat "$NODES/subnode$n/qdrouterd.conf")
        like "$conf" $'listener \\{\n    host: '"$host"$'\n    port: '"$SANDBOX_ROUTER_PORT"$'\n    role: normal\n' \
            "$mode subnode$n: its own router listens on its own address"
        like "$conf" "connector \{
    name: amqp1-mesh-hub
    host: $CONTROLLER
    port: 55672
    role: inter-router
    cost: 1
    saslMechanisms: PLAIN
    saslUsername: stack
    saslPassword: file:$SANDBOX/data/amqp1/qdrouterd/inter-router.password
\}" "$mode subnode$n: it connects to the hub's inter-router listener as the services' user"
        unlike "$conf" "$PASSWORD" "$mode subnode$n: no password in qdrouterd.conf"
        is "$(cat "$SANDBOX/data/amqp1/qdrouterd/inter-router.password")|$(file_mode "$SANDBOX/data/amqp1/qdrouterd/inter-router.password")" \
            "$PASSWORD|600" "$mode subnode$n: the password's file is 0600"
        is "$(printf '%s' "$PASSWORD" | conf_match router "$SANDBOX/$ROUTER_CONF" \
                --host "$host" --port "$SANDBOX_ROUTER_PORT" --user stack \
                --log-file "$SANDBOX/logs/qdrouterd.log" \
                --router-id "devstack.amqp1.192-0-2-1$n" \
                --connect "$CONTROLLER:55672")" "" \
            "$mode subnode$n: its qdrouterd.conf means what render_qdrouterd_conf writes for a router joining the hub"
        like "$(printf 'other' | conf_match router "$SANDBOX/$ROUTER_CONF" \
                --host "$host" --port "$SANDBOX_ROUTER_PORT" --user stack \
                --log-file "$SANDBOX/logs/qdrouterd.log" \
                --router-id "devstack.amqp1.192-0-2-1$n" \
                --connect "$CONTROLLER:55673")" \
            "^users: plugin \\['stack'\\], renderer \\['stack'\\]"$'\n'"connectors: " \
            "$mode subnode$n: (another password and hub port are differences, the password not shown)"
        is "$(calls '^run_process' | cut -d' ' -f2)" amqp1-router \
            "$mode subnode$n: starts its router, no broker"
        ok "$([[ ! -e $SANDBOX/etc/qpid/qpidd.conf ]]; echo $?)" \
            "$mode subnode$n: writes no qpidd.conf"
        like "$(output)" "AMQP1: this node's router \(devstack.amqp1.192-0-2-1$n\) joins the mesh through the hub's at 192.0.2.10:55672" \
            "$mode subnode$n: pre-install says where it joins"
        devstack_run clean
        is "$(find "$SANDBOX/etc" "$SANDBOX/data/amqp1" -type f 2>/dev/null)" "" \
            "$mode subnode$n: clean removes its config, credentials and the password's file"
    done

    # across the nodes
    is "$(for n in controller subnode1 subnode2; do router_id "$n"; done | sort -u | wc -l)" 3 \
        "$mode: three routers, three ids"
    for n in controller subnode1 subnode2; do
        case $n in
            controller) host=$CONTROLLER ;;
            subnode*) host=192.0.2.1${n#subnode} ;;
        esac
        is "$(cat "$NODES/$n/rpc")" "amqp://stack:m3sh%20p%40ss%3Aw%2Frd@$host:$SANDBOX_ROUTER_PORT/" \
            "$mode $n: its services' RPC goes to its own node's router"
        if [[ $mode == qpid-dual ]]; then
            is "$(cat "$NODES/$n/notify")" "amqp://stack:m3sh%20p%40ss%3Aw%2Frd@$CONTROLLER:$SANDBOX_BROKER_PORT/" \
                "$mode $n: notifications to the controller's one qpidd"
        else
            is "$(cat "$NODES/$n/notify")" "rabbit://stackrabbit:rabbitsecret@$CONTROLLER:5672/" \
                "$mode $n: notifications to the controller's RabbitMQ"
        fi
    done
done

# -- TLS: the inter-router connection as the client listener ---------------------------

node controller "$CONTROLLER" qpid-hybrid AMQP1_SSL=True
TLS=$SANDBOX/data/amqp1/qdrouterd/tls
like "$(cat "$SANDBOX/$ROUTER_CONF")" $'role: inter-router\n    cost: 1\n    authenticatePeer: yes\n    saslMechanisms: PLAIN\n    sslProfile: amqp1-tls\n    requireSsl: yes\n' \
    "with AMQP1_SSL the hub's inter-router listener requires TLS, with the router's certificate"
is "$(printf '%s' "$PASSWORD" | conf_match router "$SANDBOX/$ROUTER_CONF" \
        --host "$CONTROLLER" --port "$SANDBOX_ROUTER_PORT" --user stack \
        --log-file "$SANDBOX/logs/qdrouterd.log" --cert "$TLS/router.crt" \
        --key "$TLS/router.key" --router-id devstack.amqp1.192-0-2-10 \
        --inter-router-port 55672)" "" \
    "the TLS hub's qdrouterd.conf means what render_qdrouterd_conf writes"

node subnode1 192.0.2.11 qpid-hybrid AMQP1_SSL=True
conf=$(cat "$SANDBOX/$ROUTER_CONF")
like "$conf" "sslProfile \{
    name: amqp1-mesh-tls
    caCertFile: $SANDBOX/data/ca-bundle.pem
\}" "a subnode's connector verifies the hub against the services' CA"
like "$conf" "saslUsername: stack
    saslPassword: file:[^
]*
    sslProfile: amqp1-mesh-tls
\}" "and uses it, SASL PLAIN inside TLS"
is "$(calls '^make_cert' | cut -d' ' -f3-)" "amqp1-router 192.0.2.11 IP:192.0.2.11" \
    "the subnode's own router gets a certificate for its own address"
is "$(printf '%s' "$PASSWORD" | conf_match router "$SANDBOX/$ROUTER_CONF" \
        --host 192.0.2.11 --port "$SANDBOX_ROUTER_PORT" --user stack \
        --log-file "$SANDBOX/logs/qdrouterd.log" --cert "$TLS/router.crt" \
        --key "$TLS/router.key" --router-id devstack.amqp1.192-0-2-11 \
        --connect "$CONTROLLER:55672" --connector-ca "$SANDBOX/data/ca-bundle.pem")" "" \
    "the TLS subnode's qdrouterd.conf means what render_qdrouterd_conf writes"

# -- without a mesh nothing changes -----------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=stack AMQP1_PASSWORD=x
devstack_run stack pre-install install
like "$(cat "$SANDBOX/$ROUTER_CONF")" $'mode: standalone\n    id: devstack.amqp1\n' \
    "without AMQP1_ROUTER_MESH the router is standalone, as before"
unlike "$(cat "$SANDBOX/$ROUTER_CONF")" "inter-router" "with no inter-router entity"

# -- refusals -----------------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_ROUTER_MESH=True
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "AMQP1_ROUTER_MESH in qpid mode stops stack.sh"
like "$(output)" "AMQP1_ROUTER_MESH=True joins qdrouterd routers into a mesh: it needs AMQP1_SERVICE=qpid-dual or qpid-hybrid, not qpid" \
    "saying which modes have a router"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True HOST_IP=192.0.2.11 \
    "SERVICE_HOST=$CONTROLLER" DISABLED_SERVICES=amqp1-router,amqp1-broker
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "a mesh subnode that disables its router stops stack.sh"
like "$(output)" "keep amqp1-router enabled \(a subnode disables amqp1-broker only\)" \
    "saying what to disable"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True \
    AMQP1_RPC_TRANSPORT_URL=amqp://elsewhere:45672/
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "a mesh with an RPC URL of its own stops stack.sh"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_ROUTER_MESH=True \
    "AMQP1_INTER_ROUTER_PORT=$SANDBOX_BROKER_PORT"
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "an inter-router port that is the broker's stops stack.sh"

done_testing
