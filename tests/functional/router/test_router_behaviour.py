"""FakeRouter behaves like qdrouterd 1.19, seen by plain proton clients.

Every test talks AMQP 1.0 over real TCP to a router on an OS-chosen port;
waits are on client or router events, never on sleeps.
"""

import gc
import os
import socket
import threading
import time

import fixtures
from proton import Condition
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures import FakeRouter
from amqp1_fixtures import PortInUse
from amqp1_fixtures.router import RouterHandler
from tests.functional import proton_clients
from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import MODIFIED
from tests.functional.proton_clients import REJECTED
from tests.functional.proton_clients import RELEASED
from tests.functional.proton_clients import unique

ANYCAST = 'openstack.org/om/rpc/anycast'
MULTICAST = 'openstack.org/om/rpc/multicast'
CLOSEST = 'openstack.org/om/rpc/unicast'
AMQP_HEADER = b'AMQP\x00\x01\x00\x00'
SASL_HEADER = b'AMQP\x03\x01\x00\x00'


def open_fds():
    """The file descriptors this process has open."""
    return set(os.listdir('/proc/self/fd'))


class RouterTestCase(testtools.TestCase):
    """A router on port 0 and a set of proton clients per test."""

    # The strict model: the credit assertions below follow the consumers.
    router_options = {'credit': 'consumers'}

    def setUp(self):
        super().setUp()
        self.router = self.useFixture(FakeRouter(**self.router_options))
        self.clients = self.useFixture(proton_clients.Clients())

    def connect(self, **kwargs):
        return self.clients.connect(self.router.url(), **kwargs)

    def wait(self, predicate, what=None, timeout=None):
        return self.clients.wait(predicate, timeout=timeout, what=what)

    def sync(self, *clients):
        for client in clients:
            client.sync()

    def consumer_and_sender(self, address, credit=10):
        """A consumer with ``credit`` and a sender that got its credit."""
        consumer = self.connect().receiver(address, credit=credit)
        sender = self.connect().sender(address)
        self.wait(lambda: sender.credit > 0, 'credit for the sender')
        return consumer, sender

    def assert_round_trip(self, address=None):
        """A message goes from a new sender to a new consumer and back."""
        address = address or unique(ANYCAST)
        consumer, sender = self.consumer_and_sender(address, credit=1)
        delivery = sender.send('ping')
        self.wait(lambda: consumer.received, 'message to the consumer')
        self.assertEqual(['ping'], consumer.bodies)
        consumer.settle(0, ACCEPTED)
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        self.assertEqual(ACCEPTED, delivery.remote_state)


