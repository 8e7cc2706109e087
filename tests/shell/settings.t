#!/bin/bash
#
# devstack/settings: defaults per mode, the services it enables and
# disables, and the mode checks every phase makes.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create
# the plugin's default ports: these tests start no daemon
SANDBOX_PORTS=plugin

SHOW='echo "$AMQP1_SERVICE|$AMQP1_DAEMONS|$AMQP1_HOST|$AMQP1_DEFAULT_PORT|$AMQP1_NOTIFY_PORT|$AMQP1_SSL|$ENABLED_SERVICES"'

# settings alone, as load_plugin_settings sources it
devstack_run stack -- "$SHOW"
is "$DEVSTACK_STATUS" 0 "settings load with no local.conf values"
is "$(cat "$SANDBOX/after")" \
    "qpid|auto|127.0.0.1|5672|5672|False|mysql,key,amqp1,amqp1-broker" \
    "qpid by default: qpidd on 5672 for both, rabbit disabled"
is "$(calls '^(enable|disable)_service')" "enable_service amqp1
disable_service rabbit
enable_service amqp1-broker" "settings enable amqp1 and its broker service"

for mode in qpid-dual qpid-hybrid external; do
    sandbox_reset
    localrc AMQP1_SERVICE=$mode
    devstack_run stack -- "$SHOW"
    case $mode in
        qpid-dual)
            expected="qpid-dual|auto|127.0.0.1|45672|5672|False|mysql,key,amqp1,amqp1-router,amqp1-broker"
            ;;
        qpid-hybrid)
            expected="qpid-hybrid|auto|127.0.0.1|45672|5672|False|rabbit,mysql,key,amqp1,amqp1-router"
            ;;
        external)
            expected="external|auto|127.0.0.1|45672|5672|False|mysql,key,amqp1"
            ;;
    esac
    is "$(cat "$SANDBOX/after")" "$expected" \
        "$mode: router on 45672, rabbit only kept in qpid-hybrid"
done

# local.conf values win, and keep their original names
sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_HOST=192.0.2.10 \
    AMQP1_DEFAULT_PORT=15672 AMQP1_NOTIFY_PORT=25672 AMQP1_SSL=yes \
    AMQP1_DAEMONS=standin
devstack_run stack -- "$SHOW"
is "$(cat "$SANDBOX/after")" \
    "qpid-dual|standin|192.0.2.10|15672|25672|True|mysql,key,amqp1,amqp1-router,amqp1-broker" \
    "local.conf overrides every default; AMQP1_SSL is normalized"

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_NOTIFY_PORT=5673
devstack_run stack -- "$SHOW"
like "$(cat "$SANDBOX/after")" "^qpid\|auto\|127.0.0.1\|5673\|5673\|" \
    "qpid: RPC follows AMQP1_NOTIFY_PORT, since one qpidd carries both"

sandbox_reset
devstack_run stack -- 'echo "$AMQP1_DIR"'
is "$(cat "$SANDBOX/after")" "$REPO_DIR" \
    "AMQP1_DIR is the plugin's own checkout, found from settings' path"

# the plugin does nothing when the amqp1 service is disabled
sandbox_reset
localrc AMQP1_SERVICE=bogus
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "an unknown AMQP1_SERVICE stops stack.sh"
like "$(output)" "AMQP1_SERVICE='bogus' is not supported; set it to one of: qpid, qpid-dual, qpid-hybrid, rabbitmq, external" \
    "the message lists the valid modes"
is "$(calls '^(pip_install|install_package)')" "" \
    "nothing was installed before dying"

for script in unstack clean; do
    sandbox_reset
    localrc AMQP1_SERVICE=qpid-triple
    devstack_run "$script"
    is "$DEVSTACK_STATUS" 1 "$script.sh also refuses an unknown mode"
done

sandbox_reset
localrc AMQP1_DAEMONS=packages
devstack_run stack pre-install
is "$DEVSTACK_STATUS" 1 "an unknown AMQP1_DAEMONS stops stack.sh"
like "$(output)" "AMQP1_DAEMONS='packages' is not supported; set it to one of: auto, distro, standin" \
    "the message lists the valid values"

sandbox_reset
devstack_run stack -- \
    'disable_service amqp1; source "$REPO_DIR/devstack/plugin.sh" stack install; get_transport_url'
is "$(cat "$SANDBOX/after")" "rabbit://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "with amqp1 disabled, plugin.sh leaves DevStack's rpc_backend alone"
is "$(calls '^pip_install')" "" "and installs nothing"

# the plugin's guide: settings call define_plugin with the plugin's name
sandbox_reset
devstack_run stack -- true
is "$(calls '^define_plugin')" "define_plugin amqp1" "settings say define_plugin amqp1"

# DevStack's warn prints its second argument only: every warn in the
# plugin is one string (a continuation line would be cut off)
is "$(grep -n 'warn \$LINENO' "$REPO_DIR/devstack/lib/amqp1" "$REPO_DIR/devstack/plugin.sh" | grep -v '" *$')" "" \
    "every warn call passes its whole message as one argument"
is "$(grep -c 'warn \$LINENO' "$REPO_DIR/devstack/lib/amqp1")" 3 \
    "(all three of them)"

# enable_plugin's branch defaults to master; this repository's is main
like "$(grep -c 'enable_plugin amqp1' "$REPO_DIR/README.rst")" "^[1-9]" \
    "the README has enable_plugin examples"
is "$(grep 'enable_plugin amqp1' "$REPO_DIR/README.rst" | grep -vE ' main($|``)')" "" \
    "every one of them names the branch main"

# qdrouterd 1.19 deprecates saslConfigPath
is "$(grep -c saslConfigPath "$REPO_DIR/devstack/lib/amqp1")" 0 \
    "the router config uses saslConfigDir, not the deprecated saslConfigPath"

done_testing
