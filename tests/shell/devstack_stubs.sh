#!/bin/bash
#
# tests/shell/devstack_stubs.sh
# A sandboxed DevStack for the plugin's shell tests: stubs of the DevStack
# functions the plugin calls, each recording its call in $SANDBOX/calls,
# and devstack_run, which sources settings and plugin.sh for some phases
# the way stack.sh, unstack.sh and clean.sh do.  Nothing outside the
# sandbox (a mktemp -d directory) is touched: /etc, /var, systemd and the
# package manager are all replaced by paths and fakes in it.
#
#   sandbox_create                     # once per test script
#   localrc AMQP1_SERVICE=qpid-dual    # local.conf's [[local|localrc]]
#   devstack_run stack pre-install install post-config extra
#   is "$DEVSTACK_STATUS" 0 "stack.sh ran"
#   calls "^run_process "              # the recorded calls matching a regex
#   ini_get "$file" DEFAULT transport_url
#
# The sandbox's daemons listen on two ports reserved for the test script
# (SANDBOX_ROUTER_PORT, SANDBOX_BROKER_PORT: see _stub_ports), never on
# the plugin's 5672 and 45672, which a RabbitMQ or an earlier DevStack on
# the machine may hold; a test of those defaults that starts no daemon
# sets SANDBOX_PORTS=plugin.

SHELL_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SHELL_TESTS_DIR/../.." && pwd)


# Sandbox
# -------

# sandbox_create: a fresh sandbox, removed when the test script ends
function sandbox_create {
    local cmd ports
    ports=$(reserve_ports 2) || BAIL_OUT "no ports from amqp1-fixtures" \
        "port (tox -e shell installs it)"
    read -r SANDBOX_ROUTER_PORT SANDBOX_BROKER_PORT <<<"${ports//$'\n'/ }"
    SANDBOX=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-shell.XXXXXX")
    export SANDBOX
    tap_on_exit sandbox_destroy
    mkdir -p "$SANDBOX/bin" "$SANDBOX/devstack/lib" "$SANDBOX/data" \
        "$SANDBOX/logs" "$SANDBOX/pids" "$SANDBOX/site"
    for cmd in sudo apt-cache dnf saslpasswd2 systemctl base-python; do
        ln -s "$SHELL_TESTS_DIR/fakebin.sh" "$SANDBOX/bin/$cmd"
    done
    # DevStack's PYTHON: by default a fake that answers the driver check
    # (tools/driver_check.py) with its verdict line without starting
    # python (the check runs twice per stack), the AMQP probe
    # (tools/amqp_probe.py) with STUB_PROBE_ANSWER and STUB_PROBE_STATUS
    # when the answer is not empty (its arguments recorded, the password it read kept in
    # probe.stdin), and runs the plugin's other tools with a real python
    # blind to the machine's packages; bin/python is that python, for the
    # tests of the check itself (it sees fake_oslo_messaging's).  See
    # driver.t.
    cat >"$SANDBOX/bin/fake-python" <<'EOF'
#!/bin/sh
case "$1" in
    */driver_check.py)
        echo "${STUB_DRIVER_VERDICT:-$STUB_FAKE_VERDICT}"
        ;;
    */amqp_probe.py)
        if [ -z "${STUB_PROBE_ANSWER:-}" ]; then
            exec python3 -S "$@"
        fi
        echo "python $*" >>"$SANDBOX/calls"
        cat >"$SANDBOX/probe.stdin"
        echo "$STUB_PROBE_ANSWER"
        exit "${STUB_PROBE_STATUS:-0}"
        ;;
    *)
        exec python3 -S "$@"
        ;;
esac
EOF
    printf '#!/bin/sh\nexec python3 -S "$@"\n' >"$SANDBOX/bin/python"
    chmod +x "$SANDBOX/bin/python" "$SANDBOX/bin/fake-python"
    cp "$SHELL_TESTS_DIR/rpc_backend_stub.sh" \
        "$SANDBOX/devstack/lib/rpc_backend"
    fake_oslo_messaging 14.9.3 amqp
    sandbox_reset
}

