#!/bin/bash
#
# The guide's local.conf examples work as they are written (the blocks
# live in doc/source/devstack/; README.rst may hold some too): every
# [[local|localrc]] block of the pages under doc/source/devstack/ and of
# README.rst is extracted, evaluated as DevStack's localrc (enable_plugin,
# disable_service and enable_service are the stubs' recorded calls;
# HOST_IP, SERVICE_HOST, ENABLED_SERVICES and RABBIT_HOST are derived as
# stack.sh derives them), then run through the plugin's phases in
# DevStack's order, on master's and on unmaintained/2024.1's
# upper-constraints, and checked against what the pages say of it.  A mode
# named in a block's "# or ..." comment is run too.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

# README_RST / GUIDE_DIR: other copies, to see this test fail on a wrong
# block
README=${README_RST:-$REPO_DIR/README.rst}
GUIDE=${GUIDE_DIR:-$REPO_DIR/doc/source/devstack}
BLOCKS=$SANDBOX/site/readme-blocks
# the DevStack generations: branch, the oslo.messaging its
# upper-constraints pin, the distribution whose amqp driver it uses
GENERATIONS=("master 18.2.0 amqp1-driver"
    "unmaintained/2024.1 14.7.0 oslo.messaging")
# where DevStack's HOST_IP would come from without one in local.conf (its
# default route's address); the sandbox has none
DEFAULT_HOST_IP=127.0.0.1


# -- extracting the blocks -------------------------------------------------------------

# guide_files: README.rst and the DevStack pages of the guide, sorted
function guide_files {
    echo "$README"
    find "$GUIDE" -name '.*' -prune -o -name '*.rst' -print | sort
}

# readme_section: the text of every file guide_files names
function readme_section {
    local file
    while read -r file; do
        cat "$file"
    done < <(guide_files)
}

