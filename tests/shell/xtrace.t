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

done_testing
