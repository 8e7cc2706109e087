"""Helpers of the orphan tests: start a process that starts daemons, wait
until they are up, SIGKILL it, and check that nothing it started outlives
it."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import psutil

from amqp1_fixtures.daemons import ports
from amqp1_fixtures.daemons import watchdog

#: prefix of the readiness line of the child scripts
READY = 'AMQP1-ORPHANS-READY '

#: the promise of the watchdogs: everything is gone this many seconds
#: after the owner's death
GONE_WITHIN = 10.0

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


_REALQPID = []


def realqpid():
    """``(bundle directory, None)`` of the realqpid bundle --
    ``../shared/realqpid`` beside the checkout (as CI lays it out) or
    ``/work/shared/realqpid`` -- or ``(None, why not)``.

    A bundle whose daemons do not run (its runtime libraries are not
    installed) is reported as unusable, with their error.
    """
    if not _REALQPID:
        _REALQPID.append(_find_realqpid())
    return _REALQPID[0]


def _find_realqpid():
    for path in (os.path.join(REPO, os.pardir, 'shared', 'realqpid'),
                 '/work/shared/realqpid'):
        path = os.path.abspath(path)
        if not os.access(os.path.join(path, 'bin', 'qdrouterd'), os.X_OK):
            continue
        for name in ('qdrouterd', 'qpidd'):
            proc = subprocess.run([os.path.join(path, 'bin', name),
                                   '--version'], capture_output=True,
                                  text=True, timeout=60)
            if proc.returncode:
                return None, (
                    '%s/bin/%s does not run (see the bundle\'s README for '
                    'its runtime packages): %s'
                    % (path, name, proc.stderr.strip()[-200:]))
        return path, None
    return None, 'no realqpid bundle (../shared/realqpid)'


def daemons_of(fixture):
    """``[{name, pid, ports}]`` of the daemon fixtures under ``fixture``
    (a daemon, an Amqp1Service, or a RabbitMQDaemon with its epmd)."""
    found = []
    for name in ('router', 'broker', 'rabbitmq'):
        backend = getattr(fixture, name, None)
        if backend is not None and backend is not fixture:
            found += daemons_of(backend)
    if getattr(fixture, 'pid', None):
        port_list = [fixture.port]
        if getattr(fixture, 'dist_port', None):
            port_list.append(fixture.dist_port)
        found.append({'name': fixture.name, 'pid': fixture.pid,
                      'ports': port_list})
    epmd = getattr(fixture, 'epmd', None)
    if epmd is not None:
        found += daemons_of(epmd)
    return found


#: environment variable naming the FIFO to announce readiness on
#: (pytest-xdist workers' stdout does not reach the controller's)
FIFO_ENV = 'AMQP1_ORPHANS_FIFO'


def ready_line(*fixtures_):
    """The readiness line a child prints once its fixtures are set up: its
    pid and its daemons."""
    found = []
    for fixture in fixtures_:
        found += daemons_of(fixture)
    return READY + json.dumps({'pid': os.getpid(), 'daemons': found})


def announce(*fixtures_):
    """Write :func:`ready_line` to the FIFO of ``$AMQP1_ORPHANS_FIFO``,
    or to stdout."""
    line = ready_line(*fixtures_) + '\n'
    fifo = os.environ.get(FIFO_ENV)
    if fifo:
        with open(fifo, 'w') as f:
            f.write(line)
    else:
        sys.stdout.write(line)
        sys.stdout.flush()


# A child that sets up one fixture, says which daemons run, and waits to
# be killed.  argv[1]: JSON [kind, options].
FIXTURE_CHILD = '''
import json, signal, sys
from tests.functional import orphans
kind, options = json.loads(sys.argv[1])
if kind == 'service':
    from amqp1_fixtures.service import Amqp1Service as cls
elif kind == 'rabbitmq':
    from amqp1_fixtures.daemons.rabbitmq import RabbitMQDaemon as cls
elif kind == 'rabbitmq4':
    from amqp1_fixtures.daemons.rabbitmq4 import RabbitMQ4Daemon as cls
elif kind == 'router':
    from amqp1_fixtures.daemons.qpid import RouterDaemon as cls
else:
    from amqp1_fixtures.daemons.qpid import BrokerDaemon as cls
fixture = cls(**options)
fixture.setUp()
orphans.announce(fixture)
signal.pause()
'''


def child_env(extra=None):
    """The environment of a child: this checkout importable, no pytest or
    xdist variables of the outer run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('PYTEST_', 'PYTHONPATH'))}
    path = os.environ.get('PYTHONPATH')
    env['PYTHONPATH'] = REPO + (os.pathsep + path if path else '')
    env.update(extra or {})
    return env


