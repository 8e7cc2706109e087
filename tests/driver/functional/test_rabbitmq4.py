"""The driver on RabbitMQ 4: FakeRabbitMQ and the real node, one test id
per implementation (the real one skipped with the reason where absent;
one node per module, it takes seconds to start).

RPC and notifications through v2 addresses with the rabbit driver's
topology (what is declared, and with which properties), a notification
kept for a listener that comes later, a server's fanout queue and a
transport's reply queue deleted when they stop, a queue deleted under a
server declared again, Direct Reply-To on 4.2 (the fake only: no 4.2
packaged); and refusals that are errors within a second, never a
timeout: a declaration RabbitMQ refuses (409), and the old addresses
forced on RabbitMQ 4 (a dynamic source: the session ends).
"""

import queue
import threading
import time
import uuid

import oslo_messaging
import pytest

from amqp1_driver import exceptions
from amqp1_fixtures import FakeRabbitMQ
from amqp1_fixtures.daemons import rabbitmq4
from tests import messaging
from tests.functional.rabbitmq4_clients import Management
from tests.functional.rabbit.test_rabbitmq4_behaviour import connect

IMPLS = ('FakeRabbitMQ', 'rabbitmq4')
#: how fast a refusal must reach every waiter (s)
PROMPT = 1.0


@pytest.fixture(scope='module', params=IMPLS)
def backend(request):
    """The implementation of the row, started once per module."""
    if request.param == 'FakeRabbitMQ':
        server = FakeRabbitMQ()
    else:
        if not rabbitmq4.find_rabbitmq4_server():
            pytest.skip(rabbitmq4.absent_reason())
        server = rabbitmq4.RabbitMQ4Daemon()
    server.setUp()
    yield server
    server.cleanUp()


class Fixtures:
    """The fixtures of one test, cleaned up at its end."""

    def __init__(self):
        import fixtures
        self._holder = fixtures.Fixture()
        self._holder.setUp()

    def use(self, fixture):
        return self._holder.useFixture(fixture)

    def cleanup(self):
        self._holder.cleanUp()


@pytest.fixture
def fx():
    holder = Fixtures()
    yield holder
    holder.cleanup()


@pytest.fixture
def conf():
    return messaging.make_conf()


def uid(prefix='t'):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def queue_info(clients, backend, name):
    """The management node's answer about queue ``name``: the body, or
    None (404)."""
    response = Management(connect(clients, backend)).request(
        'GET', '/queues/%s' % name)
    return response.body if response.status == '200' else None


