"""amqp1_driver.replies: the reply link and the calls waiting, against an
in-memory proton peer (no socket, no thread, a fake clock)."""

import proton
from proton import Event
import testtools

from amqp1_driver import codec
from amqp1_driver import replies
from amqp1_driver import request
from tests.driver.unit import pair


class RepliesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock()
        self.completions = request.Completions()
        self.replies = replies.Replies(4, self.completions, codec.Decoder(),
                                       self.clock)
        self.pair = pair.Pair()
        self.peer = self.pair.peer
        self.replies.attach(self.pair.session)
        self.route()

    def route(self):
        """Pump, and route the client's events as the I/O thread does."""
        self.pair.pump()
        for kind, obj in self.pair.client_events():
            if kind == Event.LINK_REMOTE_OPEN and obj._impl == \
                    self.replies.impl:
                self.replies.on_link_open(obj)
            elif kind == Event.DELIVERY and obj.readable and \
                    not obj.partial:
                link = obj.link
                data = link.recv(obj.pending)
                link.advance()
                self.replies.on_delivery(obj._impl, link._impl, data)
        self.pair.pump()
        self.completions.flush()

    def call(self, msg_id):
        send = pair.send(kind=request.CALL, msg_id=msg_id)
        self.replies.expect(send)
        return send

    def answer(self, correlation_id, body=None, heartbeat=False,
               settled=False):
        msg = (codec.heartbeat(correlation_id, 5) if heartbeat
               else codec.reply(correlation_id, body))
        dlv = self.peer.send('[rpc-response]', msg, settled=settled)
        self.route()
        return dlv

    def test_dynamic_link_and_address(self):
        link = self.peer.link('[rpc-response]')
        self.assertTrue(link.name.startswith(
            'openstack.org/om/receiver/[rpc-response]/'))
        self.assertTrue(link.remote_source.dynamic)
        self.assertEqual('rpc-response', link.remote_target.address)
        self.assertEqual(proton.Link.SND_MIXED, link.remote_snd_settle_mode)
        self.assertTrue(self.replies.ready)
        self.assertEqual(link.source.address, self.replies.address)
        self.assertEqual(4, link.credit)

    def test_reply_completes_its_call(self):
        first, second = self.call('id1'), self.call('id2')
        dlv = self.answer('id2', {'x': 2})
        self.assertFalse(first.future.done())
        self.assertTrue(second.future.done())
        self.assertEqual(({'x': 2}, None),
                         codec.parse_reply_body(second.future.value, []))
        self.assertEqual(proton.Delivery.ACCEPTED, dlv.remote_state)
        self.assertEqual(1, len(self.replies))

    def test_reply_completed_after_the_write(self):
        send = self.call('id1')
        self.pair.pump()
        self.peer.send('[rpc-response]', codec.reply('id1', 1))
        self.pair.pump()
        for kind, obj in self.pair.client_events():
            if kind == Event.DELIVERY:
                data = obj.link.recv(obj.pending)
                obj.link.advance()
                self.replies.on_delivery(obj._impl, obj.link._impl, data)
        self.assertFalse(send.future.done())
        self.completions.flush()
        self.assertTrue(send.future.done())

    def test_heartbeat_records_the_time(self):
        send = self.call('id1')
        self.clock.advance(3)
        self.answer('id1', heartbeat=True)
        self.assertEqual(self.clock.now, send.beat)
        self.assertFalse(send.future.done())
        self.answer('id1', 'done')
        self.assertTrue(send.future.done())

    def test_unknown_correlation_is_modified_undeliverable(self):
        dlv = self.answer('nobody', 'late')
        self.assertEqual(proton.Delivery.MODIFIED, dlv.remote_state)
        self.assertTrue(dlv.remote.failed)
        self.assertTrue(dlv.remote.undeliverable)

    def test_forgotten_call_gets_nothing(self):
        send = self.call('id1')
        self.replies.forget('id1')
        self.replies.forget('id1')
        self.answer('id1', 'late')
        self.assertFalse(send.future.done())

    def test_credit_topped_up_at_half(self):
        link = self.peer.link('[rpc-response]')
        for n in range(2):
            self.answer('x%d' % n, settled=True)
        # 4 - 2 = 2 <= (4 + 1) // 2: back to 4
        self.assertEqual(4, link.credit)
        self.answer('y', settled=True)
        self.assertEqual(3, link.credit)

    def test_reset_keeps_the_calls(self):
        send = self.call('id1')
        self.replies.reset()
        self.assertFalse(self.replies.ready)
        self.assertIsNone(self.replies.impl)
        self.assertEqual(1, len(self.replies))
        error = RuntimeError('ended')
        self.replies.fail_all(error)
        self.assertIs(error, send.future.error)
        self.assertEqual(0, len(self.replies))

    def test_detach(self):
        self.replies.detach()
        self.route()
        self.assertEqual([self.peer.link('[rpc-response]').name],
                         self.peer.closed_links)

    def test_refused_link_has_no_address(self):
        peer = pair.Peer(refuse={None})
        other = pair.Pair(peer)
        r = replies.Replies(4, self.completions, codec.Decoder(), self.clock)
        r.attach(other.session)
        other.pump()
        opened = [obj for kind, obj in other.client_events()
                  if kind == Event.LINK_REMOTE_OPEN]
        self.assertEqual(1, len(opened))
        self.assertIsNone(r.on_link_open(opened[0]))
        self.assertFalse(r.ready)
