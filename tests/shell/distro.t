#!/bin/bash
#
# The distribution's qdrouterd/qpidd: packages installed (and removed)
# only where the distribution has them, sasldb written with saslpasswd2,
# the packages' systemd units restarted and stopped; auto picks per daemon.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

PASSWORD='p@ss:w/rd %é'
if [[ $(id -u) -eq 0 ]]; then
    SERVICE_USER=daemon
else
    SERVICE_USER=$(id -un)
fi

DEBIAN_PACKAGES="qdrouterd qpidd sasl2-bin libsasl2-modules"

for mode in qpid qpid-dual qpid-hybrid; do
    sandbox_reset
    localrc "AMQP1_SERVICE=$mode" AMQP1_USERNAME=alice \
        "AMQP1_PASSWORD=$PASSWORD" "STUB_AVAILABLE=$DEBIAN_PACKAGES"
    note "AMQP1_SERVICE=$mode, Debian with qpid packages"
    case $mode in
        qpid) daemons="qpidd" ;;
        qpid-dual) daemons="qdrouterd qpidd" ;;
        qpid-hybrid) daemons="qdrouterd" ;;
    esac

    devstack_run stack pre-install install post-config extra
    is "$DEVSTACK_STATUS" 0 "$mode: stack.sh's plugin phases succeed"
    [[ $DEVSTACK_STATUS -eq 0 ]] || diag "$(output)"

    expected=""
    for daemon in $daemons sasl2-bin libsasl2-modules; do
        expected+="install_package $daemon"$'\n'
    done
    is "$(calls '^install_package')" "${expected%$'\n'}" \
        "$mode: installs $daemons and the SASL tools from the distribution"
    is "$(calls "^pip_install $REPO_DIR")" "" "$mode: no stand-in installed"
    is "$(calls '^run_process')" "" "$mode: no DevStack service started"
    expected=""
    for daemon in $daemons; do
        expected+="restart_service $daemon"$'\n'
    done
    is "$(calls '^restart_service')" "${expected%$'\n'}" \
        "$mode: restarts the packages' units"

    for daemon in $daemons; do
        sasldb=$SANDBOX/var/lib/$daemon/$daemon.sasldb
        if [[ $daemon == qpidd ]]; then
            realm="-u QPID "
            conf=$SANDBOX/etc/qpid/qpidd.conf
        else
            realm=$(hostname -f 2>/dev/null || hostname)
            realm="-u ${realm,,} "
            conf=$SANDBOX/etc/qpid-dispatch/qdrouterd.conf
        fi
        is "$(calls "^saslpasswd2 .*$daemon.sasldb")" \
            "saslpasswd2 -p -c -f $sasldb ${realm}alice" \
            "$mode: $daemon's user is added with saslpasswd2 -p (no password argument)"
        is "$(cat "$SANDBOX/saslpasswd2.stdin")" "$PASSWORD" \
            "$mode: the password goes through saslpasswd2's stdin"
        is "$(file_mode "$sasldb")|$(file_owner "$sasldb")" \
            "600|$SERVICE_USER" "$mode: $daemon.sasldb is 0600, owned by $daemon's user"
        like "$(cat "$SANDBOX/etc/sasl2/$daemon.conf")" \
            "sasldb_path: $sasldb" "$mode: $daemon's SASL config names the sasldb"
        is "$(file_owner "$SANDBOX/logs/$daemon.log")" "$SERVICE_USER" \
            "$mode: $daemon can write its log in LOGDIR"
        like "$(cat "$conf")" "(log-to-file=|outputFile: )$SANDBOX/logs/$daemon.log" \
            "$mode: $daemon.conf logs there"
    done
    if [[ " $daemons " == *" qpidd "* ]]; then
        like "$(cat "$SANDBOX/etc/qpid/qpidd.conf")" \
            "data-dir=$SANDBOX/var/lib/qpidd" \
            "$mode: qpidd keeps its data in the package's directory"
    fi
    is "$(calls "$PASSWORD")" "" "$mode: the password is in no recorded call"

    : >"$SANDBOX/calls"
    devstack_run unstack
    expected=""
    for daemon in $daemons; do
        expected+="stop_service $daemon"$'\n'
    done
    is "$(calls '^stop_service')" "${expected%$'\n'}" \
        "$mode: unstack stops the packages' units"

    devstack_run clean
    is "$DEVSTACK_STATUS" 0 "$mode: clean succeeds"
    expected=""
    for daemon in $daemons sasl2-bin libsasl2-modules; do
        expected+="uninstall_package $daemon"$'\n'
    done
    is "$(calls '^uninstall_package')" "${expected%$'\n'}" \
        "$mode: clean removes the packages it installed"
    is "$(find "$SANDBOX/etc" "$SANDBOX/var" "$SANDBOX/data/amqp1" \
            "$SANDBOX/logs" -type f 2>/dev/null)" "" \
        "$mode: clean removes configs, sasldb, data and logs"
