"""What oslo.messaging 14.9's unit tests of its own amqp:// driver
checked on the wire (oslo_messaging/tests/drivers/test_amqp_driver.py:
TestAmqpSend, TestAmqpNotification, TestAddressing, TestMessageRetransmit,
TestVHost), checked with this driver over real TCP to FakeRouter and
FakeBroker."""

import queue
import threading

import oslo_messaging

from amqp1_fixtures.daemons import qpid as daemons
from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging
from tests import realqpid

RPC = 'openstack.org/om/rpc'


class Responder:
    """A raw driver listener: requeue() the first ``requeues`` requests,
    then acknowledge and reply with the request's value."""

    def __init__(self, transport, target, requeues=0):
        self.requeues = requeues
        self.seen = queue.Queue()
        self.listener = transport._driver.listen(target, 1, None)
        self.listener.start(self._incoming)

    def _incoming(self, batch):
        for incoming in batch:
            self.seen.put(incoming.message)
            if self.requeues > 0:
                self.requeues -= 1
                incoming.requeue()
                continue
            incoming.acknowledge()
            incoming.reply({'value': incoming.message['args']['value']})

    def cleanup(self):
        self.listener.stop()
        self.listener.cleanup()


class RetransmitTest(messaging.TestCase):
    """TestMessageRetransmit: released / plain modified are re-sent."""

    def _transport(self, url):
        return self.useFixture(messaging.Transport(self.conf, url)).transport

    def _requeue_through(self, router):
        target = oslo_messaging.Target(topic=self.topic, server='s')
        responder = Responder(self._transport(router.transport_url), target,
                              requeues=1)
        self.addCleanup(responder.cleanup)
        client = self.client(router.transport_url)
        self.assertEqual({'value': 7}, client.call(7))
        self.assertEqual(2, responder.seen.qsize())

    def test_requeue_through_router_is_released_and_resent(self):
        # A server's requeue() releases the request, and the router passes
        # the release on as released (as qdrouterd 1.19 does, measured in
        # tests/functional/test_behaviour.py): the driver sends it again
        # after link_retry_delay, and the server gets it a second time.
        self._requeue_through(self.useFixture(FakeRouter()))

    def test_requeue_through_the_real_qdrouterd(self):
        router = daemons.RouterDaemon(require_real=True)
        if router.impl is None:
            self.skipTest(realqpid.absent_reason('qdrouterd'))
        self._requeue_through(self.useFixture(router))

    def test_released_counts_against_retry(self):
        broker = self.useFixture(FakeBroker())
        self.server(broker.transport_url)
        client = self.client(broker.transport_url)
        broker.inject('release', address='unicast', count=2)
        prepared = client.client.prepare(retry=1)
        error = self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                                  prepared.call, {}, 'echo', value=1)
        self.assertIn('retries exhausted', str(error))

    def test_released_by_broker_is_resent(self):
        broker = self.useFixture(FakeBroker())
        self.server(broker.transport_url)
        client = self.client(broker.transport_url)
        fault = broker.inject('release', address='unicast', count=2)
        self.assertEqual(4, client.call(4)['value'])
        self.assertEqual(2, fault.matched)


