"""Tests of amqp1_fixtures.engine.peer: one connection's bytes, without
the engine.

Each test gives a :class:`PeerConnection` one end of a socket pair and
drives a real proton client transport over the other end, pumped by the
test itself: no selector, no thread.  The loop and the owner the
connection reports to are recorders, so the tests see exactly what it
asks of them; the clock is a number the test sets.
"""

import errno
import socket

import fixtures
from proton import Collector
from proton import Connection
from proton import Endpoint
from proton import Event
from proton import SASL
from proton import symbol
from proton import Transport
import testtools

from amqp1_fixtures.engine import peer
from amqp1_fixtures.engine import sasl
from amqp1_fixtures.engine import stats as stats_mod
from amqp1_fixtures import tls

READ = peer.READ
WRITE = peer.WRITE
PEER = ('127.0.0.1', 4242)
PROPERTIES = {symbol('product'): 'unit-test'}


class RecordingLoop:
    """Stands in for the engine's loop: what each socket is watched for."""

    def __init__(self):
        self.masks = {}

    def watch(self, sock, old_mask, new_mask, handler):
        assert self.masks.get(sock, 0) == old_mask, (old_mask, self.masks)
        if new_mask:
            self.masks[sock] = new_mask
        else:
            del self.masks[sock]

    def unwatch(self, sock):
        del self.masks[sock]


class RecordingOwner:
    """Stands in for Connections: what the connection reports."""

    def __init__(self):
        self.pending = set()
        self.bound = []
        self.gone = []

    def output_pending(self, conn):
        self.pending.add(conn)

    def transport_bound(self, conn):
        self.bound.append(conn)

    def dropped(self, conn):
        self.gone.append(conn)


class Clock:

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Client:
    """A proton client connection over a non-blocking socket."""

    def __init__(self, sock, user=None, password=None, idle_timeout=None,
                 open=True):
        self.sock = sock
        sock.setblocking(False)
        self.collector = Collector()
        self.connection = Connection()
        self.connection.collect(self.collector)
        self.transport = Transport()
        if idle_timeout:
            self.transport.idle_timeout = idle_timeout
        self.sasl = self.transport.sasl()
        if user is not None:
            self.sasl.allowed_mechs('PLAIN')
            self.sasl.allow_insecure_mechs = True
            self.connection.user = user
            self.connection.password = password
        else:
            self.sasl.allowed_mechs('ANONYMOUS')
        self.transport.bind(self.connection)
        self.connection.container = 'unit-client'
        if open:
            self.connection.open()
        self.reset = False
        self.eof = False

    def send(self):
        """Write what the client transport has to say."""
        while True:
            pending = self.transport.pending()
            if pending <= 0:
                return
            n = self.sock.send(self.transport.peek(pending))
            self.transport.pop(n)

    def receive(self):
        """Take what the server wrote (and its EOF, or RST)."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except ConnectionResetError:
                self.reset = True
                return
            if not data:
                self.eof = True
                self.transport.close_tail()
                return
            self.transport.push(data)

    def events(self):
        """The client's proton event types so far."""
        types = []
        while self.collector.peek() is not None:
            types.append(self.collector.peek().type)
            self.collector.pop()
        return types


class PeerTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.loop = RecordingLoop()
        self.owner = RecordingOwner()
        self.stats = stats_mod.Stats()
        self.clock = Clock()
        self.collector = Collector()

    def pair(self, family=socket.AF_UNIX):
        if family == socket.AF_UNIX:
            ours, theirs = socket.socketpair()
        else:
            listener = socket.socket()
            self.addCleanup(listener.close)
            listener.bind(('127.0.0.1', 0))
            listener.listen(1)
            theirs = socket.create_connection(listener.getsockname())
            ours, _ = listener.accept()
        ours.setblocking(False)
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        return ours, theirs

    def connect(self, users=None, mechanisms=('ANONYMOUS',),
                idle_timeout=0, deadline=None, tls_context=None,
                family=socket.AF_UNIX, refused=False):
        ours, theirs = self.pair(family)
        server = sasl.SaslServer(list(mechanisms), users,
                                 require_sasl=bool(users))
        conn = peer.PeerConnection(
            ours, PEER, self.loop, self.owner, self.stats, server,
            self.collector, idle_timeout=idle_timeout, deadline=deadline,
            open_within=5.0, tls_context=tls_context, refused=refused,
            label='test', clock=self.clock)
        conn.start()
        return conn, theirs

    def pump(self, conn, client, rounds=4):
        """Move bytes both ways until nothing changes."""
        for _ in range(rounds):
            client.send()
            if not conn.dead:
                conn.ready(READ)
                conn.flush()
            client.receive()

    def open(self, **kwargs):
        """A connection through SASL whose open frame the server
        answered; returns ``(conn, client)``."""
        user = kwargs.pop('user', None)
        password = kwargs.pop('password', None)
        client_idle = kwargs.pop('client_idle_timeout', None)
        conn, theirs = self.connect(**kwargs)
        client = Client(theirs, user, password, idle_timeout=client_idle)
        self.pump(conn, client)
        self.assertEqual([conn], self.owner.bound)
        self.assertTrue(conn.pn.state & Endpoint.REMOTE_ACTIVE)
        conn.opened('unit-server', PROPERTIES)
        conn.flush()
        client.receive()
        return conn, client


