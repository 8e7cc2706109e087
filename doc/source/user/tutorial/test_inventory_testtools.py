"""The inventory service over AMQP 1.0, testtools flavour.

Each test starts the backends of one AMQP1_SERVICE mode with
amqp1_fixtures.Amqp1Service (in-process fakes: no daemon needed) and
points a fresh ConfigOpts at them.  Runs under stestr, ``python -m
testtools.run`` or pytest.
"""

import queue
import time
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import testtools

from amqp1_fixtures import Amqp1Service
from amqp1_fixtures import RabbitMQDaemon

import inventory


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex)


class InventoryServer(fixtures.Fixture):
    """One server of the service, stopped on cleanUp."""

    def __init__(self, conf, topic, name):
        super().__init__()
        self.service = inventory.InventoryService(conf, topic, name)

    def _setUp(self):
        self.service.start()
        self.addCleanup(self.service.stop)


class Events:
    """A notification listener's endpoint: every info event, in order."""

    def __init__(self):
        self.received = queue.Queue()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.put((event_type, payload))


class InventoryTests:
    """The tests; a subclass names the AMQP1_SERVICE mode."""

    mode = None

    def bus_options(self):
        """More arguments of Amqp1Service."""
        return {}

    def setUp(self):
        super().setUp()
        bus = self.useFixture(Amqp1Service(self.mode, **self.bus_options()))
        conf = cfg.ConfigOpts()
        conf([], project='inventory-tests')
        self.conf = self.useFixture(conffixture.ConfFixture(conf)).conf
        bus.configure(self.conf)
        # The test's own topics: tests never see each other's servers or
        # events, even on a shared bus.
        self.conf.set_override('topics', [unique('notifications')],
                               group='oslo_messaging_notifications')
        self.topic = unique('inventory')
        # allowed_remote_exmods: the service's own exceptions come back
        # as themselves (anything else is a RemoteError).
        transport = oslo_messaging.get_rpc_transport(
            self.conf, allowed_remote_exmods=[inventory.__name__])
        self.addCleanup(transport.cleanup)
        self.client = inventory.InventoryClient(transport, self.topic)

    def start_server(self, name='inventory-1'):
        return self.useFixture(InventoryServer(self.conf, self.topic,
                                               name)).service

    def listen(self):
        transport = oslo_messaging.get_notification_transport(self.conf)
        self.addCleanup(transport.cleanup)
        events = Events()
        targets = [oslo_messaging.Target(topic=topic) for topic in
                   self.conf.oslo_messaging_notifications.topics]
        listener = oslo_messaging.get_notification_listener(
            transport, targets, [events], executor='threading')
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)
        return events

    def test_call(self):
        self.start_server()
        self.assertEqual(3, self.client.add('bolt', 3))
        self.assertEqual(5, self.client.add('bolt', 2))
        self.assertEqual(5, self.client.count('bolt'))

    def test_cast(self):
        server = self.start_server()
        self.client.add_later('nut', 4)
        # A cast returns before the server handles it: wait for the server.
        self.assertEqual(('add', 'nut'),
                         server.endpoint.handled.get(timeout=30))
        self.assertEqual(4, self.client.count('nut'))

    def test_fanout(self):
        servers = [self.start_server('inventory-1'),
                   self.start_server('inventory-2')]
        # amqp1-driver's server.start() returns once subscribed; 14.x's
        # driver subscribes in the background: a call to each server
        # by name returns once that server is up.
        for server in servers:
            self.assertEqual(0, self.client.count(
                'bolt', server=server.target.server))
        self.client.forget_everywhere('bolt')
        for server in servers:
            self.assertEqual(('forget', 'bolt'),
                             server.endpoint.handled.get(timeout=30))

    def test_remote_exception(self):
        self.start_server()
        self.client.add('washer', 1)
        error = self.assertRaises(inventory.OutOfStock, self.client.take,
                                  'washer', 2)
        self.assertIn('2 washer wanted', str(error))
        self.assertEqual(0, self.client.take('washer', 1))

    def test_timeout(self):
        # Nobody serves the topic: the router has no consumer to give the
        # call to, and the call times out.
        started = time.monotonic()
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          self.client.count, 'bolt', timeout=2)
        self.assertLess(time.monotonic() - started, 30)

    def test_notification_for_a_late_listener(self):
        self.start_server()
        self.client.add('gear', 7)  # notifies before any listener exists
        events = self.listen()      # the broker kept it for the listener
        self.assertEqual(('inventory.item.added', {'name': 'gear',
                                                   'count': 7}),
                         events.received.get(timeout=30))


class TestOverQpidDual(InventoryTests, testtools.TestCase):
    """RPC through a router, notifications through a broker."""

    mode = 'qpid-dual'


class TestOverQpidHybrid(InventoryTests, testtools.TestCase):
    """RPC through a router, notifications through RabbitMQ."""

    mode = 'qpid-hybrid'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # RabbitMQ takes seconds to start: one private node for the class
        # (skips the class where rabbitmq-server is not installed).
        cls.rabbitmq = RabbitMQDaemon()
        cls.rabbitmq.setUp()
        cls.addClassCleanup(cls.rabbitmq.cleanUp)

    def bus_options(self):
        return {'rabbitmq': self.rabbitmq}
