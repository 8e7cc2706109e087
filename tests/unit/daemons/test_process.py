"""Tests of amqp1_fixtures.daemons.process.DaemonFixture with a tiny
Python daemon.
"""

import os
import re
import signal
import socket
import sys

import fixtures
import psutil
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import ports
from amqp1_fixtures.daemons import process

# A stand-in daemon: listens on argv[1] (0: any port, reported on stdout)
# and behaves as argv[2] says.
DAEMON = r'''
import os, signal, socket, sys
port, mode = int(sys.argv[1]), sys.argv[2]
print('starting', flush=True)
if mode == 'exit':
    sys.exit(3)
if mode == 'exit0':
    sys.exit(0)
if mode == 'noterm':
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == 'fork':
    if os.fork() == 0:
        while True:
            signal.pause()
if mode != 'silent':
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen()
    print('listening on 127.0.0.1:%d' % s.getsockname()[1], flush=True)
while True:
    signal.pause()
'''


class ToyDaemon(process.DaemonFixture):
    name = 'toy'

    def __init__(self, mode='ok', **kwargs):
        kwargs.setdefault('start_timeout', 20.0)
        super().__init__(**kwargs)
        self.mode = mode

    def _prepare(self):
        conf = process.write_private(
            os.path.join(self.workdir, 'toy.conf'),
            'port = %d\npassword = hunter2\n' % self.port)
        return process.DaemonCommand(
            [sys.executable, '-c', DAEMON, str(self.port), self.mode],
            env={'TOY_MODE': self.mode}, configs=[conf])


class ZeroPortDaemon(ToyDaemon):
    """Binds port 0 and reports the port in its log, like the stand-in."""

    binds_port_zero = True

    def _probe(self):
        if not self.port:
            with open(self.log_path) as f:
                m = re.search(r'listening on [\d.]+:(\d+)', f.read())
            if not m:
                return False
            self.port = int(m.group(1))
        return super()._probe()


def setup_error(case, exc_type, fixture):
    """Set up ``fixture`` expecting ``exc_type``; return the exception.

    fixtures wraps errors of _setUp in MultipleExceptions whose first
    member is the original error.
    """
    err = case.assertRaises(fixtures.MultipleExceptions, fixture.setUp)
    case.assertIsInstance(err.args[0][1], exc_type)
    return err.args[0][1]


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class TestRedact(testtools.TestCase):

    def test_hides_password_values(self):
        text = ('default_pass = s3cret\nport: 5672\npassword=x y\n'
                'saslPassword: abc\nuser = me\n')
        out = process.redact(text)
        self.assertNotIn('s3cret', out)
        self.assertNotIn('x y', out)
        self.assertNotIn('abc', out)
        self.assertIn('port: 5672', out)
        self.assertIn('user = me', out)

    def test_write_private_is_0600(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'c')
        process.write_private(path, 'x')
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)