class CreditTest(RouterTestCase):
    """Point 1: a producer gets credit only while consumers can take."""

    def _no_credit_without_consumer(self, prefix):
        address = unique(prefix)
        producer = self.connect()
        sender = producer.sender(address)
        producer.sync()
        self.assertEqual(0, sender.credit)
        # A message sent anyway stays in the client (proton counts its
        # credit as -1): the router has not given credit for it.
        sender.send('early')
        producer.sync()
        self.assertEqual(0, self.router.stats.address(address).received)
        return producer, sender, address

    def test_anycast_sender_without_consumer_gets_no_credit(self):
        producer, sender, address = self._no_credit_without_consumer(
            ANYCAST)
        # A consumer without credit gives none either.
        consumer = self.connect().receiver(address, credit=0)
        producer.sync()
        self.assertEqual(-1, sender.credit)
        # Credit appears when the consumer grants some; the queued message
        # goes at once.
        consumer.flow(3)
        self.wait(lambda: consumer.received, 'the early message')
        self.assertEqual(['early'], consumer.bodies)
        self.wait(lambda: sender.credit == 2, 'credit 3 - 1 used')

    def test_multicast_sender_without_consumer_gets_no_credit(self):
        producer, sender, address = self._no_credit_without_consumer(
            MULTICAST)
        consumer = self.connect().receiver(address, credit=4)
        self.wait(lambda: consumer.received, 'the early message')
        self.wait(lambda: sender.credit > 0, 'credit for the sender')

    def test_credit_tracks_the_consumers_credit(self):
        address = unique(ANYCAST)
        sender = self.connect().sender(address)
        first = self.connect().receiver(address, credit=3)
        self.wait(lambda: sender.credit == 3, 'credit of one consumer')
        second = self.connect().receiver(address, credit=4)
        self.wait(lambda: sender.credit == 7, 'credit of both consumers')
        first.flow(2)
        self.wait(lambda: sender.credit == 9, 'more consumer credit')
        for i in range(9):
            sender.send(i)
        self.wait(lambda: len(first.received) + len(second.received) == 9,
                  'nine messages spread over the consumers')
        self.assertEqual(0, sender.credit)
        self.assertEqual((5, 4), (len(first.received),
                                  len(second.received)))
        second.flow(1)
        self.wait(lambda: sender.credit == 1, 'credit follows the consumer')

    def test_every_producer_gets_credit(self):
        # E.g. two RPC servers replying to one client's reply address:
        # neither may starve while the other holds the credit.
        address = unique(ANYCAST)
        consumer = self.connect().receiver(address, credit=5)
        first = self.connect().sender(address)
        second = self.connect().sender(address)
        self.wait(lambda: first.credit > 0 and second.credit > 0,
                  'credit for both producers')
        first.send('from first')
        second.send('from second')
        self.wait(lambda: len(consumer.received) == 2, 'both messages')
        self.assertEqual(['from first', 'from second'],
                         sorted(consumer.bodies))


class DispositionTest(RouterTestCase):
    """Point 2: outcomes travel end to end."""

    def setUp(self):
        super().setUp()
        self.address = unique(ANYCAST)
        self.consumer_client = self.connect()
        self.consumer = self.consumer_client.receiver(self.address,
                                                      credit=5)
        self.producer = self.connect()
        self.sender = self.producer.sender(self.address)
        self.wait(lambda: self.sender.credit > 0, 'credit')

    def send_held(self, body='m'):
        """Send a message and wait until the consumer holds it."""
        delivery = self.sender.send(body)
        self.wait(lambda: self.consumer.received, 'message delivered')
        return delivery

    def test_delivery_unsettled_while_consumer_holds_it(self):
        delivery = self.send_held()
        self.producer.sync()
        self.assertFalse(delivery.settled)
        self.assertEqual(0, delivery.remote_state)
        self.consumer.settle(0, ACCEPTED)
        self.wait(lambda: delivery.settled, 'accepted at the sender')
        self.assertEqual(ACCEPTED, delivery.remote_state)

    def test_rejected_reaches_sender_with_its_condition(self):
        delivery = self.send_held()
        self.consumer.settle(0, REJECTED, condition=Condition(
            'amqp:precondition-failed', 'bad request'))
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        self.assertEqual(REJECTED, delivery.remote_state)
        condition = delivery.remote.condition
        self.assertEqual('amqp:precondition-failed', condition.name)
        self.assertEqual('bad request', condition.description)

    def test_released_reaches_sender_as_released(self):
        # As qdrouterd 1.19 passes it on (tests/functional/test_behaviour.py
        # test_router_consumer_endings, against the real one too).
        delivery = self.send_held()
        self.consumer.settle(0, RELEASED)
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        self.assertEqual(RELEASED, delivery.remote_state)
        self.assertFalse(delivery.remote.failed)

    def test_modified_reaches_sender_as_modified(self):
        delivery = self.send_held()
        self.consumer.settle(0, MODIFIED, failed=True)
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        self.assertEqual(MODIFIED, delivery.remote_state)
        self.assertTrue(delivery.remote.failed)


