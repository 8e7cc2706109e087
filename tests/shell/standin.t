#!/bin/bash
#
# Every AMQP1_SERVICE mode through stack, unstack and clean on a
# distribution without qdrouterd/qpidd packages (Debian 12, current
# Ubuntu): the stand-ins from the plugin's checkout, as DevStack services.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

PASSWORD='p@ss:w/rd %é'
ME=$(id -un)

# -- each mode ------------------------------------------------------------------

for mode in qpid qpid-dual qpid-hybrid external; do
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" AMQP1_USERNAME=alice \
        "AMQP1_PASSWORD=$PASSWORD"
    note "AMQP1_SERVICE=$mode"

    devstack_run stack pre-install install post-config extra
    is "$DEVSTACK_STATUS" 0 "$mode: stack.sh's plugin phases succeed"
    [[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"

    ROUTER_CONF=$SANDBOX/etc/qpid-dispatch/qdrouterd.conf
    BROKER_CONF=$SANDBOX/etc/qpid/qpidd.conf
    DATA=$SANDBOX/data/amqp1

    is "$(calls '^(install_package|uninstall_package)')" "" \
        "$mode: no distribution package installed"
    is "$(calls '^pip_install' | head -n 1)" \
        "pip_install pyngus python-qpid-proton" \
        "$mode: the client libraries come from pip_install"
    is "$(calls 'pip_install_gr|add-apt-repository|ppa:')" "" \
        "$mode: no pip_install_gr, no PPA"

    case $mode in
        qpid) daemons="broker" ;;
        qpid-dual) daemons="router broker" ;;
        qpid-hybrid) daemons="router" ;;
        external) daemons="" ;;
    esac

    if [[ -n "$daemons" ]]; then
        is "$(calls "^base-python")" \
            "base-python -m venv $SANDBOX/data/amqp1/venv" \
            "$mode: the stand-ins get a venv of their own"
        is "$(calls "^$SANDBOX/data/amqp1/venv/bin/python -m pip")" \
            "$SANDBOX/data/amqp1/venv/bin/python -m pip install -q -e $REPO_DIR" \
            "$mode: with the plugin's checkout, without upper-constraints"
        is "$(calls "^pip_install $REPO_DIR")" "" \
            "$mode: nothing of the stand-ins in the services' environment"
    else
        is "$(calls '^pip_install' | wc -l)" 1 \
            "external: nothing but the client libraries installed"
        is "$(calls '^run_process')" "" "external: no daemon started"
        ok "$([[ ! -e $ROUTER_CONF && ! -e $BROKER_CONF ]]; echo $?)" \
            "external: no daemon configuration written"
    fi

    if [[ " $daemons " == *" router "* ]]; then
        conf=$(cat "$ROUTER_CONF")
        like "$conf" $'listener \\{\n    host: 127.0.0.1\n    port: '"$SANDBOX_ROUTER_PORT"$'\n    role: normal\n    authenticatePeer: yes\n    saslMechanisms: PLAIN\n\\}' \
            "$mode: the router listens on AMQP1_HOST:AMQP1_DEFAULT_PORT with SASL PLAIN"
        unlike "$conf" "0\.0\.0\.0|authenticatePeer: no" \
            "$mode: never on 0.0.0.0, never open"
        is "$(grep -c '^address {' <<<"$conf")" 9 \
            "$mode: the nine oslo.messaging address prefixes"
        like "$conf" "prefix: openstack.org/om/rpc/anycast
    distribution: balanced" "$mode: anycast RPC is balanced"
        like "$conf" "saslConfigDir: $SANDBOX/etc/sasl2
    saslConfigName: qdrouterd" "$mode: the router reads the SASL config"
        like "$conf" "outputFile: $SANDBOX/logs/qdrouterd.log" \
            "$mode: the router logs to LOGDIR"
        is "$(file_mode "$ROUTER_CONF")" 644 "$mode: qdrouterd.conf is 0644"
        is "$(printf '%s' "$PASSWORD" | conf_match router "$ROUTER_CONF" \
                --host 127.0.0.1 --port "$SANDBOX_ROUTER_PORT" --user alice \
                --log-file "$SANDBOX/logs/qdrouterd.log")" "" \
            "$mode: qdrouterd.conf means what render_qdrouterd_conf writes for the same inputs"
        like "$(cat "$SANDBOX/etc/sasl2/qdrouterd.conf")" \
            "sasldb_path: $DATA/qdrouterd/qdrouterd.credentials
