#!/bin/bash
#
# AMQP1_SERVICE=rabbitmq: RPC and notifications over amqp:// to DevStack's
# own RabbitMQ, which must be 4.0 or later, with DevStack's RabbitMQ user;
# this project's amqp1-driver in the services' python.  DevStack installs
# and starts rabbitmq-server right after pre-install (install_rpc_backend,
# restart_rpc_backend): the plugin checks the version it will install in
# pre-install, and in install asks the running RabbitMQ over AMQP 1.0
# (tools/amqp_probe.py, its answer stubbed here: STUB_PROBE_ANSWER;
# tests/functional/devstack/test_amqp_probe.py runs it against a real
# RabbitMQ 4).

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

CONTROLLER=192.0.2.10

# stack_rabbitmq [assignment...]: the controller of the mode's page, on
# master's upper-constraints (oslo.messaging 18.x: amqp1-driver)
function stack_rabbitmq {
    sandbox_reset
    localrc AMQP1_SERVICE=rabbitmq SANDBOX_PORTS=plugin \
        STUB_UC_OSLO_MESSAGING=18.2.0 STUB_UC_PROTON=0.40.0 \
        STUB_AVAILABLE=rabbitmq-server \
        STUB_VERSIONS=rabbitmq-server=4.0.5-1 \
        "STUB_PROBE_ANSWER=RabbitMQ 4.0.5" "$@"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova /etc/nova/nova.conf; rpc_backend_add_vhost cell9"
}

# -- the controller ---------------------------------------------------------------

