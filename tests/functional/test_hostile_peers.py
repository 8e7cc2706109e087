"""The engine survives hostile and broken peers (issue 10's findings).

Each test feeds a fake, over a real socket, the bytes of a real proton
client conversation (:mod:`tests.functional.conversations`), cut or
mutated the way a broken or hostile peer would, or SASL frames whose
performatives proton's codec encodes; then checks that the fake closed
that connection with the right error, counted it, lost nothing, and still
serves a legitimate client.
"""

import socket
import struct
import time

import fixtures
from proton import Data
from proton import Described
from proton import Message
from proton import symbol
from proton import ubyte
from proton import ulong
import psutil
import testtools

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from amqp1_fixtures import sections
from tests.functional import conversations as cv
from tests.functional.proton_clients import unique

QUEUE = 'exclusive'
TOPIC = 'broadcast'
BAD_UTF8 = b'\xff\xfe\xfd\xfc-not-utf8-\xc3\x28'
SASL_INIT = 0x41
SASL_OUTCOME = 0x44


def sasl_frame(code, fields):
    """A SASL frame: the 8-byte frame header, then a performative encoded
    by proton."""
    data = Data()
    data.put_object(Described(ulong(code), fields))
    body = bytes(data.encode())
    return struct.pack('>IBBH', 8 + len(body), 2, 1, 0) + body


def sasl_frames(stream):
    """Decode the SASL frames a server sent: ``[(code, fields)]``."""
    frames = []
    for part in cv.split_frames(stream):
        if part.startswith(b'AMQP') or len(part) < 8:
            continue
        data = Data()
        data.decode(part[8:])
        data.rewind()
        data.next()
        obj = data.get_object()
        frames.append((int(obj.descriptor), obj.value))
    return frames


def bad_string_message():
    """An encoded message whose string body is not valid UTF-8: proton
    encodes a placeholder of the same length, whose bytes are replaced."""
    placeholder = 'x' * len(BAD_UTF8)
    encoded = Message(body=placeholder, durable=True).encode()
    return encoded.replace(placeholder.encode(), BAD_UTF8)


class HostileTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='amqp1_fixtures', format='%(levelname)s %(message)s'))

    def raw(self, fake):
        sock = socket.create_connection(('127.0.0.1', fake.port),
                                        timeout=cv.TIMEOUT)
        self.addCleanup(sock.close)
        return sock

    def client(self, fake):
        client = cv.RawClient(fake.port)
        self.addCleanup(client.close)
        return client

    def recorded(self, fake, address, body=b'recorded'):
        """The bytes of a real client sending one message (its own broker
        gives the credit, so any fake can be replayed to)."""
        with FakeBroker() as recorder:
            return cv.record(recorder.port, address, body)

    def assert_serves(self, fake):
        """A legitimate client still connects, sends and receives."""
        address = unique(QUEUE)
        consumer = self.client(fake)
        consumer.listen(address)
        producer = self.client(fake)
        delivery, body = cv.hand_over(producer, consumer, address)
        self.assertEqual(delivery.ACCEPTED, delivery.remote_state)
        self.assertEqual('ok', body)
        self.assertTrue(fake.running)

    def assert_no_traceback(self):
        output = self.log.output
        self.assertNotIn('Traceback', output)
        self.assertNotIn('ERROR', output)


