"""amqp1_driver.rabbitmq4: detection, v2 addresses and topology plans,
one row per case, no I/O (the plans on the real broker:
tests/driver/functional/test_rabbitmq4_plans.py)."""

import pytest

from amqp1_driver import rabbitmq4 as r4

# Open properties captured from the real peers (proton gives symbol keys;
# str keys here: the functions accept both).
RABBITMQ_4_0_5 = {
    'node': 'amqp1fx-23994@localhost', 'cluster_name': 'amqp1fx-23994@vm',
    'copyright': 'Copyright (c) 2007-2024 Broadcom Inc and/or its '
                 'subsidiaries',
    'information': 'Licensed under the MPL 2.0. Website: '
                   'https://rabbitmq.com',
    'platform': 'Erlang/OTP 27.3.4.1', 'product': 'RabbitMQ',
    'version': '4.0.5'}
RABBITMQ_3_10_8 = {
    'cluster_name': 'amqp1fx-16889@vm',
    'copyright': 'Copyright (c) 2007-2022 VMware, Inc. or its affiliates.',
    'information': 'Licensed under the MPL 2.0. Website: '
                   'https://rabbitmq.com',
    'platform': 'Erlang/OTP 25.2.3', 'product': 'RabbitMQ',
    'version': '3.10.8'}
QDROUTERD_1_19 = {'product': 'qpid-dispatch-router', 'version': '1.19.0',
                  'qd.conn-id': 2}
QPIDD_1_40 = {'product': 'qpid-cpp', 'version': '1.40.0', 'platform': '',
              'host': ''}


@pytest.mark.parametrize('props, version, rabbit4, direct_reply_to', [
    (RABBITMQ_4_0_5, (4, 0, 5), True, False),
    (dict(RABBITMQ_4_0_5, version='4.1.0'), (4, 1, 0), True, False),
    (dict(RABBITMQ_4_0_5, version='4.2.0'), (4, 2, 0), True, True),
    (dict(RABBITMQ_4_0_5, version='5.0.0-beta.1'), (5, 0, 0), True, True),
    (RABBITMQ_3_10_8, (3, 10, 8), False, False),
    (QDROUTERD_1_19, None, False, False),
    (QPIDD_1_40, None, False, False),
    (dict(RABBITMQ_4_0_5, version=''), None, False, False),
    ({'product': 'RabbitMQ'}, None, False, False),
    ({}, None, False, False),
    (None, None, False, False),
], ids=['rabbitmq-4.0.5', '4.1', '4.2', '5.0-beta', 'rabbitmq-3.10.8',
        'qdrouterd-1.19', 'qpidd-1.40', 'empty-version', 'no-version',
        'no-properties', 'none'])
def test_detection(props, version, rabbit4, direct_reply_to):
    assert r4.broker_version(props) == version
    assert r4.is_rabbitmq4(props) is rabbit4
    assert r4.has_direct_reply_to(props) is direct_reply_to


def test_detection_with_proton_symbols():
    from proton import symbol
    props = {symbol(k): v for k, v in RABBITMQ_4_0_5.items()}
    assert r4.is_rabbitmq4(props)


@pytest.mark.parametrize('call, address', [
    (lambda: r4.queue_address('q1'), '/queues/q1'),
    (lambda: r4.queue_address('a/b c'), '/queues/a%2Fb%20c'),
    (lambda: r4.exchange_address('openstack', 'compute.host1'),
     '/exchanges/openstack/compute.host1'),
    (lambda: r4.exchange_address('x/y', 'k/1'), '/exchanges/x%2Fy/k%2F1'),
    (lambda: r4.exchange_address('compute_fanout'),
     '/exchanges/compute_fanout'),
    (lambda: r4.exchange_address('x', ''), '/exchanges/x/'),
])
def test_addresses(call, address):
    assert call() == address


@pytest.mark.parametrize('call', [
    lambda: r4.queue_address(''),
    lambda: r4.exchange_address(''),
    lambda: r4.rpc_send(''),
    lambda: r4.rpc_listen('t', '', 'u'),
    lambda: r4.reply_address(),
])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


