#!/bin/bash
# Install the distribution packages listed in bindep.txt with the "test"
# profile, as OpenStack's CI jobs do before running tox (they include what
# building python-qpid-proton with TLS needs: profile "compile", tagged
# "test" too), and with the "realqpid" profile when the real
# qdrouterd/qpidd bundle is beside the checkout (../shared/realqpid).
# Then, on Debian and Ubuntu, a real RabbitMQ 4 in a Debian 13 root
# (tools/rabbitmq4-setup.sh; AMQP1_RABBITMQ4_SETUP=0 skips it).
# Idempotent: does nothing when every package is already installed and the
# root is built.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

profiles=(test)
if [[ -d "$top/../shared/realqpid" ]]; then
    profiles+=(realqpid)
fi

packages=()
while read -r name rest; do
    case "$name" in
        ''|'#'*) continue ;;
    esac
    for profile in "${profiles[@]}"; do
        if [[ "$rest" == *"$profile"* && "$rest" == *dpkg* ]]; then
            packages+=("$name")
            break
        fi
    done
done < "$top/bindep.txt"

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
        missing+=("$pkg")
    fi
done

function _test_setup_packages {
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "test-setup: distribution packages already installed" >&2
        return 0
    fi
    local SUDO=
    if [[ $(id -u) -ne 0 ]]; then
        SUDO=sudo
    fi
    echo "test-setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    # policy-rc.d may forbid starting services at install time; the tests
    # start their own private RabbitMQ nodes, so the system one is not
    # needed.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # The package starts a system-wide node where it can; tests never use it.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q rabbitmq-server 2>/dev/null; then
        $SUDO systemctl stop rabbitmq-server || true
    fi
}

_test_setup_packages
if command -v dpkg-query >/dev/null 2>&1 && [[ ${AMQP1_RABBITMQ4_SETUP:-1} != 0 ]]; then
    bash "$top/tools/rabbitmq4-setup.sh" > /dev/null
fi
