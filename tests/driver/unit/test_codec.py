"""Message layout of the 14.x driver, encoded and decoded with proton."""

import json
import sys

import proton
import testtools

from amqp1_driver import codec


def roundtrip(msg):
    out = proton.Message()
    out.decode(msg.encode())
    return out


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
        msg = codec.request({'a': 1}, {})
        msg.expiry_time = 1412.0
        self.assertEqual(({'a': 1}, {}, None),
                         codec.parse_request(roundtrip(msg)))

    def test_bad_bodies(self):
        for body in (None, b'\xff', 'not json', '[1]', 5):
            msg = proton.Message(body=body)
            self.assertRaises(codec.DecodeError, codec.parse_request, msg)