class ConsumerLossTest(RouterTestCase):
    """Point 3: the router stores nothing for a consumer that goes away."""

    def _lose_consumer_holding_a_delivery(self, lose):
        address = unique(ANYCAST)
        holder_client = self.connect()
        holder = holder_client.receiver(address, credit=1)
        sender = self.connect().sender(address)
        self.wait(lambda: sender.credit > 0, 'credit')
        delivery = sender.send('held')
        self.wait(lambda: holder.received, 'message to the first consumer')
        other_client = self.connect()
        other = other_client.receiver(address, credit=5)
        started = time.monotonic()
        lose(holder_client, holder)
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        # Promptly: not at the engine's next periodic wake-up (1 s).
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(MODIFIED, delivery.remote_state)
        self.assertTrue(delivery.remote.failed)
        # Not redelivered: the second consumer got nothing, even after a
        # round trip through the router.
        other_client.sync()
        self.assertEqual([], other.received)
        self.assertEqual(1, self.router.stats.address(address).forwarded)

    def test_consumer_detaches_holding_a_delivery(self):
        def detach(client, receiver):
            receiver.close()
            self.wait(lambda: receiver.refused, 'detach answered')
        self._lose_consumer_holding_a_delivery(detach)

    def test_consumer_closes_its_connection_holding_a_delivery(self):
        self._lose_consumer_holding_a_delivery(
            lambda client, receiver: client.close())

    def test_consumer_connection_drops_holding_a_delivery(self):
        self._lose_consumer_holding_a_delivery(
            lambda client, receiver: client.abort())


class DistributionTest(RouterTestCase):
    """Point 4: multicast, balanced and closest distribution."""

    def consumers(self, address, count, credit=10):
        clients = [self.connect() for _ in range(count)]
        return clients, [c.receiver(address, credit=credit)
                         for c in clients]

    def test_multicast_gives_every_consumer_one_copy(self):
        address = unique(MULTICAST)
        clients, consumers = self.consumers(address, 3)
        sender = self.connect().sender(address)
        self.wait(lambda: sender.credit > 0, 'credit')
        delivery = sender.send('to all')
        self.wait(lambda: all(c.received for c in consumers), 'copies')
        self.sync(*clients)
        self.assertEqual([['to all']] * 3, [c.bodies for c in consumers])
        for consumer in consumers:
            consumer.settle(0, ACCEPTED)
        self.wait(lambda: delivery.settled, 'outcome at the sender')
        self.assertEqual(ACCEPTED, delivery.remote_state)
        self.assertEqual(3, self.router.stats.address(address).forwarded)

    def test_balanced_prefers_fewest_unsettled(self):
        address = unique(ANYCAST)
        clients, (a, b) = self.consumers(address, 2)
        sender = self.connect().sender(address)
        self.wait(lambda: sender.credit > 0, 'credit')
        for i in range(4):
            sender.send(i)
        self.wait(lambda: len(a.received) + len(b.received) == 4, 'four')
        # Nobody settles: the unsettled counts stay level.
        self.assertEqual((2, 2), (len(a.received), len(b.received)))
        for i in range(2):
            b.settle(i, ACCEPTED)
        self.wait(lambda: sum(d.settled for d in sender.deliveries) == 2,
                  'two outcomes at the sender')
        for i in range(4, 6):
            sender.send(i)
        self.wait(lambda: len(a.received) + len(b.received) == 6, 'six')
        # b has no unsettled delivery left, a still holds two: both new
        # messages go to b.
        self.assertEqual([4, 5], b.bodies[2:])
        self.assertEqual(2, len(a.received))

    def test_closest_spreads_over_local_consumers(self):
        address = unique(CLOSEST)
        clients, consumers = self.consumers(address, 3)
        sender = self.connect().sender(address)
        self.wait(lambda: sender.credit > 0, 'credit')
        for i in range(9):
            sender.send(i)
        self.wait(lambda: sum(len(c.received) for c in consumers) == 9,
                  'nine messages')
        self.assertEqual(list(range(9)),
                         sorted(sum((c.bodies for c in consumers), [])))
        for consumer in consumers:
            self.assertGreater(len(consumer.received), 0)


