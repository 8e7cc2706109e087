"""Link-level recovery and re-sends while the connection stays up or
comes back: what the 14.x TestLinkRecovery and TestMessageRetransmit
checked, over real TCP to the fakes."""

import oslo_messaging

from amqp1_driver import exceptions
from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging
from tests.driver.functional import peer

RPC = 'openstack.org/om/rpc'
ANYCAST = RPC + '/anycast'


class ResendAcrossReconnectTest(messaging.TestCase):

    def test_released_call_resent_after_reconnect(self):
        # released, then the connection drops during link_retry_delay:
        # the re-send must still happen on the next connection
        self.conf = messaging.make_conf(link_retry_delay=3)
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url)
        client = self.client(url, timeout=20)
        fault = router.inject('release', address=ANYCAST, count=1)
        done, outcome = messaging.in_thread(client.call, 5)
        router.wait_for(lambda: fault.matched >= 1)
        router.kill()
        router.start()
        self.assertTrue(done.wait(25))
        self.assertEqual({'server': 'server', 'value': 5}, outcome[0])

    def test_pending_cast_resent_after_link_loss_and_reconnect(self):
        # the peer closes a sender link with a message still queued on it
        # (no credit); the connection is then lost before
        # link_retry_delay ends: the message goes out on the new one
        self.conf = messaging.make_conf(link_retry_delay=3,
                                        default_send_timeout=20)
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url)
        client = self.client(url)
        fault = router.inject('withhold-credit', address=ANYCAST)
        done, outcome = messaging.in_thread(client.cast, 6)
        router.wait_for(lambda: peer.close_links(router, ANYCAST, False))
        fault.remove()
        router.kill()
        router.start()
        self.assertTrue(done.wait(25))
        self.assertEqual([None], outcome)
        self.assertEqual(('cast', 6),
                         server.endpoint.calls.get(timeout=10))


class ReceiverLinkRecoveryTest(messaging.TestCase):
    """The peer closes a server's links; the connection stays up."""

    def test_server_links_reattached_and_served(self):
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url, 's1')
        client = self.client(url)
        self.assertEqual(1, client.call(1)['value'])
        before = router.wait_for(
            lambda: len(peer.link_names(router, RPC)) == 3 and
            peer.link_names(router, RPC))
        server_conn = server.transport._driver._io.attempt
        self.assertEqual(3, peer.close_links(router, RPC))
        # re-attached after link_retry_delay, under new link names
        after = router.wait_for(
            lambda: len(peer.link_names(router, RPC)) == 3 and
            peer.link_names(router, RPC))
        self.assertEqual([], sorted(set(before) & set(after)))
        # the same connection: link-level recovery, not a reconnect
        self.assertIs(server_conn, server.transport._driver._io.attempt)
        self.assertEqual(2, client.call(2)['value'])
        self.assertEqual('s1', client.call(3, server='s1')['server'])
        client.cast(4, fanout=True)
        self.assertEqual(('echo', 1), server.endpoint.calls.get(timeout=5))

    def test_reply_link_closed_recycles_connection(self):
        # 14.x: losing the reply link recycles the whole connection
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url)
        client = self.client(url)
        self.assertEqual(1, client.call(1)['value'])
        io = client.transport._driver._io
        first = io.attempt
        self.assertEqual(1, peer.close_named(router, '[rpc-response]',
                                             io.container))
        router.wait_for(lambda: io.attempt not in (None, first), timeout=10)
        self.assertEqual(2, client.call(2)['value'])


