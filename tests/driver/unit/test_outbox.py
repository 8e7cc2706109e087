"""amqp1_driver.outbox: waiting for the connection, one sender per
address, link loss and the idle sweep, against an in-memory proton peer
(no socket, no thread, a fake clock)."""

import oslo_messaging
from proton import Delivery
from proton import Event
import testtools

from amqp1_driver import addressing
from amqp1_driver import codec
from amqp1_driver import loop
from amqp1_driver import outbox
from amqp1_driver import replies
from amqp1_driver import request
from tests.driver.unit import pair

DELAY = 10
SWEEP = 60


def cast(topic, **kwargs):
    s = pair.send(**kwargs)
    s.target = oslo_messaging.Target(topic=topic)
    return s


class OutboxTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock()
        self.loop = loop.Loop(lambda task: task(), clock=self.clock)
        self.addCleanup(self.loop.close)
        self.completions = request.Completions()
        self.replies = replies.Replies(200, self.completions,
                                       codec.Decoder(), self.clock)
        self.outbox = outbox.Outbox(self.loop, self.completions,
                                    self.replies, DELAY, SWEEP,
                                    codec.Encoder())
        self.addresser = addressing.LegacyAddresser('openstack')

    def connect(self, credit=10):
        self.pair = pair.Pair(pair.Peer(credit=credit))
        self.outbox.open(self.pair.session, self.addresser)
        self.route()
        return self.pair.peer

    def route(self):
        """Pump, and route the client's events as the I/O thread does."""
        self.pair.pump()
        for kind, obj in self.pair.client_events():
            if kind == Event.LINK_FLOW and obj.is_sender:
                self.outbox.on_flow(obj._impl)
            elif kind == Event.LINK_REMOTE_CLOSE:
                obj.close()
                self.outbox.on_link_closed(obj._impl, 'amqp:internal-error: '
                                           'closed by the test')
            elif kind == Event.DELIVERY and obj.link.is_sender:
                self.outbox.on_disposition(obj.link._impl, obj._impl)
        self.pair.pump()
        self.completions.flush()

    def later(self, seconds):
        self.clock.advance(seconds)
        self.loop.run_timers()
        self.route()

    def bodies(self, peer):
        return [(r.message.address, r.message.body) for r in peer.received]

    def test_waits_for_the_connection(self):
        s = cast('a', presettled=True, body='1')
        self.outbox.submit(s)
        self.assertFalse(self.outbox.ready)
        self.assertEqual([s], list(self.outbox.waiting))
        peer = self.connect()
        self.assertTrue(self.outbox.ready)
        self.assertEqual([('unicast.openstack.a', '1')], self.bodies(peer))
        self.assertTrue(s.future.done())

    def test_one_sender_per_address(self):
        peer = self.connect()
        for topic, body in (('a', '1'), ('b', '2'), ('a', '3')):
            self.outbox.submit(cast(topic, presettled=True, body=body))
        self.route()
        self.assertEqual(2, len(self.outbox.senders()))
        self.assertEqual(2, len(peer.links))
        got = self.bodies(peer)
        # in order per address (each link has its own credit)
        self.assertEqual([('unicast.openstack.a', '1'),
                          ('unicast.openstack.a', '3')],
                         [b for b in got if b[0].endswith('.a')])
        self.assertEqual([('unicast.openstack.b', '2')],
                         [b for b in got if b[0].endswith('.b')])

    def test_literal_address(self):
        peer = self.connect()
        self.outbox.submit(pair.send(kind=request.REPLY, address='reply-1',
                                     presettled=True))
        self.route()
        self.assertEqual([('reply-1', 'x')], self.bodies(peer))

    def test_reset_requeues_what_may_be_retried(self):
        peer = self.connect(credit=0)
        sends = [cast('a', body=str(i), retry=r)
                 for i, r in enumerate((None, 0))]
        for s in sends:
            self.outbox.submit(s)
        self.route()
        self.assertEqual([], peer.received)
        error = oslo_messaging.MessageDeliveryFailure('lost')
        self.outbox.reset(error)
        self.assertFalse(self.outbox.ready)
        self.assertEqual([], self.outbox.senders())
        self.assertEqual([sends[0]], list(self.outbox.waiting))
        self.assertIs(error, sends[1].future.error)
        # the next connection takes it, on a new link
        peer = self.connect()
        self.assertEqual([('unicast.openstack.a', '0')], self.bodies(peer))

    def test_link_closed_parks_then_resends(self):
        peer = self.connect(credit=0)
        s = cast('a', presettled=True, retry=1)
        self.outbox.submit(s)
        self.route()
        first = peer.link('[unicast.openstack.a]').name
        peer.detach('[unicast.openstack.a]')
        self.route()
        self.assertEqual([s], self.outbox.parked)
        self.assertEqual(0, s.retry)
        self.later(DELAY)
        self.assertEqual([], self.outbox.parked)
        again = [n for n in peer.links if n != first]
        self.assertEqual(1, len(again))
        peer.grant('[unicast.openstack.a]/' + again[0].rsplit('/', 1)[1],
                   1)
        self.route()
        self.assertTrue(s.future.done())
        self.assertIsNone(s.future.error)

    def test_link_closed_fails_unsettled(self):
        peer = self.connect()
        s = cast('a')
        self.outbox.submit(s)
        self.route()
        self.assertEqual(1, len(peer.received))
        peer.detach('[unicast.openstack.a]')
        self.route()
        self.assertIsInstance(s.future.error,
                              oslo_messaging.MessageDeliveryFailure)
        self.assertIn('link to unicast.openstack.a closed', str(
            s.future.error))
        self.assertEqual([], self.outbox.parked)

    def test_refused_link_fails_its_messages_at_once(self):
        self.pair = pair.Pair(pair.Peer(refuse={'unicast.openstack.a'}))
        self.outbox.open(self.pair.session, self.addresser)
        sends = [cast('a', retry=None), cast('a', kind=request.CALL,
                                             msg_id='m')]
        for s in sends:
            self.outbox.submit(s)
        self.pair.pump()
        closed = [obj for kind, obj in self.pair.client_events()
                  if kind == Event.LINK_REMOTE_CLOSE]
        self.assertEqual(1, len(closed))
        self.outbox.on_link_refused(
            closed[0]._impl,
            lambda address: RuntimeError('refused ' + address))
        for s in sends:
            self.assertEqual('refused unicast.openstack.a',
                             str(s.future.error))
        self.assertEqual([], self.outbox.senders())
        self.assertEqual([], self.outbox.parked)
        self.assertEqual(0, len(self.replies))

    def test_cancel_wherever_it_waits(self):
        waiting = cast('a')
        self.outbox.submit(waiting)
        self.outbox.cancel(waiting)
        self.assertEqual([], list(self.outbox.waiting))
        peer = self.connect(credit=0)
        queued = cast('a', msg_id='m', kind=request.CALL)
        self.outbox.submit(queued)
        self.route()
        self.outbox.cancel(queued)
        peer.grant('[unicast.openstack.a]', 5)
        self.route()
        self.assertEqual([], peer.received)

    def test_idle_sender_swept_in_one_to_two_intervals(self):
        peer = self.connect()
        self.outbox.submit(cast('a', presettled=True))
        self.route()
        self.later(SWEEP)
        # used since the last sweep: kept this time
        self.assertEqual(1, len(self.outbox.senders()))
        self.later(SWEEP)
        self.assertEqual([], self.outbox.senders())
        self.assertEqual(1, len(peer.closed_links))

    def test_busy_sender_not_swept(self):
        peer = self.connect()
        self.outbox.submit(cast('a'))
        self.route()
        self.later(SWEEP)
        self.later(SWEEP)
        self.assertEqual(1, len(self.outbox.senders()))
        peer.received[0].settle(Delivery.ACCEPTED)
        self.route()
        self.later(SWEEP)
        self.assertEqual([], self.outbox.senders())

    def test_fail_all_and_fail_waiting(self):
        waiting = cast('a')
        self.outbox.submit(waiting)
        error = RuntimeError('x')
        self.outbox.fail_waiting(error)
        self.assertIs(error, waiting.future.error)
        self.connect(credit=0)
        queued = cast('b')
        self.outbox.submit(queued)
        self.outbox.fail_all(error)
        self.assertIs(error, queued.future.error)
