"""amqp1_driver.servers: subscriptions and their receiver links, against
an in-memory proton peer (no socket, no thread, a fake clock)."""

import types

import oslo_messaging
import proton
from proton import Delivery
from proton import Event
import testtools

from amqp1_driver import addressing
from amqp1_driver import codec
from amqp1_driver import loop
from amqp1_driver import request
from amqp1_driver import servers
from tests.driver.unit import pair

DELAY = 10
ACCEPTED = int(Delivery.ACCEPTED)
RELEASED = int(Delivery.RELEASED)


class Base(testtools.TestCase):
    """A Servers object on a loop with a fake clock; an in-memory peer."""

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock()
        self.loop = loop.Loop(lambda task: task(), clock=self.clock)
        self.addCleanup(self.loop.close)
        self.completions = request.Completions()
        self.servers = servers.Servers(self.loop, DELAY, self.completions)
        self.addresser = addressing.LegacyAddresser('openstack')
        self.items = []
        self.target = oslo_messaging.Target(topic='t', server='s')

    def subscription(self, credit=4, patterns=('unicast', 'multicast',
                                               'anycast'), lazy=False):
        return servers.Subscription(
            [(self.target, p, addressing.RPC) for p in patterns], credit,
            self.items.append, lazy)

    def connect(self):
        self.pair = pair.Pair()
        # the attempt is only compared by identity, and asked its session
        self.attempt = types.SimpleNamespace(session=self.pair.session)
        self.servers.attach(self.attempt, self.addresser)
        self.route()
        return self.pair.peer

    def route(self):
        """Pump, and route the client's events as the I/O thread does."""
        self.pair.pump()
        for kind, obj in self.pair.client_events():
            if kind == Event.LINK_REMOTE_OPEN:
                self.servers.on_link_open(obj._impl)
            elif kind == Event.LINK_REMOTE_CLOSE:
                obj.close()
                self.servers.on_link_closed(obj._impl, 'closed')
            elif kind == Event.DELIVERY and obj.readable and \
                    not obj.partial:
                data = obj.link.recv(obj.pending)
                obj.link.advance()
                self.servers.on_delivery(obj._impl, obj.link._impl, data)
        self.pair.pump()
        self.completions.flush()

    def message(self, peer, address, body='m', settled=False):
        msg = codec.request({'method': 'echo', 'args': {'value': body}}, {})
        return peer.send('[%s]' % address, msg, settled=settled)