DEFAULT = r4.Options()
DURABLE = r4.Options(amqp_durable_queues=True)
QUORUM = r4.Options(rabbit_quorum_queue=True, rabbit_quorum_delivery_limit=5)
TRANSIENT_QUORUM = r4.Options(rabbit_transient_quorum_queue=True)
OTHER_EXCHANGE = r4.Options(control_exchange='nova')

# (kwargs of rpc_send, options, address, exchange spec)
RPC_SEND = [
    ({'topic': 'compute'}, DEFAULT, '/exchanges/openstack/compute',
     r4.ExchangeSpec('openstack', 'topic', False)),
    ({'topic': 'compute', 'server': 'host1'}, DEFAULT,
     '/exchanges/openstack/compute.host1',
     r4.ExchangeSpec('openstack', 'topic', False)),
    ({'topic': 'compute', 'exchange': 'nova'}, DEFAULT,
     '/exchanges/nova/compute', r4.ExchangeSpec('nova', 'topic', False)),
    ({'topic': 'compute'}, OTHER_EXCHANGE, '/exchanges/nova/compute',
     r4.ExchangeSpec('nova', 'topic', False)),
    ({'topic': 'compute'}, DURABLE, '/exchanges/openstack/compute',
     r4.ExchangeSpec('openstack', 'topic', True)),
    ({'topic': 'compute'}, QUORUM, '/exchanges/openstack/compute',
     r4.ExchangeSpec('openstack', 'topic', True)),
    ({'topic': 'compute', 'fanout': True}, DEFAULT,
     '/exchanges/compute_fanout',
     r4.ExchangeSpec('compute_fanout', 'fanout', False, auto_delete=True)),
    # fanout wins over server, as in the rabbit driver
    ({'topic': 'compute', 'server': 'h', 'fanout': True},
     TRANSIENT_QUORUM, '/exchanges/compute_fanout',
     r4.ExchangeSpec('compute_fanout', 'fanout', True, auto_delete=True)),
]


@pytest.mark.parametrize('kwargs, options, address, exchange', RPC_SEND)
def test_rpc_send(kwargs, options, address, exchange):
    plan = r4.rpc_send(options=options, **kwargs)
    assert plan.address == address
    assert plan.declare == (exchange,)
    assert not plan.durable
    assert plan.requests() == [r4.ManagementRequest(
        'PUT', '/exchanges/%s' % exchange.name, {
            'type': exchange.type, 'durable': exchange.durable,
            'auto_delete': exchange.auto_delete, 'internal': False,
            'arguments': {}})]


def test_rpc_listen_default():
    plan = r4.rpc_listen('compute', 'host1', 'abc123')
    assert plan.sources == ('/queues/compute', '/queues/compute.host1',
                            '/queues/compute_fanout_abc123')
    shared = dict(durable=False, exclusive=False, auto_delete=False,
                  arguments={})
    # the rabbit driver's fanout and reply queues: transient, expiring
    own = dict(durable=False, exclusive=False, auto_delete=False,
               arguments={'x-expires': 1800000})
    assert plan.requests() == [
        r4.ManagementRequest('PUT', '/exchanges/openstack', {
            'type': 'topic', 'durable': False, 'auto_delete': False,
            'internal': False, 'arguments': {}}),
        r4.ManagementRequest('PUT', '/queues/compute', shared),
        r4.ManagementRequest('POST', '/bindings', {
            'source': 'openstack', 'destination_queue': 'compute',
            'binding_key': 'compute', 'arguments': {}}),
        r4.ManagementRequest('PUT', '/queues/compute.host1', shared),
        r4.ManagementRequest('POST', '/bindings', {
            'source': 'openstack', 'destination_queue': 'compute.host1',
            'binding_key': 'compute.host1', 'arguments': {}}),
        r4.ManagementRequest('PUT', '/exchanges/compute_fanout', {
            'type': 'fanout', 'durable': False, 'auto_delete': True,
            'internal': False, 'arguments': {}}),
        r4.ManagementRequest('PUT', '/queues/compute_fanout_abc123', own),
        r4.ManagementRequest('POST', '/bindings', {
            'source': 'compute_fanout',
            'destination_queue': 'compute_fanout_abc123',
            'binding_key': 'compute', 'arguments': {}}),
    ]
    assert plan.cleanup_requests() == [
        r4.ManagementRequest('DELETE', '/queues/compute_fanout_abc123')]
    assert plan.reply_to is None


