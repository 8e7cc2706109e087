"""amqp1_driver.rabbitmq4's plans on the real RabbitMQ 4: every request
they make is accepted, messages sent to a plan's address reach the
sources of the matching listen plan, notifications wait for a listener
that comes later, a reply to a reply queue that is gone is released
without harm -- and the same topology is shared with oslo.messaging's
rabbit driver on the same node (what each side sees of the other's
messages: tests/functional/rabbit/test_rabbitmq4_behaviour.py).

Proton clients apply the plans, so that what RabbitMQ does with each is
seen without the driver (the driver on RabbitMQ 4: test_rabbitmq4.py and
test_rabbitmq4_interop.py); skipped with the reason where there is no
RabbitMQ 4."""

import dataclasses
import json
import threading
import uuid

import oslo_messaging
import pytest
from proton import Message

from amqp1_driver import rabbitmq4 as r4
from amqp1_fixtures.daemons import rabbitmq4
from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import RELEASED
from tests.functional.rabbitmq4_clients import Management
from tests import messaging
from tests.functional.rabbit.test_rabbitmq4_behaviour import connect
from tests.functional.rabbit.test_rabbitmq4_behaviour import ended
from tests.functional.rabbit.test_rabbitmq4_behaviour import receiver
from tests.functional.rabbit.test_rabbitmq4_behaviour import sender
from tests.functional.rabbit.test_rabbitmq4_behaviour import settled_state


@pytest.fixture(scope='module')
def backend():
    if not rabbitmq4.find_rabbitmq4_server():
        pytest.skip(rabbitmq4.absent_reason())
    node = rabbitmq4.RabbitMQ4Daemon()
    node.setUp()
    yield node
    node.cleanUp()


def apply(mgmt, plan):
    """Send a plan's requests; return their statuses (all must be 2xx)."""
    statuses = []
    for request in plan.requests():
        response = mgmt.request(request.method, request.path, request.body)
        r4.check_response(request, response.status, response.body)
        statuses.append(response.status)
    return statuses


def wait_for_queue(clients, mgmt, name, timeout=30):
    """Wait until queue ``name`` exists (somebody else declares it)."""
    for _ in range(int(timeout * 10)):
        if mgmt.request('GET', '/queues/%s' % name).status == '200':
            return
        clients.idle(0.1)
    raise AssertionError('no queue %s after %s s' % (name, timeout))


def uid():
    return uuid.uuid4().hex[:12]


@pytest.mark.parametrize('options', [
    r4.Options(), r4.Options(amqp_durable_queues=True),
    r4.Options(rabbit_quorum_queue=True, rabbit_transient_quorum_queue=True,
               rabbit_quorum_delivery_limit=3)],
    ids=['default', 'durable', 'quorum'])
def test_rpc_plans_route(backend, clients, options):
    """Casts to the topic, to a server and to all reach the queues the
    servers' plans consume; a second declaration is equivalent."""
    # An exchange of its own: the durable and transient rows would
    # disagree on 'openstack' (409), as services with different
    # amqp_durable_queues do on one RabbitMQ.
    options = dataclasses.replace(options,
                                  control_exchange='openstack-%s' % uid())
    client = connect(clients, backend)
    mgmt = Management(client)
    topic = 'compute-%s' % uid()
    servers = {}
    for host in ('host1', 'host2'):
        plan = r4.rpc_listen(topic, host, uid(), options=options)
        statuses = apply(mgmt, plan)
        assert set(statuses) <= {'200', '201', '204'}
        servers[host] = [receiver(clients, client, s) for s in plan.sources]
    # host2 found the shared exchange and queue: equivalent, not 409.
    assert apply(mgmt, r4.rpc_listen(topic, 'host1', uid(),
                                     options=options))[:2] == ['204', '200']
    relay = sender(clients, client, None)
    for kwargs, body in (({}, 'any'), ({'server': 'host2'}, 'to-host2'),
                         ({'fanout': True}, 'all')):
        plan = r4.rpc_send(topic, options=options, **kwargs)
        apply(mgmt, plan)
        delivery = relay.send(body, address=plan.address)
        assert settled_state(clients, delivery) == ACCEPTED, body

    def got(host):
        shared, own, fanout = servers[host]
        return (shared.bodies, own.bodies, fanout.bodies)

    clients.wait(lambda: sum(len(b) for h in servers
                             for b in got(h)) >= 4)
    client.sync()
    # 'any' went to one of the servers on the shared queue.
    assert sorted(got('host1')[0] + got('host2')[0]) == ['any']
    assert (got('host1')[1], got('host2')[1]) == ([], ['to-host2'])
    assert (got('host1')[2], got('host2')[2]) == (['all'], ['all'])


def test_rpc_to_nobody_is_released(backend, clients):
    """A cast to a topic no server listens to: released."""
    client = connect(clients, backend)
    mgmt = Management(client)
    plan = r4.rpc_send('nobody-%s' % uid())
    apply(mgmt, plan)
    relay = sender(clients, client, None)
    assert settled_state(clients, relay.send('x', address=plan.address)) \
        == RELEASED


