#!/bin/bash
#
# What stops stack.sh early, with a message that says what to do: missing
# passwords, settings that cannot work together, oslo.messaging without
# its amqp driver (driver.t), a daemon that does not come up (start.t).

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
localrc AMQP1_SERVICE=qpid-dual "AMQP1_DEFAULT_PORT=$SANDBOX_BROKER_PORT"
devstack_run stack pre-install install
dies_before_install "router and broker on one port" \
    "qdrouterd and qpidd cannot both listen on port $SANDBOX_BROKER_PORT"

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

done_testing
