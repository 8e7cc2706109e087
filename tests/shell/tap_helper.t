#!/bin/bash
#
# The TAP helper itself: its output and exit status, as prove reads them.

source "$(dirname "$0")/tap.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-tap.XXXXXX")
tap_on_exit rm -rf "$WORK"
TAP_LIB=$(cd "$(dirname "$0")" && pwd)/tap.sh

# run_tap body: run a script that sources tap.sh; sets OUT, ERR, STATUS
function run_tap {
    printf 'source %q\n%s\n' "$TAP_LIB" "$1" >"$WORK/script.t"
    bash "$WORK/script.t" >"$WORK/out" 2>"$WORK/err"
    STATUS=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

plan no_plan

run_tap 'plan tests 4
ok 0 "zero is success"
is a a "equal"
isnt a b "different"
like "hello world" "^hel+o w" "regex"'
is "$STATUS" 0 "a passing script exits 0"
is "$OUT" "1..4
ok 1 - zero is success
ok 2 - equal
ok 3 - different
ok 4 - regex" "a passing script prints the plan and one line per test"

run_tap 'plan no_plan
ok 1 "fails"
is got expected "differs"
pass "passes"
done_testing'
is "$STATUS" 2 "the exit status counts the failures"
like "$OUT" "not ok 1 - fails" "a failure is 'not ok'"
like "$OUT" $'ok 3 - passes\n1..3$' "done_testing prints the plan at the end"
like "$ERR" "got: 'got'" "is explains a failure on stderr"
like "$ERR" "expected: 'expected'" "is shows the expected value"

run_tap 'plan tests 3
pass one'
is "$STATUS" 255 "running fewer tests than planned fails the script"
like "$ERR" "planned 3 tests but ran 1" "and says so"

run_tap 'plan no_plan
pass one'
is "$STATUS" 255 "no_plan without done_testing fails the script"

run_tap 'plan skip_all "no daemon here"
fail "never run"'
is "$STATUS" 0 "skip_all exits 0"
is "$OUT" "1..0 # SKIP no daemon here" "skip_all prints a skip plan"

run_tap 'plan no_plan
skip 2 "not today"
unlike abc "^b" "unlike"
note "a note"
diag "a diagnostic"
tap_on_exit echo cleaned
done_testing'
is "$STATUS" 0 "skip, unlike, note and diag do not fail"
like "$OUT" "ok 1 # skip not today" "skip prints skipped tests"
like "$OUT" "# a note" "note goes to stdout"
like "$ERR" "# a diagnostic" "diag goes to stderr"
like "$OUT" "cleaned" "tap_on_exit commands run at the end"

run_tap 'plan no_plan
ok 0 "issue #7 fixed"
done_testing'
like "$OUT" 'ok 1 - issue \\#7 fixed' "a # in a name is escaped"

done_testing