class CreditTest(messaging.TestCase):
    """rpc_server_credit=1: the link is topped up on each acknowledge."""

    def test_credit_one_serves_many(self):
        self.conf = messaging.make_conf(rpc_server_credit=1)
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        for n in range(5):
            self.assertEqual(n, client.call(n)['value'])
        results = queue.Queue()
        threads = [threading.Thread(
            target=lambda n=n: results.put(client.call(n)['value']))
            for n in range(5, 10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(list(range(5, 10)),
                         sorted(results.get(timeout=1) for _ in threads))


class LateReplyTest(messaging.TestCase):

    def test_reply_after_timeout_is_harmless(self):
        router = self.useFixture(FakeRouter())
        key = messaging.unique('late')
        messaging.EVENTS[key] = threading.Event()
        self.addCleanup(messaging.EVENTS.pop, key)
        server = self.server(router.transport_url)
        client = self.client(router.transport_url)
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.client.prepare(timeout=1).call,
                          {}, 'wait_for', key=key)
        messaging.EVENTS[key].set()  # the server now replies, too late
        router.wait_for(lambda: router.stats.totals.received >= 2)
        self.assertEqual(9, client.call(9)['value'])
        self.assertEqual(('echo', 9), server.endpoint.calls.get(timeout=5))


class NotificationFailureTest(messaging.TestCase):
    """TestAmqpNotification: unrouted / unacknowledged -> failure."""

    def _send(self, url):
        transport = self.useFixture(messaging.Transport(
            self.conf, url, notification=True)).transport
        target = oslo_messaging.Target(topic='%s.info' % self.topic)
        return lambda: transport._send_notification(target, {}, {'x': 1},
                                                    2.0)

    def test_unrouted_through_router_fails(self):
        # no consumer: the router gives no credit
        router = self.useFixture(FakeRouter())
        self.conf = messaging.make_conf(default_notify_timeout=5)
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          self._send(router.transport_url))

    def test_unacknowledged_fails_within_notify_timeout(self):
        broker = self.useFixture(FakeBroker())
        broker.inject('delay', address='unicast', delay=60)
        error = self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                                  self._send(broker.transport_url))
        self.assertIn('not acknowledged within 5 s', str(error))

    def test_pre_settled_notify(self):
        self.conf = messaging.make_conf(pre_settled=['notify'])
        broker = self.useFixture(FakeBroker())
        self._send(broker.transport_url)()
        broker.wait_for(lambda: broker.stats.totals.received >= 1)
        msg = [m for m in broker.stats.recent_messages()
               if self.topic in (m.message.address or '')][0]
        self.assertTrue(msg.settled)
        self.assertEqual('unicast.openstack.%s.info' % self.topic,
                         msg.message.address)

    def test_requeue_seen_as_released_by_broker(self):
        broker = self.useFixture(FakeBroker())
        listener = self.useFixture(messaging.NotifyListener(
            self.conf, broker.transport_url, self.topic,
            endpoint=messaging.NotifyEndpoint(requeue_first=True)))
        self.useFixture(messaging.Notifier(
            self.conf, broker.transport_url, self.topic)).notifier.info(
                {}, 'again', 'payload')
        for _ in range(2):
            listener.endpoint.events.get(timeout=10)
        address = 'unicast.openstack.%s.info' % self.topic
        broker.wait_for(
            lambda: broker.stats.address(address).released >= 1)


class AddressingModeTest(messaging.TestCase):
    """TestAddressing: forced modes and custom prefixes on the wire."""

    def _consumers(self, bus, **options):
        self.conf = messaging.make_conf(**options)
        self.server(bus.transport_url, 'h')
        return bus.wait_for(lambda: {
            a: n for a, n in bus.consumers().items() if self.topic in a})

    def test_legacy_forced_on_router(self):
        router = self.useFixture(FakeRouter(addresses=[
            ('exclusive', 'closest'), ('broadcast', 'multicast'),
            ('unicast', 'balanced')]))
        got = self._consumers(router, addressing_mode='legacy')
        t = self.topic
        self.assertEqual({'exclusive.openstack.%s.h' % t: 1,
                          'broadcast.openstack.%s.all' % t: 1,
                          'unicast.openstack.%s' % t: 1}, got)

    def test_routable_custom_prefixes(self):
        router = self.useFixture(FakeRouter(addresses=[
            ('my/rpc/ucast', 'closest'), ('my/rpc/mcast', 'multicast'),
            ('my/rpc/acast', 'balanced')]))
        got = self._consumers(
            router, rpc_address_prefix='my/rpc', unicast_address='ucast',
            multicast_address='mcast', anycast_address='acast',
            default_rpc_exchange='rx')
        t = self.topic
        self.assertEqual({'my/rpc/ucast/rx/%s/h' % t: 1,
                          'my/rpc/mcast/rx/%s' % t: 1,
                          'my/rpc/acast/rx/%s' % t: 1}, got)
        client = self.client(router.transport_url)
        self.assertEqual(3, client.call(3)['value'])

    def test_exchanges_isolated(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        self.assertEqual(1, client.call(1)['value'])
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.call, 2, exchange='other', timeout=1)


class VHostTest(messaging.TestCase):
    """TestVHost: pseudo-vhosts keep two vhosts apart on one peer."""

    def _check(self, bus, want):
        base_url = bus.transport_url.rstrip('/')
        self.server(base_url + '/vA', 's')
        got = bus.wait_for(lambda: {
            a: n for a, n in bus.consumers().items() if self.topic in a})
        self.assertIn(want % self.topic, got)
        self.assertEqual(5, self.client(base_url + '/vA').call(5)['value'])
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          self.client(base_url + '/vB').call, 6, timeout=1)

    def test_routable(self):
        self._check(self.useFixture(FakeRouter()),
                    RPC + '/unicast/vA/openstack/%s/s')

    def test_legacy(self):
        self._check(self.useFixture(FakeBroker()),
                    'exclusive.vA.openstack.%s.s')
