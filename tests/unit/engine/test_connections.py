"""Tests of amqp1_fixtures.engine.connections: accepting, the guard, the books.

Real sockets on loopback and a real loop, but no engine thread: the test
calls what the engine's loop would.
"""

import socket

import fixtures
from proton import Collector
import testtools

from amqp1_fixtures.engine import connections as connections_mod
from amqp1_fixtures.engine import handler as handler_mod
from amqp1_fixtures.engine import loop as loop_mod
from amqp1_fixtures.engine import peer
from amqp1_fixtures.engine import sasl
from amqp1_fixtures.engine import settings as settings_mod
from amqp1_fixtures.engine import stats as stats_mod


class RecordingHandler(handler_mod.Handler):

    def __init__(self):
        self.gone = []

    def link_gone(self, conn, link, abrupt):
        self.gone.append((link, abrupt))


class FakeLink:

    def __init__(self, name, session=None):
        self.name = name
        self.session = session

    def __repr__(self):
        return self.name


class Clock:

    def __init__(self):
        self.now = 10.0

    def __call__(self):
        return self.now


class ConnectionsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='amqp1_fixtures', format='%(levelname)s %(message)s'))
        self.clock = Clock()
        self.loop = loop_mod.Loop(self.clock)
        self.loop.open()
        self.addCleanup(self.loop.close)
        self.handler = RecordingHandler()
        self.stats = stats_mod.Stats()
        self.listener = socket.socket()
        self.addCleanup(self.listener.close)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)

    def connections(self, **settings):
        settings.setdefault('handshake_timeout', 10.0)
        conns = connections_mod.Connections(
            self.loop, self.handler, self.stats, Collector(),
            settings_mod.EngineSettings(kind='test', product='unit',
                                        container_id='c', **settings),
            self.clock)
        self.addCleanup(conns.drop_all, True)
        return conns

    def accept(self, conns):
        client = socket.create_connection(self.listener.getsockname())
        self.addCleanup(client.close)
        sock, address = self.listener.accept()
        conns.accept(sock, address)
        return client


class TestAccept(ConnectionsTestCase):

    def test_accepted_connection_is_served(self):
        conns = self.connections()
        self.accept(conns)
        [conn] = list(conns)
        self.assertEqual(1, len(conns))
        self.assertEqual(1, self.stats.connections)
        self.assertEqual(1, self.stats.connections_opened)
        self.assertEqual(peer.READ, conn.mask)
        self.assertEqual(self.clock.now + 10.0, conn.deadline)
        self.assertLessEqual(conns.next_tick, self.clock.now + 1.0)
        self.assertFalse(conn.refused)

    def test_beyond_max_connections_a_peer_is_refused_quickly(self):
        conns = self.connections(max_connections=1)
        self.accept(conns)
        self.accept(conns)
        first, second = sorted(conns, key=lambda c: c.refused)
        self.assertFalse(first.refused)
        self.assertTrue(second.refused)
        self.assertEqual(self.clock.now + peer.CLOSE_LINGER,
                         second.deadline)
        # Dropping the refused one makes room again.
        second.drop()
        self.accept(conns)
        self.assertEqual([False, True],
                         sorted(c.refused for c in conns))

    def test_refusals_are_bounded(self):
        conns = self.connections(max_connections=0)
        for _ in range(connections_mod.MAX_REFUSING + 2):
            self.accept(conns)
        self.assertEqual(connections_mod.MAX_REFUSING, len(conns))
        self.assertEqual(connections_mod.MAX_REFUSING,
                         self.stats.connections)


class TestGuard(ConnectionsTestCase):

    def test_peer_error_closes_that_connection_and_counts_it(self):
        conns = self.connections()
        self.accept(conns)
        self.accept(conns)
        bad, good = list(conns)
        link = FakeLink('l1')
        conns.attach_link(bad, link)
        try:
            raise sasl.SaslError('broken')
        except sasl.SaslError as exc:
            conns.fail(bad, exc)
        self.assertTrue(bad.closing)
        self.assertFalse(good.closing)
        self.assertEqual(1, self.stats.protocol_errors)
        self.assertEqual([(link, True)], self.handler.gone)
        self.assertEqual(0, self.stats.links)
        self.assertIn('WARNING test: closing', self.log.output)
        self.assertNotIn('Traceback', self.log.output)

    def test_internal_error_is_logged_with_its_traceback(self):
        conns = self.connections()
        self.accept(conns)
        [conn] = list(conns)
        try:
            raise RuntimeError('our bug')
        except RuntimeError as exc:
            conns.fail(conn, exc)
        self.assertTrue(conn.closing)
        self.assertEqual(0, self.stats.protocol_errors)
        self.assertIn('Traceback', self.log.output)
        self.assertIn('RuntimeError: our bug', self.log.output)

    def test_error_after_the_drop_is_ignored_when_the_peer_caused_it(self):
        conns = self.connections()
        self.accept(conns)
        [conn] = list(conns)
        conn.drop()
        try:
            raise sasl.SaslError('late')
        except sasl.SaslError as exc:
            conns.fail(conn, exc)
        self.assertEqual(0, self.stats.protocol_errors)
        self.assertEqual('', self.log.output.strip())


class TestBooks(ConnectionsTestCase):

    def test_links_are_forgotten_once(self):
        conns = self.connections()
        self.accept(conns)
        [conn] = list(conns)
        one, two = FakeLink('one', 's1'), FakeLink('two', 's2')
        conns.attach_link(conn, one)
        conns.attach_link(conn, two)
        self.assertEqual(2, self.stats.links)
        conns.forget_link(conn, one, abrupt=False)
        conns.forget_link(conn, one, abrupt=False)
        self.assertEqual([(one, False)], self.handler.gone)
        conns.forget_links(conn, session='s1')
        self.assertEqual([(one, False)], self.handler.gone)
        conn.drop()
        self.assertEqual([(one, False), (two, True)], self.handler.gone)
        self.assertEqual(0, self.stats.links)
        self.assertEqual(2, self.stats.links_opened)
        self.assertEqual(0, self.stats.connections)
        self.assertEqual(0, len(conns))

    def test_tick_is_due_within_a_second(self):
        conns = self.connections()
        self.accept(conns)
        conns.tick(self.clock.now)
        self.assertEqual(self.clock.now + 1.0, conns.next_tick)
        conns.tick_soon()
        self.assertEqual(0.0, conns.next_tick)

    def test_silent_peer_is_dropped_by_the_tick(self):
        conns = self.connections(handshake_timeout=2.0)
        self.accept(conns)
        conns.tick(self.clock.now + 2.5)
        self.assertEqual(0, len(conns))
        self.assertEqual(1, self.stats.handshake_timeouts)