class TestDaemonFixture(testtools.TestCase):

    def test_starts_ready_in_own_group_and_stops(self):
        daemon = ToyDaemon()
        with daemon:
            pid = daemon.pid
            self.assertTrue(daemon.running)
            self.assertEqual(pid, os.getpgid(pid))
            self.assertTrue(ports.accepts_connections('127.0.0.1',
                                                      daemon.port))
            self.assertEqual(0o700, os.stat(daemon.workdir).st_mode & 0o777)
            workdir = daemon.workdir
        self.assertTrue(gone(pid))
        self.assertFalse(os.path.exists(workdir))
        self.assertEqual(-signal.SIGTERM, daemon.returncode)

    def test_watchdog_guards_each_run_and_is_released(self):
        daemon = ToyDaemon()
        with daemon:
            guard = daemon._guard
            environ = psutil.Process(daemon.pid).environ()
            self.assertEqual('1', environ[guard.mark])
            # Out of the daemon's group and of ours: a Ctrl-C or a pause
            # of either does not reach it.
            self.assertEqual(guard.pid, os.getsid(guard.pid))
            daemon.stop()
            # Released and reaped: no process, not even a zombie.
            self.assertRaises(psutil.NoSuchProcess, psutil.Process,
                              guard.pid)
            self.assertTrue(os.path.isdir(daemon.workdir))
            daemon.start()
            self.assertNotEqual(guard.pid, daemon._guard.pid)
            guard = daemon._guard
        self.assertRaises(psutil.NoSuchProcess, psutil.Process, guard.pid)
        self.assertIsNone(daemon._guard)

    def test_details_have_redacted_config_and_log(self):
        daemon = self.useFixture(ToyDaemon())
        details = daemon.getDetails()
        conf = details['toy-toy.conf'].as_text()
        self.assertIn('port = %d' % daemon.port, conf)
        self.assertNotIn('hunter2', conf)
        self.assertIn('listening on', details['toy-log'].as_text())

    def test_exits_early(self):
        err = setup_error(self, exceptions.DaemonExited,
                          ToyDaemon(mode='exit'))
        self.assertEqual(3, err.returncode)
        self.assertIn('starting', err.log_tail)

    def test_exit_zero_is_not_ready(self):
        err = setup_error(self, exceptions.DaemonExited,
                          ToyDaemon(mode='exit0'))
        self.assertEqual(0, err.returncode)

    def test_start_timeout(self):
        daemon = ToyDaemon(mode='silent', start_timeout=0.5)
        err = setup_error(self, exceptions.DaemonStartTimeout, daemon)
        self.assertEqual(0.5, err.timeout)
        self.assertIn('starting', err.log_tail)
        self.assertFalse(daemon.running)

    def test_missing_executable(self):
        class Missing(ToyDaemon):
            def _prepare(self):
                return process.DaemonCommand(['/nonexistent/daemon'])
        err = setup_error(self, exceptions.DaemonExited, Missing())
        self.assertEqual(127, err.returncode)

    def test_port_in_use(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        err = setup_error(self, exceptions.PortInUse,
                          ToyDaemon(port=sock.getsockname()[1]))
        self.assertEqual(sock.getsockname()[1], err.port)

    def test_sigkill_after_stop_timeout(self):
        daemon = ToyDaemon(mode='noterm', stop_timeout=0.3)
        daemon.setUp()
        pid = daemon.pid
        daemon.cleanUp()
        self.assertEqual(-signal.SIGKILL, daemon.returncode)
        self.assertTrue(gone(pid))

    def test_group_members_are_stopped(self):
        daemon = self.useFixture(ToyDaemon(mode='fork'))
        children = psutil.Process(daemon.pid).children()
        self.assertEqual(1, len(children))
        daemon.stop()
        self.assertTrue(gone(children[0].pid))

    def test_stop_start_keeps_port(self):
        daemon = self.useFixture(ToyDaemon())
        port, pid = daemon.port, daemon.pid
        daemon.stop()
        self.assertFalse(ports.accepts_connections('127.0.0.1', port))
        daemon.start()
        self.assertNotEqual(pid, daemon.pid)
        self.assertEqual(port, daemon.port)
        self.assertTrue(ports.accepts_connections('127.0.0.1', port))
        self.assertRaises(exceptions.AlreadyRunning, daemon.start)

    def test_kill_and_pause(self):
        daemon = self.useFixture(ToyDaemon())
        daemon.pause()
        self.assertEqual(psutil.STATUS_STOPPED,
                         psutil.Process(daemon.pid).status())
        daemon.resume()
        self.assertEqual(-signal.SIGKILL, daemon.kill())
        self.assertFalse(daemon.running)

    def test_stop_while_paused(self):
        daemon = self.useFixture(ToyDaemon())
        daemon.pause()
        self.assertEqual(-signal.SIGTERM, daemon.stop())

    def test_death_during_test_fails_cleanup(self):
        daemon = ToyDaemon()
        daemon.setUp()
        os.kill(daemon.pid, signal.SIGKILL)
        daemon._executor.process.wait()
        errors = daemon.cleanUp(raise_first=False)
        self.assertEqual(1, len(errors))
        self.assertIsInstance(errors[0][1], exceptions.DaemonExited)
        self.assertEqual(-signal.SIGKILL, errors[0][1].returncode)

    def test_port_zero_daemon_reports_port(self):
        daemon = self.useFixture(ZeroPortDaemon())
        self.assertNotEqual(0, daemon.port)
        port = daemon.port
        daemon.stop()
        daemon.start()
        self.assertEqual(port, daemon.port)

    def test_resume_without_pause_returns(self):
        daemon = self.useFixture(ToyDaemon())
        daemon.resume()
        self.assertTrue(daemon.running)
