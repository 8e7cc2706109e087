#!/bin/bash
# Run every test of the project on a fresh Debian machine: install the
# distribution packages (tools/test-setup.sh) and tox, then the linters, the
# DevStack plugin's TAP tests, oslo.messaging's functional suite under each
# AMQP1_SERVICE mode, the new amqp:// driver's tests (driver/), and last the project's unit and functional tests, so
# that the output ends with pytest's summary line.
set -euo pipefail

cd "$(dirname "$0")/.."

bash tools/test-setup.sh
python3 -m pip install -q --disable-pip-version-check 'tox>=4.0'

python3 -m tox -e pep8,bashate,shell,oslo-functional,driver
# oslo.messaging 18.x's functional suite through driver/, and the
# 14.9.x <-> 18.x interop tests.
python3 -m tox -e oslo-functional-18,interop
# -qq: keep tox's own report quiet so pytest's summary is the last line.
python3 -m tox -qq -e all
