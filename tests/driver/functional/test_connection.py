"""Connection life: authentication, failover, reconnect, cleanup, death."""

import os
import threading
import time

import oslo_messaging

from amqp1_driver import exceptions
from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging

RPC = 'openstack.org/om/rpc'


def driver_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith('amqp1-driver')]


def open_fds():
    """The open file descriptors, each with what it points to."""
    fds = set()
    for fd in os.listdir('/proc/self/fd'):
        try:
            fds.add((fd, os.readlink('/proc/self/fd/' + fd)))
        except OSError:
            pass  # the listing's own descriptor, already closed
    return fds


class AuthTest(messaging.TestCase):

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter(users={'joe': 'secret'}))

    def test_good_password(self):
        url = self.router.url(user='joe', password='secret')
        self.server(url)
        self.assertEqual(7, self.client(url).call(7)['value'])

    def test_wrong_password_call(self):
        url = self.router.url(user='joe', password='wrong')
        client = self.client(url)
        start = time.monotonic()
        error = self.assertRaises(exceptions.AuthenticationFailure,
                                  client.call, 1, timeout=20)
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn("'joe'", str(error))
        self.assertIn('127.0.0.1:%d' % self.router.port, str(error))
        self.assertIsInstance(error, oslo_messaging.MessageDeliveryFailure)
        # later calls fail the same way, promptly
        self.assertRaises(exceptions.AuthenticationFailure, client.cast, 2)

    def test_wrong_password_notification(self):
        url = self.router.url(user='joe', password='wrong')
        transport = self.useFixture(messaging.Transport(
            self.conf, url, notification=True)).transport
        target = oslo_messaging.Target(topic='%s.info' % self.topic)
        self.assertRaises(exceptions.AuthenticationFailure,
                          transport._send_notification, target, {}, {}, 2.0)


def serve_on_two_routers(test):
    """Two FakeRouters and one transport whose URL names both, with RPC
    server ``s`` and a client of ``test.topic`` on it; return the routers
    and the oslo.messaging client."""
    r1 = test.useFixture(FakeRouter())
    r2 = test.useFixture(FakeRouter())
    url = 'amqp://127.0.0.1:%d,127.0.0.1:%d/' % (r1.port, r2.port)
    transport = test.useFixture(messaging.Transport(test.conf, url)).transport
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=test.topic, server='s'),
        [messaging.Echo('s')], executor='threading')
    server.start()
    test.addCleanup(server.wait)
    test.addCleanup(server.stop)
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=test.topic), timeout=10)
    return r1, r2, client


class FailoverTest(messaging.TestCase):

    def _consumers(self, bus):
        return sum(bus.consumers(RPC).values())

    def test_failover_to_second_host(self):
        r1, r2, client = serve_on_two_routers(self)
        self.assertEqual('s', client.call({}, 'echo', value=1)['server'])
        first = r1 if self._consumers(r1) else r2
        other = r2 if first is r1 else r1
        first.kill()
        other.wait_for(lambda: self._consumers(other) == 3, timeout=20)
        self.assertEqual('s', client.call({}, 'echo', value=2)['server'])


class IdleTimeoutTest(messaging.TestCase):

    def test_paused_router_detected_and_failed_over(self):
        self.conf = messaging.make_conf(idle_timeout=1)
        r1, r2, client = serve_on_two_routers(self)
        self.assertEqual(1, client.call({}, 'echo', value=1)['value'])
        busy = r1 if sum(r1.consumers(RPC).values()) else r2
        other = r2 if busy is r1 else r1
        # silent, not closed: only the idle time-out can notice
        busy.pause()
        self.addCleanup(busy.resume)
        other.wait_for(lambda: sum(other.consumers(RPC).values()) == 3,
                       timeout=20)
        self.assertEqual(2, client.call({}, 'echo', value=2)['value'])


