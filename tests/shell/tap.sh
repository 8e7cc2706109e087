#!/bin/bash
#
# tests/shell/tap.sh
# A small Test Anything Protocol library with bash-tap's vocabulary, for
# the plugin's shell tests (*.t, run by prove).  Source it first:
#
#   source "$(dirname "$0")/tap.sh"
#   plan tests 3              # or: plan no_plan / plan skip_all "reason"
#   ok $? "command succeeded" # an exit status: 0 passes
#   is "$got" "$expected" "name"
#   like "$got" "extended regex" "name"
#   done_testing              # with no_plan: prints the plan
#
# The script's exit status is the number of failed tests (max 254), or
# 255 when the number of tests run differs from the plan.

_TAP_PLANNED=""
_TAP_RUN=0
_TAP_FAILED=0
_TAP_DONE=0
_TAP_EXIT_CMDS=()

# plan tests N | plan no_plan | plan skip_all [reason]
function plan {
    case "$1" in
        tests)
            _TAP_PLANNED=$2
            echo "1..$2"
            ;;
        no_plan)
            _TAP_PLANNED=no_plan
            ;;
        skip_all)
            echo "1..0 # SKIP ${2:-}"
            _TAP_PLANNED=0
            _TAP_DONE=1
            exit 0
            ;;
        *)
            BAIL_OUT "plan: unknown plan '$1'"
            ;;
    esac
}

# _tap_result status name: print one test line
function _tap_result {
    local status=$1 name=$2
    _TAP_RUN=$((_TAP_RUN + 1))
    name=${name//#/\\#}
    if [[ "$status" == "0" ]]; then
        echo "ok $_TAP_RUN${name:+ - $name}"
        return 0
    fi
    _TAP_FAILED=$((_TAP_FAILED + 1))
    echo "not ok $_TAP_RUN${name:+ - $name}"
    diag "  Failed test${name:+ '$name'}"
    diag "  at ${BASH_SOURCE[2]##*/} line ${BASH_LINENO[1]}."
    return 1
}

# ok status [name]: passes when status (an exit status) is 0
function ok {
    _tap_result "$1" "${2:-}"
}

# pass [name] / fail [name]
function pass {
    _tap_result 0 "${1:-}"
}

function fail {
    _tap_result 1 "${1:-}"
}

# is got expected [name]
function is {
    if [[ "$1" == "$2" ]]; then
        _tap_result 0 "${3:-}"
    else
        _tap_result 1 "${3:-}"
        diag "         got: '$1'"
        diag "    expected: '$2'"
        return 1
    fi
}

# isnt got unexpected [name]
function isnt {
    if [[ "$1" != "$2" ]]; then
        _tap_result 0 "${3:-}"
    else
        _tap_result 1 "${3:-}"
        diag "         got: '$1'"
        diag "    expected: anything else"
        return 1
    fi
}

# like got regex [name]: got matches the extended regular expression
function like {
    if [[ "$1" =~ $2 ]]; then
        _tap_result 0 "${3:-}"
    else
        _tap_result 1 "${3:-}"
        diag "                  '$1'"
        diag "    doesn't match '$2'"
        return 1
    fi
}

# unlike got regex [name]
function unlike {
    if [[ ! "$1" =~ $2 ]]; then
        _tap_result 0 "${3:-}"
    else
        _tap_result 1 "${3:-}"
        diag "                  '$1'"
        diag "          matches '$2'"
        return 1
    fi
}

# skip count reason: count skipped tests
function skip {
    local i
    for (( i = 0; i < $1; i++ )); do
        _TAP_RUN=$((_TAP_RUN + 1))
        echo "ok $_TAP_RUN # skip ${2:-}"
    done
}

# diag message...: a comment on stderr (shown by prove on failure)
function diag {
    local line
    while IFS= read -r line; do
        echo "# $line" >&2
    done <<<"$*"
}

# note message...: a comment on stdout (shown by prove -v)
function note {
    local line
    while IFS= read -r line; do
        echo "# $line"
    done <<<"$*"
}

# done_testing [count]: end of the tests
function done_testing {
    if [[ "$_TAP_PLANNED" == "no_plan" || -z "$_TAP_PLANNED" ]]; then
        _TAP_PLANNED=${1:-$_TAP_RUN}
        echo "1..$_TAP_PLANNED"
    fi
    _TAP_DONE=1
}

# BAIL_OUT reason: stop the whole test run
function BAIL_OUT {
    echo "Bail out! $*"
    _TAP_DONE=1
    exit 255
}

# tap_on_exit command...: run a cleanup command when the script ends
function tap_on_exit {
    _TAP_EXIT_CMDS+=("$*")
}

function _tap_exit {
    local status=$? cmd
    for cmd in "${_TAP_EXIT_CMDS[@]}"; do
        eval "$cmd"
    done
    if [[ "$_TAP_PLANNED" == "no_plan" || -z "$_TAP_PLANNED" ]] && \
            [[ "$_TAP_DONE" != "1" ]]; then
        diag "Looks like the test script exited ($status) before done_testing."
        exit 255
    fi
    if [[ "$_TAP_PLANNED" =~ ^[0-9]+$ && "$_TAP_PLANNED" != "$_TAP_RUN" ]]; then
        diag "Looks like you planned $_TAP_PLANNED tests but ran $_TAP_RUN."
        exit 255
    fi
    if [[ $_TAP_FAILED -gt 0 ]]; then
        diag "Looks like you failed $_TAP_FAILED test(s) of $_TAP_RUN."
        exit $((_TAP_FAILED > 254 ? 254 : _TAP_FAILED))
    fi
    exit 0
}

trap _tap_exit EXIT
