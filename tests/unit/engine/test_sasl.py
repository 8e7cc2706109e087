"""Tests of amqp1_fixtures.engine.sasl fed with bytes built by proton's
codec."""

import struct

from proton import Data
from proton import Described
from proton import symbol
from proton import ulong
import testtools

from amqp1_fixtures.engine import sasl

SASL_INIT = 0x41
SASL_RESPONSE = 0x43
USERS = {'alice': 'secret', 'bob@example.org': 'hunter2'}


def encode(value):
    data = Data()
    data.put_object(value)
    return bytes(data.encode())


def frame(body, frame_type=1, doff=2, extended=b''):
    """A SASL frame: 8-byte header, extended header, then ``body``."""
    return struct.pack('>IBBH', 8 + len(extended) + len(body), doff,
                       frame_type, 0) + extended + body


def init(mechanism='PLAIN', response=None, hostname=None,
         descriptor=SASL_INIT):
    fields = [symbol(mechanism) if mechanism is not None else None]
    if response is not None or hostname is not None:
        fields.append(response)
    if hostname is not None:
        fields.append(hostname)
    return frame(encode(Described(ulong(descriptor) if isinstance(
        descriptor, int) else symbol(descriptor), fields)))


def plain(user, password, authzid=''):
    return ('%s\0%s\0%s' % (authzid, user, password)).encode('utf-8')


def parse(output):
    """Split a server's output into its header and decoded frames."""
    output = bytes(output)
    header, rest = output[:8], output[8:]
    frames = []
    while rest:
        size, doff, frame_type, _ = struct.unpack_from('>IBBH', rest)
        body = rest[doff * 4:size]
        rest = rest[size:]
        data = Data()
        data.decode(body)
        data.rewind()
        data.next()
        frames.append((frame_type, data.get_object()))
    return header, frames


def outcome_code(server):
    _, frames = parse(server.output)
    described = frames[-1][1]
    assert described.descriptor == 0x44, described
    return described.value[0]


class TestCheckPlain(testtools.TestCase):

    def test_right_password(self):
        self.assertEqual('alice', sasl.check_plain(plain('alice', 'secret'),
                                                   USERS))

    def test_authzid_is_ignored(self):
        self.assertEqual('alice', sasl.check_plain(
            plain('alice', 'secret', authzid='root'), USERS))

    def test_wrong_password_or_user(self):
        self.assertIsNone(sasl.check_plain(plain('alice', 'Secret'), USERS))
        self.assertIsNone(sasl.check_plain(plain('alice', ''), USERS))
        self.assertIsNone(sasl.check_plain(plain('mallory', 'secret'),
                                           USERS))

    def test_realm_appended_by_oslo_messaging(self):
        self.assertEqual('alice', sasl.check_plain(
            plain('alice@example.org', 'secret'), USERS))
        # A user whose name has a realm matches as it is.
        self.assertEqual('bob@example.org', sasl.check_plain(
            plain('bob@example.org', 'hunter2'), USERS))
        self.assertIsNone(sasl.check_plain(plain('bob', 'hunter2'), USERS))

    def test_malformed_responses(self):
        for response in (None, b'', b'alice\0secret', b'\0alice\0secret\0',
                         b'\0alice\0\xff\xfe', b'\0\xc3\0secret'):
            self.assertIsNone(sasl.check_plain(response, USERS), response)

    def test_non_ascii_credentials(self):
        users = {'zoë': 'pässwörd'}
        self.assertEqual('zoë', sasl.check_plain(plain('zoë', 'pässwörd'),
                                                 users))