class RedeliveryTest(HostileTestCase):
    """Finding 1: redelivery never decodes the message."""

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(FakeBroker(idle_timeout=0))

    def redeliver(self, encoded):
        """Store ``encoded``; a consumer takes it and drops without a
        close frame while another waits; return what the second gets."""
        address = unique(QUEUE)
        producer = self.client(self.broker)
        delivery = producer.send(address, encoded)
        self.assertEqual(delivery.ACCEPTED, delivery.remote_state)
        first = self.client(self.broker)
        [(_, data)] = first.receive(address)
        self.assertEqual(encoded, data)
        second = self.client(self.broker)
        second.listen(address)
        first.close()  # FIN, no close frame: a crashed consumer
        [(_, data)] = second.wait_received(1)
        return data

    def test_message_that_is_not_utf8_survives_redelivery(self):
        encoded = bad_string_message()
        data = self.redeliver(encoded)
        self.assertEqual(sections.with_delivery_count(encoded, 1), data)
        self.assertIn(BAD_UTF8, data)
        self.assertEqual(0, self.broker.stats.protocol_errors)
        self.assertEqual(1, self.broker.stats.totals.stored)
        self.assert_serves(self.broker)

    def test_two_data_sections_and_a_footer_survive_redelivery(self):
        bare = (cv.section(0x73, ['id-1', None, 'to-me']) +
                cv.section(0x74, {'k': 'v'}) +
                cv.section(0x75, b'first part') +
                cv.section(0x75, b'second part') +
                cv.section(0x78, {symbol('x-sum'): 'abc'}))
        encoded = cv.section(0x70, [True, ubyte(7)]) + bare
        data = self.redeliver(encoded)
        header = Data()
        size = header.decode(data)
        header.rewind()
        header.next()
        self.assertEqual([True, ubyte(7), None, None, 1],
                         header.get_object().value)
        # The bare message, byte for byte.
        self.assertEqual(bare, data[size:])

    def test_message_without_header_gets_one(self):
        encoded = cv.section(0x77, 'value')
        data = self.redeliver(encoded)
        msg = Message()
        msg.decode(data)
        self.assertEqual(1, msg.delivery_count)
        self.assertEqual('value', msg.body)


class ClosedInputTest(HostileTestCase):
    """Findings 2 and 3: a connection whose input ended is closed."""

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter(idle_timeout=0))

    def test_second_sasl_header_after_sasl(self):
        parts = cv.split_frames(self.recorded(self.router, unique(QUEUE)))
        self.assertEqual(cv.SASL_HEADER, parts[0])
        self.assertEqual(cv.AMQP_HEADER, parts[2])
        socks = []
        for _ in range(5):
            sock = self.raw(self.router)
            sock.sendall(parts[0] + parts[1] + cv.SASL_HEADER +
                         b''.join(parts[3:]))
            socks.append(sock)
        for sock in socks:
            cv.read_until_closed(sock, timeout=5)
        self.router.wait_for(lambda: self.router.stats.connections == 0,
                             timeout=5)
        self.assertEqual(5, self.router.stats.protocol_errors)
        self.assert_no_traceback()
        self.assert_serves(self.router)

    def test_partial_frame_then_eof(self):
        stream = self.recorded(self.router, unique(QUEUE))
        parts = cv.split_frames(stream)
        for cut in (len(b''.join(parts[:3])) + 5,    # inside open
                    len(b''.join(parts[:5])) + 20,   # inside attach
                    len(stream) - 3):                # inside close
            sock = self.raw(self.router)
            sock.sendall(stream[:cut])
            sock.shutdown(socket.SHUT_WR)
            cv.read_until_closed(sock, timeout=5)
        self.router.wait_for(lambda: self.router.stats.connections == 0,
                             timeout=5)
        self.assert_serves(self.router)


class PipelinedInputTest(HostileTestCase):
    """Finding 4: no byte is dropped when a client pipelines a lot."""

    def test_many_frames_pipelined_after_sasl(self):
        router = self.useFixture(FakeRouter())
        with FakeBroker() as recorder:
            client = cv.RawClient(recorder.port)
            for _ in range(150):
                client.listen(unique(QUEUE))
            client.close_cleanly()
        stream = bytes(client.sent)
        self.assertGreater(len(stream), 2 * 8192)
        sock = self.raw(router)
        sock.sendall(stream)  # all at once, before any answer
        reply = cv.read_until_closed(sock)
        self.assertTrue(reply.startswith(cv.SASL_HEADER))
        self.assertEqual(150, router.stats.links_opened)
        self.assertEqual(0, router.stats.protocol_errors)