def test_reply_queue_plan(backend, clients):
    """The caller's reply queue gets replies sent by ``to``; once it is
    deleted (cleanup), a reply to it is released and the server's relay
    link lives on."""
    caller = connect(clients, backend)
    plan = r4.reply_queue(uuid.uuid4().hex)
    mgmt = Management(caller)
    assert apply(mgmt, plan) == ['201']
    replies = receiver(clients, caller, plan.sources[0])
    server = connect(clients, backend)
    relay = sender(clients, server, None)
    reply = relay.send('reply', address=r4.reply_address(plan.reply_to))
    assert settled_state(clients, reply) == ACCEPTED
    clients.wait(lambda: replies.received)
    assert replies.bodies == ['reply']
    for request in plan.cleanup_requests():
        assert mgmt.request(request.method, request.path).status == '200'
    late = relay.send('late', address=plan.reply_to)
    assert settled_state(clients, late) == RELEASED
    assert ended(relay.link) is None


def test_notifications_wait_for_a_late_listener(backend, clients):
    """The sender's plan declares the queue: a notification sent before
    any listener exists is delivered to the listener that comes later."""
    client = connect(clients, backend)
    mgmt = Management(client)
    topic = 'notifications-%s' % uid()
    options = r4.Options(amqp_durable_queues=True,
                         control_exchange='durable-%s' % uid())
    plan = r4.notify_send(topic, 'info', options=options)
    apply(mgmt, plan)
    out = sender(clients, client, plan.address)
    sent = out.link.send(Message(body='early', durable=plan.durable))
    assert settled_state(clients, sent) == ACCEPTED
    listen = r4.notify_listen(topic, 'info', options=options)
    assert apply(mgmt, listen) == ['204', '200', '204']
    got = receiver(clients, client, listen.sources[0])
    clients.wait(lambda: got.received)
    assert got.bodies == ['early']
    assert got.received[0].message.durable


# --- the rabbit driver on the same node --------------------------------------

def _rabbit_transport(backend):
    # Every oslo.messaging option registered (tracing's included, which
    # the server's dispatch reads).
    conf = messaging.make_conf()
    transport = oslo_messaging.get_rpc_transport(
        conf, url=backend.rabbit_url)
    return conf, transport


class _Endpoint:

    def __init__(self):
        self.casts = []
        self.event = threading.Event()

    def ping(self, ctxt, arg):
        self.casts.append(arg)
        self.event.set()


def test_topology_shared_with_the_rabbit_driver(backend, clients):
    """oslo.messaging's rabbit driver (rabbit://, AMQP 0-9-1) serves a
    topic on the node; the amqp:// plans for the same topic and options
    are equivalent to what it declared (no 409); a cast sent over AMQP
    1.0 as a *data* section holding the rabbit driver's JSON envelope
    reaches its server; a notification it sends reaches an AMQP 1.0
    listener of the plan as a data section."""
    conf, transport = _rabbit_transport(backend)
    topic = 'shared-%s' % uid()
    endpoint = _Endpoint()
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server='rabbit-host'),
        [endpoint], executor='threading')
    server.start()
    try:
        client = connect(clients, backend)
        mgmt = Management(client)
        for name in (topic, '%s.rabbit-host' % topic):
            wait_for_queue(clients, mgmt, name)
        statuses = apply(mgmt, r4.rpc_listen(topic, 'rabbit-host', uid()))
        # Exchange, shared queues and bindings exist and are equivalent;
        # only this plan's own fanout queue is new.
        assert statuses == ['204', '200', '204', '200', '204', '204',
                            '201', '204']
        plan = r4.rpc_send(topic, server='rabbit-host')
        apply(mgmt, plan)
        message = {'method': 'ping', 'args': {'arg': 'from-amqp1'},
                   'namespace': None, 'version': '1.0',
                   '_unique_id': uuid.uuid4().hex, '_context_user': None}
        envelope = json.dumps({'oslo.version': '2.0',
                               'oslo.message': json.dumps(message)})
        relay = sender(clients, client, None)
        delivery = relay.link.send(Message(
            body=envelope.encode(), inferred=True, address=plan.address,
            content_type='application/json', content_encoding='utf-8'))
        assert settled_state(clients, delivery) == ACCEPTED
        assert endpoint.event.wait(30)
        assert endpoint.casts == ['from-amqp1']
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
    notify_transport = oslo_messaging.get_notification_transport(
        conf, url=backend.rabbit_url)
    topic = 'rabbit-notifications-%s' % uid()
    try:
        notifier = oslo_messaging.Notifier(
            notify_transport, 'rabbit.host', driver='messagingv2',
            topics=[topic])
        notifier.info({}, 'compute.start', {'n': 1})
    finally:
        notify_transport.cleanup()
    client = connect(clients, backend)
    mgmt = Management(client)
    listen = r4.notify_listen(topic, 'info')
    assert apply(mgmt, listen) == ['204', '200', '204']
    got = receiver(clients, client, listen.sources[0])
    clients.wait(lambda: got.received)
    message = got.received[0].message
    assert message.content_type == 'application/json'
    body = json.loads(bytes(message.body))
    inner = json.loads(body['oslo.message'])
    assert (inner['event_type'], inner['payload']) == (
        'compute.start', {'n': 1})