@pytest.mark.parametrize(
    'options, shared_args, own_args, durable, own_durable', [
        (DURABLE, {}, {'x-expires': 1800000}, True, False),
        (QUORUM, {'x-queue-type': 'quorum', 'x-delivery-limit': 5},
         {'x-expires': 1800000}, True, False),
        (TRANSIENT_QUORUM, {}, {'x-queue-type': 'quorum',
                                'x-expires': 1800000}, False, True),
        (r4.Options(rabbit_transient_queues_ttl=0), {}, {}, False, False),
    ], ids=['durable', 'quorum', 'transient-quorum', 'no-ttl'])
def test_rpc_listen_options(options, shared_args, own_args, durable,
                            own_durable):
    requests = r4.rpc_listen('t', 's', 'u', options=options).requests()
    queues = {r.path: r.body for r in requests
              if r.path.startswith('/queues/')}
    assert queues['/queues/t']['arguments'] == shared_args
    assert queues['/queues/t']['durable'] is durable
    assert queues['/queues/t.s'] == queues['/queues/t']
    assert queues['/queues/t_fanout_u']['arguments'] == own_args
    assert queues['/queues/t_fanout_u']['durable'] is own_durable


def test_reply_queue():
    plan = r4.reply_queue('0123abcd')
    assert plan.sources == ('/queues/reply_0123abcd',)
    assert plan.reply_to == '/queues/reply_0123abcd'
    assert plan.requests() == [r4.ManagementRequest(
        'PUT', '/queues/reply_0123abcd', {
            'durable': False, 'exclusive': False, 'auto_delete': False,
            'arguments': {'x-expires': 1800000}})]
    assert plan.cleanup_requests() == [
        r4.ManagementRequest('DELETE', '/queues/reply_0123abcd')]


@pytest.mark.parametrize('reply_to, reply_q, address', [
    ('/queues/reply_1', None, '/queues/reply_1'),
    ('/queues/reply_1', 'reply_2', '/queues/reply_1'),
    (None, 'reply_2', '/queues/reply_2'),
], ids=['amqp-caller', 'reply-to-wins', 'rabbit-caller'])
def test_reply_address(reply_to, reply_q, address):
    assert r4.reply_address(reply_to, reply_q) == address


# (kwargs, options, address, queue name, durable)
NOTIFY = [
    ({'topic': 'notifications', 'priority': 'info'}, DEFAULT,
     '/exchanges/openstack/notifications.info', 'notifications.info',
     False),
    ({'topic': 'notifications', 'priority': 'error', 'exchange': 'nova'},
     DURABLE, '/exchanges/nova/notifications.error', 'notifications.error',
     True),
    ({'topic': 'versioned_notifications', 'priority': 'info'}, QUORUM,
     '/exchanges/openstack/versioned_notifications.info',
     'versioned_notifications.info', True),
]


@pytest.mark.parametrize('kwargs, options, address, queue, durable', NOTIFY)
def test_notify_send_declares_the_queue(kwargs, options, address, queue,
                                        durable):
    plan = r4.notify_send(options=options, **kwargs)
    assert plan.address == address
    assert plan.durable is durable
    exchange, spec, binding = plan.declare
    assert (exchange.name, exchange.type, exchange.durable) == (
        kwargs.get('exchange', 'openstack'), 'topic', durable)
    assert (spec.name, spec.durable) == (queue, durable)
    assert binding == r4.BindingSpec(exchange.name, queue, queue)
    # The listener declares the same, so either may come first.
    listen = r4.notify_listen(options=options, **kwargs)
    assert listen.declare == plan.declare
    assert listen.sources == ('/queues/%s' % queue,)
    assert listen.cleanup == ()


