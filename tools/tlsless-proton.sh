#!/bin/bash
# Build a python-qpid-proton without TLS into a new venv, the way it happens
# by accident on a machine where pkg-config finds no openssl.pc: proton's
# cffi build then compiles its SSL stub instead of OpenSSL, and installs
# without a word.  Tests use the venv to check that every proton-based
# client asked for TLS fails at once with a clear message.
#
# Usage: tools/tlsless-proton.sh VENV_DIR [-- PIP_INSTALL_ARGS...]
#   VENV_DIR          created (must not exist yet); its python has proton
#                     with proton.SSL.present() False (checked: exit 1 if not)
#   PIP_INSTALL_ARGS  installed into the venv afterwards, e.g. this project
#                     ("$PWD") or a driver; the TLS-less proton is kept
# Environment: PROTON_REQUIREMENT (default: setup.cfg's range), PYTHON
# (default python3).  Prints VENV_DIR/bin/python as its last line.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 VENV_DIR [-- PIP_INSTALL_ARGS...]" >&2
    exit 2
fi
venv=$1
shift
if [[ $# -gt 0 ]]; then
    if [[ "$1" != "--" ]]; then
        echo "$0: expected -- before pip arguments, got '$1'" >&2
        exit 2
    fi
    shift
fi
if [[ -e "$venv" ]]; then
    echo "$0: $venv exists; give a new directory" >&2
    exit 2
fi

requirement=${PROTON_REQUIREMENT:-python-qpid-proton>=0.39,<0.41}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/no-pkgconfig"

"${PYTHON:-python3}" -m venv "$venv"
pip=("$venv/bin/python" -m pip -q --disable-pip-version-check)
# The build runs in this venv (no build isolation), so its tools come first.
"${pip[@]}" install setuptools wheel 'cffi>=1.0.0'
"${pip[@]}" download --no-deps --no-binary :all: -d "$work" "$requirement"
sdist=("$work"/python[-_]qpid[-_]proton-*.tar.gz)
# --no-cache-dir: pip must neither reuse a wheel it built earlier with
# OpenSSL nor keep this TLS-less one for later installs.  An empty
# PKG_CONFIG_LIBDIR (and no PKG_CONFIG_PATH) hides openssl.pc and
# libsasl2.pc from proton's ext_build.py.
PKG_CONFIG_LIBDIR="$work/no-pkgconfig" PKG_CONFIG_PATH= \
    "${pip[@]}" install --no-cache-dir --no-build-isolation --no-deps \
    "${sdist[0]}"

if ! "$venv/bin/python" -c 'import proton, sys; sys.exit(proton.SSL.present())'; then
    echo "$0: proton in $venv has TLS after all (pkg-config not hidden?)" >&2
    exit 1
fi
if [[ $# -gt 0 ]]; then
    proton=$("$venv/bin/python" -c \
        'import proton; print("%d.%d.%d" % proton.VERSION)')
    # The constraint keeps pip from replacing the TLS-less proton.
    echo "python-qpid-proton==$proton" > "$work/constraints.txt"
    "${pip[@]}" install -c "$work/constraints.txt" "$@"
fi
echo "$venv/bin/python"