# file_label file: the file's path as the block files are named after it
# (relative to the checkout, "/" as "%")
function file_label {
    local rel=${1#"$REPO_DIR"/}
    echo "${rel//\//%}"
}

# readme_blocks dir: each [[local|localrc]] block of each file into
# dir/<file label>:<line>, unindented, up to its first blank or dedented
# line
function readme_blocks {
    local dir=$1 file
    mkdir -p "$dir"
    while read -r file; do
        awk -v dir="$dir" -v label="$(file_label "$file")" '
            function flush() { if (out != "") close(out); out = "" }
            out != "" {
                match($0, /^ */)
                if ($0 ~ /^ *$/ || RLENGTH < indent) { flush() }
                else { print substr($0, indent + 1) >> out; next }
            }
            /^ *\[\[local\|localrc\]\] *$/ {
                match($0, /^ */)
                indent = RLENGTH
                out = dir "/" label ":" NR
            }' "$file"
    done < <(guide_files)
}

# block_where block: "path:line" of a block file
function block_where {
    local name=${1##*/}
    echo "${name//%//}"
}

readme_blocks "$BLOCKS"
mapfile -t BLOCK_FILES < <(find "$BLOCKS" -type f | sort -V)
ok "$([[ ${#BLOCK_FILES[@]} -ge 8 ]]; echo $?)" \
    "the guide's DevStack pages and README: ${#BLOCK_FILES[@]} [[local|localrc]] blocks"
for mode in qpid qpid-dual qpid-hybrid rabbitmq; do
    for kind in controller subnode; do
        found=""
        for block in "${BLOCK_FILES[@]}"; do
            is=controller
            if grep -qx 'disable_service amqp1-router amqp1-broker' "$block"; then
                is=subnode
            fi
            if [[ $is == "$kind" ]] && grep -qE \
                    "^AMQP1_SERVICE=$mode( |\$)|^AMQP1_SERVICE=.*# or $mode\b|, or $mode\b" \
                    "$block"; then
                found=$(block_where "$block")
            fi
        done
        ok "$([[ -n $found ]]; echo $?)" \
            "the guide gives a $kind local.conf for $mode${found:+ ($found)}"
    done
done
section=$(readme_section)
for url in "amqp://stackamqp:secret@192.0.2.10:5672/" \
        "rabbit://stackrabbit:rabbitsecret@192.0.2.10:5672/"; do
    ok "$([[ $section == *"$url"* ]]; echo $?)" \
        "the subnode URL this test expects is the guide's: $url"
done


# -- running one block ---------------------------------------------------------------

# block_modes block: the AMQP1_SERVICE of the block and those its
# "# or X, or Y" comment names (qpid, DevStack's default, if none)
function block_modes {
    local line
    line=$(grep -m 1 '^AMQP1_SERVICE=' "$1")
    if [[ -z "$line" ]]; then
        echo qpid
        return 0
    fi
    line=${line#AMQP1_SERVICE=}
    echo "${line%%[ #]*}"
    if [[ "$line" == *"#"* ]]; then
        grep -oE '\bor [a-z-]+' <<<"${line#*#}" | cut -d' ' -f2
    fi
}

# notify_amqp block mode: does the block send qpid-hybrid's notifications
# over amqp:// to RabbitMQ 4 (AMQP1_NOTIFY_DRIVER=amqp)?
function notify_amqp {
    [[ "$2" == qpid-hybrid ]] && grep -qx 'AMQP1_NOTIFY_DRIVER=amqp' "$1"
}

# write_localrc block mode uc_pin: the sandbox's local.conf from the
# block, with this checkout for the URL placeholder and mode for the
# block's AMQP1_SERVICE, framed by what stackrc and stack.sh do around it
function write_localrc {
    local block=$1 mode=$2 pin=$3 line value
    {
        # stackrc before local.conf: the default ENABLED_SERVICES
        # (devstack_env's), no HOST_IP, SERVICE_HOST or RABBIT_PASSWORD
        echo "unset HOST_IP SERVICE_HOST RABBIT_PASSWORD"
        echo "STUB_UC_OSLO_MESSAGING=$pin"
        while IFS= read -r line; do
            line=${line//<URL of this repository>/$(printf '%q' "$REPO_DIR")}
            if [[ "$line" == AMQP1_SERVICE=* ]]; then
                value=${line#AMQP1_SERVICE=}
                line="AMQP1_SERVICE=$mode${value#"${value%%[ #]*}"}"
            fi
            echo "$line"
        done <"$block"
        if [[ "$mode" == rabbitmq ]] || notify_amqp "$block" "$mode"; then
            # DevStack installs rabbitmq-server 4.0.5 (Debian 13's) after
            # pre-install; the AMQP 1.0 probe's answer (rabbitmq.t); its
            # port is 5672, not the sandbox's broker port
            echo "AMQP1_NOTIFY_PORT="
            echo "STUB_AVAILABLE=rabbitmq-server"
            echo "STUB_VERSIONS=rabbitmq-server=4.0.5-1"
            echo "STUB_PROBE_ANSWER='RabbitMQ 4.0.5'"
        fi
        # stack.sh after local.conf: HOST_IP from the default route when
        # unset, SERVICE_HOST from HOST_IP (lib/rpc_backend then gives
        # RABBIT_HOST SERVICE_HOST's value where rabbit runs)
        echo "HOST_IP=\${HOST_IP:-$DEFAULT_HOST_IP}"
        echo "SERVICE_HOST=\${SERVICE_HOST:-\$HOST_IP}"
    } >"$SANDBOX/localrc"
}

# what the services and the plugin got, printed after the phases
AFTER='iniset_rpc_backend nova /etc/nova/nova.conf
echo "AMQP1_HOST=$AMQP1_HOST"
echo "ENABLED_SERVICES=$ENABLED_SERVICES"'

# after_get name: a variable AFTER printed
function after_get {
    sed -n "s/^$1=//p" "$SANDBOX/after"
}

# list_has list item: is item in the comma separated list?
function list_has {
    [[ ",$1," == *",$2,"* ]]
}

# mask url: the URL with its passwords as "***"
function mask {
    sed -E 's#:[^:@/,]*@#:***@#g' <<<"$1"
}

# check_block block mode generation: run one block, check the guide's word
function check_block {
    local block=$1 mode=$2 branch pin dist name kind=controller
    local host creds="" rpc notify daemons where want_rpc want_notify
    local enabled daemon want warnings=0 mesh="" router_host
    read -r branch pin dist <<<"$3"
    if grep -qx 'disable_service amqp1-router amqp1-broker' "$block"; then
        kind=subnode
    fi
    if grep -q '^AMQP1_ROUTER_MESH=True' "$block"; then
        # a router on every node: a subnode runs its own, the hub's
        # other routers connect to (the hub is the controller)
        mesh=hub
        if grep -qx 'disable_service amqp1-broker' "$block"; then
            mesh=member
        fi
    fi
    name="$(block_where "$block") ($kind${mesh:+, mesh $mesh}, $mode), $branch"

    # what the guide says: the addresses of the Multi-node blocks, the
    # credentials of the Modes blocks, the daemons of the mode
    host=$DEFAULT_HOST_IP
    if grep -q '^HOST_IP=' "$block"; then
        host=192.0.2.10
    fi
    if grep -q '^AMQP1_USERNAME=stackamqp$' "$block"; then
        creds=stackamqp:secret@
    fi
    # (the sandbox's ports: devstack_stubs.sh; DevStack's RabbitMQ on 5672)
    case $mode in
        qpid) rpc=$SANDBOX_BROKER_PORT daemons=broker ;;
        qpid-dual) rpc=$SANDBOX_ROUTER_PORT daemons="router broker" ;;
        qpid-hybrid) rpc=$SANDBOX_ROUTER_PORT daemons=router ;;
        rabbitmq) daemons="" ;;
        external) daemons="" ;;
    esac
    router_host=$host
    if [[ $mesh == member ]]; then
        router_host=192.0.2.11  # its own HOST_IP
        daemons=router
    fi
    want_rpc=amqp://$creds$router_host:$rpc/
    want_notify=amqp://$creds$host:$SANDBOX_BROKER_PORT/
    if [[ -z $creds && $mode != external && $mode != rabbitmq ]]; then
        warnings=1  # no AMQP1_USERNAME: open listeners
    fi
    if [[ $mode == rabbitmq ]]; then
        # DevStack's RabbitMQ and its user, whatever AMQP1_USERNAME says
        want_rpc=amqp://stackrabbit:rabbitsecret@$host:5672/
        want_notify=$want_rpc
        if [[ -n $creds ]]; then
            warnings=1  # AMQP1_USERNAME is not used
        fi
        if [[ $dist != amqp1-driver ]]; then
            # the page: master only; rabbitmq.t checks the refusal
            return 0
        fi
    elif notify_amqp "$block" "$mode"; then
        want_notify=amqp://stackrabbit:rabbitsecret@$host:5672/
        if [[ $dist != amqp1-driver ]]; then
            # the page: master only; rabbitmq.t checks the refusal
            return 0
        fi
    elif [[ $mode == qpid-hybrid ]]; then
        want_notify=rabbit://stackrabbit:rabbitsecret@$host:5672/
    elif [[ $mode == external ]]; then
        # handed to the services as they are, "/" added to an empty path
        want_rpc=$(sed -n 's/^AMQP1_RPC_TRANSPORT_URL=//p' "$block")
        want_notify=$(sed -n 's/^AMQP1_NOTIFY_TRANSPORT_URL=//p' "$block")
        [[ ${want_rpc#*://} == */* ]] || want_rpc+=/
        [[ ${want_notify#*://} == */* ]] || want_notify+=/
    fi

    sandbox_reset
    write_localrc "$block" "$mode" "$pin"
    devstack_run stack pre-install install post-config extra -- "$AFTER"
    if ! is "$DEVSTACK_STATUS" 0 "$name: stack.sh's plugin phases succeed"; then
        diag "$(output)"
        return 0
    fi
    is "$(calls '^enable_plugin')" "enable_plugin amqp1 $REPO_DIR main" \
        "$name: enable_plugin amqp1, this checkout, branch main"
    is "$(after_get AMQP1_HOST)" "$host" \
        "$name: AMQP1_HOST is SERVICE_HOST ($host)"
    is "$(ini_get /etc/nova/nova.conf DEFAULT transport_url)" "$want_rpc" \
        "$name: services' RPC URL"
    is "$(ini_get /etc/nova/nova.conf oslo_messaging_notifications transport_url)" \
        "$want_notify" "$name: services' notification URL"

    # the driver the branch's upper-constraints call for
    like "$(output)" "AMQP1: RPC go to .*, through the amqp driver of $dist \(upper-constraints pin oslo.messaging $pin\)" \
        "$name: pre-install announces $dist's amqp driver"
    if [[ $dist == amqp1-driver ]]; then
        is "$(calls '^pip_install' | head -n 1)" "pip_install $REPO_DIR/driver" \
            "$name: this checkout's driver/ goes into the services' python"
    else
        is "$(calls '^pip_install' | head -n 1)" "pip_install pyngus python-qpid-proton" \
            "$name: oslo.messaging's driver gets pyngus and proton, not driver/"
    fi
    is "$(calls_count '^(die|warn)')" "$warnings" \
        "$name: no error$([[ $warnings -eq 1 ]] && echo ', one warning')"

    # the services DevStack runs
    enabled=$(after_get ENABLED_SERVICES)
    want=1
    if [[ $mode == qpid-hybrid || $mode == rabbitmq ]] && \
            [[ $kind == controller && $mesh != member ]]; then
        want=0
    fi
    is "$(list_has "$enabled" rabbit; echo $?)" "$want" \
        "$name: rabbit $([[ $want == 0 ]] || echo 'not ')enabled"
    if grep -q '^ENABLED_SERVICES=' "$block"; then
        is "$(list_has "$enabled" n-cpu; echo $?)" 0 \
            "$name: the block's ENABLED_SERVICES are DevStack's"
    fi

    is "$(grep '^AMQP1_SERVICE=' "$SANDBOX/out")" \
        "AMQP1_SERVICE=$mode: RPC at $(mask "$want_rpc"), notifications at $(mask "$want_notify")" \
        "$name: extra prints the URLs, passwords masked"
    unlike "$(output)" "secret|:pass@" "$name: no password in the output"

    if [[ $kind == subnode ]]; then
        is "$(calls '^disable_service amqp1')" \
            "disable_service amqp1-router amqp1-broker" \
            "$name: the block's disable_service line is run"
        is "$(list_has "$enabled" amqp1-router; echo $?)$(
            list_has "$enabled" amqp1-broker; echo $?)" 11 \
            "$name: amqp1-router and amqp1-broker stay disabled"
        unlike "$(output; cat "$SANDBOX/ini")" "192\.0\.2\.11" \
            "$name: the subnode's own HOST_IP is not where services look"
        is "$(calls '^(install_package|run_process|restart_service|saslpasswd2|update_package_repo|base-python|make_cert|init_CA)')" "" \
            "$name: no daemon installed, started, no certificate"
        is "$(find "$SANDBOX/etc" "$SANDBOX/var" "$SANDBOX/data/amqp1" \
                "$SANDBOX/logs" -mindepth 1 2>/dev/null)" "" \
            "$name: no daemon config, secret, log or record written"
        if [[ $mode == rabbitmq ]]; then
            like "$(output)" "AMQP1: RPC go to DevStack's RabbitMQ at $host:5672 \(AMQP 1.0, the controller's\)" \
                "$name: pre-install says the bus is on the controller"
        else
            where="\(not on this node: amqp1-(router|broker) is disabled\)"
            like "$(output)" "AMQP1: RPC go to (qdrouterd|qpidd) at $host:$rpc $where" \
                "$name: pre-install says the bus is on the controller"
        fi
        devstack_run unstack
        devstack_run clean
        is "$DEVSTACK_STATUS|$(calls '^(stop_process|stop_service|uninstall_package|sudo rm )')" \
            "0|" "$name: unstack and clean stop and remove nothing"
        return 0
    fi

    is "$(calls '^run_process' | cut -d' ' -f2 | tr '\n' ' ')" \
        "$(for daemon in $daemons; do printf 'amqp1-%s ' "$daemon"; done)" \
        "$name: daemons started: ${daemons:-none}"
    if [[ " $daemons " == *" router "* ]]; then
        like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
            "host: $router_host"$'\n'"    port: $rpc" \
            "$name: qdrouterd.conf listens on $router_host:$rpc"
    else
        ok "$([[ ! -e $SANDBOX/etc/qpid-dispatch/qdrouterd.conf ]]; echo $?)" \
            "$name: no qdrouterd.conf"
    fi
    if [[ $mesh == hub ]]; then
        like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
            "host: $host"$'\n'"    port: 55672"$'\n'"    role: inter-router" \
            "$name: the hub listens for the other routers on $host:55672"
    elif [[ $mesh == member ]]; then
        like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
            "connector \{"$'\n'"    name: amqp1-mesh-hub"$'\n'"    host: $host"$'\n'"    port: 55672" \
            "$name: the subnode's router connects to the hub's at $host:55672"
    fi
    if [[ " $daemons " == *" broker "* ]]; then
        like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" "interface=$host" \
            "$name: qpidd.conf listens on $host"
    else
        ok "$([[ ! -e $SANDBOX/etc/qpid/qpidd.conf ]]; echo $?)" \
            "$name: no qpidd.conf"
    fi
    if grep -q '^AMQP1_SSL=True' "$block"; then
        is "$(ini_get /etc/nova/nova.conf oslo_messaging_amqp ssl)" True \
            "$name: services verify the bus with TLS"
        want=$(sed -n 's/^AMQP1_SSL_CA_FILE=//p' "$block")
        is "$(ini_get /etc/nova/nova.conf oslo_messaging_amqp ssl_ca_file)" \
            "${want:-$SANDBOX/data/ca-bundle.pem}" \
            "$name: with the CA file ${want:-of DevStack}"
        if [[ -n $daemons ]]; then
            like "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" \
                "requireSsl: yes" "$name: the router requires TLS"
        else
            is "$(calls '^(init_CA|make_cert)')" "" \
                "$name: external makes no certificate"
        fi
    fi

    devstack_run unstack
    is "$DEVSTACK_STATUS|$(calls '^stop_process' | cut -d' ' -f2 | tr '\n' ' ')" \
        "0|$(for daemon in $daemons; do printf 'amqp1-%s ' "$daemon"; done)" \
        "$name: unstack stops what stack started"
    devstack_run clean
    is "$DEVSTACK_STATUS|$(find "$SANDBOX/etc" "$SANDBOX/var" \
            "$SANDBOX/data/amqp1" -type f 2>/dev/null)" "0|" \
        "$name: clean leaves no config, secret or record"
}

for block in "${BLOCK_FILES[@]}"; do
    note "$(block_where "$block"):"$'\n'"$(cat "$block")"
    for mode in $(block_modes "$block"); do
        for generation in "${GENERATIONS[@]}"; do
            check_block "$block" "$mode" "$generation"
        done
    done
done

done_testing