class PresettledTest(RouterTestCase):
    """Point 5: pre-settled messages are dropped, never queued."""

    def test_presettled_without_route_is_dropped(self):
        address = unique(ANYCAST)
        producer = self.connect()
        relay = producer.sender(None, presettled=True)
        self.wait(lambda: relay.credit > 0, 'relay credit')
        relay.send('lost', address=address)
        producer.sync()
        counters = self.router.stats.address(address)
        self.assertEqual((1, 1, 0), (counters.received, counters.dropped,
                                     counters.forwarded))
        # A consumer that comes later gets nothing: nothing was queued.
        consumer_client = self.connect()
        consumer = consumer_client.receiver(address, credit=5)
        consumer_client.sync()
        self.assertEqual([], consumer.received)

    def test_presettled_without_consumer_credit_is_dropped(self):
        address = unique(ANYCAST)
        consumer_client = self.connect()
        consumer = consumer_client.receiver(address, credit=1)
        producer = self.connect()
        relay = producer.sender(None, presettled=True)
        self.wait(lambda: relay.credit > 0, 'relay credit')
        for i in range(3):
            relay.send(i, address=address)
        producer.sync()
        self.wait(lambda: consumer.received, 'the first message')
        self.assertEqual(2, self.router.stats.address(address).dropped)
        consumer.flow(5)
        consumer_client.sync()
        self.assertEqual([0], consumer.bodies)


class AddressingTest(RouterTestCase):
    """Point 6: dynamic reply addresses and the anonymous relay."""

    def test_dynamic_receiver_gets_an_address_senders_can_target(self):
        client = self.connect()
        first = client.receiver(dynamic=True, credit=5)
        second = client.receiver(dynamic=True, credit=5)
        self.assertTrue(first.address)
        self.assertNotEqual(first.address, second.address)
        sender = self.connect().sender(first.address)
        self.wait(lambda: sender.credit > 0, 'credit to the reply address')
        delivery = sender.send('reply')
        self.wait(lambda: first.received, 'the reply')
        first.settle(0, ACCEPTED)
        self.wait(lambda: delivery.settled, 'outcome')
        self.assertEqual(ACCEPTED, delivery.remote_state)
        self.assertEqual([], second.received)

    def test_anonymous_link_routes_by_to(self):
        a_address, b_address = unique(ANYCAST), unique(CLOSEST)
        a = self.connect().receiver(a_address, credit=5)
        b = self.connect().receiver(b_address, credit=5)
        relay = self.connect().sender(None)
        self.wait(lambda: relay.credit > 0, 'relay credit')
        to_a = relay.send('for a', address=a_address)
        relay.send('for b', address=b_address)
        self.wait(lambda: a.received and b.received, 'both messages')
        self.assertEqual((['for a'], ['for b']), (a.bodies, b.bodies))
        a.settle(0, ACCEPTED)
        self.wait(lambda: to_a.settled, 'outcome')
        self.assertEqual(ACCEPTED, to_a.remote_state)

    def test_anonymous_message_without_to_is_rejected(self):
        address = unique(ANYCAST)
        consumer = self.connect().receiver(address, credit=5)
        producer = self.connect()
        relay = producer.sender(None)
        self.wait(lambda: relay.credit > 0, 'relay credit')
        nowhere = relay.send('no address')
        self.wait(lambda: nowhere.settled, 'outcome')
        self.assertEqual(REJECTED, nowhere.remote_state)
        # The connection and the link still work.
        self.assertTrue(producer.usable)
        relay.send('fine', address=address)
        self.wait(lambda: consumer.received, 'next message')
        self.assertEqual(['fine'], consumer.bodies)