def test_notify_listen_pool():
    plan = r4.notify_listen('notifications', 'info', pool='ceilometer')
    assert plan.sources == ('/queues/ceilometer',)
    assert plan.declare[2] == r4.BindingSpec(
        'openstack', 'ceilometer', 'notifications.info')


@pytest.mark.parametrize('status, ok', [
    ('200', True), ('201', True), ('204', True), ('400', False),
    ('403', False), ('404', False), ('409', False)])
def test_check_response(status, ok):
    request = r4.QueueSpec('q', True).declare()
    if ok:
        assert r4.check_response(request, status, {'a': 1}) == {'a': 1}
    else:
        with pytest.raises(r4.ManagementError) as err:
            r4.check_response(request, status, 'why')
        assert (err.value.status, err.value.text) == (status, 'why')
        assert str(err.value) == 'PUT /queues/q: %s why' % status


# --- the driver's addresser ----------------------------------------------

def _target(**kwargs):
    from oslo_messaging import Target
    return Target(**kwargs)


@pytest.mark.parametrize('target, service, address, declared', [
    (dict(topic='t'), 'rpc', '/exchanges/openstack/t', ['openstack']),
    (dict(topic='t', server='s'), 'rpc', '/exchanges/openstack/t.s',
     ['openstack']),
    (dict(topic='t', server='s', fanout=True), 'rpc', '/exchanges/t_fanout',
     ['t_fanout']),
    (dict(topic='t', exchange='nova'), 'rpc', '/exchanges/nova/t',
     ['nova']),
    (dict(topic='n.info'), 'notify', '/exchanges/openstack/n.info',
     ['openstack', 'n.info', 'openstack->n.info']),
], ids=['topic', 'server', 'fanout', 'exchange', 'notification'])
def test_addresser_send_plan(target, service, address, declared):
    plan = r4.Addresser().send_plan(_target(**target), service)
    assert plan.address == address
    assert r4.Addresser().resolve(_target(**target), service) == address
    names = [getattr(s, 'name', None) or '%s->%s' % (s.exchange, s.queue)
             for s in plan.declare]
    assert names == declared


def test_addresser_exchanges():
    addresser = r4.Addresser(r4.Options(control_exchange='ctl'), 'rpcx',
                             'notifyx')
    assert addresser.resolve(_target(topic='t')) == '/exchanges/rpcx/t'
    assert addresser.resolve(_target(topic='n.info'), 'notify') == \
        '/exchanges/notifyx/n.info'
    plain = r4.Addresser(r4.Options(control_exchange='ctl'))
    assert plain.resolve(_target(topic='t')) == '/exchanges/ctl/t'


def test_addresser_listen_plan():
    t = _target(topic='t', server='s')
    addresses, declare, cleanup = r4.Addresser().listen_plan(
        [(t, 'unicast', 'rpc'), (t, 'multicast', 'rpc'),
         (t, 'anycast', 'rpc')], 'u1')
    assert addresses == ('/queues/t.s', '/queues/t_fanout_u1', '/queues/t')
    assert declare == r4.rpc_listen('t', 's', 'u1').declare
    assert [q.name for q in cleanup] == ['t_fanout_u1']
    notify = [(_target(topic='n.info'), 'anycast', 'notify'),
              (_target(topic='n.error'), 'anycast', 'notify')]
    addresses, declare, cleanup = r4.Addresser().listen_plan(notify, 'u2')
    assert addresses == ('/queues/n.info', '/queues/n.error')
    # the exchange once, each queue and its binding
    assert [type(s).__name__ for s in declare] == [
        'ExchangeSpec', 'QueueSpec', 'BindingSpec', 'QueueSpec',
        'BindingSpec']
    assert cleanup == ()


def test_options_from_the_rabbit_group():
    class Group:
        amqp_durable_queues = True
        rabbit_quorum_queue = False
        rabbit_transient_queues_ttl = 60
    options = r4.options_from(Group(), 'nova')
    assert options == r4.Options(control_exchange='nova',
                                 amqp_durable_queues=True,
                                 rabbit_transient_queues_ttl=60)
    assert r4.options_from(None, None) == r4.Options()