def wait(predicate, timeout=10.0, what=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('not true after %s s: %s'
                                 % (timeout, what or predicate))
        time.sleep(0.05)


# --- RPC and notifications ------------------------------------------------

def test_rpc(backend, conf, fx):
    topic = uid()
    url = backend.transport_url
    servers = [fx.use(messaging.RpcServer(conf, url, topic, s))
               for s in ('s1', 's2')]
    client = fx.use(messaging.RpcClient(conf, url, topic))
    assert client.call(1)['value'] == 1
    assert client.call(2, server='s2') == {'server': 's2', 'value': 2}
    client.cast(3, server='s1')
    _wait_call(servers[0], ('cast', 3))
    client.cast(4, fanout=True)
    for server in servers:
        _wait_call(server, ('cast', 4))
    with pytest.raises(ValueError) as err:
        client.client.call({}, 'fail', text='boom')
    assert 'boom' in str(err.value)


def _wait_call(server, expected):
    while True:
        if server.endpoint.calls.get(timeout=10) == expected:
            return


def test_rabbit_driver_topology(backend, conf, fx, clients):
    """The rabbit driver's names and properties: shared ``<topic>`` and
    ``<topic>.<server>`` queues (transient by default), a per-server
    ``<topic>_fanout_<uuid>`` queue and a per-transport ``reply_<uuid>``
    one, both expiring; notifications into ``<topic>.<priority>``."""
    topic = uid()
    url = backend.transport_url
    fx.use(messaging.RpcServer(conf, url, topic, 'host1'))
    client = fx.use(messaging.RpcClient(conf, url, topic))
    client.call(1)
    shared = queue_info(clients, backend, topic)
    assert (shared['durable'], shared['exclusive'], shared['auto_delete'],
            shared['arguments']) == (False, False, False,
                                     {'x-queue-type': 'classic'})
    assert queue_info(clients, backend, '%s.host1' % topic)['durable'] \
        is False
    io = client.transport._driver._io
    reply = queue_info(clients, backend, io.reply_queue.sources[0].split(
        '/queues/')[1])
    assert reply['arguments'] == {'x-expires': 1800000,
                                  'x-queue-type': 'classic'}
    notifier = fx.use(messaging.Notifier(conf, url, topic))
    notifier.info('e', {'n': 1})
    assert queue_info(clients, backend, '%s.info' % topic)[
        'message_count'] == 1


def test_durable_and_quorum_options(backend, fx, clients):
    """``[oslo_messaging_rabbit]`` shapes the topology as for rabbit://:
    quorum shared queues with ``rabbit_quorum_queue``, a durable exchange
    with ``amqp_durable_queues`` (its own: the module's other tests use
    ``openstack`` transient, and RabbitMQ refuses to redeclare it)."""
    conf = messaging.make_conf()
    oslo_messaging.get_rpc_transport(conf, url=backend.transport_url)
    conf.set_override('rabbit_quorum_queue', True,
                      group='oslo_messaging_rabbit')
    conf.set_override('amqp_durable_queues', True,
                      group='oslo_messaging_rabbit')
    conf.set_override('control_exchange', uid('durable'))
    topic = uid()
    fx.use(messaging.RpcServer(conf, backend.transport_url, topic, 'h'))
    client = fx.use(messaging.RpcClient(conf, backend.transport_url, topic))
    assert client.call(5)['value'] == 5
    shared = queue_info(clients, backend, topic)
    assert (shared['durable'], shared['type']) == (True, 'quorum')


def test_notification_kept_for_a_late_listener(backend, conf, fx):
    topic = uid('n')
    url = backend.transport_url
    fx.use(messaging.Notifier(conf, url, topic)).info('early', {'n': 1})
    listener = fx.use(messaging.NotifyListener(conf, url, topic))
    assert listener.get() == ('early', {'n': 1})


def test_queues_cleaned_up(backend, conf, fx, clients, caplog):
    """A stopped server's fanout queue and a cleaned-up transport's reply
    queue are deleted (the shared queues stay, as the rabbit driver's),
    after the peer answered the consumers' detaches: RabbitMQ 4.0.5 ends
    the session (``amqp:internal-error``) when a detach reaches a queue
    being deleted."""
    topic = uid()
    url = backend.transport_url
    transport = oslo_messaging.get_rpc_transport(conf, url=url)
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server='h'),
        [messaging.Echo('h')], executor='threading')
    server.start()
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=topic), timeout=10)
    assert client.call({}, 'echo', value=1)['value'] == 1
    io = transport._driver._io
    fanout = '%s_fanout_%s' % (topic, io.servers._subs[0].unique)
    reply = io.reply_queue.sources[0].split('/queues/')[1]
    assert queue_info(clients, backend, fanout)
    assert queue_info(clients, backend, reply)
    server.stop()
    server.wait()
    wait(lambda: queue_info(clients, backend, fanout) is None,
         what='fanout queue deleted')
    transport.cleanup()
    wait(lambda: queue_info(clients, backend, reply) is None,
         what='reply queue deleted')
    assert queue_info(clients, backend, topic) is not None
    assert not [r.getMessage() for r in caplog.records
                if r.levelname == 'ERROR' and 'amqp1_driver' in r.name]