done

# -- packages that were there before stay --------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid AMQP1_USERNAME=alice AMQP1_PASSWORD=x \
    "STUB_AVAILABLE=$DEBIAN_PACKAGES"
printf '%s\n' qpidd sasl2-bin >"$SANDBOX/installed"
devstack_run stack pre-install install
is "$(calls '^install_package')" "install_package libsasl2-modules" \
    "packages already installed are not installed again"
devstack_run clean
is "$(calls '^uninstall_package')" "uninstall_package libsasl2-modules" \
    "and clean leaves them installed"

# -- Fedora ---------------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=alice AMQP1_PASSWORD=x \
    STUB_DISTRO=fedora \
    "STUB_AVAILABLE=qpid-dispatch-router qpid-cpp-server cyrus-sasl cyrus-sasl-plain"
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 0 "Fedora: qpid-dual stacks"
is "$(calls '^install_package')" "install_package qpid-dispatch-router
install_package qpid-cpp-server
install_package cyrus-sasl
install_package cyrus-sasl-plain" "Fedora: installs the Fedora package names"
is "$(calls '^(dnf|apt-cache)')" "dnf -q list qpid-dispatch-router
dnf -q list qpid-cpp-server" "Fedora: asks dnf what is available"
is "$(calls '^restart_service')" "restart_service qdrouterd
restart_service qpidd" "Fedora: restarts qdrouterd and qpidd"

# -- auto decides per daemon ------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual STUB_AVAILABLE=qdrouterd
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 0 "auto with only qdrouterd packaged stacks"
is "$(calls '^update_package_repo')" "update_package_repo" \
    "the package lists are refreshed before asking"
is "$(calls '^install_package')" "install_package qdrouterd" \
    "the router comes from the distribution"
is "$(calls '^run_process')" \
    "run_process amqp1-broker $SANDBOX/data/amqp1/venv/bin/amqp1-fixtures serve broker --config $SANDBOX/etc/qpid/qpidd.conf" \
    "the broker is the stand-in"
like "$(output)" "AMQP1: RPC go to qdrouterd at 127.0.0.1:$SANDBOX_ROUTER_PORT \(distro on this node\).*
AMQP1: notifications go to qpidd at 127.0.0.1:$SANDBOX_BROKER_PORT \(standin on this node, devstack@amqp1-broker\)" \
    "stack.sh says which daemon is a stand-in"
is "$(grep -E '^(router|broker|package|started)=' "$SANDBOX/data/amqp1/devstack.state")" "router=distro
broker=standin
package=qdrouterd
started=router:distro
started=broker:standin" "the choice, the package and what started are recorded for unstack and clean"
: >"$SANDBOX/calls"
devstack_run unstack
is "$(calls '^(stop_service|stop_process)')" "stop_service qdrouterd
stop_process amqp1-broker" "unstack stops each the way it was started"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual "STUB_AVAILABLE=$DEBIAN_PACKAGES" \
    AMQP1_DAEMONS=standin
devstack_run stack pre-install install
is "$(calls '^install_package')" "" \
    "AMQP1_DAEMONS=standin ignores the distribution's packages"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual STUB_AVAILABLE=qdrouterd AMQP1_DAEMONS=distro
devstack_run stack pre-install install
is "$DEVSTACK_STATUS" 1 "AMQP1_DAEMONS=distro without a qpidd package dies"
like "$(output)" "AMQP1_DAEMONS=distro but this distribution offers no 'qpidd' package; set AMQP1_DAEMONS=auto or standin" \
    "naming the package and the way out"
is "$(calls '^(install_package|pip_install)')" "" "before installing anything"

# -- a later stack changes its mind; clean still undoes the first -------------

sandbox_reset
localrc AMQP1_SERVICE=qpid "STUB_AVAILABLE=$DEBIAN_PACKAGES"
devstack_run stack pre-install install
: >"$SANDBOX/calls"
localrc AMQP1_SERVICE=qpid-hybrid
devstack_run unstack
is "$(calls '^stop_service')" "stop_service qpidd" \
    "unstack stops what was started even after local.conf changed"
devstack_run clean
is "$(calls '^uninstall_package')" "uninstall_package qpidd" \
    "clean removes what was installed even after local.conf changed"

done_testing
