#!/bin/bash
# Run oslo.messaging's own functional suite (oslo_messaging.tests.functional,
# installed with the package) against each AMQP1_SERVICE mode, each run
# wrapped in "amqp1-fixtures run MODE", which starts the backends, exports
# RPC_TRANSPORT_URL, NOTIFY_TRANSPORT_URL, TRANSPORT_URL and AMQP1_BACKEND
# and stops the backends afterwards.
#
# Usage: tools/oslo-functional.sh [--daemons] [--routers N] [MODE...]
#   MODE      qpid, qpid-dual, qpid-hybrid, rabbitmq (default: the first
#             three, and rabbitmq too with oslo.messaging >= 16: 14.x's
#             driver cannot talk to RabbitMQ 4), or router / broker alone
#   --daemons router and broker as processes instead of in-process fakes:
#             the real qdrouterd/qpidd when found (AMQP1_QDROUTERD and
#             AMQP1_QPIDD, the bundle ../shared/realqpid beside the checkout,
#             or PATH; then --require-real: no silent fall-back), the
#             stand-ins otherwise; for rabbitmq a private RabbitMQ >= 4
#             (AMQP1_RABBITMQ4 or PATH; the mode is left out, saying so,
#             where there is none)
#   --routers N
#             RPC over a mesh of N in-process routers whose connections
#             are dealt in turn (amqp1-fixtures run --routers), so that
#             the suite's servers and clients are on different routers;
#             a run fails unless messages crossed between routers
# Environment:
#   PYTHON                 interpreter with oslo.messaging and amqp1_fixtures
#                          (default: python3 on PATH)
#   AMQP1_OSLO_TIMEOUT     seconds allowed per mode (default 1800)
#   AMQP1_OSLO_PYTEST_ARGS extra pytest arguments (word-split)
#
# Says which daemons ran and counts their launches per mode (stderr).
# Prints one count line per mode and, last, the totals:
#   oslo-functional: 54 passed, 0 failed, 9 skipped
# Exits non-zero if any run fails.
set -uo pipefail

PROG=oslo-functional
PYTHON=${PYTHON:-python3}
TIMEOUT=${AMQP1_OSLO_TIMEOUT:-1800}

function _say {
    echo "$PROG: $*" >&2
}

function _die {
    _say "error: $*"
    echo "$PROG: 0 passed, 1 failed, 0 skipped"
    exit 1
}

run_opts=()
mesh_opts=()
modes=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --daemons) run_opts+=("--daemons") ;;
        --routers)
            [[ $# -ge 2 ]] || _die "--routers needs a number"
            mesh_opts=("--routers" "$2")
            shift ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) _die "unknown option $1" ;;
        *) modes+=("$1") ;;
    esac
    shift