class SaslInitTest(HostileTestCase):
    """Findings 5 and 9: sasl-init fields of the wrong type."""

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter(
            users={'alice': 'secret'}, idle_timeout=0))

    def refused(self, response):
        sock = self.raw(self.router)
        sock.sendall(cv.SASL_HEADER + sasl_frame(
            SASL_INIT, [symbol('PLAIN'), response]))
        return sasl_frames(cv.read_until_closed(sock, timeout=5))

    def test_integer_response_allocates_nothing(self):
        rss = psutil.Process().memory_info().rss
        frames = self.refused(ulong(200000000))
        self.assertLess(psutil.Process().memory_info().rss - rss, 50 << 20)
        # mechanisms, then a permanent system error as outcome
        self.assertEqual([0x40, SASL_OUTCOME], [f[0] for f in frames])
        self.assertEqual(3, frames[-1][1][0])
        self.router.wait_for(lambda: self.router.stats.protocol_errors == 1)
        self.assert_no_traceback()

    def test_string_response_is_a_protocol_error(self):
        frames = self.refused('alice\0secret')
        self.assertEqual(3, frames[-1][1][0])
        self.router.wait_for(lambda: self.router.stats.protocol_errors == 1)
        self.assertEqual(0, self.router.stats.auth_failures)
        self.assert_no_traceback()

    def test_oversized_frame_refused_before_its_body(self):
        sock = self.raw(self.router)
        huge = sasl_frame(SASL_INIT, [symbol('PLAIN'), b'\0' * 5000])
        sock.sendall(cv.SASL_HEADER + huge[:64])
        cv.read_until_closed(sock, timeout=5)
        self.router.wait_for(lambda: self.router.stats.protocol_errors == 1)
        self.assertIn('amqp:connection:framing-error', self.log.output)


class LinkAddressTest(HostileTestCase):
    """Finding 9: a link address that is not UTF-8."""

    def test_closed_with_decode_error(self):
        router = self.useFixture(FakeRouter(idle_timeout=0))
        placeholder = '%s.%s' % (QUEUE, 'a' * len(BAD_UTF8))
        stream = self.recorded(router, placeholder).replace(
            placeholder.encode(), QUEUE.encode() + b'.' + BAD_UTF8)
        sock = self.raw(router)
        sock.sendall(stream)
        reply = cv.read_until_closed(sock)
        self.assertIn(b'amqp:decode-error', reply)
        router.wait_for(lambda: router.stats.protocol_errors == 1)
        self.assert_no_traceback()
        self.assert_serves(router)


class HandshakeTimeoutTest(HostileTestCase):
    """Finding 6: every connection has a deadline until it is open."""

    def test_silent_sockets_cannot_lock_clients_out(self):
        router = self.useFixture(FakeRouter(
            handshake_timeout=1, max_connections=3, idle_timeout=0))
        silent = [self.raw(router) for _ in range(2)]
        sasl_only = self.raw(router)
        sasl_only.sendall(cv.SASL_HEADER)
        amqp_only = self.raw(router)  # over the limit: told why
        amqp_only.sendall(cv.AMQP_HEADER)
        for sock in silent + [sasl_only]:
            cv.read_until_closed(sock, timeout=5)
        reply = cv.read_until_closed(amqp_only, timeout=5)
        self.assertIn(b'amqp:resource-limit-exceeded', reply)
        self.assertEqual(4, router.stats.handshake_timeouts)
        self.assert_serves(router)

    def test_refused_client_is_told_why(self):
        router = self.useFixture(FakeRouter(max_connections=1))
        self.client(router).opened()
        refused = self.client(router)
        refused.opened()
        self.assertEqual('amqp:resource-limit-exceeded',
                         refused.connection.remote_condition.name)

    def test_open_connections_have_no_deadline(self):
        router = self.useFixture(FakeRouter(handshake_timeout=0.5,
                                            idle_timeout=0))
        client = self.client(router)
        client.opened()
        # What is tested is a deadline: let three of them pass.
        until = time.monotonic() + 1.5
        router.wait_for(lambda: time.monotonic() > until, timeout=5)
        address = unique(QUEUE)
        client.listen(address)
        self.client(router).send(address, Message(body='late').encode(),
                                 settle_wait=False)
        self.assertEqual(1, len(client.wait_received(1)))
        self.assertEqual(0, router.stats.handshake_timeouts)


class CountersTest(HostileTestCase):
    """Finding 8: per-address counters are bounded, totals exact."""

    def test_idle_addresses_are_evicted(self):
        broker = self.useFixture(FakeBroker())
        broker.stats.max_addresses = 20
        client = self.client(broker)
        for i in range(60):
            client.send('%s.%d' % (TOPIC, i), Message(body=i).encode())
        self.assertLessEqual(len(broker.stats.addresses()), 20)
        self.assertEqual(60, broker.stats.totals.received)
        self.assertGreater(broker.stats.evicted_addresses, 0)
        self.assertIn('%s.59' % TOPIC, broker.stats.addresses())