mech_list: PLAIN" "$mode: the router's SASL config names its credentials"
        is "$(cat "$DATA/qdrouterd/qdrouterd.credentials")" \
            "alice:$PASSWORD" "$mode: router credentials as username:password"
        is "$(file_mode "$DATA/qdrouterd/qdrouterd.credentials")|$(file_owner "$DATA/qdrouterd/qdrouterd.credentials")" \
            "600|$ME" "$mode: router credentials 0600, owned by STACK_USER"
        is "$(file_mode "$DATA/qdrouterd")" 700 \
            "$mode: the router's state directory is private"
        is "$(calls '^run_process amqp1-router')" \
            "run_process amqp1-router $SANDBOX/data/amqp1/venv/bin/amqp1-fixtures serve router -c $ROUTER_CONF" \
            "$mode: the router stand-in runs as a DevStack service on that file"
    else
        ok "$([[ ! -e $ROUTER_CONF ]]; echo $?)" "$mode: no qdrouterd.conf"
    fi

    if [[ " $daemons " == *" broker "* ]]; then
        conf=$(cat "$BROKER_CONF")
        like "$conf" "port=$SANDBOX_BROKER_PORT"$'\ninterface=127.0.0.1\nauth=yes\n' \
            "$mode: qpidd listens on AMQP1_HOST:AMQP1_NOTIFY_PORT with authentication"
        like "$conf" $'queue-patterns=exclusive\nqueue-patterns=unicast\ntopic-patterns=broadcast' \
            "$mode: qpidd has oslo.messaging's queue and topic patterns"
        like "$conf" "sasl-config=$SANDBOX/etc/sasl2" \
            "$mode: qpidd reads the SASL config"
        like "$conf" "log-to-file=$SANDBOX/logs/qpidd.log" \
            "$mode: qpidd logs to LOGDIR"
        like "$conf" "data-dir=$DATA/qpidd" "$mode: qpidd stores under DATA_DIR"
        is "$(grep -vcE '^(#|port|interface|auth|sasl-config|queue-patterns|topic-patterns|data-dir|log-enable|log-to-file)(=|$| )' "$BROKER_CONF")" 0 \
            "$mode: qpidd.conf holds only options the stand-in knows"
        is "$(printf '%s' "$PASSWORD" | conf_match broker "$BROKER_CONF" \
                --host 127.0.0.1 --port "$SANDBOX_BROKER_PORT" --user alice \
                --log-file "$SANDBOX/logs/qpidd.log" --data-dir "$DATA/qpidd")" "" \
            "$mode: qpidd.conf means what render_qpidd_conf writes for the same inputs"
        is "$(cat "$DATA/qpidd/qpidd.credentials")" "alice:$PASSWORD" \
            "$mode: broker credentials as username:password"
        is "$(file_mode "$DATA/qpidd/qpidd.credentials")" 600 \
            "$mode: broker credentials 0600"
        is "$(calls '^run_process amqp1-broker')" \
            "run_process amqp1-broker $SANDBOX/data/amqp1/venv/bin/amqp1-fixtures serve broker --config $BROKER_CONF" \
            "$mode: the broker stand-in runs as a DevStack service on that file"
    else
        ok "$([[ ! -e $BROKER_CONF ]]; echo $?)" "$mode: no qpidd.conf"
    fi

    is "$(find "$SANDBOX/etc" "$SANDBOX/data" "$SANDBOX/logs" -perm -o+r \
            -type f \( -name '*.credentials' -o -name '*.sasldb' -o -name '*.key' \) 2>/dev/null)" "" \
        "$mode: no secret is readable by others"
    is "$(calls 'o\+r|a\+rw|chmod 0?6?66|chmod 0?7?77')" "" \
        "$mode: no chmod o+r / a+rw"
    is "$(calls '^restart_service')" "" "$mode: no system service restarted"
    like "$(output)" "oslo.messaging 14.9.3 provides the amqp driver" \
        "$mode: the driver check passed"

    # unstack.sh
    devstack_run unstack
    is "$DEVSTACK_STATUS" 0 "$mode: unstack succeeds"
    expected=""
    for daemon in $daemons; do
        expected+="stop_process amqp1-$daemon"$'\n'
    done
    is "$(calls '^stop_process')" "${expected%$'\n'}" \
        "$mode: unstack stops exactly the stand-ins it started"
    ok "$([[ -f $ROUTER_CONF || -f $BROKER_CONF || -z $daemons ]]; echo $?)" \
        "$mode: unstack keeps the configuration"

    # clean.sh (it runs unstack.sh first)
    devstack_run unstack
    devstack_run clean
    is "$DEVSTACK_STATUS" 0 "$mode: clean succeeds"
    is "$(calls '^uninstall_package')" "" \
        "$mode: clean uninstalls nothing it did not install"
    is "$(find "$SANDBOX/etc" "$SANDBOX/var" "$DATA" -type f 2>/dev/null)" "" \
        "$mode: clean removes configs, SASL configs, credentials and data"
    is "$(ls "$SANDBOX/logs")" "" "$mode: clean removes the logs"
