"""FakeRouter with the real oslo.messaging ``amqp://`` driver."""

import time

import fixtures
import oslo_messaging
import testtools

from amqp1_fixtures import FakeRouter
from amqp1_fixtures import make_test_certificates
from tests import messaging


class RouterRpcTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter())
        self.conf = messaging.make_conf()
        self.topic = messaging.unique()

    def server(self, name='server', url=None):
        return self.useFixture(messaging.RpcServer(
            self.conf, url or self.router.transport_url, self.topic, name))

    def client(self, url=None, timeout=10):
        return self.useFixture(messaging.RpcClient(
            self.conf, url or self.router.transport_url, self.topic,
            timeout=timeout))

    def test_call(self):
        self.server()
        client = self.client()
        self.assertEqual({'server': 'server', 'value': 42},
                         client.call(42))
        # The driver uses routable addresses with the router.
        self.assertTrue(any(a.startswith('openstack.org/om/rpc/')
                            for a in self.router.stats.addresses()))

    def test_cast_to_server(self):
        server = self.server('s1')
        self.client().cast('hi', server='s1')
        self.assertEqual(('cast', 'hi'),
                         server.endpoint.calls.get(timeout=10))

    def test_fanout_reaches_every_server(self):
        servers = [self.server('s%d' % i) for i in range(3)]
        client = self.client()
        # Wait until all three servers subscribed to the fanout address
        # (three consumers on the multicast route).
        self.router.wait_for(lambda: sum(self.router.consumers(
            'openstack.org/om/rpc/multicast').values()) >= 3)
        client.cast('all', fanout=True)
        for server in servers:
            self.assertEqual(('cast', 'all'),
                             server.endpoint.calls.get(timeout=10))

    def test_group_call_served_by_one_of_the_group(self):
        servers = [self.server('g%d' % i) for i in range(2)]
        client = self.client()
        answers = {client.call(i)['server'] for i in range(10)}
        # Spread over the group, as qdrouterd's balanced distribution does.
        self.assertEqual({'g0', 'g1'}, answers)
        total = sum(s.endpoint.calls.qsize() for s in servers)
        self.assertEqual(10, total)

    def test_call_without_server_times_out_promptly(self):
        client = self.client()
        start = time.monotonic()
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.call, 1, timeout=2)
        elapsed = time.monotonic() - start
        # No consumer means no credit: the request never left the client.
        self.assertLess(elapsed, 8)
        self.assertEqual(0, self.router.stats.totals.received)


class RouterNotificationTest(testtools.TestCase):

    def test_notification_to_listening_consumer(self):
        router = self.useFixture(FakeRouter())
        conf = messaging.make_conf()
        topic = messaging.unique('notifications')
        listener = self.useFixture(messaging.NotifyListener(
            conf, router.transport_url, topic))
        notifier = self.useFixture(messaging.Notifier(
            conf, router.transport_url, topic))
        notifier.info('test.event', {'n': 1})
        self.assertEqual(('test.event', {'n': 1}), listener.get())


class RouterFailoverTest(testtools.TestCase):

    def test_failover_between_two_routers(self):
        r1 = self.useFixture(FakeRouter())
        r2 = self.useFixture(FakeRouter())
        url = 'amqp://%s:%d,%s:%d/' % (r1.host, r1.port, r2.host, r2.port)
        conf = messaging.make_conf()
        topic = messaging.unique()
        # One transport (one connection) for server and client, as in
        # oslo.messaging's own failover test: the routers are not meshed,
        # so both ends must be on the same one.
        transport = oslo_messaging.get_rpc_transport(conf, url=url)
        self.addCleanup(transport.cleanup)
        self.useFixture(messaging.RpcServer(conf, url, topic,
                                            transport=transport))
        client = self.useFixture(messaging.RpcClient(
            conf, url, topic, transport=transport))
        self.assertEqual(1, client.call(1)['value'])
        first = r1 if r1.stats.connections else r2
        other = r2 if first is r1 else r1
        first.kill()
        # The driver reconnects to the other router and re-attaches.
        other.wait_for(lambda: other.consumers('openstack.org/om/rpc'),
                       timeout=30)
        self.assertEqual(2, client.call(2, timeout=20)['value'])
        self.assertEqual(1, other.stats.totals.accepted)


class RouterAuthTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter(users={'joe': 'secret'}))
        self.conf = messaging.make_conf()
        self.topic = messaging.unique()

    def test_authentication_ok(self):
        url = self.router.transport_url
        self.assertIn('joe:secret@', url)
        self.useFixture(messaging.RpcServer(self.conf, url, self.topic))
        client = self.useFixture(messaging.RpcClient(self.conf, url,
                                                     self.topic))
        self.assertEqual(7, client.call(7)['value'])

    def test_authentication_failure(self):
        url = self.router.url(user='joe', password='wrong')
        client = self.useFixture(messaging.RpcClient(self.conf, url,
                                                     self.topic))
        # As in oslo.messaging's own test: the driver reports a delivery
        # failure once its retries are exhausted, instead of hanging.
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          client.client.prepare(retry=2, timeout=60).call,
                          {}, 'echo', value=1)
        self.assertGreaterEqual(self.router.stats.auth_failures, 1)


class RouterTlsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.certs = make_test_certificates(
            self.useFixture(fixtures.TempDir()).path)
        self.router = self.useFixture(FakeRouter(
            host='localhost', tls=self.certs.server_tls()))
        self.topic = messaging.unique()

    def test_tls_ok(self):
        conf = messaging.make_conf(ssl=True, ssl_ca_file=self.certs.ca_file)
        url = self.router.transport_url
        self.useFixture(messaging.RpcServer(conf, url, self.topic))
        client = self.useFixture(messaging.RpcClient(conf, url, self.topic))
        self.assertEqual(3, client.call(3)['value'])

    def test_tls_bad_ca(self):
        other = make_test_certificates(
            self.useFixture(fixtures.TempDir()).path)
        conf = messaging.make_conf(ssl=True, ssl_ca_file=other.ca_file)
        client = self.useFixture(messaging.RpcClient(
            conf, self.router.transport_url, self.topic))
        self.assertRaises(
            (oslo_messaging.MessageDeliveryFailure,
             oslo_messaging.MessagingTimeout),
            client.client.prepare(retry=1, timeout=5).call,
            {}, 'echo', value=1)
        self.assertGreaterEqual(self.router.stats.auth_failures, 1)
