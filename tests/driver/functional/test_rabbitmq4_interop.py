"""A service on ``rabbit://`` and one on ``amqp://`` through the same
RabbitMQ 4 (the real node: the fake speaks no AMQP 0-9-1; skipped with
the reason where absent).

On RabbitMQ 4 the driver speaks the rabbit driver's message format and
declares its topology (:mod:`amqp1_driver.rabbit_codec`,
:mod:`amqp1_driver.rabbitmq4`), so each side's calls, casts, fanouts,
remote exceptions, call-monitor heartbeats and notifications reach the
other, and servers of both kinds share one topic's queue.
"""

import queue
import time

import fixtures
import oslo_messaging
import pytest

from amqp1_fixtures.daemons import rabbitmq4
from tests import messaging


@pytest.fixture(scope='module')
def node():
    if not rabbitmq4.find_rabbitmq4_server():
        pytest.skip(rabbitmq4.absent_reason())
    daemon = rabbitmq4.RabbitMQ4Daemon()
    daemon.setUp()
    yield daemon
    daemon.cleanUp()


@pytest.fixture
def fx():
    holder = fixtures.Fixture()
    holder.setUp()
    yield holder
    holder.cleanUp()


class Slow(messaging.Echo):
    """Echo, and ``slow(seconds)`` that answers late."""

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return 'slept %s' % seconds


WAYS = {'amqp-calls-rabbit': ('rabbit_url', 'transport_url'),
        'rabbit-calls-amqp': ('transport_url', 'rabbit_url')}


@pytest.mark.parametrize('way', sorted(WAYS))
def test_rpc(node, fx, way):
    server_url, client_url = (getattr(node, a) for a in WAYS[way])
    conf = messaging.make_conf()
    topic = messaging.unique()
    server = fx.useFixture(messaging.RpcServer(
        conf, server_url, topic, 'h', endpoint=Slow('h')))
    client = fx.useFixture(messaging.RpcClient(conf, client_url, topic,
                                               timeout=20))
    assert client.call(1) == {'server': 'h', 'value': 1}
    assert client.call(2, server='h') == {'server': 'h', 'value': 2}
    with pytest.raises(ValueError) as err:
        client.client.call({}, 'fail', text='remote boom')
    assert 'remote boom' in str(err.value)
    # kept alive by the server's call-monitor heartbeats only
    monitored = client.client.prepare(call_monitor_timeout=2, timeout=20)
    assert monitored.call({}, 'slow', seconds=5) == 'slept 5'
    for value, prepare in ((3, {}), (4, {'server': 'h'}),
                           (5, {'fanout': True})):
        client.cast(value, **prepare)
        _wait_call(server, ('cast', value))


def _wait_call(server, expected):
    while True:
        if server.endpoint.calls.get(timeout=20) == expected:
            return


def test_servers_of_both_kinds_share_a_topic(node, fx):
    """A rabbit:// and an amqp:// server of one topic consume the same
    queue: calls to the topic are served by both."""
    conf = messaging.make_conf()
    topic = messaging.unique()
    for url, name in ((node.rabbit_url, 'rabbit'),
                      (node.transport_url, 'amqp')):
        fx.useFixture(messaging.RpcServer(conf, url, topic, name))
    client = fx.useFixture(messaging.RpcClient(conf, node.transport_url,
                                               topic))
    seen = {client.call(i)['server'] for i in range(20)}
    assert seen == {'rabbit', 'amqp'}
    assert client.call(0, server='rabbit')['server'] == 'rabbit'


@pytest.mark.parametrize('way', sorted(WAYS))
def test_notifications(node, fx, way):
    listener_url, notifier_url = (getattr(node, a) for a in WAYS[way])
    conf = messaging.make_conf()
    topic = messaging.unique('n')
    notifier = fx.useFixture(messaging.Notifier(conf, notifier_url, topic))
    notifier.info('before.listener', {'n': 1})
    listener = fx.useFixture(messaging.NotifyListener(conf, listener_url,
                                                      topic))
    assert listener.get(timeout=20) == ('before.listener', {'n': 1})
    notifier.info('after.listener', {'n': 2})
    assert listener.get(timeout=20) == ('after.listener', {'n': 2})
    with pytest.raises(queue.Empty):
        listener.get(timeout=0.2)


def test_notification_v1_envelope(node, fx):
    """A notification without the 2.0 envelope (driver ``messaging``)
    from rabbit:// reaches an amqp:// listener."""
    conf = messaging.make_conf()
    topic = messaging.unique('n')
    transport = fx.useFixture(messaging.Transport(
        conf, node.rabbit_url, notification=True)).transport
    oslo_messaging.Notifier(transport, 'p', driver='messaging',
                            topics=[topic]).info({}, 'v1', {'n': 3})
    listener = fx.useFixture(messaging.NotifyListener(
        conf, node.transport_url, topic))
    assert listener.get(timeout=20) == ('v1', {'n': 3})
