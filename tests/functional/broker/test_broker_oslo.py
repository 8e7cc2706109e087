"""FakeBroker with the real oslo.messaging ``amqp://`` driver."""

import queue

import oslo_messaging
import testtools

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging


class BrokerNotificationTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(FakeBroker())
        self.conf = messaging.make_conf()
        self.topic = messaging.unique('notifications')
        self.url = self.broker.transport_url

    def test_listener_started_after_the_notifier(self):
        notifier = self.useFixture(messaging.Notifier(self.conf, self.url,
                                                      self.topic))
        for i in range(5):
            notifier.info('event.%d' % i, {'i': i})
        # Stored: the broker accepted them with nobody listening.
        depths = self.broker.queues()
        self.assertEqual(5, sum(depths.values()), depths)
        listener = self.useFixture(messaging.NotifyListener(
            self.conf, self.url, self.topic))
        got = [listener.get() for _ in range(5)]
        self.assertEqual([('event.%d' % i, {'i': i}) for i in range(5)],
                         got)
        # The driver uses legacy addressing with qpidd.
        self.assertTrue(any(a.startswith('unicast.')
                            for a in self.broker.stats.addresses()),
                        self.broker.stats.addresses())

    def test_listeners_share_a_topic(self):
        listeners = [self.useFixture(messaging.NotifyListener(
            self.conf, self.url, self.topic)) for _ in range(2)]
        notifier = self.useFixture(messaging.Notifier(self.conf, self.url,
                                                      self.topic))
        self.broker.wait_for(lambda: sum(self.broker.consumers(
            'unicast').values()) >= 2)
        for i in range(6):
            notifier.info('e', {'i': i})
        got = []
        while len(got) < 6:
            for listener in listeners:
                try:
                    got.append(listener.get(timeout=0.2)[1]['i'])
                except queue.Empty:
                    pass
        # Each notification reaches exactly one of the listeners.
        self.assertEqual(list(range(6)), sorted(got))

    def test_notification_pools_are_not_in_the_amqp_driver(self):
        # oslo.messaging's amqp driver never implemented listener pools;
        # this pins that down so a service suite knows what to expect.
        transport = oslo_messaging.get_notification_transport(
            self.conf, url=self.url)
        self.addCleanup(transport.cleanup)
        listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=self.topic)],
            [messaging.NotifyEndpoint()], executor='threading',
            pool='a')
        self.assertRaises(NotImplementedError, listener.start)


class BrokerRpcTest(testtools.TestCase):
    """The ``qpid`` mode: RPC through the broker alone."""

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(FakeBroker())
        self.conf = messaging.make_conf()
        self.topic = messaging.unique()
        self.url = self.broker.transport_url

    def test_call(self):
        self.useFixture(messaging.RpcServer(self.conf, self.url, self.topic))
        client = self.useFixture(messaging.RpcClient(self.conf, self.url,
                                                     self.topic))
        self.assertEqual(5, client.call(5)['value'])

    def test_cast_and_fanout(self):
        servers = [self.useFixture(messaging.RpcServer(
            self.conf, self.url, self.topic, 's%d' % i)) for i in range(2)]
        client = self.useFixture(messaging.RpcClient(self.conf, self.url,
                                                     self.topic))
        self.broker.wait_for(lambda: sum(self.broker.consumers(
            'broadcast').values()) >= 2)
        client.cast('one', server='s1')
        self.assertEqual(('cast', 'one'),
                         servers[1].endpoint.calls.get(timeout=10))
        client.cast('all', fanout=True)
        for server in servers:
            self.assertEqual(('cast', 'all'),
                             server.endpoint.calls.get(timeout=10))


class DualBackendTest(testtools.TestCase):
    """The ``qpid-dual`` shape: RPC via a router, notifications via a
    broker, in one test."""

    def test_rpc_via_router_notifications_via_broker(self):
        router = self.useFixture(FakeRouter())
        broker = self.useFixture(FakeBroker())
        conf = messaging.make_conf()
        topic = messaging.unique()
        ntopic = messaging.unique('notifications')
        self.useFixture(messaging.RpcServer(conf, router.transport_url,
                                            topic))
        client = self.useFixture(messaging.RpcClient(
            conf, router.transport_url, topic))
        notifier = self.useFixture(messaging.Notifier(
            conf, broker.transport_url, ntopic))
        self.assertEqual(9, client.call(9)['value'])
        notifier.info('dual.event', {'ok': True})
        listener = self.useFixture(messaging.NotifyListener(
            conf, broker.transport_url, ntopic))
        self.assertEqual(('dual.event', {'ok': True}), listener.get())
        # The listener's acknowledgement reaches the broker.
        broker.wait_for(lambda: broker.stats.totals.accepted == 1)
        self.assertEqual(1, broker.stats.totals.stored)
        self.assertEqual(0, router.stats.totals.stored)