class TestHandshake(testtools.TestCase):

    def server(self, mechanisms=('PLAIN',), require_sasl=True):
        return sasl.SaslServer(list(mechanisms), USERS,
                               require_sasl=require_sasl)

    def test_offers_its_mechanisms(self):
        server = self.server(['plain', 'ANONYMOUS'])
        server.feed(sasl.SASL_HEADER)
        header, frames = parse(server.output)
        self.assertEqual(sasl.SASL_HEADER, header)
        frame_type, mechanisms = frames[0]
        self.assertEqual(1, frame_type)
        self.assertEqual(0x40, mechanisms.descriptor)
        self.assertEqual(['PLAIN', 'ANONYMOUS'],
                         [str(m) for m in mechanisms.value[0]])
        self.assertFalse(server.done or server.failed)

    def test_plain_success_and_pipelined_amqp_bytes(self):
        server = self.server()
        amqp = sasl.AMQP_HEADER + b'open frame bytes'
        server.feed(sasl.SASL_HEADER +
                    init('PLAIN', plain('alice', 'secret'), 'localhost') +
                    amqp)
        self.assertTrue(server.done)
        self.assertFalse(server.failed)
        self.assertEqual('alice', server.user)
        self.assertEqual(sasl.OK, outcome_code(server))
        self.assertEqual(amqp, server.take_remaining())
        self.assertEqual(b'', server.take_remaining())
        # Later bytes are kept for the AMQP layer too.
        server.feed(b'more')
        self.assertEqual(b'more', server.take_remaining())

    def test_fed_one_byte_at_a_time(self):
        server = self.server()
        data = sasl.SASL_HEADER + init('PLAIN', plain('alice', 'secret'))
        for i in range(len(data)):
            self.assertFalse(server.done)
            server.feed(data[i:i + 1])
        self.assertTrue(server.done)
        self.assertEqual('alice', server.user)

    def test_wrong_password_fails_with_auth(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER +
                    init('PLAIN', plain('alice', 'wrong')))
        self.assertTrue(server.failed)
        self.assertFalse(server.done)
        self.assertIsNone(server.user)
        self.assertEqual(sasl.AUTH, outcome_code(server))
        self.assertIn('PLAIN', server.reason)

    def test_mechanism_not_offered(self):
        server = self.server(['PLAIN'])
        server.feed(sasl.SASL_HEADER + init('ANONYMOUS', b'guest'))
        self.assertTrue(server.failed)
        self.assertEqual(sasl.AUTH, outcome_code(server))

    def test_unknown_mechanism_even_if_offered(self):
        server = self.server(['PLAIN', 'SCRAM-SHA-1'])
        server.feed(sasl.SASL_HEADER + init('SCRAM-SHA-1', b'n,,n=alice'))
        self.assertTrue(server.failed)

    def test_anonymous(self):
        server = self.server(['ANONYMOUS'])
        server.feed(sasl.SASL_HEADER + init('ANONYMOUS'))
        self.assertTrue(server.done)
        self.assertEqual('anonymous', server.user)
        self.assertEqual(sasl.OK, outcome_code(server))

    def test_mechanism_name_is_case_insensitive(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER +
                    init('plain', plain('alice', 'secret')))
        self.assertTrue(server.done)

    def test_plain_without_response(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER + init('PLAIN'))
        self.assertTrue(server.failed)
        self.assertEqual(sasl.AUTH, outcome_code(server))

    def test_symbolic_descriptor(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER + init(
            'PLAIN', plain('alice', 'secret'),
            descriptor='amqp:sasl-init:list'))
        self.assertTrue(server.done)

    def test_empty_frame_before_init_is_a_heartbeat(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER + frame(b''))
        self.assertFalse(server.done or server.failed)
        server.feed(init('PLAIN', plain('alice', 'secret')))
        self.assertTrue(server.done)

    def test_many_empty_frames_before_init(self):
        server = self.server()
        server.feed(sasl.SASL_HEADER + frame(b'') * 5000 +
                    init('PLAIN', plain('alice', 'secret')))
        self.assertTrue(server.done)

    def test_extended_frame_header(self):
        server = self.server()
        body = encode(Described(ulong(SASL_INIT), [
            symbol('PLAIN'), plain('alice', 'secret')]))
        server.feed(sasl.SASL_HEADER +
                    frame(body, doff=3, extended=b'\0\0\0\0'))
        self.assertTrue(server.done)