def test_queue_deleted_under_a_server(backend, conf, fx, clients):
    """RabbitMQ detaches the consumers of a deleted queue; the driver
    declares it again before attaching again, and serves on (an attach
    to a missing queue would end its session)."""
    topic = uid()
    url = backend.transport_url
    fx.use(messaging.RpcServer(conf, url, topic, 'h'))
    client = fx.use(messaging.RpcClient(conf, url, topic, timeout=2))
    assert client.call(1, server='h')['value'] == 1
    mgmt = Management(connect(clients, backend))
    assert mgmt.delete_queue('%s.h' % topic).status == '200'
    deadline = time.monotonic() + 20
    while True:
        try:
            assert client.call(2, server='h')['value'] == 2
            break
        except oslo_messaging.MessagingTimeout:
            assert time.monotonic() < deadline
    assert queue_info(clients, backend, '%s.h' % topic) is not None


def test_fanout_exchange_gone_with_its_last_server(
        backend, conf, fx, caplog):
    """The fanout exchange is auto-delete: it goes with the last server's
    queue.  A (pre-settled) fanout cast to it then is lost -- RabbitMQ
    detaches the relay link, as it would for rabbit:// -- and the next
    server's fanout arrives through a new link, its exchange declared
    again."""
    topic = uid()
    url = backend.transport_url
    client = fx.use(messaging.RpcClient(conf, url, topic))
    first = messaging.RpcServer(conf, url, topic, 's1')
    first.setUp()
    client.cast(1, fanout=True)
    _wait_call(first, ('cast', 1))
    first.cleanUp()
    client.cast(2, fanout=True)
    second = fx.use(messaging.RpcServer(conf, url, topic, 's2'))
    deadline = time.monotonic() + 20
    value = 3
    while True:
        client.cast(value, fanout=True)
        try:
            got = second.endpoint.calls.get(timeout=1)
        except queue.Empty:
            assert time.monotonic() < deadline
            value += 1
            continue
        assert got[0] == 'cast' and got[1] >= 3
        break
    assert not [r.getMessage() for r in caplog.records
                if r.levelname == 'ERROR' and 'refused' in r.getMessage()]


# --- refusals -------------------------------------------------------------

