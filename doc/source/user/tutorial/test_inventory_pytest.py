"""The inventory service over AMQP 1.0, pytest flavour.

The bus comes from the amqp1_fixtures pytest plugin: ``amqp1_service``
is the mode ``--amqp1-mode`` names (qpid-dual, qpid-hybrid, ..., or
external for the bus ``amqp1-fixtures run`` started).
"""

import queue
import time
import uuid

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import pytest

import inventory


@pytest.fixture
def conf(amqp1_service):
    """A fresh ConfigOpts pointing at the bus: ``[DEFAULT] transport_url``
    for RPC, ``[oslo_messaging_notifications] transport_url``; and a
    notification topic of the test's own."""
    conf = cfg.ConfigOpts()
    conf([], project='inventory-tests')
    fixture = conffixture.ConfFixture(conf)  # oslo.messaging's options
    fixture.setUp()
    amqp1_service.configure(conf)
    conf.set_override('topics', ['notifications-%s' % uuid.uuid4().hex],
                      group='oslo_messaging_notifications')
    yield conf
    fixture.cleanUp()


@pytest.fixture
def topic():
    # One RPC topic per test (and one notification topic, above): tests
    # never see each other's servers or events, even on a shared bus.
    return 'inventory-%s' % uuid.uuid4().hex


@pytest.fixture
def start_server(conf, topic):
    """Start servers of the service; stop them after the test."""
    started = []

    def start(name='inventory-1'):
        service = inventory.InventoryService(conf, topic, name)
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def client(conf, topic):
    # allowed_remote_exmods: the service's own exceptions come back as
    # themselves (anything else is a RemoteError).
    transport = oslo_messaging.get_rpc_transport(
        conf, allowed_remote_exmods=[inventory.__name__])
    yield inventory.InventoryClient(transport, topic)
    transport.cleanup()


class Events:
    """A notification listener's endpoint: every info event, in order."""

    def __init__(self):
        self.received = queue.Queue()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.put((event_type, payload))


@pytest.fixture
def listen(conf):
    """Start a notification listener on the service's topic."""
    listeners = []

    def start():
        transport = oslo_messaging.get_notification_transport(conf)
        events = Events()
        targets = [oslo_messaging.Target(topic=topic) for topic in
                   conf.oslo_messaging_notifications.topics]
        listener = oslo_messaging.get_notification_listener(
            transport, targets, [events], executor='threading')
        listener.start()
        listeners.append((listener, transport))
        return events

    yield start
    for listener, transport in listeners:
        listener.stop()
        listener.wait()
        transport.cleanup()


def test_call(start_server, client):
    start_server()
    assert client.add('bolt', 3) == 3
    assert client.add('bolt', 2) == 5
    assert client.count('bolt') == 5


def test_cast(start_server, client):
    server = start_server()
    client.add_later('nut', 4)
    # A cast returns before the server handles it: wait for the server.
    assert server.endpoint.handled.get(timeout=30) == ('add', 'nut')
    assert client.count('nut') == 4


def test_fanout(start_server, client):
    servers = [start_server('inventory-1'), start_server('inventory-2')]
    # amqp1-driver's server.start() returns once subscribed; 14.x's
    # driver subscribes in the background: a call to each server
    # by name returns once that server is up.
    for server in servers:
        assert client.count('bolt', server=server.target.server) == 0
    client.forget_everywhere('bolt')
    for server in servers:
        assert server.endpoint.handled.get(timeout=30) == ('forget', 'bolt')


def test_remote_exception(start_server, client):
    start_server()
    client.add('washer', 1)
    with pytest.raises(inventory.OutOfStock, match='2 washer wanted'):
        client.take('washer', 2)
    assert client.take('washer', 1) == 0


def test_timeout(client):
    # Nobody serves the topic: the router has no consumer to give the
    # call to, and the call times out.
    started = time.monotonic()
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client.count('bolt', timeout=2)
    assert time.monotonic() - started < 30


def test_notification_for_a_late_listener(start_server, client, listen):
    start_server()
    client.add('gear', 7)  # notifies before any listener exists
    events = listen()      # the broker kept the notification for it
    assert events.received.get(timeout=30) == (
        'inventory.item.added', {'name': 'gear', 'count': 7})
