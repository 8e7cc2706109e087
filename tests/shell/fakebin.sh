#!/bin/bash
#
# tests/shell/fakebin.sh
# Commands the plugin runs through PATH, faked for the shell tests: the
# sandbox links sudo, apt-cache, dnf and saslpasswd2 to this script, which
# records each call in $SANDBOX/calls and acts on the sandbox only.
# Also systemctl (the units run_process started, from $SANDBOX/pids),
# base-python (AMQP1_STANDIN_PYTHON: "-m venv DIR") and that venv's
# python ("-m pip install", which gives it an amqp1-fixtures command:
# $STUB_STANDIN_COMMAND, or a fake that records and sleeps).

name=${0##*/}

function _record {
    echo "$name $*" >>"$SANDBOX/calls"
}

# _listed word list: is word in the space separated list?
function _listed {
    [[ " $2 " == *" $1 "* ]]
}

case "$name" in
    sudo)
        # the tests run as root or as a plain user: drop sudo's options
        # and, for a plain user, the owners only root could give
        while [[ "$1" == -* ]]; do
            case "$1" in
                -u|-g)
                    shift 2
                    ;;
                --)
                    shift
                    break
                    ;;
                *)
                    shift
                    ;;
            esac
        done
        _record "$@"
        if [[ $(id -u) -ne 0 ]]; then
            case "$1" in
                chown)
                    exit 0
                    ;;
                install)
                    args=()
                    while [[ $# -gt 0 ]]; do
                        if [[ "$1" == "-o" || "$1" == "-g" ]]; then
                            shift 2
                        else
                            args+=("$1")
                            shift
                        fi
                    done
                    set -- "${args[@]}"
                    ;;
            esac
        fi
        exec "$@"
        ;;
    apt-cache)
        _record "$@"
        if [[ "$1" == "policy" ]]; then
            shift
            for package in "$@"; do
                if _listed "$package" "${STUB_AVAILABLE:-}"; then
                    # STUB_VERSIONS: "package=version ..." (default 1.0-1)
                    version=1.0-1
                    for entry in ${STUB_VERSIONS:-}; do
                        if [[ "${entry%%=*}" == "$package" ]]; then
                            version=${entry#*=}
                        fi
                    done
                    echo "$package:"
                    echo "  Installed: (none)"
                    echo "  Candidate: $version"
                fi
            done
        fi
        ;;
    dnf)
        _record "$@"
        for package in "$@"; do
            if _listed "$package" "${STUB_AVAILABLE:-}"; then
                exit 0
            fi
        done
        exit 1
        ;;
    saslpasswd2)
        _record "$@"
        # the password must come on stdin; keep it for the tests to check
        cat >"$SANDBOX/saslpasswd2.stdin"
        file=""
        while [[ $# -gt 1 ]]; do
            if [[ "$1" == "-f" ]]; then
                file=$2
            fi
            shift
        done
        if [[ -z "$file" ]]; then
            echo "saslpasswd2: no -f" >&2
            exit 1
        fi
        # what the real one creates: a database for the user, not the
        # password in clear, with the umask's mode
        echo "sasldb for $1" >"$file"
        ;;
    systemctl)
        _record "$@"
        if [[ "$1" == "show" ]]; then
            unit=${*: -1}
            unit=${unit#devstack@}
            pid=$(cat "${STUB_PIDS:-$SANDBOX/pids}/${unit%.service}" 2>/dev/null)
            if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
                echo "$pid"
            else
                echo 0
            fi
        fi
        ;;
    base-python)
        _record "$@"
        if [[ "$1" != "-m" || "$2" != "venv" || -z "$3" ]]; then
            exit 2
        fi
        mkdir -p "$3/bin"
        echo "home = $SANDBOX/bin" >"$3/pyvenv.cfg"
        ln -s "$(readlink -f "$0")" "$3/bin/python"
        ;;
    python)
        echo "$0 $*" >>"$SANDBOX/calls"
        if [[ "$1 $2 $3" == "-m pip install" ]]; then
            if [[ -n "${STUB_STANDIN_COMMAND:-}" ]]; then
                ln -sf "$STUB_STANDIN_COMMAND" "$(dirname "$0")/amqp1-fixtures"
            else
                ln -sf "$(readlink -f "$0")" "$(dirname "$0")/amqp1-fixtures"
            fi
            exit 0
        fi
        # tools/module_origin.py: the venv has no amqp1_fixtures to report
        exit 1
        ;;
    amqp1-fixtures)
        _record "$@"
        exec sleep 3600
        ;;
    *)
        echo "fakebin.sh: no fake for '$name'" >&2
        exit 127
        ;;
esac
