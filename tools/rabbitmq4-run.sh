#!/bin/bash
# Run a command inside the RabbitMQ 4 root that tools/rabbitmq4-setup.sh
# built (Debian 13 minbase + Debian's rabbitmq-server 4.x), from the
# current directory, which appears at the same path inside.
#
#   DIR/bin/run COMMAND [ARG...]        (this file, copied by the setup)
#   DIR/bin/rabbitmq-server [ARG...]    (= run /usr/lib/rabbitmq/bin/...)
#
# How: a private mount namespace (unshare --mount), in which
# - a tmpfs on DIR/scratch holds an overlay whose lower layer is DIR/root:
#   the shared root is never written, whatever runs inside;
# - /proc (a new instance: the host's PID namespace, so the processes
#   stay visible to the fixtures' watchdog, keep their process group and
#   inherit the environment with its marks) and /dev are mounted in it;
# - the current directory is bind-mounted at its own path, so the paths
#   a fixture renders (config, data, logs) mean the same inside;
# then chroot and exec COMMAND with the caller's environment (PATH reset
# to the root's).  Nothing is unmounted by hand: the kernel tears the
# namespace down with its last process, even after SIGKILL, and no mount
# is ever visible outside it, so two nodes never share or race on one.
# Needs root (mount namespaces, chroot).
set -euo pipefail

bin=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
top=$(dirname "$bin")
root=$top/root

if [[ ${1:-} != --in-namespace ]]; then
    if [[ $# -eq 0 ]]; then
        echo "usage: $0 COMMAND [ARG...]" >&2
        exit 2
    fi
    if [[ ! -x $root/usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
        echo "$0: no RabbitMQ 4 root in $root (run tools/rabbitmq4-setup.sh)" >&2
        exit 3
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "$0: needs root (mount namespace and chroot)" >&2
        exit 4
    fi
    exec unshare --mount --propagation private -- \
        "$bin/run" --in-namespace "$@"
fi
shift

cwd=$(pwd -P)
if [[ $cwd == / ]]; then
    echo "$0: run it from a working directory, not /" >&2
    exit 2
fi
scratch=$top/scratch
mount -t tmpfs -o mode=0700 amqp1fx-rabbitmq4 "$scratch"
mkdir "$scratch/upper" "$scratch/work" "$scratch/merged"
new=$scratch/merged
mount -t overlay -o "lowerdir=$root,upperdir=$scratch/upper,workdir=$scratch/work" \
    amqp1fx-rabbitmq4 "$new"
mount -t proc proc "$new/proc"
mount --bind /dev "$new/dev"
mkdir -p "$new$cwd"
mount --bind "$cwd" "$new$cwd"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck disable=SC2016
exec chroot "$new" /bin/sh -c 'cd "$1" && shift && exec "$@"' \
    amqp1fx-rabbitmq4 "$cwd" "$@"