class HeartbeatTest(RouterTestCase):
    """Point 7: the router honours the client's idle timeout."""

    def test_silent_client_with_short_idle_timeout_stays_connected(self):
        client = self.connect(heartbeat=1)
        frames = client.transport.frames_input
        # Three seconds without any traffic from the application: only
        # the router's empty frames keep the client's timer from firing.
        self.assertEqual([], self.clients.idle(3))
        self.assertTrue(client.usable)
        self.assertGreaterEqual(client.transport.frames_input - frames, 2)
        self.assert_round_trip()

    def test_paused_router_trips_client_heartbeat_detection(self):
        client = self.connect(heartbeat=1)
        self.router.pause()
        self.addCleanup(self.router.resume)
        started = time.monotonic()
        self.wait(lambda: client.disconnected, 'idle timeout', timeout=10)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual('amqp:resource-limit-exceeded',
                         client.transport_condition.name)
        self.router.resume()
        self.assert_round_trip()
        # The dead client's connection is gone on the router too.
        self.router.wait_for(lambda: self.router.stats.connections == 2)


class ConnectionTest(RouterTestCase):
    """Open frame, malformed input, stop/start and kill."""

    def test_open_frame_names_the_product(self):
        client = self.connect()
        self.assertEqual('qpid-dispatch-router',
                         client.properties['product'])

    def test_malformed_frame_closes_only_that_connection(self):
        address = unique(ANYCAST)
        consumer, sender = self.consumer_and_sender(address)
        raw = socket.create_connection(('127.0.0.1', self.router.port),
                                       timeout=10)
        self.addCleanup(raw.close)
        raw.sendall(AMQP_HEADER + b'\x00\x00\x00\x10\x07\xff' + b'\xee' * 64)
        received = b''
        while True:
            data = raw.recv(4096)
            if not data:
                break
            received += data
        self.assertTrue(received.startswith(AMQP_HEADER), received)
        self.router.wait_for(lambda: self.router.stats.protocol_errors)
        sender.send('still here')
        self.wait(lambda: consumer.received, 'message after the garbage')
        self.assertTrue(consumer.client.usable and sender.client.usable)

    def test_garbage_sasl_frame_closes_only_that_connection(self):
        other = self.connect()
        raw = socket.create_connection(('127.0.0.1', self.router.port),
                                       timeout=10)
        self.addCleanup(raw.close)
        raw.sendall(SASL_HEADER + b'\xff' * 32)
        while raw.recv(4096):
            pass
        other.sync()
        self.assertTrue(other.usable)
        self.assert_round_trip()

    def test_stop_and_start_on_the_same_port(self):
        client = self.connect()
        port = self.router.port
        self.router.stop()
        self.wait(lambda: client.disconnected, 'connection closed')
        # A clean stop sends close frames.
        self.assertTrue(client.remote_closed)
        refused = self.connect()
        self.assertFalse(refused.opened)
        self.assertTrue(refused.disconnected)
        self.router.start()
        self.assertEqual(port, self.router.port)
        self.assert_round_trip()

    def test_kill_drops_connections_abruptly(self):
        client = self.connect()
        self.router.kill()
        self.wait(lambda: client.disconnected, 'connection dropped')
        self.assertFalse(client.remote_closed)
        self.assertIsNotNone(client.transport_condition)
        self.router.start()
        self.assert_round_trip()


