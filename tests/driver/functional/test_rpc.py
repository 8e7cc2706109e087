"""RPC through FakeRouter and FakeBroker with oslo.messaging 18.x."""

import queue
import threading
import time

import oslo_messaging

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging


class _RpcCases:
    """The same RPC behaviour through the router and the broker."""

    backend = None

    def setUp(self):
        super().setUp()
        self.bus = self.useFixture(self.backend())
        self.url = self.bus.transport_url

    def test_call(self):
        self.server(self.url, 's1')
        self.assertEqual({'server': 's1', 'value': 42},
                         self.client(self.url).call(42))

    def test_call_to_server(self):
        self.server(self.url, 's1')
        self.server(self.url, 's2')
        client = self.client(self.url)
        for _ in range(5):
            self.assertEqual('s2', client.call(1, server='s2')['server'])

    def test_call_group_spreads(self):
        servers = [self.server(self.url, 'g%d' % i) for i in range(2)]
        client = self.client(self.url)
        for i in range(10):
            client.call(i)
        self.assertEqual(10, sum(s.endpoint.calls.qsize() for s in servers))

    def test_cast(self):
        server = self.server(self.url, 's1')
        self.client(self.url).cast('hi')
        self.assertEqual(('cast', 'hi'), server.endpoint.calls.get(timeout=10))

    def test_cast_to_server(self):
        s1 = self.server(self.url, 's1')
        self.server(self.url, 's2')
        self.client(self.url).cast('only-s1', server='s1')
        self.assertEqual(('cast', 'only-s1'),
                         s1.endpoint.calls.get(timeout=10))

    def test_fanout(self):
        servers = [self.server(self.url, 'f%d' % i) for i in range(3)]
        client = self.client(self.url)
        client.cast('all', fanout=True)
        for server in servers:
            self.assertEqual(('cast', 'all'),
                             server.endpoint.calls.get(timeout=10))

    def test_remote_exception(self):
        self.server(self.url)
        client = self.client(self.url)
        error = self.assertRaises(
            ValueError, client.client.call, {}, 'fail', text='boom')
        self.assertIn('boom', str(error))

    def test_unknown_method_is_remote_error(self):
        self.server(self.url)
        client = self.client(self.url)
        self.assertRaises(oslo_messaging.RemoteError,
                          client.client.call, {}, 'no_such_method')

    def test_timeout_without_server(self):
        client = self.client(self.url)
        start = time.monotonic()
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.call, 1, timeout=1)
        self.assertLess(time.monotonic() - start, 5)

    def test_concurrent_calls(self):
        self.server(self.url)
        client = self.client(self.url)
        results = queue.Queue()

        def caller(n):
            for i in range(20):
                results.put(client.call(n * 100 + i)['value'])
        threads = [threading.Thread(target=caller, args=(n,))
                   for n in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        got = sorted(results.get_nowait() for _ in range(results.qsize()))
        self.assertEqual(sorted(n * 100 + i for n in range(5)
                                for i in range(20)), got)


class RouterRpcTest(_RpcCases, messaging.TestCase):
    backend = FakeRouter


class BrokerRpcTest(_RpcCases, messaging.TestCase):
    backend = FakeBroker


class CallMonitorTest(messaging.TestCase):
    """call_monitor_timeout: heartbeats keep a long call alive."""

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter())
        self.url = self.router.transport_url
        self.key = messaging.unique('ev')
        messaging.EVENTS[self.key] = threading.Event()
        self.addCleanup(messaging.EVENTS.pop, self.key)
        self.addCleanup(messaging.EVENTS[self.key].set)
        self.server(self.url)
        self.client = self.client(self.url)

    def _long_call(self, **prepare):
        return self.client.client.prepare(**prepare).call(
            {}, 'wait_for', key=self.key)

    def _heartbeats(self):
        return [m for m in self.router.stats.recent_messages()
                if m.message.body is None]

    def test_heartbeats_keep_call_alive(self):
        outcome = queue.Queue()

        def call():
            try:
                outcome.put(self._long_call(timeout=60,
                                            call_monitor_timeout=2))
            except Exception as exc:
                outcome.put(exc)
        threading.Thread(target=call, daemon=True).start()
        # three heartbeats (one a second) span more than the 2 s monitor
        self.router.wait_for(lambda: len(self._heartbeats()) >= 3,
                             timeout=20)
        messaging.EVENTS[self.key].set()
        self.assertEqual(self.key, outcome.get(timeout=10))
        hb = self._heartbeats()[0].message
        self.assertIsNotNone(hb.correlation_id)
        self.assertEqual(2, hb.ttl)

    def test_no_heartbeat_times_out(self):
        # the router drops every heartbeat: the monitor must fire at ~2 s
        self.router.inject('drop', match=lambda m: m.body is None)
        start = time.monotonic()
        error = self.assertRaises(
            oslo_messaging.MessagingTimeout, self._long_call,
            timeout=60, call_monitor_timeout=2)
        self.assertIn('monitor', str(error))
        self.assertLess(time.monotonic() - start, 10)

    def test_overall_timeout_bounds_monitored_call(self):
        start = time.monotonic()
        self.assertRaises(oslo_messaging.MessagingTimeout, self._long_call,
                          timeout=3, call_monitor_timeout=2)
        self.assertLess(time.monotonic() - start, 8)


class DeliveryFailureTest(messaging.TestCase):

    def test_rejected_call(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        router.inject('reject', address='openstack.org/om/rpc/anycast',
                      count=1)
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          client.call, 1)
        # the fault was for one message only
        self.assertEqual(2, client.call(2)['value'])

    def test_released_is_resent(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        router.inject('release', address='openstack.org/om/rpc/anycast',
                      count=1)
        self.assertEqual(3, client.call(3)['value'])

    def test_released_without_retry_fails(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        router.inject('release', address='openstack.org/om/rpc/anycast',
                      count=1)
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          client.client.prepare(retry=0).call,
                          {}, 'echo', value=1)


class AcceptanceTest(messaging.TestCase):
    """An RPC server accepts a call before its endpoint is done (as 14.x
    did, before dispatch), even though the acceptance of a quick call
    rides with the reply."""

    def test_long_call_accepted_before_its_reply(self):
        router = self.useFixture(FakeRouter())
        key = messaging.unique('ev')
        messaging.EVENTS[key] = threading.Event()
        self.addCleanup(messaging.EVENTS.pop, key)
        self.addCleanup(messaging.EVENTS[key].set)
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        done, outcome = messaging.in_thread(
            client.client.call, {}, 'wait_for', key=key)
        io = client.transport._driver._io_thread()
        router.wait_for(lambda: io.outbox.senders(), timeout=10)
        sender = io.outbox.senders()[0]
        start = time.monotonic()
        # accepted (no longer unsettled at the client) within a second
        router.wait_for(lambda: sender.used and not sender.unacked and
                        not sender.queue, timeout=5)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertFalse(done.is_set())
        messaging.EVENTS[key].set()
        self.assertTrue(done.wait(10))
        self.assertEqual([key], outcome)