class TestProtocolHeader(testtools.TestCase):

    def test_plain_amqp_allowed_without_sasl(self):
        server = sasl.SaslServer(['ANONYMOUS'], require_sasl=False)
        server.feed(sasl.AMQP_HEADER + b'open')
        self.assertTrue(server.done)
        self.assertEqual('anonymous', server.user)
        self.assertEqual(b'', bytes(server.output))
        # The AMQP layer needs the header it has not seen yet.
        self.assertEqual(sasl.AMQP_HEADER + b'open',
                         server.take_remaining())

    def test_plain_amqp_refused_when_sasl_required(self):
        server = sasl.SaslServer(['PLAIN'], USERS)
        server.feed(sasl.AMQP_HEADER)
        self.assertTrue(server.failed)
        # Answer with the header we do speak, then close.
        self.assertEqual(sasl.SASL_HEADER, bytes(server.output))

    def test_partial_header_waits(self):
        server = sasl.SaslServer(['PLAIN'], USERS)
        server.feed(b'AMQ')
        self.assertFalse(server.done or server.failed)
        self.assertEqual(b'', bytes(server.output))

    def test_foreign_protocols_fail_early(self):
        for data in (b'GET / HTTP/1.1\r\n', b'\x16\x03\x01',
                     b'AMQP\x02\x01\x00\x00', b'AMQP\x03\x01\x00\x01'):
            server = sasl.SaslServer(['PLAIN'], USERS)
            server.feed(data)
            self.assertTrue(server.failed, data)
            self.assertIn('header', server.reason)
            self.assertEqual(sasl.SASL_HEADER, bytes(server.output))


class TestMalformedFrames(testtools.TestCase):
    """Broken SASL frames raise SaslError; nothing is authenticated."""

    def assert_protocol_error(self, data):
        server = sasl.SaslServer(['PLAIN', 'ANONYMOUS'], USERS)
        self.assertRaises(sasl.SaslError, server.feed,
                          sasl.SASL_HEADER + data)
        self.assertFalse(server.done)
        self.assertIsNone(server.user)

    def test_oversized_frame(self):
        self.assert_protocol_error(struct.pack('>IBBH', 1 << 20, 2, 1, 0))

    def test_frame_size_below_the_header(self):
        self.assert_protocol_error(struct.pack('>IBBH', 4, 2, 1, 0))

    def test_data_offset_inside_the_header(self):
        self.assert_protocol_error(frame(encode(Described(
            ulong(SASL_INIT), [symbol('ANONYMOUS')])), doff=1))

    def test_data_offset_past_the_frame(self):
        self.assert_protocol_error(struct.pack('>IBBH', 16, 8, 1, 0) +
                                   b'\0' * 8)

    def test_amqp_frame_instead_of_sasl(self):
        self.assert_protocol_error(frame(encode(Described(
            ulong(0x10), ['container'])), frame_type=0))

    def test_undecodable_body(self):
        self.assert_protocol_error(frame(b'\xff\xfe\xfd\xfc'))

    def test_truncated_body(self):
        body = encode(Described(ulong(SASL_INIT), [
            symbol('PLAIN'), plain('alice', 'secret')]))
        self.assert_protocol_error(frame(body[:-5]))

    def test_body_that_is_not_a_performative(self):
        self.assert_protocol_error(frame(encode('just a string')))

    def test_wrong_performative(self):
        self.assert_protocol_error(frame(encode(Described(
            ulong(SASL_RESPONSE), [b'response']))))

    def test_init_without_mechanism(self):
        self.assert_protocol_error(frame(encode(Described(
            ulong(SASL_INIT), []))))
        self.assert_protocol_error(init(None, b'x'))

    def test_nothing_is_answered_after_the_mechanisms(self):
        server = sasl.SaslServer(['PLAIN'], USERS)
        server.feed(sasl.SASL_HEADER)
        offered = bytes(server.output)
        self.assertRaises(sasl.SaslError, server.feed, frame(b'\xff'))
        self.assertEqual(offered, bytes(server.output))