done
if [[ ${#mesh_opts[@]} -gt 0 && ${#run_opts[@]} -gt 0 ]]; then
    _die "--routers deals connections to in-process routers: not with --daemons"
fi
PYTHON=$(command -v "$PYTHON") || _die "no $PYTHON"
if [[ ${#modes[@]} -eq 0 ]]; then
    modes=(qpid qpid-dual qpid-hybrid)
    # RabbitMQ 4 needs this repository's driver (oslo.messaging >= 16)
    if "$PYTHON" -c 'import oslo_messaging.version as v, sys; sys.exit(int(v.version_info.version_string().split(".")[0]) < 16)' 2>/dev/null; then
        modes+=(rabbitmq)
    fi
fi
# The metrics test runs "python3 -m oslo_metrics": the interpreter's own
# bin directory (a venv's) must come first on PATH, as it does under tox.
bindir=$("$PYTHON" -c 'import os, sys; print(os.path.dirname(sys.executable))')
export PATH="$bindir:$PATH"

pkgdir=$("$PYTHON" -c 'import os, oslo_messaging.tests.functional as m; print(os.path.dirname(m.__file__))') \
    || _die "oslo.messaging's functional tests are not installed"
version=$("$PYTHON" -c 'import oslo_messaging.version as v; print(v.version_info.version_string())')

pytest_args=(-p no:cacheprovider -q -rfEs)
# notify/test_logger.py is built with testscenarios, whose load_tests
# pytest does not call: its one test would run without a scenario and fail
# with "no attribute 'priority'" on any backend.  Not collected.
pytest_args+=("--ignore=$pkgdir/notify")
# test_rabbitmq.py needs pifpaf, and only runs with TRANSPORT_DRIVER=rabbit
# (RabbitMQ clusters): not collected when pifpaf is absent, as oslo's AMQP
# 1.0 jobs never installed it.
if ! "$PYTHON" -c 'import pifpaf' 2>/dev/null; then
    pytest_args+=("--ignore=$pkgdir/test_rabbitmq.py")
fi
if [[ ${#mesh_opts[@]} -gt 0 ]]; then
    # Over a mesh these two assume that every server of a group gets some
    # of a client's sequential calls: a router mesh sends them all to the
    # servers of one router (qdrouterd 1.19 measured: balanced at low load
    # stays on the client's router when it has a server, else goes to the
    # first of the closest routers; test_mesh_behaviour.py's balanced rows).
    pytest_args+=(-k "not (CallTestCase and (test_server_in_group or test_different_exchanges))")
fi
if [[ -n "${AMQP1_OSLO_PYTEST_ARGS:-}" ]]; then
    read -r -a extra <<< "$AMQP1_OSLO_PYTEST_ARGS"
    pytest_args+=("${extra[@]}")
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/oslo-functional.XXXXXX") || _die "mktemp failed"
trap 'rm -rf "$workdir"' EXIT

# Each daemon fixture appends "<impl> <kind>" here (amqp1_fixtures.daemons.qpid).
export AMQP1_LAUNCH_LOG="$workdir/launches"
: > "$AMQP1_LAUNCH_LOG"

# "N qdrouterd, N qpidd, N stand-in" launches in the log so far.
function _launches {
    local q=0 p=0 s=0 impl rest
    while read -r impl rest; do
        case "$impl" in
            qdrouterd) q=$((q + 1)) ;;
            qpidd) p=$((p + 1)) ;;
            standin) s=$((s + 1)) ;;
        esac
    done < "$AMQP1_LAUNCH_LOG"
    echo "$q real qdrouterd, $p real qpidd, $s stand-in"
}

if [[ ${#run_opts[@]} -gt 0 ]]; then
    bundle=$(cd "$(dirname "$0")/.." && pwd)/../shared/realqpid
    if [[ -z "${AMQP1_QDROUTERD:-}" && -x "$bundle/bin/qdrouterd" ]]; then
        export AMQP1_QDROUTERD="$bundle/bin/qdrouterd"
        export AMQP1_QPIDD="$bundle/bin/qpidd"
    fi
    qdr=${AMQP1_QDROUTERD:-$(command -v qdrouterd || true)}
    qpd=${AMQP1_QPIDD:-$(command -v qpidd || true)}
    if [[ -n "$qdr" && -n "$qpd" ]]; then
        run_opts+=("--require-real")
        _say "daemons: real qdrouterd $qdr, real qpidd $qpd"
    else
        _say "daemons: real qdrouterd/qpidd not found, the stand-ins run"
    fi
    # RabbitMQ 4 has no stand-in: without one the rabbitmq mode is left out
    if rabbitmq4=$("$PYTHON" -c 'from amqp1_fixtures.daemons import rabbitmq4 as r; print(r.find_rabbitmq4_server() or "")' 2>/dev/null) && [[ -n "$rabbitmq4" ]]; then
        _say "daemons: RabbitMQ 4 $rabbitmq4"
    else
        kept=()
        for mode in "${modes[@]}"; do
            if [[ $mode == rabbitmq ]]; then
                _say "rabbitmq: left out: no RabbitMQ >= 4 (AMQP1_RABBITMQ4 unset; tools/rabbitmq4-setup.sh builds one)"
            else
                kept+=("$mode")
            fi
        done
        modes=("${kept[@]}")
    fi
fi

# Counts of a junit XML report: "passed failed skipped" (errors count as
# failed); nothing when the report is missing or unreadable.
function _counts {
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == 'testsuite' else root.iter('testsuite')
total = failed = skipped = 0
for s in suites:
    total += int(s.get('tests', 0))
    failed += int(s.get('failures', 0)) + int(s.get('errors', 0))
    skipped += int(s.get('skipped', 0))
print(total - failed - skipped, failed, skipped)
EOF
}

total_passed=0
total_failed=0
total_skipped=0
status=0
_say "oslo.messaging $version, modes: ${modes[*]}${run_opts[*]:+ (${run_opts[*]})}${mesh_opts[*]:+ (${mesh_opts[*]})}"
if [[ ${#run_opts[@]} -gt 0 ]]; then
    # Which daemons --daemons runs: the real ones where installed.
    _say "daemons: router $(command -v "${AMQP1_QDROUTERD:-qdrouterd}" || echo stand-in)," \
        "broker $(command -v "${AMQP1_QPIDD:-qpidd}" || echo stand-in)"
fi
for mode in "${modes[@]}"; do
    report="$workdir/$mode.xml"
    _say "$mode: running oslo_messaging.tests.functional"
    # From the work directory, so that no project config file applies.
    (cd "$workdir" && timeout -k 60 "$TIMEOUT" \
        amqp1-fixtures run "$mode" "${run_opts[@]}" "${mesh_opts[@]}" -- \
        "$PYTHON" -m pytest "${pytest_args[@]}" --junitxml="$report" \
        --pyargs oslo_messaging.tests.functional) \
        2> >(tee "$workdir/$mode.stderr" >&2)
    rc=$?
    # tee may still be writing
    wait "${!:-}" 2>/dev/null || true
    if counts=$(_counts "$report") && [[ -n "$counts" ]]; then
        read -r passed failed skipped <<< "$counts"
    else
        passed=0 failed=1 skipped=0
        _say "$mode: no test report (exit status $rc)"
    fi
    if [[ $rc -ne 0 && $failed -eq 0 ]]; then
        # e.g. the backends did not start, or a timeout
        failed=1
    fi
    if [[ ${#mesh_opts[@]} -gt 0 ]]; then
        # The runner's own line: how many messages crossed between routers.
        crossed=$(sed -n 's/^amqp1-fixtures run: mesh: \([0-9]*\) messages crossed.*/\1/p' \
            "$workdir/$mode.stderr")
        if [[ -z "$crossed" || "$crossed" -eq 0 ]]; then
            _say "$mode: no message crossed between the routers"
            failed=$((failed + 1))
        fi
    fi
    if [[ $failed -ne 0 ]]; then
        status=1
    fi
    _say "$mode: $passed passed, $failed failed, $skipped skipped (exit status $rc)"
    _say "$mode: daemon launches so far: $(_launches)"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    total_skipped=$((total_skipped + skipped))
done

_say "daemon launches: $(_launches)"
echo "$PROG: $total_passed passed, $total_failed failed, $total_skipped skipped"
exit $status
