"""Message layout of the 14.x driver, encoded and decoded with proton."""

import json
import sys

import proton
import testtools

from amqp1_driver import codec


def roundtrip(out, address='addr', msg_id=None, reply_to=None):
    """Encode like the I/O thread, decode with a proton.Message."""
    msg = proton.Message()
    msg.decode(codec.Encoder().encode(out, address, msg_id, reply_to))
    return msg


def as_message(out, address, msg_id=None, reply_to=None):
    """The same message built as a proton.Message, as 14.x did."""
    msg = proton.Message(inferred=True)
    if out.body is not None:
        msg.body = out.body
    msg.address = address
    if msg_id is not None:
        msg.id = msg_id
    if reply_to is not None:
        msg.reply_to = reply_to
    if out.correlation_id is not None:
        msg.correlation_id = out.correlation_id
    if out.ttl:
        msg.ttl = out.ttl
    return msg


class CodecTest(testtools.TestCase):

    def test_message_id(self):
        mid = codec.new_message_id()
        self.assertIsInstance(mid, str)
        self.assertEqual(32, len(mid))
        int(mid, 16)

    def test_call_request(self):
        msg = roundtrip(codec.request({'method': 'm'}, {'user': 'u'},
                                      call_monitor_timeout=4, ttl=10))
        self.assertIsInstance(msg.body, str)
        self.assertEqual({'request': {'method': 'm'},
                          'context': {'user': 'u'},
                          'call_monitor_timeout': 4}, json.loads(msg.body))
        self.assertEqual(10, msg.ttl)
        self.assertIsNone(msg.expiry_time or None)
        self.assertEqual(({'method': 'm'}, {'user': 'u'}, 4),
                         codec.parse_request(msg))

    def test_cast_has_no_ttl_nor_monitor(self):
        msg = roundtrip(codec.request({'a': 1}, {}))
        self.assertEqual({'request': {'a': 1}, 'context': {}},
                         json.loads(msg.body))
        self.assertFalse(msg.ttl)

    def test_notification_envelope(self):
        msg = roundtrip(codec.request({'a': 1}, {'c': 2}, envelope=True))
        body = json.loads(msg.body)
        self.assertEqual('2.0', body['request']['oslo.version'])
        self.assertIsInstance(body['request']['oslo.message'], str)
        self.assertEqual(({'a': 1}, {'c': 2}, None),
                         codec.parse_request(msg))

    def test_reply(self):
        msg = roundtrip(codec.reply('abc', {'r': 1}))
        self.assertEqual('abc', msg.correlation_id)
        self.assertEqual({'response': {'r': 1}}, json.loads(msg.body))
        self.assertEqual(({'r': 1}, None), codec.parse_reply(msg, []))

    def test_null_reply_keeps_key(self):
        msg = roundtrip(codec.reply('abc', None))
        self.assertEqual({'response': None}, json.loads(msg.body))

    def test_failure_reply(self):
        try:
            raise ValueError('bad')
        except ValueError:
            msg = roundtrip(codec.reply('id', failure=sys.exc_info()))
        body = json.loads(msg.body)
        self.assertEqual(['failure'], list(body))
        self.assertIsInstance(body['failure'], str)   # double-encoded
        self.assertEqual('ValueError', json.loads(body['failure'])['class'])
        result, error = codec.parse_reply(msg, [])
        self.assertIsNone(result)
        self.assertIsInstance(error, ValueError)

    def test_heartbeat(self):
        msg = roundtrip(codec.heartbeat('id', 6))
        self.assertIsNone(msg.body)
        self.assertTrue(codec.is_heartbeat(msg))
        self.assertEqual('id', msg.correlation_id)
        self.assertEqual(6, msg.ttl)

    def test_tolerates_bogus_expiry(self):
        # 14.x put a monotonic reading into absolute-expiry-time
        msg = as_message(codec.request({'a': 1}, {}), 'a')
        msg.expiry_time = 1412.0
        self.assertEqual(({'a': 1}, {}, None),
                         codec.parse_request(roundtrip(msg)))

    def test_bad_bodies(self):
        for body in (None, b'\xff', 'not json', '[1]', 5):
            msg = proton.Message(body=body)
            self.assertRaises(codec.DecodeError, codec.parse_request, msg)


class EncoderTest(testtools.TestCase):
    """The I/O thread's encoder writes the bytes proton.Message would."""

    def test_same_bytes_as_proton_message(self):
        encoder = codec.Encoder()
        cases = [
            (codec.request({'method': 'm'}, {}, ttl=10), 'a/b', 'id1', 'r'),
            (codec.request({'a': 'é' * 300}, {}), 'exclusive.x', None, None),
            (codec.reply('id1', {'r': 1}), 'reply-addr', None, None),
            (codec.heartbeat('id1', 6), 'reply-addr', None, None),
        ]
        for out, address, msg_id, reply_to in cases:
            want = as_message(out, address, msg_id, reply_to).encode()
            got = encoder.encode(out, address, msg_id, reply_to)
            self.assertEqual(bytes(want), bytes(got))

    def test_reused_encoder_forgets_the_last_message(self):
        encoder = codec.Encoder()
        encoder.encode(codec.request({}, {}, ttl=5), 'a', 'id', 'r')
        msg = proton.Message()
        msg.decode(encoder.encode(codec.reply('c', 1), 'b'))
        self.assertIsNone(msg.id)
        self.assertIsNone(msg.reply_to)
        self.assertFalse(msg.ttl)
        self.assertEqual('c', msg.correlation_id)


class DecoderTest(testtools.TestCase):

    def test_request(self):
        data = as_message(codec.request({'method': 'm'}, {'u': 1},
                                        call_monitor_timeout=3),
                          'a', 'id9', 'reply-9').encode()
        self.assertEqual(({'method': 'm'}, {'u': 1}, 3, 'id9', 'reply-9'),
                         codec.Decoder().request(data))

    def test_reply_and_heartbeat(self):
        decoder = codec.Decoder()
        data = as_message(codec.reply('id9', 5), 'a').encode()
        cid, body = decoder.reply(data)
        self.assertEqual('id9', cid)
        self.assertEqual(({'response': 5}), json.loads(body))
        data = as_message(codec.heartbeat('id8', 2), 'a').encode()
        self.assertEqual(('id8', None), decoder.reply(data))

    def test_binary_ids_are_bytes(self):
        msg = proton.Message(body='{}')
        msg.correlation_id = b'\x01\x02'
        self.assertEqual(b'\x01\x02',
                         codec.Decoder().reply(msg.encode())[0])

    def test_not_a_message(self):
        self.assertRaises(codec.DecodeError, codec.Decoder().request,
                          b'\x00garbage')

    def test_binary_body_is_read(self):
        msg = proton.Message(body=b'{"request": {}, "context": {}}')
        msg.inferred = False
        self.assertEqual(({}, {}, None, None, None),
                         codec.Decoder().request(msg.encode()))
