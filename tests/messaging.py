"""oslo.messaging plumbing shared by every test that makes real calls.

Configuration with fast-failing ``[oslo_messaging_amqp]`` values, unique
topic names, recording RPC and notification endpoints, RPC servers,
clients, notification listeners and notifiers as fixtures (threading
executor, stopped by cleanups), and a thread whose outcome a test waits
for.  The same module serves both driver generations: oslo.messaging
14.x with its in-tree ``amqp://`` driver (the fixtures' tests) and 18.x
with this repository's ``amqp1-driver`` (the driver's tests); only
:func:`make_conf` differs between them.
"""

import queue
import threading
import uuid

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import testtools

GROUP = 'oslo_messaging_amqp'

#: ``[oslo_messaging_amqp]`` values that make failures fast in tests
FAST = {
    'connection_retry_interval': 1,
    # 14.x multiplies the delay by this; 0 would make it reconnect in a
    # tight loop after the first attempt, so 1: every second
    'connection_retry_backoff': 1,
    'connection_retry_interval_max': 1,
    'link_retry_delay': 1,
    'default_reply_timeout': 5,
    'default_send_timeout': 5,
    'default_notify_timeout': 5,
}


def _register_amqp_opts(conf):
    """Make ``[oslo_messaging_amqp]`` exist on ``conf`` before a transport
    does, so that tests can override its options.

    oslo.messaging 14.x's ConfFixture registers the group (its in-tree
    driver's options); on 18.x this repository's driver registers it, and
    its ``opts`` module is importable only where it is installed.
    """
    if GROUP in conf:
        return
    from amqp1_driver import opts
    opts.register(conf)


def make_conf(**amqp_options):
    """A fresh ConfigOpts ready for oslo.messaging, with :data:`FAST`
    ``[oslo_messaging_amqp]`` values, updated by ``amqp_options``."""
    conf = cfg.ConfigOpts()
    conf([], project='amqp1-tests')
    # registers every option oslo.messaging itself reads on this conf
    conffixture.ConfFixture(conf)
    _register_amqp_opts(conf)
    values = dict(FAST, **amqp_options)
    for name, value in values.items():
        conf.set_override(name, value, group=GROUP)
    return conf


def unique(prefix='t'):
    """A topic or server name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


#: events :meth:`Echo.wait_for` waits on, keyed by name
EVENTS = {}


class Echo:
    """RPC endpoint recording what it was called with in ``calls``.

    :param name: the server name it answers with.
    """

    def __init__(self, name='server'):
        self.name = name
        self.calls = queue.Queue()

    def echo(self, ctxt, value):
        """Return ``{'server': name, 'value': value}``."""
        self.calls.put(('echo', value))
        return {'server': self.name, 'value': value}

    def cast_me(self, ctxt, value):
        """Record ``('cast', value)``."""
        self.calls.put(('cast', value))

    def fail(self, ctxt, text):
        """Raise ``ValueError(text)``."""
        raise ValueError(text)

    def wait_for(self, ctxt, key):
        """Block until the test sets ``EVENTS[key]`` (bounded)."""
        EVENTS[key].wait(30)
        return key


class Transport(fixtures.Fixture):
    """An RPC or notification transport, cleaned up at the end."""

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


def _transport(fixture, transport, notification=False):
    if transport is not None:
        return transport
    return fixture.useFixture(Transport(fixture.conf, fixture.url,
                                        notification)).transport


class RpcServer(fixtures.Fixture):
    """An RPC server (threading executor) on ``topic``/``server``.

    :param url: the transport URL (None: the conf's ``transport_url``).
    :param endpoint: the endpoint (an :class:`Echo` named ``server``).
    :param transport: a transport to use instead of a new one.
    """

    def __init__(self, conf, url, topic, server='server', endpoint=None,
                 transport=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.name = server
        self.endpoint = endpoint or Echo(server)
        self.transport = transport

    def _setUp(self):
        self.transport = _transport(self, self.transport)
        target = oslo_messaging.Target(topic=self.topic, server=self.name)
        self.server = oslo_messaging.get_rpc_server(
            self.transport, target, [self.endpoint], executor='threading')
        self.server.start()
        self.addCleanup(self.server.wait)
        self.addCleanup(self.server.stop)


class RpcClient(fixtures.Fixture):
    """An RPC client of ``topic`` calling :class:`Echo`'s methods.

    :param transport: a transport to use instead of a new one.
    """

    def __init__(self, conf, url, topic, timeout=10, transport=None):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic
        self.timeout = timeout
        self.transport = transport

    def _setUp(self):
        self.transport = _transport(self, self.transport)
        self.client = oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(topic=self.topic),
            timeout=self.timeout)

    def call(self, value, **prepare):
        """``echo(value)``; ``prepare`` as for ``client.prepare()``
        (``server=``, ``timeout=``, ``retry=``, ...)."""
        return self.client.prepare(**prepare).call({}, 'echo', value=value)

    def cast(self, value, **prepare):
        """``cast_me(value)``; ``prepare`` as for :meth:`call`
        (``fanout=True`` too)."""
        self.client.prepare(**prepare).cast({}, 'cast_me', value=value)


class NotifyEndpoint:
    """Notification endpoint queueing ``(priority, event_type, payload)``
    in ``events``.

    :param requeue_first: answer REQUEUE the first time each payload comes.
    """

    def __init__(self, requeue_first=False):
        self.events = queue.Queue()
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
    """A notification listener (threading executor) on ``topic``.

    :param endpoint: a :class:`NotifyEndpoint` unless given.
    :param batch: ``(size, timeout)`` for a batch listener.
    :param pool: the listener pool name.
    """

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
        self.transport = _transport(self, None, notification=True)
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

    def get(self, timeout=10):
        """The next ``(event_type, payload)``.

        :raises queue.Empty: nothing within ``timeout`` seconds.
        """
        return self.endpoint.events.get(timeout=timeout)[1:]


class Notifier(fixtures.Fixture):
    """A notifier publishing to ``topic`` (``notifier`` attribute)."""

    def __init__(self, conf, url, topic):
        super().__init__()
        self.conf = conf
        self.url = url
        self.topic = topic

    def _setUp(self):
        self.transport = _transport(self, None, notification=True)
        self.notifier = oslo_messaging.Notifier(
            self.transport, publisher_id='tests', driver='messaging',
            topics=[self.topic])

    def info(self, event_type, payload):
        """Send an info notification with an empty context."""
        self.notifier.info({}, event_type, payload)


def in_thread(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` on a daemon thread.

    :returns: ``(done, outcome)``: a :class:`threading.Event` set when it
        returned or raised, and a list that then holds its result or
        exception.
    """
    done = threading.Event()
    outcome = []

    def run():
        try:
            outcome.append(func(*args, **kwargs))
        except Exception as exc:  # noqa: B902 - the test inspects it
            outcome.append(exc)
        done.set()
    threading.Thread(target=run, daemon=True).start()
    return done, outcome


class TestCase(testtools.TestCase):
    """A fresh conf (:func:`make_conf`) and topic per test."""

    def setUp(self):
        super().setUp()
        self.conf = make_conf()
        self.topic = unique()

    def server(self, url, name='server', endpoint=None):
        """An :class:`RpcServer` on this test's topic."""
        return self.useFixture(RpcServer(self.conf, url, self.topic, name,
                                         endpoint))

    def client(self, url, timeout=10):
        """An :class:`RpcClient` of this test's topic."""
        return self.useFixture(RpcClient(self.conf, url, self.topic,
                                         timeout))