def _three(conf, url, topic, fx):
    """A call, a cast and a notification started together: ``{name:
    (seconds, outcome)}``."""
    client = fx.use(messaging.RpcClient(conf, url, topic, timeout=30))
    notify = fx.use(messaging.Transport(conf, url, notification=True))
    runs = {
        'call': lambda: client.client.call({}, 'echo', value=1),
        'cast': lambda: client.client.cast({}, 'echo', value=2),
        'notification': lambda: notify.transport._send_notification(
            oslo_messaging.Target(topic='%s.info' % topic), {}, {'x': 1},
            2.0)}
    results = {}

    def one(name, func):
        start = time.monotonic()
        try:
            outcome = func()
        except Exception as exc:  # noqa: B902 - the test checks it
            outcome = exc
        results[name] = (time.monotonic() - start, outcome)
    threads = [threading.Thread(target=one, args=item, daemon=True)
               for item in runs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_declaration_refused(backend, conf, fx, clients):
    """The control exchange exists as another type: RabbitMQ answers the
    driver's declaration with 409; the call, cast and notification fail
    within a second with RabbitMQ's text."""
    exchange = uid('x')
    mgmt = Management(connect(clients, backend))
    assert mgmt.declare_exchange(exchange, 'fanout').status == '204'
    conf.set_override('control_exchange', exchange)
    results = _three(conf, backend.transport_url, uid(), fx)
    assert set(results) == {'call', 'cast', 'notification'}
    for name, (seconds, error) in results.items():
        assert isinstance(error, oslo_messaging.MessageDeliveryFailure), \
            (name, error)
        assert "409 inequivalent arg 'type'" in str(error), (name, error)
        assert seconds < PROMPT, (name, seconds)


def test_listen_refused(backend, conf, fx, clients):
    """A server's shared queue exists with other properties: listen()
    fails at once with RabbitMQ's text."""
    topic = uid()
    mgmt = Management(connect(clients, backend))
    assert mgmt.declare_queue(topic, durable=True).status == '201'
    transport = fx.use(messaging.Transport(conf, backend.transport_url))
    server = oslo_messaging.get_rpc_server(
        transport.transport, oslo_messaging.Target(topic=topic, server='h'),
        [messaging.Echo()], executor='threading')
    start = time.monotonic()
    with pytest.raises(oslo_messaging.MessageDeliveryFailure) as err:
        server.start()
    assert time.monotonic() - start < PROMPT
    assert "inequivalent arg 'durable'" in str(err.value)


def test_old_addresses_refused_within_a_second(backend, conf, fx):
    """``addressing_mode = routable`` forces the old addresses on
    RabbitMQ 4, as the driver had them before: the dynamic reply source
    ends the session (``amqp:not-implemented: Dynamic sources not
    supported``); every waiter fails with that within a second, not
    after its timeout."""
    conf.set_override('addressing_mode', 'routable',
                      group='oslo_messaging_amqp')
    results = _three(conf, backend.transport_url, uid(), fx)
    for name, (seconds, error) in results.items():
        assert isinstance(error, exceptions.PeerRefused), (name, error)
        assert (error.condition, error.description) == (
            'amqp:not-implemented', 'Dynamic sources not supported')
        assert seconds < PROMPT, (name, seconds)


# --- RabbitMQ 4.2 (the fake only) -----------------------------------------

def test_direct_reply_to_on_4_2(conf, fx):
    """Announced as 4.2, the fake offers Direct Reply-To: calls use it
    and no reply queue is declared."""
    rabbit = fx.use(FakeRabbitMQ(version='4.2.0'))
    topic = uid()
    fx.use(messaging.RpcServer(conf, rabbit.transport_url, topic, 'h'))
    client = fx.use(messaging.RpcClient(conf, rabbit.transport_url, topic))
    assert client.call(42)['value'] == 42
    io = client.transport._driver._io
    assert io.replies.address.startswith('/queues/amq.rabbitmq.reply-to.')
    assert not [n for n in rabbit.declared()['queues']
                if n.startswith('reply_')]


# --- the service fixture's modes ------------------------------------------

@pytest.mark.parametrize('mode, notify_driver', [
    ('rabbitmq', None), ('qpid-hybrid', 'amqp')],
    ids=['rabbitmq', 'qpid-hybrid-notify-amqp'])
def test_service_modes(backend, fx, mode, notify_driver):
    """``Amqp1Service`` of the mode, configured on a bare ConfigOpts: a
    call and a notification round trip (with the module's node: the
    fake, or the real RabbitMQ 4 given as ``rabbitmq=``)."""
    from oslo_config import cfg

    from amqp1_fixtures import Amqp1Service
    service = fx.use(Amqp1Service(mode, notify_driver=notify_driver,
                                  rabbitmq=backend))
    conf = service.configure(cfg.ConfigOpts(), default_reply_timeout=10)
    assert service.notify_url == backend.transport_url
    topic = uid()
    fx.use(messaging.RpcServer(conf, None, topic, 'h'))
    client = fx.use(messaging.RpcClient(conf, None, topic))
    assert client.call(3) == {'server': 'h', 'value': 3}
    notifier = fx.use(messaging.Notifier(conf, None, topic))
    notifier.info('svc', {'mode': mode})
    listener = fx.use(messaging.NotifyListener(conf, None, topic))
    assert listener.get() == ('svc', {'mode': mode})


def test_reconnect_after_a_restart(conf, fx):
    """The broker restarts (FakeRabbitMQ: transient queues gone): on the
    new connection the driver declares its reply queue and the server's
    queues again, and calls go through (fake only: a real restart takes
    the node's start time)."""
    rabbit = fx.use(FakeRabbitMQ())
    topic = uid()
    fx.use(messaging.RpcServer(conf, rabbit.transport_url, topic, 'h'))
    client = fx.use(messaging.RpcClient(conf, rabbit.transport_url, topic,
                                        timeout=2))
    assert client.call(1)['value'] == 1
    rabbit.kill()
    rabbit.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            assert client.call(2, server='h')['value'] == 2
            break
        except (oslo_messaging.MessagingTimeout,
                oslo_messaging.MessageDeliveryFailure):
            assert time.monotonic() < deadline
    assert client.call(3)['value'] == 3
