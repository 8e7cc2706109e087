"""Tests of ``amqp1-fixtures port`` (amqp1_fixtures.cli.port): ports a
shell script gets from the allocator, held until the script exits."""

import fcntl
import os
import subprocess
import sys
import threading

import fixtures
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import ports

# Generous: the machine may be busy with parallel test workers.
TIMEOUT = 30


class TestPortCommand(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lock_dir = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'locks')
        self.env = dict(os.environ)
        self.env[ports.LOCK_DIR_ENV] = self.lock_dir

    def owner(self):
        """A process that lives until its stdin is closed."""
        proc = subprocess.Popen(
            [sys.executable, '-c', 'import sys; sys.stdin.read()'],
            stdin=subprocess.PIPE)
        self.addCleanup(proc.wait, TIMEOUT)
        self.addCleanup(proc.stdin.close)
        return proc

    def port(self, *args):
        # stdout and stderr are pipes: run() returns only once nothing
        # holds them, so a holder that kept one would time out here.
        return subprocess.run(
            [sys.executable, '-m', 'amqp1_fixtures.cli', 'port'] + list(args),
            env=self.env, capture_output=True, text=True, timeout=TIMEOUT,
            stdin=subprocess.DEVNULL)

    def assertHeld(self, port):
        self.assertRaises(exceptions.PortInUse, ports.reserve_port,
                          lock_dir=self.lock_dir, candidates=[port])

    def assertReleased(self, port):
        # The holder never unlocks: it exits.  Its lock going is the event
        # to wait for, with a blocking flock and a deadline.
        path = os.path.join(self.lock_dir, '%d.lock' % port)
        fd = os.open(path, os.O_RDWR)
        self.addCleanup(os.close, fd)
        locked = threading.Event()

        def lock():
            fcntl.flock(fd, fcntl.LOCK_EX)
            locked.set()

        threading.Thread(target=lock, daemon=True).start()
        self.assertTrue(locked.wait(TIMEOUT),
                        'port %d still held after its owner exited' % port)

    def test_ports_held_until_the_owner_exits(self):
        owner = self.owner()
        result = self.port('-n', '3', '--owner', str(owner.pid))
        self.assertEqual((0, ''), (result.returncode, result.stderr))
        got = [int(line) for line in result.stdout.split()]
        self.assertEqual(3, len(set(got)))
        low, high = ports.ephemeral_range()
        for port in got:
            self.assertFalse(low <= port <= high, port)
            self.assertTrue(ports.can_bind('127.0.0.1', port))
            self.assertHeld(port)
        owner.stdin.close()
        owner.wait(TIMEOUT)
        for port in got:
            self.assertReleased(port)

    def test_default_owner_is_the_calling_shell(self):
        shell = subprocess.Popen(
            ['bash', '-c', 'p=$("$0" -m amqp1_fixtures.cli port); '
             'echo "$p"; read -r line || true', sys.executable],
            env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        self.addCleanup(shell.wait, TIMEOUT)
        port = int(shell.stdout.readline())
        self.assertHeld(port)
        shell.stdin.close()
        self.assertEqual(0, shell.wait(TIMEOUT))
        shell.stdout.close()
        self.assertReleased(port)

    def test_no_such_owner(self):
        gone = subprocess.Popen([sys.executable, '-c', 'pass'])
        gone.wait(TIMEOUT)
        result = self.port('--owner', str(gone.pid))
        self.assertEqual(2, result.returncode)
        self.assertEqual('', result.stdout)
        self.assertEqual('amqp1-fixtures port: no process %d to hold the '
                         'ports for\n' % gone.pid, result.stderr)

    def test_count_below_one(self):
        result = self.port('-n', '0')
        self.assertEqual(2, result.returncode)
        self.assertIn('--count must be at least 1', result.stderr)

    def test_lock_directory_writable_by_others(self):
        os.mkdir(self.lock_dir, 0o700)
        os.chmod(self.lock_dir, 0o777)
        result = self.port('--owner', str(os.getpid()))
        self.assertEqual(2, result.returncode)
        self.assertEqual('', result.stdout)
        self.assertIn(self.lock_dir, result.stderr)
        self.assertIn('not be writable by others', result.stderr)