class TestOpen(PeerTestCase):

    def test_anonymous_open_is_answered(self):
        conn, client = self.open(deadline=self.clock.now + 5)
        self.assertEqual('anonymous', conn.user)
        self.assertIsNone(conn.sasl)
        self.assertIsNone(conn.deadline)
        self.assertEqual('unit-server', client.connection.remote_container)
        self.assertEqual(PROPERTIES, client.connection.remote_properties)
        self.assertEqual({conn.sock: READ}, self.loop.masks)
        self.assertIn(conn, self.owner.pending)
        self.assertEqual([], self.owner.gone)

    def test_plain_user_is_authenticated(self):
        conn, client = self.open(users={'joe': 'secret'},
                                 mechanisms=('PLAIN',), user='joe',
                                 password='secret')
        self.assertEqual('joe', conn.user)
        self.assertEqual(SASL.OK, client.sasl.outcome)
        self.assertEqual(0, self.stats.auth_failures)

    def test_a_second_open_is_not_answered_twice(self):
        conn, client = self.open()
        conn.opened('other', {})
        self.assertEqual('unit-server', conn.pn.container)

    def test_idle_timeout_is_advertised(self):
        conn, client = self.connect(idle_timeout=8.0)
        client = Client(client)
        self.pump(conn, client)
        conn.opened('unit-server', PROPERTIES, idle_timeout=3.0)
        conn.flush()
        client.receive()
        # Proton advertises half its own timeout (the spec's advice), so
        # 3 s is 1.5 s on the wire; the engine's 8 s would be 4 s.
        self.assertEqual(1.5, client.transport.remote_idle_timeout)

    def test_links_are_recorded_once(self):
        conn, _ = self.open()
        link = object()
        conn.attach(link)
        self.assertTrue(conn.detach(link))
        self.assertFalse(conn.detach(link))
        self.assertEqual(set(), conn.links)


class TestRefusals(PeerTestCase):

    def test_wrong_password_fails_authentication_and_drops(self):
        conn, theirs = self.connect(users={'joe': 'secret'},
                                    mechanisms=('PLAIN',))
        client = Client(theirs, 'joe', 'wrong')
        self.pump(conn, client)
        self.assertEqual(SASL.AUTH, client.sasl.outcome)
        self.assertEqual(1, self.stats.auth_failures)
        self.assertTrue(conn.dead)
        self.assertEqual([conn], self.owner.gone)
        self.assertEqual([], self.owner.bound)
        self.assertEqual({}, self.loop.masks)
        self.assertEqual(-1, conn.sock.fileno())

    def test_oversized_sasl_frame_raises_for_the_guard(self):
        conn, theirs = self.connect()
        theirs.sendall(sasl.SASL_HEADER +
                       b'\x00\x01\x00\x00\x02\x01\x00\x00')
        error = self.assertRaises(sasl.SaslFrameError, conn.ready, READ)
        name, _ = peer.condition_for(error)
        self.assertEqual('amqp:connection:framing-error', name)
        # The guard's close: SASL has no error frame, so the peer gets a
        # permanent system error as its outcome, then the socket closes.
        conn.close(name, str(error))
        self.assertTrue(conn.closing)
        self.assertEqual({conn.sock: WRITE}, self.loop.masks)
        conn.flush()
        self.assertTrue(conn.dead)
        theirs.settimeout(5)
        written = b''
        while True:
            data = theirs.recv(4096)
            if not data:
                break
            written += data
        self.assertTrue(written.startswith(sasl.SASL_HEADER))
        # mechanisms frame, then the sasl-outcome with code sys-perm (3)
        self.assertEqual(bytes([sasl.SYS_PERM]), written[-1:])

    def test_malformed_amqp_frame_closes_with_a_framing_error(self):
        conn, client = self.open()
        # A frame header announcing fewer bytes than a header has.
        client.sock.sendall(b'\x00\x00\x00\x04\x02\x00\x00\x00')
        conn.ready(READ)
        conn.flush()
        client.receive()
        self.assertTrue(conn.dead)
        self.assertTrue(client.eof)
        condition = client.connection.remote_condition or \
            client.transport.condition
        self.assertEqual('amqp:connection:framing-error', condition.name)

    def test_plain_bytes_on_a_tls_connection_fail_the_handshake(self):
        directory = self.useFixture(fixtures.TempDir()).path
        context = tls.make_test_certificates(
            directory).server_tls().server_context()
        conn, theirs = self.connect(tls_context=context)
        theirs.sendall(sasl.AMQP_HEADER * 4)
        conn.ready(READ)
        self.assertTrue(conn.dead)
        self.assertEqual(1, self.stats.auth_failures)
        self.assertEqual([conn], self.owner.gone)


