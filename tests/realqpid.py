"""Where the real qdrouterd and qpidd are, for the tests that run them.

CI clones the repository next to a ``shared/`` directory holding the
relocatable bundle ``shared/realqpid`` (real qdrouterd 1.19 and qpidd
1.40); ``AMQP1_QDROUTERD`` / ``AMQP1_QPIDD`` (exported by
``tools/run-tests.sh``) or ``PATH`` name them elsewhere.  On a machine
without them the real-daemon tests skip with :data:`ABSENT_REASON`.
"""

import os
import shutil

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: where CI puts the bundle: ``../shared/realqpid`` from the checkout
BUNDLE = os.path.join(os.path.dirname(TOP), 'shared', 'realqpid')

#: daemon -> the variable RouterDaemon/BrokerDaemon read
ENV = {'qdrouterd': 'AMQP1_QDROUTERD', 'qpidd': 'AMQP1_QPIDD'}


def find(name):
    """The real ``name`` (qdrouterd or qpidd): its variable, the bundle
    beside the checkout, or ``PATH``; ``None`` if absent."""
    path = os.environ.get(ENV[name])
    if path:
        return path
    exe = os.path.join(BUNDLE, 'bin', name)
    if os.access(exe, os.X_OK):
        return exe
    return shutil.which(name)


def absent_reason(name):
    """Why a test that needs the real ``name`` skips."""
    return ('real %s not found (no %s, no %s, none on PATH): the '
            'real-daemon tests run in CI only' % (
                name, ENV[name], os.path.join(BUNDLE, 'bin', name)))


def export():
    """Set ``AMQP1_QDROUTERD`` / ``AMQP1_QPIDD`` to the real daemons found
    (so that child processes and the fixtures use them); return
    ``{name: path or None}``."""
    found = {}
    for name, var in ENV.items():
        found[name] = find(name)
        if found[name] and not os.environ.get(var):
            os.environ[var] = found[name]
    return found


def without_real_daemons(env=None):
    """A copy of ``env`` (default ``os.environ``) in which no real daemon
    can be found, for the stand-in's own tests."""
    env = dict(os.environ if env is None else env)
    for var in ENV.values():
        env.pop(var, None)
    bins = {os.path.dirname(p) for p in
            (shutil.which(n, path=env.get('PATH')) for n in ENV) if p}
    env['PATH'] = os.pathsep.join(
        d for d in env.get('PATH', '').split(os.pathsep) if d not in bins)
    return env