# reserve_ports count: count free loopback ports, one a line, from the
# fixtures' allocator (amqp1-fixtures port), which no parallel test gets:
# reserved until this test script exits
function reserve_ports {
    amqp1-fixtures port -n "$1" --owner "$$"
}

# sandbox_reset: forget the recorded calls, settings and files
function sandbox_reset {
    find "$SANDBOX" -mindepth 1 -maxdepth 1 ! -name bin ! -name devstack \
        ! -name site -exec rm -rf {} +
    mkdir -p "$SANDBOX/data" "$SANDBOX/logs" "$SANDBOX/pids"
    : >"$SANDBOX/calls"
    : >"$SANDBOX/ini"
    : >"$SANDBOX/installed"
    : >"$SANDBOX/localrc"
}

# sandbox_destroy: stop what the tests started, remove the sandbox
function sandbox_destroy {
    local pidfile
    if [[ -z "${SANDBOX:-}" || ! -d "$SANDBOX" ]]; then
        return 0
    fi
    # (and those of the nodes a test stacked with STUB_PIDS of their own)
    for pidfile in "$SANDBOX"/pids/* "$SANDBOX"/*/pids/*; do
        if [[ -f "$pidfile" ]] && _stub_ours "$pidfile"; then
            kill -KILL "$(cat "$pidfile")" 2>/dev/null
        fi
    done
    if [[ -z "${KEEP_SANDBOX:-}" ]]; then
        rm -rf "$SANDBOX"
    else
        diag "sandbox kept: $SANDBOX"
    fi
}

# fake_oslo_messaging version|none [driver...]: the oslo.messaging the
# driver check finds on PYTHONPATH, with those drivers (loadable modules),
# and importable pyngus and proton modules (proton with TLS unless
# STUB_PROTON_TLS=False when the check runs)
function fake_oslo_messaging {
    local version=$1 driver
    shift
    rm -rf "$SANDBOX"/site/oslo_messaging-*.dist-info \
        "$SANDBOX/site/oslo_messaging"
    echo "# fake" >"$SANDBOX/site/pyngus.py"
    mkdir -p "$SANDBOX/site/proton"
    cat >"$SANDBOX/site/proton/__init__.py" <<'EOF'
import os


class SSL(object):
    @staticmethod
    def present():
        return os.environ.get('STUB_PROTON_TLS', 'True') == 'True'
EOF
    if [[ "$version" == "none" ]]; then
        return 0
    fi
    mkdir -p "$SANDBOX/site/oslo_messaging-$version.dist-info" \
        "$SANDBOX/site/oslo_messaging/_drivers"
    : >"$SANDBOX/site/oslo_messaging/__init__.py"
    : >"$SANDBOX/site/oslo_messaging/_drivers/__init__.py"
    printf 'Metadata-Version: 2.1\nName: oslo.messaging\nVersion: %s\n' \
        "$version" >"$SANDBOX/site/oslo_messaging-$version.dist-info/METADATA"
    {
        echo "[oslo.messaging.drivers]"
        echo "rabbit = oslo_messaging._drivers.impl_rabbit:RabbitDriver"
        for driver in "$@"; do
            echo "$driver = oslo_messaging._drivers.impl_$driver:Driver"
            echo "Driver = object" \
                >"$SANDBOX/site/oslo_messaging/_drivers/impl_$driver.py"
        done
    } >"$SANDBOX/site/oslo_messaging-$version.dist-info/entry_points.txt"
}

# fake_amqp1_driver [none]: this project's amqp1-driver as the check finds
# it on PYTHONPATH (or not)
function fake_amqp1_driver {
    rm -rf "$SANDBOX"/site/amqp1_driver*
    if [[ "${1:-}" == "none" ]]; then
        return 0
    fi
    mkdir -p "$SANDBOX/site/amqp1_driver-0.1.0.dist-info" \
        "$SANDBOX/site/amqp1_driver"
    : >"$SANDBOX/site/amqp1_driver/__init__.py"
    echo "AMQP1Driver = object" >"$SANDBOX/site/amqp1_driver/driver.py"
    printf 'Metadata-Version: 2.1\nName: amqp1-driver\nVersion: 0.1.0\n' \
        >"$SANDBOX/site/amqp1_driver-0.1.0.dist-info/METADATA"
    printf '[oslo.messaging.drivers]\namqp = amqp1_driver.driver:AMQP1Driver\n' \
        >"$SANDBOX/site/amqp1_driver-0.1.0.dist-info/entry_points.txt"
}

# localrc assignment...: add settings to the sandbox's local.conf
function localrc {
    local assignment
    for assignment in "$@"; do
        printf '%s=%q\n' "${assignment%%=*}" "${assignment#*=}" \
            >>"$SANDBOX/localrc"
    done
}

# devstack_env: what stack.sh and stackrc define before plugins run
function devstack_env {
    TOP_DIR=$SANDBOX/devstack
    DEST=$SANDBOX/opt
    DATA_DIR=$SANDBOX/data
    LOGDIR=$SANDBOX/logs
    STACK_USER=$(id -un)
    SERVICE_HOST=127.0.0.1
    ENABLED_SERVICES=rabbit,mysql,key
    DISABLED_SERVICES=""
    SSL_BUNDLE_FILE=$DATA_DIR/ca-bundle.pem
    INT_CA_DIR=$SANDBOX/data/CA/int-ca
    RABBIT_USERID=stackrabbit
    RABBIT_PASSWORD=rabbitsecret
    PYTHON=$SANDBOX/bin/fake-python
    REQUIREMENTS_DIR=$SANDBOX/requirements
    USE_VENV=False
    ADDITIONAL_VENV_PACKAGES=""
    # what the branch's upper-constraints pin (2024.2's by default; "none"
    # for no file), written by devstack_run after local.conf
    STUB_UC_OSLO_MESSAGING=14.9.3
    STUB_UC_PROTON=0.39.0
    AMQP1_STANDIN_PYTHON=$SANDBOX/bin/base-python
    export PYTHONPATH=$SANDBOX/site
    export PATH=$SANDBOX/bin:$PATH
    AMQP1_QDROUTERD_CONF=$SANDBOX/etc/qpid-dispatch/qdrouterd.conf
    AMQP1_QPIDD_CONF=$SANDBOX/etc/qpid/qpidd.conf
    AMQP1_SASL_CONF_DIR=$SANDBOX/etc/sasl2
    AMQP1_QDROUTERD_STATE_DIR=$SANDBOX/var/lib/qdrouterd
    AMQP1_QPIDD_STATE_DIR=$SANDBOX/var/lib/qpidd
    # the distribution's service users: a real other user when root
    if [[ $(id -u) -eq 0 ]]; then
        AMQP1_QDROUTERD_USER=daemon
        AMQP1_QPIDD_USER=daemon
    else
        AMQP1_QDROUTERD_USER=$STACK_USER
        AMQP1_QPIDD_USER=$STACK_USER
    fi
    AMQP1_START_TIMEOUT=0
    STUB_DISTRO=debian
    export STUB_AVAILABLE="" STUB_VERSIONS="" STUB_PROBE_ANSWER=""
    export STUB_PROBE_STATUS=0
    # where run_process keeps the pids of what it started (systemctl's
    # units): a node of its own in a multi-node test gives its own
    export STUB_PIDS=$SANDBOX/pids
    STUB_EXEC_PREFIX=/usr/local/bin
    STUB_RUN_PROCESS=record
}

# devstack_run script [phase...] [-- command]: in a child shell, do what
# <script>.sh does around the plugin: stack.sh sources lib/rpc_backend
# and runs with errexit, unstack.sh does not source lib/rpc_backend,
# clean.sh does; then source settings, and plugin.sh once per phase, then
# run command (its output in $SANDBOX/after).  "devstack_run stack --
# command" sources settings only, as stack.sh's "source" phase does.  Output goes to
# $SANDBOX/out, the exit status to DEVSTACK_STATUS.
function devstack_run {
    local script=$1 phases=() after=""
    shift
    while [[ $# -gt 0 ]]; do
        if [[ "$1" == "--" ]]; then
            shift
            after="$*"
            break
        fi
        phases+=("$1")
        shift
    done
    if [[ "$script" != "stack" && ${#phases[@]} -eq 0 ]]; then
        # unstack.sh and clean.sh source plugin.sh with no phase
        phases=("")
    fi
    (
        devstack_env
        source "$SANDBOX/localrc"
        _stub_ports
        _stub_upper_constraints
        if [[ "$script" == "stack" || "$script" == "clean" ]]; then
            source "$TOP_DIR/lib/rpc_backend"
        fi
        if [[ "$script" == "stack" ]]; then
            set -o errexit
        fi
        if [[ -n "${STUB_READ_PASSWORD+set}" ]]; then
            # only stack.sh defines read_password
            function read_password {
                local xtrace
                xtrace=$(set +o | grep xtrace)
                set +o xtrace
                _stub_record read_password "$1"
                printf -v "$1" '%s' "$STUB_READ_PASSWORD"
                $xtrace
            }
        fi
        if [[ -n "${STUB_XTRACE:-}" ]]; then
            # stack.sh runs with xtrace on; keep the trace apart
            exec 9>>"$STUB_XTRACE"
            BASH_XTRACEFD=9
            set -o xtrace
        fi
        source "$REPO_DIR/devstack/settings"
        for phase in ${phases[@]+"${phases[@]}"}; do
            source "$REPO_DIR/devstack/plugin.sh" "$script" $phase
        done
        if [[ -n "$after" ]]; then
            eval "$after" >"$SANDBOX/after"
        fi
    ) >"$SANDBOX/out" 2>&1
    DEVSTACK_STATUS=$?
    return $DEVSTACK_STATUS
}

# _stub_ports: the daemons' ports where local.conf names none: the
# sandbox's reserved ones (in qpid mode qpidd's carries RPC too, as the
# plugin's settings have it).  An empty setting in local.conf
# ("localrc AMQP1_NOTIFY_PORT=") or SANDBOX_PORTS=plugin leaves the
# plugin's default: for tests of the defaults, which start nothing
function _stub_ports {
    # (rabbitmq mode: DevStack's RabbitMQ on 5672, never started here)
    if [[ "${SANDBOX_PORTS:-}" == "plugin" || "${AMQP1_SERVICE:-}" == "rabbitmq" ]]; then
        return 0
    fi
    if [[ -z "${AMQP1_NOTIFY_PORT+set}" ]]; then
        AMQP1_NOTIFY_PORT=$SANDBOX_BROKER_PORT
    fi
    if [[ -z "${AMQP1_DEFAULT_PORT+set}" && \
            "${AMQP1_SERVICE:-qpid}" != "qpid" ]]; then
        AMQP1_DEFAULT_PORT=$SANDBOX_ROUTER_PORT
    fi
}

# _stub_upper_constraints: the requirements checkout DevStack cloned
# before pre-install, and the fake python's verdict to match it
function _stub_upper_constraints {
    local dist=oslo.messaging
    rm -rf "$REQUIREMENTS_DIR"
    if [[ "$STUB_UC_OSLO_MESSAGING" != "none" ]]; then
        mkdir -p "$REQUIREMENTS_DIR"
        {
            echo "oslo.log===7.2.1"
            echo "oslo.messaging===$STUB_UC_OSLO_MESSAGING"
            if [[ -n "$STUB_UC_PROTON" ]]; then
                echo "python-qpid-proton===$STUB_UC_PROTON"
            fi
        } >"$REQUIREMENTS_DIR/upper-constraints.txt"
        if [[ "${STUB_UC_OSLO_MESSAGING%%.*}" -ge 15 ]]; then
            dist=amqp1-driver
        fi
    fi
    export STUB_FAKE_VERDICT="ok $STUB_UC_OSLO_MESSAGING $dist"
}

# calls [regex]: the recorded calls, those matching regex if given
function calls {
    grep -E -- "${1:-.}" "$SANDBOX/calls" || true
}

# calls_count regex: how many recorded calls match
function calls_count {
    grep -cE -- "$1" "$SANDBOX/calls" || true
}

# ini_get file section option: the last value iniset gave it
function ini_get {
    awk -F '\t' -v f="$1" -v s="$2" -v o="$3" \
        '$1 == f && $2 == s && $3 == o { v = $4 } END { print v }' \
        "$SANDBOX/ini"
}

# conf_match router|broker file option...: what differs between the
# settings of a config file the plugin wrote and those of the file the
# fixtures' renderer writes for the same inputs (nothing: they mean the
# same); the password, if any, on stdin.  See conf_match.py.
function conf_match {
    python3 "$SHELL_TESTS_DIR/conf_match.py" "$@" 2>&1
}

# file_mode path: octal mode; file_owner path: user name
function file_mode {
    stat -c %a "$1" 2>/dev/null
}

function file_owner {
    stat -c %U "$1" 2>/dev/null
}

# output: what the last devstack_run printed
function output {
    cat "$SANDBOX/out"
}


# DevStack function stubs
# -----------------------

function _stub_record {
    echo "$*" >>"$SANDBOX/calls"
}

function die {
    local line=$1
    shift
    _stub_record die "$*"
    echo "[ERROR] plugin line $line: $*" >&2
    exit 1
}

# warn line message: as DevStack's, only the second argument is printed
# (and recorded): a message split over more arguments is cut off
function warn {
    _stub_record warn "$2"
    echo "[WARNING] plugin:$1 $2"
}

function err {
    _stub_record err "$*"
}

function echo_summary {
    echo "$*"
}

function trueorfalse {
    local default=$1 value=${!2:-}
    case "$value" in
        1|[yY]es|YES|[tT]rue|TRUE) echo True ;;
        0|[nN]o|NO|[fF]alse|FALSE) echo False ;;
        *) echo "$default" ;;
    esac
}

function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
        # as DevStack's: "nova" is any n-* service
        if [[ "$service" == "nova" && ",$ENABLED_SERVICES," == *",n-"* ]]; then
            return 0
        fi
    done
    return 1
}

function enable_service {
    local service
    _stub_record enable_service "$@"
    for service in "$@"; do
        # as DevStack's: a service local.conf disabled stays disabled
        if [[ ",$DISABLED_SERVICES," == *",$service,"* ]]; then
            continue
        fi
        if ! is_service_enabled "$service"; then
            ENABLED_SERVICES+=",$service"
        fi
    done
}

function disable_service {
    local service
    _stub_record disable_service "$@"
    for service in "$@"; do
        ENABLED_SERVICES=",$ENABLED_SERVICES,"
        ENABLED_SERVICES=${ENABLED_SERVICES//,$service,/,}
        ENABLED_SERVICES=${ENABLED_SERVICES#,}
        ENABLED_SERVICES=${ENABLED_SERVICES%,}
        DISABLED_SERVICES+=",$service"
    done
}

function is_ubuntu {
    [[ "$STUB_DISTRO" == "debian" || "$STUB_DISTRO" == "ubuntu" ]]
}

function is_fedora {
    [[ "$STUB_DISTRO" == "fedora" ]]
}

function exit_distro_not_supported {
    die 0 "distribution not supported: $*"
}

function update_package_repo {
    _stub_record update_package_repo
}

function install_package {
    local package
    _stub_record install_package "$@"
    for package in "$@"; do
        echo "$package" >>"$SANDBOX/installed"
    done
}

function uninstall_package {
    local package
    _stub_record uninstall_package "$@"
    for package in "$@"; do
        sed -i "/^$package\$/d" "$SANDBOX/installed"
    done
}

function is_package_installed {
    grep -qx -- "$1" "$SANDBOX/installed"
}

# pip_install args: recorded; with STUB_PIP (a venv's pip) also run, as
# DevStack's pip_install runs $DEVSTACK_VENV/bin/pip (without the
# sandbox's fake upper-constraints)
function pip_install {
    _stub_record pip_install "$@"
    local status=0
    if [[ -n "${STUB_PIP:-}" ]]; then
        "$STUB_PIP" install -q "$@" >"$SANDBOX/pip.out" 2>&1 || status=$?
        grep -v '^WARNING: Location' "$SANDBOX/pip.out" >&2 || true
    fi
    return $status
}

function define_plugin {
    _stub_record define_plugin "$@"
}

# enable_plugin name url [branch]: local.conf's line; DevStack records the
# plugin and clones url at branch (default master) into $DEST/name, here
# the checkout under test is sourced instead
function enable_plugin {
    _stub_record enable_plugin "$@"
    DEVSTACK_PLUGINS+="${DEVSTACK_PLUGINS:+,}$1"
}

# cleanup_CA: DevStack's lib/tls one, which clean.sh sources
function cleanup_CA {
    _stub_record cleanup_CA
}

function get_python_exec_prefix {
    echo "$STUB_EXEC_PREFIX"
}

# iniset [-sudo] file section option value: like DevStack's, silent
# under xtrace; the value goes to $SANDBOX/ini (see ini_get)
function iniset {
    local xtrace sudo=""
    xtrace=$(set +o | grep xtrace)
    set +o xtrace
    if [[ "$1" == "-sudo" ]]; then
        sudo="-sudo "
        shift
    fi
    _stub_record "iniset $sudo$1 [$2] $3"
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SANDBOX/ini"
    $xtrace
}

# restart_service unit / stop_service unit: recorded; with
# STUB_REAL_DAEMONS (a directory with real qdrouterd and qpidd, such as
# realqpid's bin/) the unit's daemon really (re)starts in the background
# on the plugin's config, as the package's systemd unit would
function restart_service {
    local unit=$1
    _stub_record restart_service "$@"
    if [[ -z "${STUB_REAL_DAEMONS:-}" ]]; then
        return 0
    fi
    _stub_kill "$unit"
    mkdir -p "$SANDBOX/journal" "$SANDBOX/run"
    case "$unit" in
        qdrouterd)
            "$STUB_REAL_DAEMONS/qdrouterd" -c "$AMQP1_QDROUTERD_CONF" \
                </dev/null >>"$SANDBOX/journal/$unit" 2>&1 &
            ;;
        qpidd)
            "$STUB_REAL_DAEMONS/qpidd" --config "$AMQP1_QPIDD_CONF" \
                --pid-dir "$SANDBOX/run" \
                </dev/null >>"$SANDBOX/journal/$unit" 2>&1 &
            ;;
    esac
    _stub_record_pid "$unit" $!
}

function stop_service {
    _stub_record stop_service "$@"
    _stub_kill "$1"
}

# _stub_started pid: the start time of process pid (field 22 of its
# /proc stat), empty once it is gone (a zombie not yet reaped counts:
# tests wait until their processes are reaped)
function _stub_started {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    # the fields after the command name, which may hold blanks
    read -r -a fields <<<"${stat##*) }"
    echo "${fields[19]}"
}

# _stub_record_pid name pid: the pidfile of what a stub started, and its
# start time beside it (.name.started), so that a recycled pid (pid_max
# may be 32768) is never taken for ours
function _stub_record_pid {
    mkdir -p "$STUB_PIDS"
    echo "$2" >"$STUB_PIDS/$1"
    _stub_started "$2" >"$STUB_PIDS/.$1.started"
}

# _stub_ours pidfile: true while the process it names still runs and is
# the one that was started
function _stub_ours {
    local pidfile=$1 started
    started=$(cat "${pidfile%/*}/.${pidfile##*/}.started" 2>/dev/null)
    [[ -n "$started" && "$(_stub_started "$(cat "$pidfile")")" == "$started" ]]
}

