"""Unit tests of amqp1_fixtures.rabbit.topology: the management cases
and topic table of tests/rabbitmq4_cases.py (the real broker's answers,
checked by tests/functional/test_rabbitmq4_behaviour.py) on the model,
and its routing."""

import pytest

from amqp1_fixtures.rabbit import topology as topo
from tests import rabbitmq4_cases


@pytest.mark.parametrize('case', [c[1] for c in rabbitmq4_cases.CASES],
                         ids=[c[0] for c in rabbitmq4_cases.CASES])
def test_management_cases(case):
    handler = topo.ManagementHandler(topo.Topology())
    names = rabbitmq4_cases.unique_names()
    for method, path, body, status, expected in case:
        path, body, expected = (rabbitmq4_cases.fill(path, names),
                                rabbitmq4_cases.fill(body, names),
                                rabbitmq4_cases.fill(expected, names))
        if body == 'NO-BODY-SECTION':
            body = topo.NO_BODY
        if status == 'end':
            with pytest.raises(topo.SessionError) as err:
                handler.handle(method, path, body, message_id='m1')
            assert err.value.condition == expected
            continue
        response = handler.handle(method, path, body, message_id='m1')
        assert (method, path, response.status) == (method, path, status), \
            response.body
        rabbitmq4_cases.check_body(response.body, expected)
        assert response.correlation_id == 'm1'
        assert response.application_properties == {'http:response': '1.1'}


@pytest.mark.parametrize('binding, key, matches',
                         rabbitmq4_cases.TOPIC_MATCHES)
def test_topic_matches(binding, key, matches):
    assert topo.topic_matches(binding, key) is matches


def _topology():
    t = topo.Topology()
    for name in ('q1', 'q2', 'q3'):
        t.declare_queue(name)
    return t


@pytest.mark.parametrize('kind, bindings, key, queues', [
    ('direct', [('q1', 'a'), ('q2', 'b'), ('q3', 'a')], 'a', ['q1', 'q3']),
    ('direct', [('q1', 'a')], 'b', []),
    ('fanout', [('q1', 'x'), ('q2', 'y')], 'anything', ['q1', 'q2']),
    ('topic', [('q1', 'a.*'), ('q2', 'a.#'), ('q3', '*.b')], 'a.b',
     ['q1', 'q2', 'q3']),
    ('topic', [('q1', 'a.*'), ('q2', 'a.#')], 'a', ['q2']),
    # Two bindings of one queue: it gets the message once.
    ('topic', [('q1', 'a.*'), ('q1', '#')], 'a.b', ['q1']),
    ('headers', [('q1', '')], '', []),
], ids=['direct', 'direct-unroutable', 'fanout', 'topic', 'topic-hash',
        'topic-once', 'headers-not-modelled'])
def test_route(kind, bindings, key, queues):
    t = _topology()
    t.declare_exchange('x', kind)
    for queue, binding_key in bindings:
        t.bind('x', 'queue', queue, binding_key)
    assert t.route('x', key) == queues


def test_default_exchange_routes_to_the_queue_named_by_the_key():
    t = _topology()
    assert t.route('', 'q2') == ['q2']
    assert t.route('', 'nope') == []


def test_exchange_to_exchange():
    t = _topology()
    t.declare_exchange('front', 'fanout')
    t.declare_exchange('back', 'direct')
    t.bind('front', 'exchange', 'back', '')
    t.bind('back', 'queue', 'q1', 'k')
    t.bind('back', 'exchange', 'front', '')  # a loop is harmless
    assert t.route('front', 'k') == ['q1']
    assert t.route('front', 'other') == []


def test_route_to_a_missing_exchange():
    with pytest.raises(topo.TopologyError) as err:
        topo.Topology().route('nope', 'k')
    assert (err.value.status, err.value.text) == (
        '404', "no exchange 'nope' in vhost '/'")


def test_deleting_a_queue_removes_its_bindings():
    t = _topology()
    t.declare_exchange('x', 'fanout')
    t.bind('x', 'queue', 'q1', '')
    t.queues['q1'].message_count = 3
    assert t.delete_queue('q1') == 3
    assert t.route('x', '') == []
    t.declare_queue('q1')
    assert t.route('x', '') == []


