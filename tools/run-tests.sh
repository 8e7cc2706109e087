#!/bin/bash
# Run every test of the project on a fresh Debian machine: install the
# distribution packages (tools/test-setup.sh) and tox, then the linters, the
# DevStack plugin's TAP tests, oslo.messaging's functional suite (14.9.x and
# 18.x) under each AMQP1_SERVICE mode, the amqp:// driver's tests (driver/),
# the 14.9.x <-> 18.x interop tests, the guide (tox -e docs) and its
# examples, the proton floor and TLS-less proton checks, the Zuul jobs
# (.zuul.yaml), the tutorial's suite (doc/source/user/tutorial), and last
# the project's unit and functional tests (and the examples under 14.x),
# so that the output ends with pytest's summary line.  Every test runs
# under tools/port-guard.py, which holds the ports a RabbitMQ (or an
# earlier DevStack) holds on a developer's machine: 5672, 5671, 45672,
# 5673, 15672, 25672 and 4369; a test that needs one of them free fails
# here too.
set -euo pipefail

cd "$(dirname "$0")/.."

bash tools/test-setup.sh
# The real qdrouterd and qpidd, where CI puts them beside the checkout:
# the fixtures, the tests and oslo-functional.sh's --daemons run then use
# them (tox passes AMQP1_*; the tests count real launches in their summary).
if [[ -x ../shared/realqpid/bin/qdrouterd ]]; then
    realqpid=$(cd ../shared/realqpid && pwd)
    export AMQP1_QDROUTERD=$realqpid/bin/qdrouterd
    export AMQP1_QPIDD=$realqpid/bin/qpidd
    echo "run-tests: real daemons from $realqpid" >&2
else
    echo "run-tests: no ../shared/realqpid: real-daemon tests will skip" >&2
fi
# RabbitMQ 4, where tools/test-setup.sh built its Debian 13 root: the
# RabbitMQ 4 fixtures and tests use it (they skip without it).
rabbitmq4=${AMQP1_RABBITMQ4_DIR:-/var/cache/amqp1-fixtures/rabbitmq4}/bin/rabbitmq-server
if [[ -z ${AMQP1_RABBITMQ4:-} && -x $rabbitmq4 ]]; then
    export AMQP1_RABBITMQ4=$rabbitmq4
    echo "run-tests: RabbitMQ 4 from $rabbitmq4" >&2
fi
python3 -m pip install -q --disable-pip-version-check 'tox>=4.0'

# tox under the guard: it listens while the command runs, then exits
# with its status, leaving nothing behind whether the tests pass or not.
guarded=(python3 tools/port-guard.py --)

"${guarded[@]}" python3 -m tox -e pep8,bashate,shell,oslo-functional,driver
# oslo.messaging 18.x's functional suite through driver/, and the
# 14.9.x <-> 18.x interop tests.
"${guarded[@]}" python3 -m tox -e oslo-functional-18,interop
# The guide (doc/source) with warnings as errors, and every example of
# README.rst and the guide run under the newest oslo.messaging 18.x with
# driver/ (the "all" env below runs them under 14.x).  About 1 min and
# 4 min on a fresh 2-core machine, most of it building the environments
# and the examples' own venvs.
"${guarded[@]}" python3 -m tox -e docs,examples
# The engine on the lowest python-qpid-proton setup.cfg allows, and
# clients on a proton built without OpenSSL.
"${guarded[@]}" python3 -m tox -e proton-floor,tlsless
# .zuul.yaml without a Zuul: Zuul's own parser, the upstream names, the
# plugin's settings, the playbooks under Ansible with the consumer example.
"${guarded[@]}" python3 -m tox -e zuul
# The tutorial's suite ("Testing your service over AMQP 1.0") with its own
# tox.ini, as a service runs it: oslo.messaging 18.x with driver/ (pytest
# under qpid-dual and qpid-hybrid, stestr, and "amqp1-fixtures run
# qpid-hybrid --daemons"), and 14.x with its own driver.  Its
# environments go under .tox/, not into the guide's source tree.
"${guarded[@]}" python3 -m tox -c doc/source/user/tutorial/tox.ini \
    --workdir .tox/tutorial
# -qq: keep tox's own report quiet so pytest's summary is the last line.
"${guarded[@]}" python3 -m tox -qq -e all
