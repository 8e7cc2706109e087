#!/bin/bash
#
# Which amqp driver the services get (and whether TLS is possible):
# in pre-install the branch's upper-constraints decide (oslo.messaging's
# own driver before 15.0, this project's amqp1-driver from driver/ after);
# install puts it where the services run from; the check after install
# and post-config runs a real python over fake distributions.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

REAL_PYTHON="PYTHON=$SANDBOX/bin/python"
# the driver/ of this checkout, or a stand-in for it until it is merged
DRIVER_DIR=$REPO_DIR
if [[ ! -f "$REPO_DIR/driver/setup.cfg" && ! -f "$REPO_DIR/driver/pyproject.toml" ]]; then
    DRIVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/amqp1-driver-t.XXXXXX")
    tap_on_exit rm -rf "$DRIVER_DIR"
    mkdir -p "$DRIVER_DIR/driver"
    echo "[metadata]" >"$DRIVER_DIR/driver/setup.cfg"
fi

# -- the plan, per live branch ------------------------------------------------------

for branch in 2024.1/14.7.0 2024.2/14.9.3 2025.1/16.1.2 2025.2/17.1.0 \
        2026.1/17.3.0 master/18.2.0; do
    version=${branch#*/}
    branch=${branch%/*}
    sandbox_reset
    localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=u AMQP1_PASSWORD=p \
        "STUB_UC_OSLO_MESSAGING=$version" "AMQP1_DIR=$DRIVER_DIR"
    devstack_run stack pre-install install post-config
    is "$DEVSTACK_STATUS" 0 "$branch (oslo.messaging $version): stacks"
    if [[ ${version%%.*} -ge 15 ]]; then
        like "$(output)" "AMQP1: RPC go to qdrouterd at 127.0.0.1:$SANDBOX_ROUTER_PORT \(distro|standin.*\), through the amqp driver of amqp1-driver \(upper-constraints pin oslo.messaging $version\)" \
            "$branch: pre-install says RPC goes through amqp1-driver"
        is "$(calls '^pip_install' | head -n 1)" "pip_install $DRIVER_DIR/driver" \
            "$branch: the project's driver goes into the services' environment"
        is "$(calls '^pip_install pyngus')" "" "$branch: no pyngus"
    else
        like "$(output)" "AMQP1: notifications go to qpidd at 127.0.0.1:$SANDBOX_BROKER_PORT .*, through the amqp driver of oslo.messaging \(upper-constraints pin oslo.messaging $version\)" \
            "$branch: pre-install says oslo.messaging's own driver is used"
        is "$(calls '^pip_install' | head -n 1)" "pip_install pyngus python-qpid-proton" \
            "$branch: oslo.messaging's driver needs pyngus and proton"
        is "$(calls "^pip_install .*driver")" "" \
            "$branch: the project's driver is not installed (two amqp entry points)"
    fi
done

# USE_VENV: every project venv gets the driver (DevStack's lib/stack)
sandbox_reset
localrc AMQP1_SERVICE=qpid STUB_UC_OSLO_MESSAGING=18.2.0 USE_VENV=True \
    ADDITIONAL_VENV_PACKAGES=PyMySQL "AMQP1_DIR=$DRIVER_DIR"
devstack_run stack pre-install -- 'echo "$ADDITIONAL_VENV_PACKAGES"'
is "$(cat "$SANDBOX/after")" "PyMySQL,$DRIVER_DIR/driver" \
    "USE_VENV=True: the driver joins ADDITIONAL_VENV_PACKAGES in pre-install"
sandbox_reset
localrc AMQP1_SERVICE=qpid STUB_UC_OSLO_MESSAGING=14.9.3 USE_VENV=True \
    "AMQP1_DIR=$DRIVER_DIR"
devstack_run stack pre-install -- 'echo "$ADDITIONAL_VENV_PACKAGES"'
is "$(cat "$SANDBOX/after")" "" "but not on a branch with oslo.messaging's driver"

# -- failing in pre-install -----------------------------------------------------------

# dies_in_preinstall name regex
function dies_in_preinstall {
    is "$DEVSTACK_STATUS" 1 "$1: stack.sh stops"
    like "$(output)" "$2" "$1: saying why"
    is "$(calls '^(pip_install|install_package|run_process)')" "" \
        "$1: in pre-install, before anything is installed"
}

sandbox_reset
localrc STUB_UC_OSLO_MESSAGING=18.2.0 AMQP1_DIR=/nonexistent/checkout
devstack_run stack pre-install install
dies_in_preinstall "oslo.messaging 18 and no driver/" \
    "upper-constraints pin oslo.messaging 18.2.0, which has no amqp driver, and this checkout \(/nonexistent/checkout\) has no driver/"

sandbox_reset
localrc STUB_UC_OSLO_MESSAGING=18.2.0 STUB_UC_PROTON=0.38.0 "AMQP1_DIR=$DRIVER_DIR"
devstack_run stack pre-install install
dies_in_preinstall "a proton pin the driver cannot use" \
    "amqp1-driver needs python-qpid-proton>=0.39,<0.41 but upper-constraints pin 0.38.0"

sandbox_reset
localrc STUB_UC_OSLO_MESSAGING=none
devstack_run stack pre-install install
dies_in_preinstall "no upper-constraints" \
    "cannot read $SANDBOX/requirements/upper-constraints.txt"

# -- the check of the services' python ---------------------------------------------

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
fake_amqp1_driver none
localrc AMQP1_SERVICE=qpid-dual "$REAL_PYTHON"
devstack_run stack pre-install install post-config
is "$DEVSTACK_STATUS" 0 "oslo.messaging 14.9.3 with its amqp driver passes the check"
is "$(grep -c "oslo.messaging 14.9.3 provides the amqp driver (from oslo.messaging)" "$SANDBOX/out")" 2 \
    "checked in the install and post-config phases"

sandbox_reset
fake_oslo_messaging 18.2.0
fake_amqp1_driver
localrc AMQP1_SERVICE=qpid-dual "$REAL_PYTHON" STUB_UC_OSLO_MESSAGING=18.2.0 \
    "AMQP1_DIR=$DRIVER_DIR"
devstack_run stack pre-install install post-config
is "$DEVSTACK_STATUS" 0 "oslo.messaging 18.2.0 with amqp1-driver passes the check"
is "$(grep -c "oslo.messaging 18.2.0 provides the amqp driver (from amqp1-driver)" "$SANDBOX/out")" 2 \
    "checked in the install and post-config phases"

sandbox_reset
fake_oslo_messaging 18.2.0
fake_amqp1_driver none
localrc AMQP1_SERVICE=qpid-dual "$REAL_PYTHON" STUB_UC_OSLO_MESSAGING=18.2.0 \
    "AMQP1_DIR=$DRIVER_DIR"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "oslo.messaging 18 without amqp1-driver: stack.sh stops in install"
like "$(output)" "oslo.messaging 18.2.0 installed for $SANDBOX/bin/python has no 'amqp' driver \(oslo.messaging 15.0 removed its own\) and amqp1-driver is not installed there" \
    "the message names the version and what is missing"
is "$(calls '^run_process')" "" "no daemon started for services that cannot use it"

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
fake_amqp1_driver
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "two amqp drivers stop stack.sh"
like "$(output)" "two 'amqp' drivers in $SANDBOX/bin/python \(amqp1-driver,oslo.messaging\): stevedore refuses to choose; pip uninstall amqp1-driver there" \
    "naming both and the fix"
fake_amqp1_driver none

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
echo 'raise ImportError("libqpid-proton-core.so.10: cannot open")' \
    >"$SANDBOX/site/pyngus.py"
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "unimportable client libraries stop stack.sh"
like "$(output)" "oslo.messaging 14.9.3 has the amqp driver \(from oslo.messaging\) but .* cannot load it or its client libraries \(libqpid-proton-core.so.10: cannot open\); pip install pyngus python-qpid-proton there" \
    "naming the error and the fix"

sandbox_reset
fake_oslo_messaging none
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install post-config
is "$DEVSTACK_STATUS" 0 "no oslo.messaging yet (no service installed it) is not fatal"
is "$(calls '^warn oslo' | head -n 1)" "warn oslo.messaging is not installed for $SANDBOX/bin/python yet; its amqp driver could not be checked" \
    "but is reported, whole (DevStack's warn prints its 2nd argument only)"

sandbox_reset
fake_oslo_messaging 14.9.3 amqp
localrc AMQP1_SERVICE=qpid "$REAL_PYTHON"
devstack_run stack pre-install install -- \
    'fake_oslo_messaging 15.1.0; source "$REPO_DIR/devstack/plugin.sh" stack post-config'
is "$DEVSTACK_STATUS" 1 "a later install that upgrades oslo.messaging is caught in post-config"
like "$(output)" "oslo.messaging 15.1.0 installed" "with the new version"
fake_oslo_messaging 14.9.3 amqp

sandbox_reset
localrc AMQP1_SERVICE=qpid PYTHON=/nonexistent/python3
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "a PYTHON that does not run stops stack.sh"
like "$(output)" "cannot run /nonexistent/python3 to check oslo.messaging" \
    "saying which python"

# -- AMQP1_SSL needs a proton with TLS ----------------------------------------------

for tls in True False; do
    sandbox_reset
    fake_oslo_messaging 14.9.3 amqp
    localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True "$REAL_PYTHON"
    export STUB_PROTON_TLS=$tls
    devstack_run stack pre-install install
    unset STUB_PROTON_TLS
    if [[ $tls == True ]]; then
        is "$DEVSTACK_STATUS" 0 "AMQP1_SSL with a proton that has TLS stacks"
        is "$(calls '^run_process amqp1-router' | wc -l)" 1 "and starts the router"
    else
        is "$DEVSTACK_STATUS" 1 "AMQP1_SSL with a TLS-less proton stops stack.sh"
        like "$(output)" "AMQP1_SSL=True but the python-qpid-proton of $SANDBOX/bin/python was built without TLS \(proton.SSL.present\(\) is False\): install libssl-dev and pkg-config .*, then rebuild it: pip install --force-reinstall --no-binary python-qpid-proton" \
            "with the cause and the fix"
        is "$(calls '^(run_process|restart_service)')" "" "before any daemon starts"
    fi
done

done_testing