class Lines:
    """The lines of a child's pipe, read on a thread."""

    def __init__(self, stream=None, fifo=None):
        self._queue = queue.Queue()
        self.seen = []
        self.stream = stream
        self.thread = threading.Thread(target=self._read, args=(fifo,),
                                       daemon=True)
        self.thread.start()

    def _read(self, fifo):
        if fifo:
            # Blocks until the writer opens it.
            self.stream = open(fifo)
        for line in self.stream:
            self._queue.put(line)
        self._queue.put('')

    def wait_for(self, predicate, timeout):
        """The first line for which ``predicate`` is true.

        :raises AssertionError: EOF or ``timeout`` seconds first.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(
                    timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError('no such line within %s s; got:\n%s'
                                     % (timeout, ''.join(self.seen)))
            if not line:
                raise AssertionError('EOF; got:\n%s' % ''.join(self.seen))
            self.seen.append(line)
            if predicate(line):
                return line

    def until_eof(self, timeout):
        """Everything read, once the pipe's last writer has closed it.

        :raises AssertionError: not closed within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(
                    timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError('still open after %s s' % timeout)
            if not line:
                self._queue.put('')
                return ''.join(self.seen)
            self.seen.append(line)


class Child:
    """A child process in a session of its own (like a CI job's command),
    its stdout and stderr read line by line."""

    def __init__(self, argv, env=None, cwd=REPO, fifo=None):
        env = dict(env or {})
        if fifo:
            os.mkfifo(fifo, 0o600)
            env[FIFO_ENV] = fifo
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=child_env(env), cwd=cwd, start_new_session=True)
        self.stdout = Lines(self.proc.stdout)
        self.stderr = Lines(self.proc.stderr)
        self.announced = Lines(fifo=fifo) if fifo else self.stdout
        self.ready_pid = None

    @property
    def pid(self):
        return self.proc.pid

    def ready(self, timeout=120):
        """Wait for the readiness line; return its daemons.  Sets
        :attr:`ready_pid`, the pid of the process that announced them."""
        line = self.announced.wait_for(lambda x: x.startswith(READY),
                                       timeout)
        info = json.loads(line[len(READY):])
        self.ready_pid = info['pid']
        return info['daemons']

    def kill(self, sig=signal.SIGKILL):
        """Kill the child with ``sig`` and reap it.  Idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait()
        for lines in {self.stdout, self.stderr, self.announced}:
            # EOF once the last holder of the pipe (a watchdog inherits
            # stderr) is gone.
            lines.thread.join(orphans_timeout())
            if not lines.thread.is_alive() and lines.stream:
                lines.stream.close()


def orphans_timeout():
    return GONE_WITHIN + 5


def _key(proc):
    try:
        return proc.pid, proc.create_time()
    except psutil.NoSuchProcess:
        return None


def _live(procs):
    for proc in procs:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                yield proc
        except psutil.NoSuchProcess:
            pass


class Started:
    """What a child started, found three ways before it is killed: its
    descendants, the processes carrying the environment marks of its
    watchdogs, and every member of their process groups (not the test's
    own); plus the TCP ports all of those listen on.

    Later scans (:meth:`survivors`, :meth:`kill_survivors`) must never
    take somebody else's process for one of these: process and group ids
    are recycled (pids wrap at 32768 on many machines, and parallel test
    workers start processes all the time).  So a process is recognised by
    its pid *and* start time, by one of the exact marks the snapshot saw
    (the mark's random part, not only its prefix, which names the
    owner's pid), or as a member of a process group that a recognised
    process still lives in: a group whose members are all gone may be
    someone else's by now.
    """

    def __init__(self, root):
        self.root = root
        self.mark_prefix = '%s%d_' % (watchdog.MARK_PREFIX, root)
        self.own_group = os.getpgrp()
        procs = {}
        for proc in psutil.Process(root).children(recursive=True):
            procs[proc.pid] = proc
        self.marks = set()
        for proc, marks in self._marked():
            procs[proc.pid] = proc
            self.marks |= marks
        self.groups = set()
        for proc in list(procs.values()):
            try:
                self.groups.add(os.getpgid(proc.pid))
            except ProcessLookupError:
                del procs[proc.pid]
        if os.getpgid(root) == root:
            # Its own group (not that of a parent it shares one with, as
            # an xdist worker does): what it started there is its own.
            self.groups.add(root)
        self.groups.discard(self.own_group)
        for proc in self._in_groups(self.groups):
            procs[proc.pid] = proc
        self.procs = list(procs.values())
        self.keys = {_key(p) for p in self.procs} - {None}
        self.names = {}
        for proc in self.procs:
            try:
                self.names[proc.pid] = proc.name()
            except psutil.NoSuchProcess:
                pass
        self.listening = set()
        for proc in self.procs:
            try:
                for conn in proc.net_connections('tcp'):
                    if conn.status == psutil.CONN_LISTEN:
                        self.listening.add(conn.laddr)
            except psutil.NoSuchProcess:
                pass

    def _marked(self, marks=None):
        """``(process, its marks)`` of the processes carrying a mark of
        the root's watchdogs: any (by prefix) for the snapshot, one of
        ``marks`` afterwards."""
        for proc in psutil.process_iter(['environ']):
            found = {k for k in proc.info['environ'] or ()
                     if k.startswith(self.mark_prefix)}
            if marks is not None:
                found &= marks
            if found:
                yield proc, found

    def _in_groups(self, groups):
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) in groups:
                    yield proc
            except ProcessLookupError:
                pass

    def _live_groups(self, procs):
        """The snapshot's groups that one of ``procs`` (recognised, live
        processes) is still in."""
        groups = set()
        for proc in procs:
            try:
                groups.add(os.getpgid(proc.pid))
            except ProcessLookupError:
                pass
        return (groups & self.groups) - {self.own_group}

    @property
    def pids(self):
        return {pid for pid, _ in self.keys}

    @property
    def ports(self):
        return {addr.port for addr in self.listening}

    def survivors(self):
        """What still lives or listens: ``(processes, addresses)``."""
        procs = [p for p in _live(self.procs) if _key(p) in self.keys]
        # Started after the snapshot, or missed by it: by an exact mark,
        # or in a group a recognised process still lives in.
        procs += [p for p in _live(proc for proc, _ in self._marked(
            self.marks)) if p.pid not in self.pids]
        known = {p.pid for p in procs}
        procs += [p for p in _live(self._in_groups(self._live_groups(procs)))
                  if p.pid not in known]
        busy = [a for a in self.listening
                if not ports.can_bind(a.ip, a.port, reuse_addr=True)]
        return procs, busy

    def kill_survivors(self):
        """SIGKILL whatever survives: a failed test leaks nothing."""
        for proc in self.survivors()[0]:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass

    def wait_gone(self, timeout=GONE_WITHIN):
        """Seconds until nothing survives.

        :raises AssertionError: something survives ``timeout`` seconds.
        """
        start = time.monotonic()
        while True:
            procs, busy = self.survivors()
            if not procs and not busy:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    'alive %.1f s after the owner died: %s; ports still '
                    'bound: %s' % (timeout, [_describe(p) for p in procs],
                                   busy))
            time.sleep(0.05)


def _describe(proc):
    try:
        return '%d %s' % (proc.pid, ' '.join(proc.cmdline())[:120])
    except psutil.Error:
        return str(proc.pid)