class SenderLinkTest(messaging.TestCase):

    def test_closed_by_peer_n_times_vs_retry(self):
        # queued (no credit) casts survive as many link closes as retry
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url)
        client = self.client(url)
        fault = router.inject('withhold-credit', address=ANYCAST)
        prepared = client.client.prepare(retry=1)
        done, outcome = messaging.in_thread(prepared.cast, {}, 'cast_me',
                                            value=1)
        for _ in range(2):
            router.wait_for(lambda: peer.close_links(router, ANYCAST,
                                                     False))
        self.assertTrue(done.wait(10))
        self.assertIsInstance(outcome[0],
                              oslo_messaging.MessageDeliveryFailure)
        self.assertIn('closed by the test', str(outcome[0]))

        prepared = client.client.prepare(retry=2)
        done, outcome = messaging.in_thread(prepared.cast, {}, 'cast_me',
                                            value=2)
        for _ in range(2):
            router.wait_for(lambda: peer.close_links(router, ANYCAST,
                                                     False))
        # re-attached a third time: the cast waits there for credit
        router.wait_for(lambda: peer.link_names(router, ANYCAST, False))
        self.assertFalse(done.is_set())
        fault.remove()
        self.assertTrue(done.wait(10))
        self.assertEqual([None], outcome)
        self.assertEqual(('cast', 2), server.endpoint.calls.get(timeout=5))

    def test_unsettled_send_fails_when_link_closed(self):
        # sent, not yet settled: it may have arrived, so never re-sent
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url)
        client = self.client(url)
        router.inject('delay', delay=60, address=ANYCAST)
        done, outcome = messaging.in_thread(client.call, 1, timeout=20)
        router.wait_for(lambda: router.stats.totals.received >= 1)
        self.assertEqual(1, peer.close_links(router, ANYCAST, False))
        self.assertTrue(done.wait(10))
        self.assertIsInstance(outcome[0],
                              oslo_messaging.MessageDeliveryFailure)

    def test_blocked_on_zero_credit_resumes(self):
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url)
        client = self.client(url)
        fault = router.inject('withhold-credit', address=RPC)
        calls = [messaging.in_thread(client.call, n) for n in range(3)]
        casts = [messaging.in_thread(client.cast, n) for n in range(10, 13)]
        router.wait_for(
            lambda: len(peer.link_names(router, ANYCAST, False)) == 1)
        self.assertFalse(any(done.is_set() for done, _ in calls + casts))
        fault.remove()
        for n, (done, outcome) in enumerate(calls):
            self.assertTrue(done.wait(10))
            self.assertEqual(n, outcome[0]['value'])
        for done, outcome in casts:
            self.assertTrue(done.wait(10))
            self.assertEqual([None], outcome)
        got = sorted(server.endpoint.calls.get(timeout=5)[1]
                     for _ in range(6))
        self.assertEqual([0, 1, 2, 10, 11, 12], got)

    def test_idle_senders_swept_and_reattached(self):
        self.conf = messaging.make_conf(default_sender_link_timeout=1)
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url)
        client = self.client(url)
        client.cast(1)
        first = router.wait_for(
            lambda: peer.link_names(router, ANYCAST, False))
        # unused for a whole sweep interval: detached (within 2 sweeps)
        router.wait_for(
            lambda: not peer.link_names(router, ANYCAST, False),
            timeout=10)
        client.cast(2)
        second = router.wait_for(
            lambda: peer.link_names(router, ANYCAST, False))
        self.assertNotEqual(first, second)
        got = [server.endpoint.calls.get(timeout=5) for _ in range(2)]
        self.assertEqual([('cast', 1), ('cast', 2)], got)


class CleanupDuringResendTest(messaging.TestCase):

    def test_cleanup_fails_held_resend_at_once(self):
        # cleanup() fails every waiter at once, also a message waiting
        # out link_retry_delay before its re-send
        self.conf = messaging.make_conf(link_retry_delay=20,
                                        default_notify_timeout=30)
        broker = self.useFixture(FakeBroker())
        transport = oslo_messaging.get_notification_transport(
            self.conf, url=broker.transport_url)
        self.addCleanup(transport.cleanup)
        fault = broker.inject('release', address='unicast', count=1)
        target = oslo_messaging.Target(topic='%s.info' % self.topic)
        done, outcome = messaging.in_thread(transport._send_notification,
                                            target, {}, {'x': 1}, 2.0)
        broker.wait_for(lambda: fault.matched >= 1)
        transport.cleanup()
        self.assertTrue(done.wait(5))
        self.assertIsInstance(outcome[0], exceptions.DriverShutdown)
