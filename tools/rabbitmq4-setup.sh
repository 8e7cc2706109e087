#!/bin/bash
# Provide a real RabbitMQ 4 on a Debian 12 machine, which ships only
# RabbitMQ 3.10: a Debian 13 (trixie) minbase root holding Debian's own
# rabbitmq-server 4.x, built once with debootstrap and reused, and
# commands that run it (tools/rabbitmq4-run.sh).  tools/test-setup.sh
# calls it; the fixtures find the node through AMQP1_RABBITMQ4, which
# tools/run-tests.sh exports.
#
#   tools/rabbitmq4-setup.sh         build if needed; print the start script
#
# Where: $AMQP1_RABBITMQ4_DIR, default /var/cache/amqp1-fixtures/rabbitmq4
# -- outside the checkout, so a fresh clone, `git clean` or a new .tox
# keeps it, every checkout and worktree of the machine shares it, and it
# is what FHS calls a cache (rebuilt by this script if deleted).  Inside:
#   root/     the trixie root (rabbitmq-server and its dependencies only;
#             never written once built: nodes run on an overlay of it)
#   debs/     debootstrap's download cache: a rebuild downloads nothing
#   bin/      run, rabbitmq-server, rabbitmqctl, epmd (this script
#             rewrites them on every call)
#   scratch/  the mount point of each node's private tmpfs
#   stamp     written last: the root is complete
#
# Idempotent and safe to run concurrently (flock); an interrupted build is
# started over.  debootstrap resolves rabbitmq-server's dependencies
# itself (--include), like `apt-get install --no-install-recommends`
# would in the root, without a second download of the package index.
# Set AMQP1_RABBITMQ4_MIRROR for another Debian mirror.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${AMQP1_RABBITMQ4_DIR:-/var/cache/amqp1-fixtures/rabbitmq4}
mirror=${AMQP1_RABBITMQ4_MIRROR:-http://deb.debian.org/debian}
suite=trixie

# Building the root and running nodes in it need root anyway.
if [[ $(id -u) -ne 0 ]]; then
    exec sudo AMQP1_RABBITMQ4_DIR="$dir" AMQP1_RABBITMQ4_MIRROR="$mirror" \
        "$0" "$@"
fi

function _rabbitmq4_say {
    echo "rabbitmq4-setup: $*" >&2
}

function _rabbitmq4_build {
    local new=$dir/root.new
    local started=$SECONDS
    rm -rf "$new"
    mkdir -p "$dir/debs"
    _rabbitmq4_say "building a Debian $suite root with rabbitmq-server in $dir/root"
    # A package's maintainer scripts must not start a node in the root.
    debootstrap --variant=minbase --include=rabbitmq-server \
        --cache-dir="$dir/debs" "$suite" "$new" "$mirror" \
        > "$dir/debootstrap.log" 2>&1 || {
        tail -20 "$dir/debootstrap.log" >&2
        _rabbitmq4_say "debootstrap failed (log: $dir/debootstrap.log)"
        return 1
    }
    # Nothing in the root needs the package lists, the .debs (kept in
    # debs/), documentation or translations.
    rm -rf "$new"/var/cache/apt/archives/*.deb \
        "$new"/var/lib/apt/lists/* "$new"/usr/share/man/* \
        "$new"/usr/share/locale/* "$new"/usr/share/info/*
    find "$new/usr/share/doc" -type f ! -name copyright -delete
    local version
    version=$(chroot "$new" dpkg-query -W -f '${Version}' rabbitmq-server)
    if [[ ${version%%.*} -lt 4 ]]; then
        _rabbitmq4_say "Debian $suite has rabbitmq-server $version, not 4.x"
        return 1
    fi
    rm -rf "$dir/root"
    mv "$new" "$dir/root"
    echo "$suite rabbitmq-server $version" > "$dir/stamp"
    _rabbitmq4_say "rabbitmq-server $version ready in $((SECONDS - started)) s"
}

function _rabbitmq4_commands {
    mkdir -p "$dir/bin" "$dir/scratch"
    install -m 0755 "$top/tools/rabbitmq4-run.sh" "$dir/bin/run"
    local name target
    for name in rabbitmq-server rabbitmqctl rabbitmq-diagnostics epmd; do
        case $name in
            epmd) target=/usr/bin/epmd ;;
            *) target=/usr/lib/rabbitmq/bin/$name ;;
        esac
        printf '#!/bin/sh\n# %s inside %s/root (see bin/run)\nexec "$(dirname "$0")/run" %s "$@"\n' \
            "$name" "$dir" "$target" > "$dir/bin/$name.new"
        chmod 0755 "$dir/bin/$name.new"
        mv "$dir/bin/$name.new" "$dir/bin/$name"
    done
}

if ! command -v debootstrap > /dev/null 2>&1 && \
        [[ ! -x /usr/sbin/debootstrap ]]; then
    _rabbitmq4_say "debootstrap is not installed (bindep.txt, profile test)"
    exit 1
fi

mkdir -p "$dir"
# One build at a time; later callers wait and find the stamp.
exec 9>> "$dir/.lock"
flock 9
if [[ ! -s $dir/stamp || ! -x $dir/root/usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
    rm -f "$dir/stamp"
    # One retry: a mirror's hiccup should not fail a CI run; what was
    # downloaded is in debs/ already.
    _rabbitmq4_build || {
        _rabbitmq4_say "retrying once"
        _rabbitmq4_build
    }
else
    _rabbitmq4_say "reusing $dir/root ($(cat "$dir/stamp"))"
fi
_rabbitmq4_commands
echo "$dir/bin/rabbitmq-server"