stack_rabbitmq
is "$DEVSTACK_STATUS" 0 "rabbitmq: stack.sh's plugin phases succeed"
[[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"
is "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" \
    "amqp://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "RPC over amqp:// to DevStack's RabbitMQ with DevStack's RabbitMQ user"
is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
    "amqp://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "notifications too, over amqp://"
is "$(calls '^rabbit:iniset_rpc_backend')" "" \
    "no service is given a rabbit:// URL"
is "$(calls '^pip_install')" "pip_install $REPO_DIR/driver" \
    "the services get this project's amqp1-driver"
like "$(output)" "oslo.messaging 18.2.0 provides the amqp driver|amqp1-driver" \
    "and the driver check passed"
is "$(calls '^(install_package|run_process|restart_service|base-python|saslpasswd2)')" "" \
    "no daemon of the plugin's installed or started, no stand-in venv"
is "$(find "$SANDBOX/etc" "$SANDBOX/var" -mindepth 1 2>/dev/null)" "" \
    "no daemon config or secret written"
like "$(output)" "AMQP1: rabbitmq-server 4.0.5 \(available\) carries RPC and notifications over AMQP 1.0" \
    "pre-install names the rabbitmq-server DevStack will install"
like "$(output)" "AMQP1: RPC go to DevStack's RabbitMQ at 127.0.0.1:5672 \(AMQP 1.0, on this node\), through the amqp driver of amqp1-driver" \
    "the plan says where RPC goes"
like "$(output)" "AMQP1: RabbitMQ 4.0.5 answers AMQP 1.0 on 127.0.0.1:5672 as stackrabbit" \
    "install asks the running RabbitMQ which it is"
is "$(calls '^python .*amqp_probe.py')" \
    "python $REPO_DIR/devstack/tools/amqp_probe.py 127.0.0.1 5672 --user stackrabbit" \
    "with the services' python, the password not on its command line"
is "$(cat "$SANDBOX/probe.stdin")" "rabbitsecret" "but on its stdin"
is "$(calls '^rabbit:rpc_backend_add_vhost')" "rabbit:rpc_backend_add_vhost cell9" \
    "a virtual host DevStack asks for is made by DevStack's RabbitMQ code"
like "$(output)" "AMQP1_SERVICE=rabbitmq: RPC at amqp://stackrabbit:\*\*\*@127.0.0.1:5672/, notifications at amqp://stackrabbit:\*\*\*@127.0.0.1:5672/" \
    "the summary masks the password"
unlike "$(output)" "rabbitsecret" "which appears nowhere in the output"

devstack_run unstack
is "$DEVSTACK_STATUS" 0 "unstack succeeds"
devstack_run clean
is "$DEVSTACK_STATUS" 0 "clean succeeds"
is "$(calls '^(stop_process|stop_service|uninstall_package)')" "" \
    "and stops or removes nothing: RabbitMQ is DevStack's"

# what a rabbitmq-server installed already is
stack_rabbitmq "STUB_VERSIONS=rabbitmq-server=1:4.1.2-1"
is "$DEVSTACK_STATUS" 0 "an epoch in the package version is no problem"
like "$(output)" "rabbitmq-server 4.1.2 \(available\)" "it is left out"

# -- refusals, each before anything is installed ------------------------------------

stack_rabbitmq "STUB_VERSIONS=rabbitmq-server=3.10.8-1.1"
is "$DEVSTACK_STATUS" 1 "Debian 12's rabbitmq-server 3.10 stops stack.sh"
like "$(output)" "AMQP1_SERVICE=rabbitmq needs RabbitMQ >= 4.0, which speaks AMQP 1.0 itself; the rabbitmq-server available here is 3.10.8. Use a distribution that ships 4.x" \
    "naming the version found and what to do"
is "$(calls '^(pip_install|install_package)')" "" "in pre-install: nothing installed"

stack_rabbitmq STUB_AVAILABLE=
is "$DEVSTACK_STATUS" 1 "no rabbitmq-server package at all stops stack.sh"
like "$(output)" "no rabbitmq-server package installed or available" \
    "saying so"

stack_rabbitmq STUB_UC_OSLO_MESSAGING=14.9.3
is "$DEVSTACK_STATUS" 1 "a branch with oslo.messaging 14.x stops stack.sh"
like "$(output)" "AMQP1_SERVICE=rabbitmq needs this project's amqp1-driver \(oslo.messaging >= 16\): upper-constraints pin oslo.messaging 14.9.3" \
    "its own amqp driver cannot use RabbitMQ 4"

# the driver check itself (tools/driver_check.py), with a python that
# sees oslo.messaging 18.2.0 and no amqp1-driver (driver.t does the rest)
fake_oslo_messaging 18.2.0
fake_amqp1_driver none
stack_rabbitmq "PYTHON=$SANDBOX/bin/python"
is "$DEVSTACK_STATUS" 1 "no amqp driver in the services' python stops stack.sh"
like "$(output)" "oslo.messaging 18.2.0 installed for $SANDBOX/bin/python has no 'amqp' driver" \
    "naming the missing driver"
is "$(calls '^python .*amqp_probe')" "" "before RabbitMQ is asked anything"
fake_oslo_messaging 14.9.3 amqp

stack_rabbitmq AMQP1_SSL=True
is "$DEVSTACK_STATUS" 1 "AMQP1_SSL stops stack.sh"
like "$(output)" "in rabbitmq mode DevStack's RabbitMQ serves amqp:// without TLS" \
    "saying why"

stack_rabbitmq ENABLED_SERVICES=rabbit,key,n-api,n-cond,n-cpu
is "$DEVSTACK_STATUS" 1 "nova with DevStack's default superconductor stops stack.sh"
like "$(output)" "and CELLSV2_SETUP=superconductor gives cell1 a virtual host of its own.*set CELLSV2_SETUP=singleconductor in local.conf" \
    "saying what to set"
stack_rabbitmq ENABLED_SERVICES=rabbit,key,n-api,n-cond,n-cpu \
    CELLSV2_SETUP=singleconductor
is "$DEVSTACK_STATUS" 0 "with CELLSV2_SETUP=singleconductor nova stacks"

stack_rabbitmq AMQP1_USERNAME=alice AMQP1_PASSWORD=x
is "$DEVSTACK_STATUS" 0 "AMQP1_USERNAME does not stop stack.sh"
like "$(calls '^warn')" "AMQP1_USERNAME is not used in rabbitmq mode" \
    "but a warning says it is not used"
is "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" \
    "amqp://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "the services keep DevStack's RabbitMQ user"

# -- what answers on 5672, asked in install ---------------------------------------

stack_rabbitmq "STUB_PROBE_ANSWER=RabbitMQ 3.13.7"
is "$DEVSTACK_STATUS" 1 "a RabbitMQ 3 answering AMQP 1.0 (its plugin) stops stack.sh"
like "$(output)" "RabbitMQ at 127.0.0.1:5672 is 3.13.7; AMQP1_SERVICE=rabbitmq needs 4.0 or later" \
    "naming its version"

stack_rabbitmq "STUB_PROBE_ANSWER=qpid-cpp 1.40.0"
is "$DEVSTACK_STATUS" 1 "something else on the port stops stack.sh"
like "$(output)" "127.0.0.1:5672 is qpid-cpp 1.40.0, not RabbitMQ" "saying what"

stack_rabbitmq "STUB_PROBE_ANSWER=ConnectionException: Connection amqp://127.0.0.1:5672 disconnected" \
    STUB_PROBE_STATUS=1
is "$DEVSTACK_STATUS" 1 "a RabbitMQ that refuses AMQP 1.0 stops stack.sh"
like "$(output)" "RabbitMQ at 127.0.0.1:5672 does not accept an AMQP 1.0 connection from user stackrabbit \(ConnectionException: .*\); RabbitMQ >= 4.0 serves AMQP 1.0" \
    "with proton's reason"
unlike "$(output)" "rabbitsecret" "and no password"

# -- a subnode --------------------------------------------------------------------

stack_rabbitmq "SERVICE_HOST=$CONTROLLER" "RABBIT_HOST=$CONTROLLER" \
    ENABLED_SERVICES=n-cpu,placement-client CELLSV2_SETUP=singleconductor \
    STUB_AVAILABLE=
is "$DEVSTACK_STATUS" 0 "rabbitmq subnode: stack.sh's plugin phases succeed"
[[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"
is "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" \
    "amqp://stackrabbit:rabbitsecret@$CONTROLLER:5672/" \
    "rabbitmq subnode: RPC at the controller's RabbitMQ"
is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
    "amqp://stackrabbit:rabbitsecret@$CONTROLLER:5672/" \
    "rabbitmq subnode: notifications too"
is "$(calls '^apt-cache')" "" \
    "rabbitmq subnode: no local rabbitmq-server looked for"
like "$(output)" "AMQP1: RabbitMQ 4.0.5 answers AMQP 1.0 on $CONTROLLER:5672" \
    "rabbitmq subnode: the controller's RabbitMQ is asked which it is"
is "$(calls '^rabbit:rpc_backend_add_vhost')" "" \
    "rabbitmq subnode: no virtual host made on the controller's RabbitMQ"

stack_rabbitmq "SERVICE_HOST=$CONTROLLER" RABBIT_PASSWORD= \
    ENABLED_SERVICES=n-cpu,placement-client CELLSV2_SETUP=singleconductor
is "$DEVSTACK_STATUS" 1 "rabbitmq subnode without the controller's RabbitMQ password stops"
like "$(output)" "AMQP1_SERVICE=rabbitmq sends RPC and notifications through DevStack's RabbitMQ: enable the rabbit service, or on a subnode set RABBIT_HOST and RABBIT_PASSWORD" \
    "saying what to set"

# -- qpid-hybrid's notifications over amqp:// (AMQP1_NOTIFY_DRIVER=amqp) -----------

# stack_hybrid_amqp [assignment...]: qpid-hybrid, the router for RPC and
# DevStack's RabbitMQ 4 for notifications over amqp:// (on its 5672:
# "AMQP1_NOTIFY_PORT=" leaves the plugin's default, the router keeps
# the sandbox's port)
function stack_hybrid_amqp {
    sandbox_reset
    localrc AMQP1_SERVICE=qpid-hybrid AMQP1_NOTIFY_DRIVER=amqp AMQP1_NOTIFY_PORT= \
        AMQP1_USERNAME=alice AMQP1_PASSWORD=routersecret \
        STUB_UC_OSLO_MESSAGING=18.2.0 STUB_UC_PROTON=0.40.0 \
        STUB_AVAILABLE=rabbitmq-server \
        STUB_VERSIONS=rabbitmq-server=4.0.5-1 \
        "STUB_PROBE_ANSWER=RabbitMQ 4.0.5" "$@"
    devstack_run stack pre-install install post-config extra -- \
        "iniset_rpc_backend nova /etc/nova/nova.conf DEFAULT cell9
        iniset_rpc_backend keystone /etc/keystone/keystone.conf oslo_messaging_notifications"
}

stack_hybrid_amqp
is "$DEVSTACK_STATUS" 0 "qpid-hybrid + AMQP1_NOTIFY_DRIVER=amqp: stack.sh's plugin phases succeed"
[[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"
like "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" \
    "^amqp://alice:routersecret@127.0.0.1:[0-9]+/cell9$" \
    "hybrid/amqp: RPC still goes to the router"
is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
    "amqp://stackrabbit:rabbitsecret@127.0.0.1:5672/cell9" \
    "hybrid/amqp: notifications over amqp:// to DevStack's RabbitMQ, its user and the cell's virtual host"
is "$(ini_get /etc/keystone/keystone.conf oslo_messaging_notifications transport_url)" \
    "amqp://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "hybrid/amqp: keystone's notifications too"
is "$(calls '^rabbit:(iniset_rpc_backend|get_notification_url)')" "" \
    "hybrid/amqp: no service is given a rabbit:// URL"
is "$(calls '^pip_install')" "pip_install $REPO_DIR/driver" \
    "hybrid/amqp: the services get this project's amqp1-driver"
like "$(output)" "AMQP1: rabbitmq-server 4.0.5 \(available\) carries notifications over AMQP 1.0" \
    "hybrid/amqp: pre-install checks the rabbitmq-server DevStack will install"
like "$(output)" "AMQP1: notifications go to DevStack's RabbitMQ at 127.0.0.1:5672 \(AMQP 1.0, on this node\), through the amqp driver of amqp1-driver" \
    "hybrid/amqp: the plan says where notifications go"
like "$(output)" "AMQP1: RPC go to qdrouterd at 127.0.0.1:" \
    "hybrid/amqp: and RPC"
is "$(calls '^python .*amqp_probe.py')" \
    "python $REPO_DIR/devstack/tools/amqp_probe.py 127.0.0.1 5672 --user stackrabbit" \
    "hybrid/amqp: install asks RabbitMQ which it is, the password not on the command line"
is "$(cat "$SANDBOX/probe.stdin")" "rabbitsecret" "hybrid/amqp: but on the probe's stdin"
like "$(output)" "AMQP1_SERVICE=qpid-hybrid: RPC at amqp://alice:\*\*\*@127.0.0.1:[0-9]+/, notifications at amqp://stackrabbit:\*\*\*@127.0.0.1:5672/" \
    "hybrid/amqp: the summary masks both passwords"
unlike "$(output)" "rabbitsecret|routersecret" "hybrid/amqp: which appear nowhere in the output"

stack_hybrid_amqp AMQP1_NOTIFY_DRIVER=rabbit
is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
    "rabbit://stackrabbit:rabbitsecret@127.0.0.1:5672/cell9" \
    "AMQP1_NOTIFY_DRIVER=rabbit (the default): DevStack's own rabbit:// URL"
is "$(calls '^python .*amqp_probe.py')" "" \
    "AMQP1_NOTIFY_DRIVER=rabbit: RabbitMQ's version does not matter"

stack_hybrid_amqp "STUB_VERSIONS=rabbitmq-server=3.10.8-1.1"
is "$DEVSTACK_STATUS" 1 "hybrid/amqp: Debian 12's rabbitmq-server 3.10 stops stack.sh"
like "$(output)" "AMQP1_NOTIFY_DRIVER=amqp needs RabbitMQ >= 4.0, which speaks AMQP 1.0 itself; the rabbitmq-server available here is 3.10.8.*keep AMQP1_NOTIFY_DRIVER=rabbit" \
    "hybrid/amqp: naming the setting, the version found and what to do"
is "$(calls '^(pip_install|install_package)')" "" "hybrid/amqp: in pre-install: nothing installed"

stack_hybrid_amqp STUB_UC_OSLO_MESSAGING=14.9.3
is "$DEVSTACK_STATUS" 1 "hybrid/amqp: a branch with oslo.messaging 14.x stops stack.sh"
like "$(output)" "AMQP1_NOTIFY_DRIVER=amqp needs this project's amqp1-driver \(oslo.messaging >= 16\).*or another AMQP1_NOTIFY_DRIVER" \
    "hybrid/amqp: its own amqp driver cannot use RabbitMQ 4"

stack_hybrid_amqp "STUB_PROBE_ANSWER=RabbitMQ 3.13.7"
is "$DEVSTACK_STATUS" 1 "hybrid/amqp: a RabbitMQ 3 answering AMQP 1.0 stops stack.sh in install"
like "$(output)" "RabbitMQ at 127.0.0.1:5672 is 3.13.7; AMQP1_NOTIFY_DRIVER=amqp needs 4.0 or later" \
    "hybrid/amqp: naming its version"

for bad in qpid-dual/amqp rabbitmq/amqp qpid/rabbit qpid-hybrid/kafka; do
    sandbox_reset
    localrc "AMQP1_SERVICE=${bad%/*}" "AMQP1_NOTIFY_DRIVER=${bad#*/}" \
        STUB_UC_OSLO_MESSAGING=18.2.0 STUB_UC_PROTON=0.40.0
    devstack_run stack pre-install install
    if [[ $bad == qpid/rabbit ]]; then
        is "$DEVSTACK_STATUS" 0 "AMQP1_NOTIFY_DRIVER=rabbit (the default) is accepted with qpid"
        continue
    fi
    is "$DEVSTACK_STATUS" 1 "AMQP1_SERVICE=${bad%/*} AMQP1_NOTIFY_DRIVER=${bad#*/} stops stack.sh"
    like "$(output)" "AMQP1_NOTIFY_DRIVER='${bad#*/}' is not supported with AMQP1_SERVICE=${bad%/*}: it chooses the driver of notifications to DevStack's RabbitMQ in qpid-hybrid mode only" \
        "naming the setting and where it applies"
    is "$(calls '^(pip_install|install_package)')" "" "before anything is installed"
done

# a subnode: the controller's RabbitMQ, asked in install
stack_hybrid_amqp "SERVICE_HOST=$CONTROLLER" "RABBIT_HOST=$CONTROLLER" \
    ENABLED_SERVICES=n-cpu DISABLED_SERVICES=amqp1-router STUB_AVAILABLE=
is "$DEVSTACK_STATUS" 0 "hybrid/amqp subnode: stack.sh's plugin phases succeed"
[[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"
is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
    "amqp://stackrabbit:rabbitsecret@$CONTROLLER:5672/cell9" \
    "hybrid/amqp subnode: notifications to the controller's RabbitMQ"
is "$(calls '^apt-cache')" "" "hybrid/amqp subnode: no local rabbitmq-server looked for"
like "$(output)" "AMQP1: RabbitMQ 4.0.5 answers AMQP 1.0 on $CONTROLLER:5672" \
    "hybrid/amqp subnode: the controller's RabbitMQ is asked which it is"

done_testing