def test_exclusive_queues_belong_to_their_connection():
    t = topo.Topology()
    t.declare_queue('mine', durable=False, exclusive=True, owner='c1')
    t.declare_queue('shared')
    with pytest.raises(topo.TopologyError) as err:
        t.delete_queue('mine', owner='c2')
    assert (err.value.status, err.value.text) == (
        '400', "cannot obtain exclusive access to locked queue 'mine' in "
        "vhost '/'")
    assert t.connection_closed('c1') == ['mine']
    assert sorted(t.queues) == ['shared']


def test_auto_delete_goes_with_its_last_consumer():
    t = topo.Topology()
    queue, _ = t.declare_queue('q', auto_delete=True)
    queue.consumer_count = 2
    assert not t.consumer_detached('q')
    assert t.consumer_detached('q')
    assert 'q' not in t.queues


def test_binding_locations():
    assert topo.binding_location('x', 'queue', 'q/1', 'a.*') == \
        '/bindings/src=x;dstq=q%2F1;key=a.%2A;args='
    assert topo.binding_location('x', 'exchange', 'y', '') == \
        '/bindings/src=x;dste=y;key=;args='
    with_args = topo.binding_location('x', 'queue', 'q', 'k', {'a': 1})
    assert with_args.startswith('/bindings/src=x;dstq=q;key=k;args=')
    assert not with_args.endswith('args=')


def test_binding_with_arguments_round_trip():
    handler = topo.ManagementHandler(_topology())
    handler.handle('PUT', '/exchanges/x', {'type': 'direct'})
    assert handler.handle('POST', '/bindings', {
        'source': 'x', 'destination_queue': 'q1', 'binding_key': 'k',
        'arguments': {'a': 1}}).status == '204'
    listed = handler.handle('GET', '/bindings?src=x&dstq=q1&key=k', None)
    location = listed.body[0]['location']
    assert handler.handle('DELETE', location, None).status == '204'
    assert handler.handle('GET', '/bindings?src=x&dstq=q1&key=k',
                          None).body == []


def test_server_named_queues_may_use_the_reserved_prefix():
    t = topo.Topology()
    with pytest.raises(topo.TopologyError):
        t.declare_queue('amq.gen-1')
    queue, created = t.declare_queue('amq.gen-1', server_named=True)
    assert created and queue.name == 'amq.gen-1'


def test_auto_delete_exchange_goes_with_its_last_binding():
    t = _topology()
    t.declare_exchange('x1', 'fanout', auto_delete=True)
    t.declare_exchange('x2', 'fanout', auto_delete=True)
    t.bind('x1', 'queue', 'q1', '')
    t.bind('x1', 'queue', 'q2', '')
    t.bind('x2', 'exchange', 'x1', '')
    t.delete_queue('q1')
    assert 'x1' in t.exchanges
    t.unbind('x1', 'queue', 'q2', '')
    # x1 lost its last binding; x2 its only one, to x1.
    assert 'x1' not in t.exchanges and 'x2' not in t.exchanges


def test_durable_copy_is_what_a_restart_keeps():
    t = topo.Topology()
    t.declare_queue('kept', arguments={'x-expires': 1000})
    t.declare_queue('transient', durable=False)
    t.declare_queue('mine', exclusive=True, owner='conn')
    t.declare_exchange('dx', 'topic')
    t.declare_exchange('tx', 'topic', durable=False)
    for exchange in ('dx', 'tx', 'amq.topic'):
        for queue in ('kept', 'transient'):
            t.bind(exchange, 'queue', queue, 'k')
    t.queues['kept'].message_count = 3
    kept = t.durable_copy()
    assert sorted(kept.queues) == ['kept']
    assert kept.queues['kept'].arguments == {'x-expires': 1000,
                                             'x-queue-type': 'classic'}
    assert kept.queues['kept'].message_count == 0
    assert 'dx' in kept.exchanges and 'tx' not in kept.exchanges
    assert kept.route('dx', 'k') == ['kept']
    assert kept.route('amq.topic', 'k') == ['kept']
    # The original is untouched.
    assert t.route('tx', 'k') == ['kept', 'transient']