class SaslTest(RouterTestCase):
    """SASL PLAIN against the router's users."""

    router_options = {'users': {'alice': 'secret'}, 'credit': 'consumers'}

    def test_plain_with_the_right_password(self):
        client = self.clients.connect(
            self.router.url('alice', 'secret'), allowed_mechs='PLAIN')
        self.assertTrue(client.usable)
        self.assertEqual(0, self.router.stats.auth_failures)

    def test_wrong_password_is_refused_promptly(self):
        started = time.monotonic()
        client = self.clients.connect(
            self.router.url('alice', 'wrong'), allowed_mechs='PLAIN')
        self.assertLess(time.monotonic() - started, 5)
        self.assertFalse(client.opened)
        self.assertTrue(client.disconnected)
        self.assertEqual('amqp:unauthorized-access',
                         client.transport_condition.name)
        self.assertEqual(1, self.router.stats.auth_failures)

    def test_unknown_user_is_refused(self):
        client = self.clients.connect(
            self.router.url('mallory', 'secret'), allowed_mechs='PLAIN')
        self.assertFalse(client.opened)
        self.assertEqual('amqp:unauthorized-access',
                         client.transport_condition.name)

    def test_client_without_sasl_is_refused(self):
        client = self.clients.connect(self.router.url(), sasl_enabled=False)
        self.assertFalse(client.opened)
        self.assertTrue(client.disconnected)
        self.router.wait_for(lambda: self.router.stats.auth_failures == 1)


class FaultTest(RouterTestCase):
    """router.inject(): reject, release, drop, delay, withhold-credit."""

    def setUp(self):
        super().setUp()
        self.address = unique(ANYCAST)
        self.consumer_client = self.connect()
        self.consumer = self.consumer_client.receiver(self.address,
                                                      credit=10)
        self.sender = self.connect().sender(self.address)
        self.wait(lambda: self.sender.credit > 0, 'credit')

    def test_reject_matching_messages_up_to_count(self):
        self.router.inject('reject', address=self.address,
                           match=lambda m: m.body == 'bad', count=1)
        bad = self.sender.send('bad')
        good = self.sender.send('good')
        bad_again = self.sender.send('bad')
        self.wait(lambda: bad.settled, 'rejection')
        self.assertEqual(REJECTED, bad.remote_state)
        self.wait(lambda: len(self.consumer.received) == 2, 'the others')
        # count=1: the second 'bad' went through.
        self.assertEqual(['good', 'bad'], self.consumer.bodies)
        self.assertFalse(good.settled or bad_again.settled)

    def test_release(self):
        self.router.inject('release', address=self.address, count=1)
        delivery = self.sender.send('m')
        self.wait(lambda: delivery.settled, 'outcome')
        self.assertEqual(RELEASED, delivery.remote_state)
        self.consumer_client.sync()
        self.assertEqual([], self.consumer.received)

    def test_drop_loses_the_message_silently(self):
        self.router.inject('drop', address=self.address)
        delivery = self.sender.send('m')
        self.wait(lambda: delivery.settled, 'outcome')
        # The producer believes it was delivered.
        self.assertEqual(ACCEPTED, delivery.remote_state)
        self.consumer_client.sync()
        self.assertEqual([], self.consumer.received)
        self.assertEqual(1, self.router.stats.address(self.address).dropped)

    def test_delay(self):
        self.router.inject('delay', address=self.address, delay=0.5)
        started = time.monotonic()
        self.sender.send('late')
        self.sender.client.sync()
        self.consumer_client.sync()
        self.assertEqual([], self.consumer.received)
        self.wait(lambda: self.consumer.received, 'the delayed message')
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_other_addresses_are_not_affected(self):
        self.router.inject('reject', address=unique(ANYCAST))
        delivery = self.sender.send('m')
        self.wait(lambda: self.consumer.received, 'message')
        self.assertFalse(delivery.settled)

    def test_withhold_credit_until_removed(self):
        address = unique(ANYCAST)
        fault = self.router.inject('withhold-credit', address=address)
        consumer = self.connect().receiver(address, credit=5)
        producer = self.connect()
        sender = producer.sender(address)
        producer.sync()
        self.assertEqual(0, sender.credit)
        fault.remove()
        self.wait(lambda: sender.credit == 5, 'credit after remove()')
        sender.send('now')
        self.wait(lambda: consumer.received, 'message')


