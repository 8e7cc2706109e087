#!/bin/bash
#
# Multi-node: the bus on the controller, services on a
# subnode pointed at it through SERVICE_HOST (as DevStack's RABBIT_HOST);
# the subnode's local.conf disables amqp1-router and amqp1-broker, and the
# subnode then installs, writes and starts no daemon, and keeps no secret.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

CONTROLLER=192.0.2.10

# subnode mode [assignment...]: the README's subnode local.conf
function subnode {
    local mode=$1
    shift
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" "SERVICE_HOST=$CONTROLLER" \
        AMQP1_USERNAME=stack AMQP1_PASSWORD=secret \
        ENABLED_SERVICES=n-cpu,placement-client,ovn-controller \
        DISABLED_SERVICES=amqp1-router,amqp1-broker "$@"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova /etc/nova/nova.conf"
}

for mode in qpid qpid-dual qpid-hybrid; do
    extra=()
    if [[ $mode == qpid-hybrid ]]; then
        extra=("RABBIT_HOST=$CONTROLLER" RABBIT_PASSWORD=rabbitsecret)
    fi
    subnode "$mode" ${extra[@]+"${extra[@]}"}
    is "$DEVSTACK_STATUS" 0 "$mode subnode: stack.sh's plugin phases succeed"
    is "$(calls '^(install_package|run_process|restart_service|saslpasswd2|update_package_repo)')" "" \
        "$mode subnode: no daemon installed or started"
    is "$(calls '^(base-python|pip_install /)')" "" \
        "$mode subnode: no stand-in venv"
    is "$(find "$SANDBOX/etc" "$SANDBOX/var" "$SANDBOX/data/amqp1" \
            "$SANDBOX/logs" -mindepth 1 2>/dev/null)" "" \
        "$mode subnode: no daemon config, secret, log or record written"
    case $mode in
        qpid) rpc=$SANDBOX_BROKER_PORT ;;
        *) rpc=$SANDBOX_ROUTER_PORT ;;
    esac
    is "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" \
        "amqp://stack:secret@$CONTROLLER:$rpc/" \
        "$mode subnode: RPC at the controller's $(
            [[ $mode == qpid ]] && echo qpidd || echo qdrouterd)"
    if [[ $mode == qpid-hybrid ]]; then
        is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
            "rabbit://stackrabbit:rabbitsecret@$CONTROLLER:5672/" \
            "$mode subnode: notifications to the controller's RabbitMQ"
    else
        is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
            "amqp://stack:secret@$CONTROLLER:$SANDBOX_BROKER_PORT/" \
            "$mode subnode: notifications at the controller's qpidd"
    fi
    like "$(output)" "AMQP1: RPC go to (qdrouterd|qpidd) at $CONTROLLER:$rpc \(not on this node: amqp1-(router|broker) is disabled\)" \
        "$mode subnode: pre-install says where the bus is"
    devstack_run unstack
    devstack_run clean
    is "$DEVSTACK_STATUS" 0 "$mode subnode: unstack and clean succeed"
    is "$(calls '^(stop_process|stop_service|uninstall_package|sudo rm )')" "" \
        "$mode subnode: and stop or remove nothing"
done

# the controller of the same layout runs the daemons on SERVICE_HOST
sandbox_reset
localrc AMQP1_SERVICE=qpid-dual "SERVICE_HOST=$CONTROLLER" AMQP1_DAEMONS=standin \
    AMQP1_USERNAME=stack AMQP1_PASSWORD=secret
devstack_run stack pre-install install
is "$(calls '^run_process' | cut -d' ' -f2)" "amqp1-router
amqp1-broker" "controller: both daemons run"
like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" "host: $CONTROLLER" \
    "controller: the router listens on SERVICE_HOST, where subnodes reach it"

# a controller may run only one of them (the other disabled)
sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_DAEMONS=standin DISABLED_SERVICES=amqp1-broker
devstack_run stack pre-install install
is "$(calls '^run_process' | cut -d' ' -f2)" "amqp1-router" \
    "is_service_enabled decides per daemon"
ok "$([[ ! -e $SANDBOX/etc/qpid/qpidd.conf ]]; echo $?)" \
    "no config for the daemon that does not run here"

# qpid-hybrid on a subnode needs the controller's RabbitMQ
subnode qpid-hybrid
is "$DEVSTACK_STATUS" 1 "qpid-hybrid subnode without RABBIT_HOST stops stack.sh"
like "$(output)" "on a subnode set RABBIT_HOST and RABBIT_PASSWORD to the controller's" \
    "saying what to set"

done_testing
