"""oslo.messaging 18.x plumbing for the new driver's functional tests.

Real RPC servers, clients, notifiers and listeners over real TCP to this
repository's FakeRouter and FakeBroker, threading executor.
"""

import queue
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import testtools

from amqp1_driver import opts


def make_conf(**amqp_options):
    """A ConfigOpts with fast-failing ``[oslo_messaging_amqp]`` values."""
    conf = cfg.ConfigOpts()
    conf([], project='amqp1-driver-tests')
    conffixture.ConfFixture(conf)
    # The driver registers these itself; registering first lets a test
    # override them before the transport exists.
    opts.register(conf)
    values = {
        'connection_retry_interval': 1,
        'connection_retry_backoff': 1,
        'connection_retry_interval_max': 1,
        'link_retry_delay': 1,
        'default_reply_timeout': 5,
        'default_send_timeout': 5,
        'default_notify_timeout': 5,
    }
    values.update(amqp_options)
    for name, value in values.items():
        conf.set_override(name, value, group=opts.GROUP)
    return conf


def unique(prefix='t'):
    """A topic or server name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


class Echo:
    """RPC endpoint recording what it got."""

    def __init__(self, name='server'):
        self.name = name
        self.calls = queue.Queue()

    def echo(self, ctxt, value):
        self.calls.put(('echo', value))
        return {'server': self.name, 'value': value}

    def cast_me(self, ctxt, value):
        self.calls.put(('cast', value))

    def fail(self, ctxt, text):
        raise ValueError(text)

    def wait_for(self, ctxt, key):
        """Block until the test sets ``events[key]`` (bounded)."""
        event = EVENTS[key]
        event.wait(30)
        return key


EVENTS = {}


class Transport(fixtures.Fixture):
    """A transport cleaned up at the end of the test."""

    def __init__(self, conf, url, notification=False):
        super().__init__()
        self.conf = conf
        self.url = url
        self.notification = notification

    def _setUp(self):
        get = (oslo_messaging.get_notification_transport if self.notification
               else oslo_messaging.get_rpc_transport)
        self.transport = get(self.conf, url=self.url)
        self.addCleanup(self.transport.cleanup)


class RpcServer(fixtures.Fixture):
    """An RPC server (threading executor) on ``topic``/``server``."""

    def __init__(self, conf, url, topic, server='server', endpoint=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.name = server
        self.endpoint = endpoint or Echo(server)

    def _setUp(self):
        self.transport = self.useFixture(
            Transport(self.conf, self.url)).transport
        target = oslo_messaging.Target(topic=self.topic, server=self.name)
        self.server = oslo_messaging.get_rpc_server(
            self.transport, target, [self.endpoint], executor='threading')
        self.server.start()
        self.addCleanup(self.server.wait)
        self.addCleanup(self.server.stop)


class RpcClient(fixtures.Fixture):
    """An RPC client of ``topic``."""

    def __init__(self, conf, url, topic, timeout=10):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.timeout = timeout

    def _setUp(self):
        self.transport = self.useFixture(
            Transport(self.conf, self.url)).transport
        self.client = oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(topic=self.topic),
            timeout=self.timeout)

    def call(self, value, **prepare):
        return self.client.prepare(**prepare).call({}, 'echo', value=value)

    def cast(self, value, **prepare):
        self.client.prepare(**prepare).cast({}, 'cast_me', value=value)


class NotifyEndpoint:
    """Notification endpoint queueing ``(priority, event_type, payload)``.

    :param requeue_first: answer REQUEUE the first time each payload comes.
    """

    def __init__(self, requeue_first=False):
        self.events = queue.Queue()
        self.batches = queue.Queue()
        self.requeue_first = requeue_first
        self._seen = set()

    def _got(self, priority, event_type, payload):
        self.events.put((priority, event_type, payload))
        key = repr(payload)
        if self.requeue_first and key not in self._seen:
            self._seen.add(key)
            return oslo_messaging.NotificationResult.REQUEUE
        return oslo_messaging.NotificationResult.HANDLED

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._got('info', event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._got('error', event_type, payload)


class BatchEndpoint:
    """Batch notification endpoint queueing each batch's payloads."""

    def __init__(self):
        self.batches = queue.Queue()

    def info(self, messages):
        self.batches.put([m['payload'] for m in messages])


class NotifyListener(fixtures.Fixture):
    """A notification listener (threading executor) on ``topic``."""

    def __init__(self, conf, url, topic, endpoint=None, batch=None,
                 pool=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.endpoint = endpoint or NotifyEndpoint()
        self.batch = batch
        self.pool = pool

    def _setUp(self):
        self.transport = self.useFixture(
            Transport(self.conf, self.url, notification=True)).transport
        targets = [oslo_messaging.Target(topic=self.topic)]
        if self.batch:
            size, timeout = self.batch
            self.listener = oslo_messaging.get_batch_notification_listener(
                self.transport, targets, [self.endpoint],
                executor='threading', batch_size=size,
                batch_timeout=timeout)
        else:
            self.listener = oslo_messaging.get_notification_listener(
                self.transport, targets, [self.endpoint],
                executor='threading', allow_requeue=True, pool=self.pool)
        self.listener.start()
        self.addCleanup(self.listener.wait)
        self.addCleanup(self.listener.stop)


class Notifier(fixtures.Fixture):
    """A notifier publishing to ``topic``."""

    def __init__(self, conf, url, topic):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic

    def _setUp(self):
        self.transport = self.useFixture(
            Transport(self.conf, self.url, notification=True)).transport
        self.notifier = oslo_messaging.Notifier(
            self.transport, publisher_id='tests', driver='messaging',
            topics=[self.topic])


class TestCase(testtools.TestCase):
    """Base class: a fresh conf and topic per test."""

    def setUp(self):
        super().setUp()
        self.conf = make_conf()
        self.topic = unique()

    def server(self, url, name='server', endpoint=None):
        return self.useFixture(RpcServer(self.conf, url, self.topic, name,
                                         endpoint))

    def client(self, url, timeout=10):
        return self.useFixture(RpcClient(self.conf, url, self.topic,
                                         timeout))