done

# -- the default ports, in the configuration (nothing started) ---------------------

# (the stacks above listen on the sandbox's ports: devstack_stubs.sh)
for mode in qpid qpid-dual qpid-hybrid; do
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" AMQP1_DEFAULT_PORT= AMQP1_NOTIFY_PORT=
    devstack_run stack pre-install -- configure_amqp1
    is "$DEVSTACK_STATUS" 0 "$mode with the default ports: the configuration is written"
    if [[ $mode == qpid ]]; then
        like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" $'\nport=5672\n' \
            "$mode: qpidd on 5672 by default, RPC included"
        continue
    fi
    like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
        $'listener \\{\n    host: 127.0.0.1\n    port: 45672\n' \
        "$mode: the router on 45672 by default"
    if [[ $mode == qpid-dual ]]; then
        like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" $'\nport=5672\n' \
            "$mode: qpidd on 5672 by default"
    fi
done
is "$(calls '^(run_process|restart_service)')" "" "and nothing was started"

# -- details ----------------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 0 "qpid-dual without a username stacks"
like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
    $'host: 127.0.0.1\n    port: '"$SANDBOX_ROUTER_PORT"$'\n    role: normal\n    authenticatePeer: no\n}' \
    "without AMQP1_USERNAME the router does not authenticate, on AMQP1_HOST only"
unlike "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" "saslConfig" \
    "and has no SASL configuration"
like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" "auth=no" "qpidd neither"
is "$(conf_match router "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf" \
        --host 127.0.0.1 --port "$SANDBOX_ROUTER_PORT" \
        --log-file "$SANDBOX/logs/qdrouterd.log")" "" \
    "the open qdrouterd.conf means what render_qdrouterd_conf writes"
is "$(conf_match broker "$SANDBOX/etc/qpid/qpidd.conf" \
        --host 127.0.0.1 --port "$SANDBOX_BROKER_PORT" \
        --log-file "$SANDBOX/logs/qpidd.log" --data-dir "$SANDBOX/data/amqp1/qpidd")" "" \
    "the open qpidd.conf means what render_qpidd_conf writes"
# the comparison sees a difference in what the files mean
sed 's/distribution: balanced/distribution: closest/' \
    "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf" >"$SANDBOX/changed.conf"