class ReconnectTest(messaging.TestCase):

    def _restored(self, bus, prefix, count):
        bus.wait_for(lambda: sum(bus.consumers(prefix).values()) >= count,
                     timeout=20)

    def test_router_kill_and_start(self):
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url)
        client = self.client(url)
        self.assertEqual(1, client.call(1)['value'])
        router.kill()
        router.start()
        self._restored(router, RPC, 3)
        self.assertEqual(2, client.call(2)['value'])

    def test_router_stop_and_start(self):
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url, 's1')
        self.server(url, 's2')
        client = self.client(url)
        self.assertEqual(1, client.call(1)['value'])
        router.stop()
        router.start()
        self._restored(router, RPC, 6)
        self.assertEqual('s2', client.call(2, server='s2')['server'])

    def test_broker_kill_restores_listener(self):
        broker = self.useFixture(FakeBroker())
        url = broker.transport_url
        listener = self.useFixture(messaging.NotifyListener(
            self.conf, url, self.topic))
        notifier = self.useFixture(messaging.Notifier(
            self.conf, url, self.topic)).notifier
        notifier.info({}, 'before', 1)
        listener.endpoint.events.get(timeout=10)
        broker.kill()
        broker.start()
        self._restored(broker, 'unicast', 1)
        notifier.info({}, 'after', 2)
        self.assertEqual(('info', 'after', 2),
                         listener.endpoint.events.get(timeout=20))

    def test_unsettled_call_fails_on_loss_not_resent(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        # the router holds the request: unsettled at the client
        router.inject('delay', delay=60, address=RPC)
        outcome = []
        done = threading.Event()

        def call():
            try:
                client.call(1, timeout=30)
            except Exception as exc:
                outcome.append(exc)
            done.set()
        threading.Thread(target=call, daemon=True).start()
        router.wait_for(lambda: router.stats.totals.received >= 1)
        router.kill()
        self.assertTrue(done.wait(15))
        self.assertIsInstance(outcome[0],
                              oslo_messaging.MessageDeliveryFailure)
        self.assertIn('send failed', str(outcome[0]))

    def test_unresolvable_host_times_out_and_keeps_working(self):
        client = self.client('amqp://no-such-host.invalid:5672/')
        for _ in range(2):
            start = time.monotonic()
            self.assertRaises(oslo_messaging.MessagingTimeout,
                              client.call, 1, timeout=1)
            self.assertLess(time.monotonic() - start, 5)
        io = client.transport._driver._io
        self.assertTrue(io.thread.is_alive())

    def test_refused_cast_fails_within_send_timeout(self):
        router = FakeRouter()
        router.setUp()
        url = router.transport_url
        router.cleanUp()
        client = self.client(url)
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          client.cast, 1)


class CleanupTest(messaging.TestCase):

    def test_cleanup_leaves_nothing(self):
        router = self.useFixture(FakeRouter())
        fds = open_fds()
        transport = oslo_messaging.get_rpc_transport(
            self.conf, url=router.transport_url)
        server = oslo_messaging.get_rpc_server(
            transport, oslo_messaging.Target(topic=self.topic, server='s'),
            [messaging.Echo('s')], executor='threading')
        server.start()
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=self.topic), timeout=10)
        client.call({}, 'echo', value=1)
        client.cast({}, 'echo', value=2)
        # a reply sender, a request sender: links the cleanup must detach
        self.assertEqual(1, len(driver_threads()))
        server.stop()
        server.wait()
        # the server's links are gone before the transport is
        router.wait_for(lambda: not router.consumers(RPC), timeout=10)
        io = transport._driver._io
        sock = io.attempt.sock
        transport.cleanup()
        self.assertEqual([], driver_threads())
        # the driver's own sockets are closed when cleanup() returns ...
        self.assertIsNone(io.attempt)
        self.assertEqual(-1, sock.fileno())
        self.assertEqual((-1, -1), io.loop.wakeup_fds())
        # ... and the in-process router closes its side when it sees EOF
        router.wait_for(lambda: open_fds() == fds, timeout=10)
        router.wait_for(lambda: not router.consumers(), timeout=10)


class IOThreadDeathTest(messaging.TestCase):

    def test_death_fails_waiters_and_later_calls(self):
        router = self.useFixture(FakeRouter())
        client = self.client(router.transport_url)
        outcome = []
        done = threading.Event()

        def call():
            try:
                client.call(1, timeout=60)   # nobody serves it
            except Exception as exc:
                outcome.append(exc)
            done.set()
        threading.Thread(target=call, daemon=True).start()
        io = client.transport._driver._io_thread()
        # the request is queued on its sender link, waiting for credit
        router.wait_for(lambda: io.outbox.senders(), timeout=10)

        def boom():
            raise RuntimeError('injected failure')
        io.submit(boom)
        self.assertTrue(done.wait(10))
        self.assertIsInstance(outcome[0], exceptions.IOThreadDead)
        self.assertIn('injected failure', str(outcome[0]))
        start = time.monotonic()
        self.assertRaises(exceptions.IOThreadDead, client.call, 2)
        self.assertLess(time.monotonic() - start, 1)
