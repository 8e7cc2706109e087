"""amqp1_driver.sender: one sender link and its messages, against an
in-memory proton peer (no socket, no thread, a fake clock)."""

import oslo_messaging
import proton
from proton import Delivery
from proton import Event
import testtools

from amqp1_driver import codec
from amqp1_driver import loop
from amqp1_driver import replies
from amqp1_driver import request
from amqp1_driver import sender
from tests.driver.unit import pair

ADDRESS = 'unicast.openstack.topic'
DELAY = 10


class SenderTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock()
        self.loop = loop.Loop(lambda task: task(), clock=self.clock)
        self.addCleanup(self.loop.close)
        self.completions = request.Completions()
        self.replies = replies.Replies(200, self.completions,
                                       codec.Decoder(), self.clock)

    def connect(self, credit=10):
        self.pair = pair.Pair(pair.Peer(credit=credit))
        self.replies.attach(self.pair.session)
        self.sender = sender.Sender(ADDRESS, self.loop, self.completions,
                                    self.replies, DELAY, codec.Encoder())
        self.sender.attach(self.pair.session)
        self.route()
        return self.pair.peer

    def route(self):
        """Pump, and route the client's events as the I/O thread does."""
        self.pair.pump()
        for kind, obj in self.pair.client_events():
            if kind == Event.LINK_REMOTE_OPEN and obj.is_receiver:
                self.replies.on_link_open(obj)
            elif kind == Event.LINK_FLOW and obj.is_sender:
                self.sender.pump()
            elif kind == Event.DELIVERY and obj.link.is_sender:
                self.sender.on_disposition(obj._impl)
        self.pair.pump()
        self.completions.flush()

    def later(self, seconds):
        self.clock.advance(seconds)
        self.loop.run_timers()
        self.route()

    def test_attach_names_the_address(self):
        peer = self.connect()
        link = peer.link('[%s]' % ADDRESS)
        self.assertTrue(link.name.startswith(
            'openstack.org/om/sender/[%s]/' % ADDRESS))
        self.assertEqual(ADDRESS, link.remote_target.address)
        self.assertEqual(ADDRESS, link.remote_source.address)

    def test_presettled_done_when_written(self):
        peer = self.connect()
        s = pair.send(presettled=True)
        self.sender.send(s)
        self.assertFalse(s.future.done())  # only after the write
        self.route()
        self.assertTrue(s.future.done())
        self.assertTrue(peer.received[0].delivery.settled)
        self.assertEqual(ADDRESS, peer.received[0].message.address)
        self.assertTrue(self.sender.idle)

    def test_unsettled_done_when_accepted(self):
        peer = self.connect()
        s = pair.send()
        self.sender.send(s)
        self.route()
        self.assertFalse(s.future.done())
        self.assertEqual(1, len(self.sender.unacked))
        peer.received[0].settle(Delivery.ACCEPTED)
        self.route()
        self.assertTrue(s.future.done())
        self.assertIsNone(s.future.error)
        self.assertTrue(self.sender.idle)

    def test_waits_for_credit_in_order(self):
        peer = self.connect(credit=0)
        sends = [pair.send(body=str(i), presettled=True) for i in range(3)]
        for s in sends:
            self.sender.send(s)
        self.route()
        self.assertEqual([], peer.received)
        self.assertEqual(3, len(self.sender.queue))
        peer.grant('[%s]' % ADDRESS, 2)
        self.route()
        self.assertEqual(['0', '1'], [r.message.body for r in peer.received])
        peer.grant('[%s]' % ADDRESS, 1)
        self.route()
        self.assertEqual(['0', '1', '2'],
                         [r.message.body for r in peer.received])
        self.assertTrue(all(s.future.done() for s in sends))

    def test_call_registered_with_the_replies(self):
        peer = self.connect()
        s = pair.send(kind=request.CALL, msg_id='abc')
        self.sender.send(s)
        self.route()
        msg = peer.received[0].message
        self.assertEqual('abc', msg.id)
        self.assertEqual(self.replies.address, msg.reply_to)
        self.assertEqual(1, len(self.replies))
        peer.received[0].settle(Delivery.ACCEPTED)
        self.route()
        # accepted: the call now waits for its reply
        self.assertFalse(s.future.done())

    def test_released_is_held_then_resent_and_later_ones_wait(self):
        peer = self.connect()
        first, second = pair.send(body='1'), pair.send(body='2')
        self.sender.send(first)
        self.route()
        peer.received[0].settle(Delivery.RELEASED)
        self.route()
        self.assertEqual(1, len(self.sender.held))
        self.sender.send(second)
        self.route()
        # the second waits behind the held re-send
        self.assertEqual(1, len(peer.received))
        self.later(DELAY - 0.001)
        self.assertEqual(1, len(peer.received))
        self.later(0.001)
        self.assertEqual(['1', '1', '2'],
                         [r.message.body for r in peer.received])
        for r in peer.received[1:]:
            r.settle(Delivery.ACCEPTED)
        self.route()
        self.assertTrue(first.future.done() and second.future.done())
        self.assertIsNone(first.future.error)

    def test_plain_modified_is_resent(self):
        peer = self.connect()
        s = pair.send(retry=1)
        self.sender.send(s)
        self.route()
        peer.received[0].settle(Delivery.MODIFIED)
        self.route()
        self.later(DELAY)
        self.assertEqual(2, len(peer.received))

    def test_retries_exhausted(self):
        peer = self.connect()
        s = pair.send(retry=1)
        self.sender.send(s)
        self.route()
        peer.received[0].settle(Delivery.RELEASED)
        self.route()
        self.later(DELAY)
        peer.received[1].settle(Delivery.RELEASED)
        self.route()
        self.assertIsInstance(s.future.error,
                              oslo_messaging.MessageDeliveryFailure)
        self.assertIn('retries exhausted', str(s.future.error))
        self.assertIn('released', str(s.future.error))

    def test_rejected_and_failed_modified_fail(self):
        peer = self.connect()
        rejected, failed = pair.send(), pair.send()
        self.sender.send(rejected)
        self.sender.send(failed)
        self.route()
        peer.received[0].settle(Delivery.REJECTED, condition=proton.Condition(
            'amqp:not-allowed', 'no way'))
        peer.received[1].settle(Delivery.MODIFIED, failed=True)
        self.route()
        self.assertIn('rejected by the peer', str(rejected.future.error))
        self.assertIn('amqp:not-allowed', str(rejected.future.error))
        self.assertIn('modified by the peer', str(failed.future.error))
        self.assertTrue(self.sender.idle)

    def test_reset_fails_unsettled_and_returns_the_rest(self):
        peer = self.connect(credit=1)
        sent = pair.send(kind=request.CALL, msg_id='m1')
        queued = pair.send(retry=2)
        beat = pair.send(kind=request.HEARTBEAT, presettled=True)
        spent = pair.send(retry=0)
        for s in (sent, queued, beat, spent):
            self.sender.send(s)
        self.route()
        self.assertEqual(1, len(peer.received))
        error = oslo_messaging.MessageDeliveryFailure('lost')
        retry = self.sender.reset(error)
        # sent but not settled: may have arrived, never re-sent
        self.assertIs(error, sent.future.error)
        self.assertEqual(0, len(self.replies))
        self.assertEqual([queued], retry)
        self.assertEqual(1, queued.retry)
        self.assertIs(error, beat.future.error)
        self.assertIs(error, spent.future.error)
        self.assertTrue(self.sender.idle)

    def test_reset_returns_held_resends_first(self):
        peer = self.connect()
        held, queued = pair.send(body='1'), pair.send(body='2')
        self.sender.send(held)
        self.route()
        peer.received[0].settle(Delivery.RELEASED)
        self.route()
        self.sender.send(queued)
        retry = self.sender.reset(oslo_messaging.MessageDeliveryFailure('x'))
        self.assertEqual([held, queued], retry)
        # the held re-send's timer is gone with it
        self.later(DELAY)
        self.assertEqual(1, len(peer.received))

    def test_cancelled_is_not_sent(self):
        peer = self.connect(credit=0)
        s = pair.send()
        self.sender.send(s)
        self.sender.cancel(s)
        peer.grant('[%s]' % ADDRESS, 5)
        self.route()
        self.assertEqual([], peer.received)

    def test_fail_all(self):
        peer = self.connect(credit=1)
        a, b = pair.send(), pair.send()
        self.sender.send(a)
        self.sender.send(b)
        self.route()
        self.assertEqual(1, len(peer.received))
        error = RuntimeError('ended')
        self.sender.fail_all(error)
        self.assertIs(error, a.future.error)
        self.assertIs(error, b.future.error)

    def test_detach_closes_the_link(self):
        peer = self.connect()
        self.sender.detach()
        self.route()
        self.assertEqual([peer.link('[%s]' % ADDRESS).name],
                         peer.closed_links)