class ServersTest(Base):

    def test_links_attached_on_open_and_ready(self):
        sub = self.subscription()
        self.servers.add(sub)
        self.assertEqual([], sub.receivers)  # not connected yet
        peer = self.connect()
        addresses = sorted(link.remote_source.address
                           for link in peer.links.values())
        self.assertEqual(['broadcast.openstack.t.all',
                          'exclusive.openstack.t.s', 'unicast.openstack.t'],
                         addresses)
        for link in peer.links.values():
            self.assertTrue(link.name.startswith(
                'openstack.org/om/receiver/[%s]/'
                % link.remote_source.address))
            self.assertEqual(proton.Link.SND_MIXED,
                             link.remote_snd_settle_mode)
            self.assertEqual(4, link.credit)
        self.assertTrue(sub.ready.done())

    def test_add_while_connected(self):
        peer = self.connect()
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        self.route()
        self.assertEqual(1, len(peer.links))
        self.assertTrue(sub.ready.done())

    def test_delivery_to_sink_then_settle_refills_at_half(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        sent = [self.message(peer, 'unicast.openstack.t', str(i))
                for i in range(2)]
        self.route()
        self.assertEqual(2, len(self.items))
        link = peer.link('[unicast.openstack.t]')
        # unsettled messages hold credit
        self.assertEqual(2, link.credit)
        for data, kept, rcv, attempt in self.items:
            self.assertIs(self.attempt, attempt)
            self.servers.settle(kept, rcv, attempt, ACCEPTED)
        self.route()
        self.assertEqual([Delivery.ACCEPTED] * 2,
                         [d.remote_state for d in sent])
        self.assertEqual(4, link.credit)
        body = codec.Decoder().request(self.items[0][0])[0]
        self.assertEqual('0', body['args']['value'])

    def test_presettled_delivery_has_nothing_to_settle(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        self.message(peer, 'unicast.openstack.t', settled=True)
        self.route()
        self.assertIsNone(self.items[0][1])

    def test_settle_on_an_older_attempt_is_ignored(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        dlv = self.message(peer, 'unicast.openstack.t')
        self.route()
        _, kept, rcv, attempt = self.items[0]
        self.servers.reset()
        self.servers.settle(kept, rcv, attempt, ACCEPTED)
        self.route()
        self.assertEqual(0, dlv.remote_state)
        self.assertIsNone(kept.impl)  # released all the same

    def test_closed_link_reattached_after_the_delay(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        old = peer.link('[unicast.openstack.t]').name
        peer.detach('[unicast.openstack.t]')
        self.route()
        self.assertFalse(sub.receivers[0].active)
        self.clock.advance(DELAY - 0.001)
        self.loop.run_timers()
        self.route()
        self.assertEqual(1, len(peer.links))
        self.clock.advance(0.001)
        self.loop.run_timers()
        self.route()
        self.assertEqual(2, len(peer.links))
        new = [n for n in peer.links if n != old]
        self.assertTrue(new[0].startswith(
            'openstack.org/om/receiver/[unicast.openstack.t]/'))
        self.assertTrue(sub.receivers[0].active)

    def test_no_reattach_on_another_attempt(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        peer.detach('[unicast.openstack.t]')
        self.route()
        self.servers.reset()
        self.clock.advance(DELAY)
        self.loop.run_timers()
        self.route()
        self.assertEqual(1, len(peer.links))

    def test_reset_then_attach_keeps_the_receivers(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        self.connect()
        rcv = sub.receivers[0]
        self.servers.reset()
        self.assertIsNone(rcv.link)
        peer = self.connect()
        self.assertIs(rcv, sub.receivers[0])
        self.assertEqual(1, len(peer.links))
        self.assertTrue(rcv.active)

    def test_remove_detaches_and_releases_late_messages(self):
        sub = self.subscription(patterns=('anycast',))
        self.servers.add(sub)
        peer = self.connect()
        name = peer.link('[unicast.openstack.t]').name
        self.servers.remove(sub)
        self.route()
        self.assertTrue(sub.closed)
        self.assertEqual([name], peer.closed_links)
        self.assertEqual(0, len(self.servers))

    def test_release_waiters(self):
        sub = self.subscription()
        self.servers.add(sub)
        self.servers.release_waiters()
        self.assertTrue(sub.ready.done())


class AwaitingTest(Base):
    """Deliveries of lazy subscriptions (RPC servers) await settlement:
    the I/O thread then bounds its wait, since their settlement comes as
    a deferred task."""

    def deliver(self, lazy=True, count=2):
        self.sub = self.subscription(patterns=('anycast',), lazy=lazy)
        self.servers.add(self.sub)
        self.peer = self.connect()
        sent = [self.message(self.peer, 'unicast.openstack.t')
                for _ in range(count)]
        self.route()
        return sent

    def test_until_settled(self):
        self.deliver()
        self.assertTrue(self.servers.awaiting)
        first, second = self.items
        self.servers.settle(first[1], first[2], first[3], ACCEPTED)
        self.assertTrue(self.servers.awaiting)
        self.servers.settle(second[1], second[2], second[3], ACCEPTED)
        self.assertFalse(self.servers.awaiting)

    def test_not_for_other_subscriptions(self):
        self.deliver(lazy=False)
        self.assertFalse(self.servers.awaiting)

    def test_not_for_presettled_messages(self):
        sub = self.subscription(patterns=('anycast',), lazy=True)
        self.servers.add(sub)
        peer = self.connect()
        self.message(peer, 'unicast.openstack.t', settled=True)
        self.route()
        self.assertFalse(self.servers.awaiting)

    def test_forgotten_with_the_link_the_connection_or_the_listener(self):
        for end in ('link', 'reset', 'remove'):
            self.items.clear()
            self.deliver()
            self.assertTrue(self.servers.awaiting, end)
            if end == 'link':
                self.peer.detach('[unicast.openstack.t]')
                self.route()
            elif end == 'reset':
                self.servers.reset()
            else:
                self.servers.remove(self.sub)
            self.assertFalse(self.servers.awaiting, end)
            self.servers.remove(self.sub)

    def test_settle_from_before_a_reattach_is_ignored(self):
        sent = self.deliver(count=1)
        _, kept, rcv, attempt = self.items[0]
        self.peer.detach('[unicast.openstack.t]')
        self.route()
        self.clock.advance(DELAY)
        self.loop.run_timers()
        self.route()
        self.assertTrue(rcv.active)  # re-attached, same receiver object
        self.servers.settle(kept, rcv, attempt, ACCEPTED)
        self.route()
        self.assertEqual(0, sent[0].remote_state)
        self.assertFalse(self.servers.awaiting)