like "$(conf_match router "$SANDBOX/changed.conf" --host 127.0.0.1 \
        --port "$SANDBOX_ROUTER_PORT" --log-file "$SANDBOX/logs/qdrouterd.log")" \
    "^addresses: plugin .*'openstack.org/om/rpc/anycast', 'closest'" \
    "a changed address distribution is a difference"
grep -v '^topic-patterns=' "$SANDBOX/etc/qpid/qpidd.conf" >"$SANDBOX/changed.conf"
like "$(conf_match broker "$SANDBOX/changed.conf" --host 127.0.0.1 \
        --port "$SANDBOX_BROKER_PORT" --log-file "$SANDBOX/logs/qpidd.log" \
        --data-dir "$SANDBOX/data/amqp1/qpidd")" "^topic_patterns: plugin None, renderer \\['broadcast'\\]" \
    "a missing topic pattern is a difference"
is "$(find "$SANDBOX" -name '*.credentials' -o -name 'sasl2')" "" \
    "no credentials or SASL files are written"
like "$(calls '^warn')" "accepts unauthenticated connections" \
    "a warning says the listeners are open"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_HOST=2001:db8::5 AMQP1_DAEMONS=standin
devstack_run stack pre-install install
like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
    "host: 2001:db8::5" "an IPv6 AMQP1_HOST is written unbracketed"
is "$(calls '^(update_package_repo|apt-cache)')" "" \
    "AMQP1_DAEMONS=standin does not look for packages"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=alice AMQP1_PASSWORD=one
devstack_run stack pre-install install
sandbox_keep=$SANDBOX/data/amqp1/qpidd/qpidd.credentials
localrc AMQP1_PASSWORD=two
devstack_run stack pre-install install
is "$(cat "$sandbox_keep")" "alice:two" \
    "stacking again replaces the credentials"
is "$(grep -c '^router=' "$SANDBOX/data/amqp1/devstack.state")" 1 \
    "and records the daemons once"

# whatever DevStack's python layout (GLOBAL_VENV, PIP_VIRTUAL_ENV), the
# command is the stand-ins' venv's
sandbox_reset
localrc AMQP1_SERVICE=qpid STUB_EXEC_PREFIX=/opt/stack/data/venv/bin \
    PIP_VIRTUAL_ENV=/opt/stack/requirements/.venv \
    "AMQP1_STANDIN_VENV=$SANDBOX/standin-venv"
devstack_run stack pre-install install
is "$(calls '^run_process')" \
    "run_process amqp1-broker $SANDBOX/standin-venv/bin/amqp1-fixtures serve broker --config $SANDBOX/etc/qpid/qpidd.conf" \
    "the stand-in runs from AMQP1_STANDIN_VENV, not DevStack's python prefix"
ok "$([[ -L $SANDBOX/standin-venv/bin/amqp1-fixtures ]]; echo $?)" \
    "which install_amqp1 gave the command"
devstack_run clean
ok "$([[ ! -e $SANDBOX/standin-venv ]]; echo $?)" \
    "clean removes the venv it created"

# a venv that already runs this checkout is used as it is
sandbox_reset
venv=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-venv.XXXXXX")
tap_on_exit rm -rf "$venv"
mkdir -p "$venv/bin" "$venv/lib/amqp1_fixtures"
printf '#!/bin/sh\necho "%s/fixtures/amqp1_fixtures/__init__.py"\n' "$REPO_DIR" \
    >"$venv/bin/python"
printf '#!/bin/sh\nexit 0\n' >"$venv/bin/amqp1-fixtures"
chmod +x "$venv/bin/python" "$venv/bin/amqp1-fixtures"
localrc AMQP1_SERVICE=qpid "AMQP1_STANDIN_VENV=$venv"
devstack_run stack pre-install install
is "$(calls "base-python|pip install")" "" \
    "a venv that runs this checkout is not reinstalled"
devstack_run clean
ok "$([[ -x $venv/bin/python ]]; echo $?)" "nor removed by clean (not created by it)"

done_testing