class TestDeadlines(PeerTestCase):

    def test_silent_peer_is_dropped_at_its_deadline(self):
        conn, _ = self.connect(deadline=self.clock.now + 5)
        self.assertIsNone(conn.tick(self.clock.now + 4))
        self.assertFalse(conn.dead)
        conn.tick(self.clock.now + 5)
        self.assertTrue(conn.dead)
        self.assertEqual(1, self.stats.handshake_timeouts)

    def test_peer_without_open_is_told_why(self):
        conn, theirs = self.connect(deadline=self.clock.now + 5)
        # SASL and the AMQP header, but no open frame.
        client = Client(theirs, open=False)
        self.pump(conn, client)
        self.assertEqual([conn], self.owner.bound)
        conn.tick(self.clock.now + 6)
        self.assertTrue(conn.closing)
        self.assertEqual(1, self.stats.handshake_timeouts)
        conn.flush()
        client.receive()
        self.assertTrue(conn.dead)
        self.assertEqual('amqp:resource-limit-exceeded',
                         client.connection.remote_condition.name)

    def test_close_frame_not_taken_is_dropped_after_the_linger(self):
        conn, client = self.open()
        conn.close('amqp:internal-error', 'test')
        self.assertEqual(self.clock.now + peer.CLOSE_LINGER, conn.deadline)
        conn.suspend()  # nothing gets written
        conn.tick(self.clock.now + peer.CLOSE_LINGER)
        self.assertTrue(conn.dead)
        self.assertEqual(0, self.stats.handshake_timeouts)

    def test_heartbeats_and_idle_timeout(self):
        conn, client = self.open(idle_timeout=2.0, client_idle_timeout=4.0)
        now = self.clock.now
        when = conn.tick(now)
        self.assertTrue(when)
        self.assertLessEqual(when, now + 2.0)
        # The peer says nothing for longer than our idle timeout.
        conn.tick(now + 10)
        conn.flush()
        client.receive()
        self.assertEqual('amqp:resource-limit-exceeded',
                         client.connection.remote_condition.name)


class TestEnding(PeerTestCase):

    def test_peer_eof_drops_once_output_is_written(self):
        conn, client = self.open()
        client.sock.shutdown(socket.SHUT_WR)
        conn.ready(READ)
        self.assertTrue(conn.eof)
        self.assertFalse(conn.dead)
        conn.flush()
        self.assertTrue(conn.dead)
        self.assertEqual([conn], self.owner.gone)

    def test_end_sends_a_clean_close(self):
        conn, client = self.open()
        conn.end()
        conn.flush()
        client.receive()
        self.assertIn(Event.CONNECTION_REMOTE_CLOSE, client.events())
        self.assertIsNone(client.connection.remote_condition)

    def test_abrupt_drop_resets_the_tcp_connection(self):
        conn, client = self.open(family=socket.AF_INET)
        conn.drop(abrupt=True)
        self.assertTrue(conn.dead)
        client.sock.setblocking(True)
        client.sock.settimeout(5)
        error = self.assertRaises(OSError, client.sock.recv, 10)
        self.assertEqual(errno.ECONNRESET, error.errno)

    def test_drop_is_reported_once(self):
        conn, _ = self.open()
        conn.drop()
        conn.drop()
        self.assertEqual([conn], self.owner.gone)
        self.assertIsNone(conn.tick(self.clock.now))


class TestPause(PeerTestCase):

    def test_suspended_connection_neither_reads_nor_writes(self):
        conn, client = self.open()
        conn.suspend()
        self.assertEqual({}, self.loop.masks)
        conn.end()
        conn.flush()
        client.receive()
        self.assertNotIn(Event.CONNECTION_REMOTE_CLOSE, client.events())
        conn.resume()
        self.assertEqual({conn.sock: READ}, self.loop.masks)
        self.assertIn(conn, self.owner.pending)
        conn.flush()
        client.receive()
        self.assertIn(Event.CONNECTION_REMOTE_CLOSE, client.events())
