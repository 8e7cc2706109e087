"""Tests of amqp1_fixtures.daemons.ports: the parallel-safe port allocator."""

import multiprocessing
import os
import socket

import fixtures
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import ports


def _reserve_in_child(lock_dir, candidates, queue):
    try:
        r = ports.reserve_port(lock_dir=lock_dir, candidates=candidates)
        queue.put(r.port)
    except exceptions.PortInUse:
        queue.put(None)


class TestEphemeralRange(testtools.TestCase):

    def test_reads_file(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'r')
        with open(path, 'w') as f:
            f.write('32768\t60999\n')
        self.assertEqual((32768, 60999), ports.ephemeral_range(path))

    def test_default_when_unreadable(self):
        self.assertEqual((49152, 65535), ports.ephemeral_range('/nonexist'))

    def test_candidates_avoid_ephemeral_range(self):
        cands = ports.candidate_ports(100, 200, ephemeral=(150, 300))
        self.assertEqual(list(range(100, 150)), sorted(cands))


class TestReservePort(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.lock_dir = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'locks')

    def test_reserved_port_is_bindable_and_outside_ephemeral(self):
        r = ports.reserve_port(lock_dir=self.lock_dir)
        self.addCleanup(r.release)
        low, high = ports.ephemeral_range()
        self.assertFalse(low <= r.port <= high)
        self.assertTrue(ports.can_bind('127.0.0.1', r.port))
        self.assertEqual(0o700, os.stat(self.lock_dir).st_mode & 0o777)

    def test_held_port_is_not_handed_out_twice(self):
        first = ports.reserve_port(lock_dir=self.lock_dir)
        self.addCleanup(first.release)
        cands = [first.port]
        self.assertRaises(exceptions.PortInUse, ports.reserve_port,
                          lock_dir=self.lock_dir, candidates=cands)
        first.release()
        again = ports.reserve_port(lock_dir=self.lock_dir, candidates=cands)
        self.addCleanup(again.release)
        self.assertEqual(first.port, again.port)

    def test_other_process_sees_the_lock(self):
        mine = ports.reserve_port(lock_dir=self.lock_dir)
        self.addCleanup(mine.release)
        other = ports.reserve_port(lock_dir=self.lock_dir)
        self.addCleanup(other.release)
        ctx = multiprocessing.get_context('spawn')
        queue = ctx.Queue()
        child = ctx.Process(target=_reserve_in_child, args=(
            self.lock_dir, [mine.port, other.port], queue))
        child.start()
        self.addCleanup(child.join, 10)
        self.assertIsNone(queue.get(timeout=30))

    def test_bound_port_is_skipped(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        busy = sock.getsockname()[1]
        self.assertRaises(exceptions.PortInUse, ports.reserve_port,
                          lock_dir=self.lock_dir, candidates=[busy])

    def test_refuses_foreign_writable_dir(self):
        os.mkdir(self.lock_dir, 0o700)
        os.chmod(self.lock_dir, 0o777)
        self.assertRaises(exceptions.ConfigError, ports.reserve_port,
                          lock_dir=self.lock_dir)

    def test_refuses_symlink(self):
        target = self.useFixture(fixtures.TempDir()).path
        os.symlink(target, self.lock_dir)
        self.assertRaises(exceptions.ConfigError, ports.reserve_port,
                          lock_dir=self.lock_dir)

    def test_fixture_releases_on_cleanup(self):
        self.useFixture(fixtures.EnvironmentVariable(
            ports.LOCK_DIR_ENV, self.lock_dir))
        with ports.ReservedPort() as fx:
            port = fx.port
            self.assertRaises(exceptions.PortInUse, ports.reserve_port,
                              candidates=[port])
        r = ports.reserve_port(candidates=[port])
        r.release()
        self.assertFalse(r.held)


class TestCheckPortFree(testtools.TestCase):

    def test_listening_port_is_in_use(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        exc = self.assertRaises(exceptions.PortInUse,
                                ports.check_port_free, '127.0.0.1', port)
        self.assertEqual(port, exc.port)
        self.assertTrue(ports.accepts_connections('127.0.0.1', port))

    def test_free_port(self):
        r = ports.reserve_port(
            lock_dir=os.path.join(
                self.useFixture(fixtures.TempDir()).path, 'l'))
        self.addCleanup(r.release)
        ports.check_port_free('127.0.0.1', r.port)
        self.assertFalse(ports.accepts_connections('127.0.0.1', r.port))
