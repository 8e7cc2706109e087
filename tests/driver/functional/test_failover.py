"""Failover between a FakeBroker (qpid-cpp: legacy addresses) and a
FakeRouter (qpid-dispatch-router: routable ones): the product rule is
applied on every connection, so the address syntax follows the peer."""

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging

ROUTABLE = 'openstack.org/om/rpc/'


class ProductFailoverTest(messaging.TestCase):

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(FakeBroker())
        self.router = self.useFixture(FakeRouter())
        t = self.topic
        self.legacy = {'exclusive.openstack.%s.s1' % t: 1,
                       'broadcast.openstack.%s.all' % t: 1,
                       'unicast.openstack.%s' % t: 1}
        self.routable = {ROUTABLE + 'unicast/openstack/%s/s1' % t: 1,
                         ROUTABLE + 'multicast/openstack/%s' % t: 1,
                         ROUTABLE + 'anycast/openstack/%s' % t: 1}

    def _mine(self, consumers):
        return {a: n for a, n in consumers.items() if self.topic in a}

    def _on_broker(self):
        return self._mine(self.broker.consumers()) == self.legacy

    def _on_router(self):
        return self._mine(self.router.consumers()) == self.routable

    def _served_through(self, bus, value):
        # a client connected to that peer only reaches the server there
        client = self.useFixture(messaging.RpcClient(
            self.conf, bus.transport_url, self.topic))
        self.assertEqual(value, client.call(value, server='s1')['value'])
        return bus.stats.recent_messages()

    def test_switches_syntax_both_ways(self):
        url = 'amqp://127.0.0.1:%d,127.0.0.1:%d/' % (
            self.broker.port, self.router.port)
        self.server(url, 's1')
        # the first host is picked at random: find where it went
        self.broker.wait_for(lambda: self._on_broker() or self._on_router())
        first, second = ((self.broker, self.router) if self._on_broker()
                         else (self.router, self.broker))
        check = {self.broker: self._on_broker, self.router: self._on_router}
        seen = {}
        for bus, other in ((first, second), (second, first)):
            bus.wait_for(check[bus], timeout=20)
            msgs = self._served_through(bus, bus.port)
            seen[bus] = [m.message.address for m in msgs
                         if m.message.address and self.topic in
                         m.message.address]
            bus.kill()
            if not other.running:
                other.start()
            if bus is first:
                bus.start()  # the next failover comes back here
        # the requests carried each peer's syntax in their 'to'
        self.assertIn('exclusive.openstack.%s.s1' % self.topic,
                      seen[self.broker])
        self.assertIn(ROUTABLE + 'unicast/openstack/%s/s1' % self.topic,
                      seen[self.router])
        self.assertFalse([a for a in seen[self.broker]
                          if a.startswith(ROUTABLE)])
        self.assertFalse([a for a in seen[self.router]
                          if a.startswith('exclusive.')])

    def test_client_resolves_with_current_peer(self):
        # a client's cached senders are dropped on failover and its next
        # request is addressed for the new peer
        url = 'amqp://127.0.0.1:%d,127.0.0.1:%d/' % (
            self.broker.port, self.router.port)
        client = self.useFixture(messaging.RpcClient(self.conf, url,
                                                     self.topic))
        for bus in (self.broker, self.router):
            self.useFixture(messaging.RpcServer(self.conf, bus.transport_url,
                                                self.topic, 's1'))
        used = set()
        for _ in range(2):
            self.assertEqual(1, client.call(1, server='s1')['value'])
            io = client.transport._driver._io
            on_broker = io.hosts.current.port == self.broker.port
            bus = self.broker if on_broker else self.router
            other = self.router if on_broker else self.broker
            want = ('exclusive.openstack.%s.s1' % self.topic if on_broker
                    else ROUTABLE + 'unicast/openstack/%s/s1' % self.topic)
            self.assertIn(want, [m.message.address
                                 for m in bus.stats.recent_messages()])
            used.add(bus)
            bus.kill()
            # round robin: the next connection is to the other peer
            other.wait_for(lambda: io.outbox.ready and
                           io.hosts.current.port == other.port, timeout=20)
            bus.start()
        self.assertEqual({self.broker, self.router}, used)
