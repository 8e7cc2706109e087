"""A service's functional tests that need a message bus.

They read the bus from the environment ``amqp1-fixtures run MODE``
exports (RPC_TRANSPORT_URL, NOTIFY_TRANSPORT_URL), as oslo.messaging's own
functional tests do, so the same tests run against any mode's backends.
"""

import os
import threading
import uuid

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import pytest

TIMEOUT = 30


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    conf([], project='consumer-example')
    # Registers every option oslo.messaging reads (RPC, notifier, tracing).
    conffixture.ConfFixture(conf)
    return conf


@pytest.fixture
def rpc_transport(conf):
    transport = oslo_messaging.get_rpc_transport(
        conf, url=os.environ['RPC_TRANSPORT_URL'])
    yield transport
    transport.cleanup()


@pytest.fixture
def notify_transport(conf):
    transport = oslo_messaging.get_notification_transport(
        conf, url=os.environ['NOTIFY_TRANSPORT_URL'])
    yield transport
    transport.cleanup()


class Calculator(object):
    """The RPC endpoint of the service under test."""

    def add(self, ctxt, a, b):
        return a + b


class Collector(object):
    """A notification endpoint that signals each event it receives."""

    def __init__(self):
        self.events = []
        self.received = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.append((publisher_id, event_type, payload))
        self.received.set()


def _started(server):
    server.start()
    return server


def _stop(server):
    server.stop()
    server.wait()


def test_rpc_call(rpc_transport):
    target = oslo_messaging.Target(topic='consumer-%s' % uuid.uuid4().hex,
                                   server='server-1')
    server = _started(oslo_messaging.get_rpc_server(
        rpc_transport, target, [Calculator()]))
    try:
        client = oslo_messaging.get_rpc_client(
            rpc_transport, oslo_messaging.Target(topic=target.topic),
            timeout=TIMEOUT)
        assert client.call({}, 'add', a=2, b=3) == 5
    finally:
        _stop(server)


def test_notification(notify_transport):
    topic = 'consumer-notifications-%s' % uuid.uuid4().hex
    collector = Collector()
    listener = _started(oslo_messaging.get_notification_listener(
        notify_transport, [oslo_messaging.Target(topic=topic)],
        [collector]))
    try:
        notifier = oslo_messaging.Notifier(
            notify_transport, publisher_id='consumer.host',
            driver='messaging', topics=[topic])
        notifier.info({}, 'consumer.thing.created', {'id': 42})
        assert collector.received.wait(TIMEOUT)
        assert collector.events == [
            ('consumer.host', 'consumer.thing.created', {'id': 42})]
    finally:
        _stop(listener)