class StatsTest(RouterTestCase):
    """Counters per address and the recent messages."""

    def test_counters_and_recent_messages(self):
        address = unique(ANYCAST)
        consumer, sender = self.consumer_and_sender(address)
        deliveries = [sender.send(body) for body in ('a', 'b', 'c')]
        self.wait(lambda: len(consumer.received) == 3, 'three messages')
        consumer.settle(0, ACCEPTED)
        consumer.settle(1, REJECTED)
        consumer.settle(2, RELEASED)
        self.wait(lambda: all(d.settled for d in deliveries), 'outcomes')
        counters = self.router.stats.address(address)
        self.assertEqual(
            {'received': 3, 'forwarded': 3, 'accepted': 1, 'rejected': 1,
             'released': 1},
            {k: v for k, v in counters.as_dict().items() if v})
        recent = self.router.stats.recent_messages(address)
        self.assertEqual(['a', 'b', 'c'], [r.message.body for r in recent])
        self.assertFalse(any(r.settled for r in recent))
        self.assertGreaterEqual(self.router.stats.totals.received, 3)


class _FailingHandler(RouterHandler):
    """Routing that fails as the engine thread starts serving."""

    def started(self):
        super().started()
        raise RuntimeError('injected start failure')


class _FailingRouter(FakeRouter):
    """A router whose engine thread fails after it started listening."""

    handler_class = _FailingHandler


class LifecycleTest(testtools.TestCase):
    """cleanUp leaves no thread and no socket, even after a failed setUp."""

    def setUp(self):
        super().setUp()
        self.threads = set(threading.enumerate())
        self.fds = open_fds()

    def assert_nothing_left(self):
        gc.collect()
        self.assertEqual(self.threads, set(threading.enumerate()))
        self.assertEqual(self.fds, open_fds())

    def test_cleanup_after_traffic(self):
        router = FakeRouter()
        with router:
            with proton_clients.Clients() as clients:
                client = clients.connect(router.url())
                receiver = client.receiver('anycast.x', credit=1)
                # Held unsettled at cleanup on purpose.
                client.sender('anycast.x').send('m')
                clients.wait(lambda: receiver.received)
                other = clients.connect(router.url())
                router.wait_for(lambda: router.stats.connections == 2)
            other.close(wait=False)
        self.assertFalse(router.running)
        self.assert_nothing_left()

    def test_cleanup_with_connections_still_open(self):
        # Connections from raw sockets the router must close itself.
        with FakeRouter() as router:
            socks = [socket.create_connection(('127.0.0.1', router.port))
                     for _ in range(3)]
            for sock in socks:
                self.addCleanup(sock.close)
                sock.sendall(AMQP_HEADER)
            router.wait_for(lambda: router.stats.connections == 3)
        for sock in socks:
            sock.close()
        self.assert_nothing_left()

    def test_port_in_use(self):
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        self.fds = open_fds()
        router = FakeRouter(port=port)
        error = self.assertRaises(Exception, router.setUp)
        self.assertIsInstance(_unwrap(error), PortInUse)
        self.assertFalse(router.running)
        self.assert_nothing_left()

    def test_engine_failure_half_way_through_start(self):
        router = _FailingRouter()
        error = self.assertRaises(Exception, router.setUp)
        self.assertIsInstance(_unwrap(error), exceptions.EngineError)
        self.assertFalse(router.running)
        self.assert_nothing_left()

    def test_use_fixture_failure_leaves_nothing(self):
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        self.fds = open_fds()

        class Inner(testtools.TestCase):
            def test(inner):
                inner.useFixture(FakeRouter(port=blocker.getsockname()[1]))

        result = testtools.TestResult()
        Inner('test').run(result)
        self.assertEqual(1, len(result.errors))
        self.assertIn('PortInUse', result.errors[0][1])
        self.assert_nothing_left()


def _unwrap(error):
    """The original exception of a failed ``Fixture.setUp``."""
    if isinstance(error, fixtures.SetupError):
        return error.args[0]
    if isinstance(error, testtools.MultipleExceptions):
        return error.args[0][1]
    return error
