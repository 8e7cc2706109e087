#!/bin/bash
#
# stack.sh runs with xtrace on: the plugin's own code must never print a
# password into that trace (or any output), raw or percent-encoded.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

PASSWORD='Sup3r:s3cr@t/x'
ENCODED='Sup3r%3As3cr%40t%2Fx'

# every mode, the stand-ins and the distribution's daemons (saslpasswd2)
for run in qpid/standin qpid-dual/distro qpid-hybrid/standin \
        qpid-hybrid/distro external/standin; do
    mode=${run%/*}
    flavor=${run#*/}
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" AMQP1_USERNAME=alice \
        "AMQP1_PASSWORD=$PASSWORD" AMQP1_DAEMONS=$flavor \
        STUB_AVAILABLE="qdrouterd qpidd sasl2-bin libsasl2-modules" \
        "STUB_XTRACE=$SANDBOX/xtrace"
    if [[ $mode == qpid-hybrid ]]; then
        localrc AMQP1_SSL=True
    fi
    devstack_run stack pre-install install post-config extra -- \
        'iniset_rpc_backend nova /etc/nova.conf DEFAULT cell1
        iniset_rpc_backend keystone /etc/keystone.conf oslo_messaging_notifications
        rpc_backend_add_vhost cell1'
    is "$DEVSTACK_STATUS" 0 "$mode ($flavor): stack runs under xtrace"
    devstack_run unstack
    devstack_run clean
    like "$(grep -c _amqp1_preflight "$SANDBOX/xtrace")" "^[1-9]" \
        "$mode ($flavor): the plugin's functions are traced"
    is "$(grep -hF -e "$PASSWORD" -e "$ENCODED" "$SANDBOX/xtrace" \
            "$SANDBOX/out")" "" \
        "$mode ($flavor): the password appears nowhere in the trace or output"
    like "$(ini_get /etc/nova.conf DEFAULT transport_url)" "$ENCODED" \
        "$mode ($flavor): yet the services get it"
done

# qpid-hybrid with its notifications over amqp:// to RabbitMQ 4
# (AMQP1_NOTIFY_DRIVER=amqp): DevStack's RabbitMQ password, raw or
# encoded, in no trace line either
sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_NOTIFY_DRIVER=amqp AMQP1_NOTIFY_PORT= \
    AMQP1_USERNAME=alice "AMQP1_PASSWORD=$PASSWORD" "RABBIT_PASSWORD=$PASSWORD" \
    STUB_UC_OSLO_MESSAGING=18.2.0 STUB_UC_PROTON=0.40.0 \
    STUB_AVAILABLE=rabbitmq-server STUB_VERSIONS=rabbitmq-server=4.0.5-1 \
    "STUB_PROBE_ANSWER=RabbitMQ 4.0.5" "STUB_XTRACE=$SANDBOX/xtrace"
devstack_run stack pre-install install post-config extra -- \
    'iniset_rpc_backend nova /etc/nova.conf DEFAULT cell1'
is "$DEVSTACK_STATUS" 0 "qpid-hybrid, notifications over amqp://: stack runs under xtrace"
is "$(grep -hF -e "$PASSWORD" -e "$ENCODED" "$SANDBOX/xtrace" "$SANDBOX/out")" "" \
    "qpid-hybrid, notifications over amqp://: the passwords appear nowhere"
like "$(ini_get /etc/nova.conf oslo_messaging_notifications transport_url)" \
    "^amqp://stackrabbit:$ENCODED@" \
    "qpid-hybrid, notifications over amqp://: yet the services get RabbitMQ's"

# the settings file expands user-given URLs (and the plugin's own
# settings) with stack.sh's xtrace on: not one of its lines is traced
sandbox_reset
localrc AMQP1_SERVICE=external \
    "AMQP1_RPC_TRANSPORT_URL=amqp://alice:$ENCODED@bus.example:5672/" \
    "AMQP1_NOTIFY_TRANSPORT_URL=amqp://alice:$ENCODED@bus.example:5673/" \
    "STUB_XTRACE=$SANDBOX/xtrace"
devstack_run stack pre-install install post-config extra -- \
    'iniset_rpc_backend nova /etc/nova.conf'
is "$DEVSTACK_STATUS" 0 "external with URLs in local.conf: stack runs under xtrace"
is "$(grep -hF -e "$PASSWORD" -e "$ENCODED" "$SANDBOX/xtrace" "$SANDBOX/out")" "" \
    "the URLs' password is in no trace line or output"
is "$(grep -cE 'AMQP1_(PASSWORD|RPC_TRANSPORT_URL|NOTIFY_TRANSPORT_URL)=' "$SANDBOX/xtrace")" 0 \
    "no assignment of the secret-bearing settings is traced"
like "$(ini_get /etc/nova.conf DEFAULT transport_url)" "$ENCODED@bus.example:5672" \
    "yet the services get the URL"

# a subnode (no daemons) and a second stack.sh without unstack
sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_USERNAME=alice "AMQP1_PASSWORD=$PASSWORD" \
    ENABLED_SERVICES=n-cpu DISABLED_SERVICES=amqp1-router \
    SERVICE_HOST=192.0.2.10 RABBIT_HOST=192.0.2.10 "RABBIT_PASSWORD=$PASSWORD" \
    "STUB_XTRACE=$SANDBOX/xtrace"
devstack_run stack pre-install install post-config extra -- \
    'iniset_rpc_backend nova /etc/nova.conf'
devstack_run stack pre-install install post-config extra
is "$(grep -hF -e "$PASSWORD" -e "$ENCODED" "$SANDBOX/xtrace" "$SANDBOX/out")" "" \
    "subnode, stacked twice: the password appears nowhere"

done_testing
