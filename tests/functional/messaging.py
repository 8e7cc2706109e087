"""oslo.messaging plumbing shared by the functional tests.

Real oslo.messaging (14.x, ``amqp://`` driver over pyngus and proton)
against the fakes: RPC servers and notification listeners run on threads
and are stopped by fixtures cleanups.
"""

import queue
import threading
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging


def make_conf(**amqp_options):
    """A fresh ConfigOpts with fast-failing ``[oslo_messaging_amqp]``."""
    conf = cfg.ConfigOpts()
    conf([], project='amqp1-fixtures-tests')
    # Registers every option oslo.messaging reads on this ConfigOpts.
    from oslo_messaging import conffixture
    conffixture.ConfFixture(conf)
    defaults = {
        'connection_retry_interval': 1,
        'connection_retry_backoff': 0,
        'connection_retry_interval_max': 1,
        'default_reply_timeout': 5,
        'default_send_timeout': 5,
        'default_notify_timeout': 5,
    }
    defaults.update(amqp_options)
    for name, value in defaults.items():
        conf.set_override(name, value, group='oslo_messaging_amqp')
    return conf


class Echo:
    """RPC endpoint recording what it was called with."""

    def __init__(self, name='server'):
        self.name = name
        self.calls = queue.Queue()

    def echo(self, ctxt, value):
        self.calls.put(('echo', value))
        return {'server': self.name, 'value': value}

    def cast_me(self, ctxt, value):
        self.calls.put(('cast', value))


class RpcServer(fixtures.Fixture):
    """An oslo.messaging RPC server on a thread.

    :param conf: ConfigOpts.
    :param url: transport URL.
    :param topic: RPC topic.
    :param server: server name.
    """

    def __init__(self, conf, url, topic, server='server', transport=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.server_name = server
        self.endpoint = Echo(server)
        self.transport = transport

    def _setUp(self):
        transport = self.transport
        if transport is None:
            transport = oslo_messaging.get_rpc_transport(self.conf,
                                                         url=self.url)
            self.addCleanup(transport.cleanup)
        target = oslo_messaging.Target(topic=self.topic,
                                       server=self.server_name)
        self.server = oslo_messaging.get_rpc_server(
            transport, target, [self.endpoint], executor='threading')
        self.server.start()
        self.addCleanup(self.server.wait)
        self.addCleanup(self.server.stop)


class RpcClient(fixtures.Fixture):
    """An oslo.messaging RPC client for ``topic``."""

    def __init__(self, conf, url, topic, timeout=10, transport=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.timeout = timeout
        self.transport = transport

    def _setUp(self):
        if self.transport is None:
            self.transport = oslo_messaging.get_rpc_transport(self.conf,
                                                              url=self.url)
            self.addCleanup(self.transport.cleanup)
        self.client = oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(topic=self.topic),
            timeout=self.timeout)

    def call(self, value, server=None, timeout=None):
        return self.client.prepare(server=server, timeout=timeout).call(
            {}, 'echo', value=value)

    def cast(self, value, server=None, fanout=False):
        self.client.prepare(server=server, fanout=fanout).cast(
            {}, 'cast_me', value=value)


class NotificationEndpoint:
    """Notification endpoint queueing ``(event_type, payload)``."""

    def __init__(self):
        self.events = queue.Queue()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.put((event_type, payload))


class Listener(fixtures.Fixture):
    """A notification listener on a thread."""

    def __init__(self, conf, url, topic, pool=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.pool = pool
        self.endpoint = NotificationEndpoint()

    def _setUp(self):
        transport = oslo_messaging.get_notification_transport(self.conf,
                                                              url=self.url)
        self.addCleanup(transport.cleanup)
        self.listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=self.topic)],
            [self.endpoint], executor='threading', pool=self.pool)
        self.listener.start()
        self.addCleanup(self.listener.wait)
        self.addCleanup(self.listener.stop)

    def get(self, timeout=10):
        """The next ``(event_type, payload)``; raises queue.Empty."""
        return self.endpoint.events.get(timeout=timeout)


class Notifier(fixtures.Fixture):
    """An oslo.messaging notifier for ``topic``."""

    def __init__(self, conf, url, topic):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic

    def _setUp(self):
        transport = oslo_messaging.get_notification_transport(self.conf,
                                                              url=self.url)
        self.addCleanup(transport.cleanup)
        self.notifier = oslo_messaging.Notifier(
            transport, publisher_id='tests', driver='messaging',
            topics=[self.topic])

    def info(self, event_type, payload):
        self.notifier.info({}, event_type, payload)


def unique(prefix='t'):
    """A topic or name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def run_in_thread(func, *args):
    """Start ``func(*args)`` on a thread; return (thread, result queue)."""
    results = queue.Queue()

    def target():
        try:
            results.put((True, func(*args)))
        except Exception as exc:
            results.put((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, results