# _stub_kill name: stop what run_process or restart_service started
function _stub_kill {
    local name=$1 i
    if [[ -f "$STUB_PIDS/$name" ]]; then
        if _stub_ours "$STUB_PIDS/$name"; then
            kill -TERM "$(cat "$STUB_PIDS/$name")" 2>/dev/null
        fi
        for (( i = 0; i < 100; i++ )); do
            if ! _stub_ours "$STUB_PIDS/$name"; then
                break
            fi
            sleep 0.1
        done
        if _stub_ours "$STUB_PIDS/$name"; then
            kill -KILL "$(cat "$STUB_PIDS/$name")" 2>/dev/null || true
        fi
        rm -f "$STUB_PIDS/$name" "$STUB_PIDS/.$name.started"
    fi
    return 0
}

# run_process name command [group] [user]: recorded; with
# STUB_RUN_PROCESS=background the command also starts, split on blanks as
# systemd's ExecStart splits it, in place of a devstack@name unit; its
# stdout and stderr (the journal) go to $SANDBOX/journal/name
function run_process {
    local name=$1 command=$2
    if ! is_service_enabled "$name"; then
        _stub_record "run_process $name (not enabled)"
        return 0
    fi
    if [[ "$command" != /* || "$command" =~ sudo ]]; then
        die 0 "run_process: '$command' would not run under systemd"
    fi
    _stub_record run_process "$@"
    if [[ "$STUB_RUN_PROCESS" == "background" ]]; then
        mkdir -p "$SANDBOX/journal"
        $command </dev/null >>"$SANDBOX/journal/$name" 2>&1 &
        _stub_record_pid "$name" $!
    fi
}

# stop_process name: recorded; stops what run_process started
function stop_process {
    local name=$1
    if ! is_service_enabled "$name"; then
        _stub_record "stop_process $name (not enabled)"
        return 0
    fi
    _stub_record stop_process "$name"
    # DevStack's ends with systemctl disable: a success
    _stub_kill "$name"
}

# init_CA: DevStack's CA; here a bundle with a marker
function init_CA {
    _stub_record init_CA
    mkdir -p "$INT_CA_DIR/private"
    echo "devstack CA" >>"$SSL_BUNDLE_FILE"
}

# make_cert ca_dir name common_name [alt_names]: fake PEM files, or real
# ones signed by $STUB_CA_DIR's ca.crt/ca.key when that is set
function make_cert {
    local ca_dir=$1 name=$2 cn=$3 alt=${4:-}
    _stub_record make_cert "$@"
    mkdir -p "$ca_dir/private"
    if [[ -z "${STUB_CA_DIR:-}" ]]; then
        echo "certificate for $cn" >"$ca_dir/$name.crt"
        echo "key for $cn" >"$ca_dir/private/$name.key"
        return 0
    fi
    alt="DNS:$cn${alt:+,$alt}"
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$cn" \
        -keyout "$ca_dir/private/$name.key" -out "$ca_dir/$name.csr" \
        2>/dev/null
    openssl x509 -req -in "$ca_dir/$name.csr" -CA "$STUB_CA_DIR/ca.crt" \
        -CAkey "$STUB_CA_DIR/ca.key" -CAcreateserial -days 2 \
        -extfile <(echo "subjectAltName=$alt") \
        -out "$ca_dir/$name.crt" 2>/dev/null
}
