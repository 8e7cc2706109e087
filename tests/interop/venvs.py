"""Build the two oslo.messaging generations' virtualenvs.

The interop tests and the driver benchmark run each oslo.messaging
generation in a virtualenv of its own, as separate processes:

* ``om14``: oslo.messaging 14.9.x with its in-tree AMQP 1.0 driver
  (and pyngus, which that driver needs);
* ``om18``: oslo.messaging 18.x with this repository's ``amqp1-driver``
  (``driver/``).

Both get eventlet (the benchmark runs each driver under eventlet too).
They are built with ``python -m venv`` and pip, whose wheel cache keeps a
rebuild fast (python-qpid-proton is compiled once); a venv whose recorded
requirements still match is reused.  A file lock makes concurrent builders
(pytest-xdist workers) wait for one another instead of racing.

Usage::

    python tests/interop/venvs.py DIR [om14|om18 ...]

prints ``NAME PYTHON`` for each venv built (or reused) under DIR.
"""

import fcntl
import json
import os
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                   os.pardir))
DRIVER_DIR = os.path.join(TOP, 'driver')

#: pip requirements of each generation
REQUIREMENTS = {
    'om14': ['oslo.messaging>=14.9,<15', 'pyngus>=2.3', 'eventlet'],
    'om18': ['oslo.messaging>=18,<19', DRIVER_DIR, 'eventlet'],
}

#: seconds a venv build may take (python-qpid-proton compiles without a
#: cached wheel)
BUILD_TIMEOUT = 900


class VenvError(Exception):
    """A virtualenv could not be built; the message has pip's output."""


def python_of(venv):
    """The interpreter of the virtualenv at ``venv``."""
    return os.path.join(venv, 'bin', 'python')


def _stamp(name):
    # The driver is installed from the work tree: a changed driver must
    # be reinstalled, so its files' mtimes are part of the stamp.
    stamp = {'requirements': REQUIREMENTS[name], 'python': sys.version}
    if DRIVER_DIR in REQUIREMENTS[name]:
        mtimes = []
        for root, dirs, files in os.walk(DRIVER_DIR):
            dirs[:] = [d for d in dirs if not d.startswith(('.', 'build'))
                       and not d.endswith('.egg-info')
                       and d != '__pycache__']
            mtimes += [os.stat(os.path.join(root, f)).st_mtime_ns
                       for f in files if not f.endswith('.pyc')]
        stamp['driver'] = max(mtimes, default=0)
    return stamp


def build(name, root):
    """Build (or reuse) the virtualenv ``name`` under ``root``.

    :param name: ``om14`` or ``om18``.
    :param root: directory holding the virtualenvs; created if missing.
    :raises VenvError: venv or pip failed, or ``driver/`` is missing.
    :returns: the path of the venv's python.
    """
    if name not in REQUIREMENTS:
        raise VenvError('unknown virtualenv %r (one of %s)'
                        % (name, ', '.join(sorted(REQUIREMENTS))))
    if name == 'om18' and not os.path.isfile(
            os.path.join(DRIVER_DIR, 'setup.cfg')) and not os.path.isfile(
            os.path.join(DRIVER_DIR, 'pyproject.toml')):
        raise VenvError('no driver distribution in %s' % DRIVER_DIR)
    os.makedirs(root, exist_ok=True)
    venv = os.path.join(root, name)
    stamp_path = os.path.join(venv, 'amqp1-venv.json')
    wanted = _stamp(name)
    with open(os.path.join(root, '.%s.lock' % name), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(stamp_path) as f:
                if json.load(f) == wanted:
                    return python_of(venv)
        except (OSError, ValueError):
            pass
        _run([sys.executable, '-m', 'venv', '--clear', venv])
        _run([python_of(venv), '-m', 'pip', 'install', '-q',
              '--disable-pip-version-check'] + REQUIREMENTS[name])
        with open(stamp_path, 'w') as f:
            json.dump(wanted, f)
    return python_of(venv)


def _run(cmd):
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise VenvError('%s: no result within %d s' % (
            ' '.join(cmd), BUILD_TIMEOUT)) from exc
    if proc.returncode:
        raise VenvError('%s failed (exit status %d):\n%s' % (
            ' '.join(cmd), proc.returncode, proc.stdout[-4000:]))


def main(argv=None):
    """Build the venvs named on the command line (default: both)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith('-'):
        sys.stderr.write(__doc__.split('Usage::')[1])
        return 2
    for name in argv[1:] or sorted(REQUIREMENTS):
        print(name, build(name, argv[0]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
