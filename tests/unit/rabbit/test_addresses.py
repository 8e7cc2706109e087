"""Unit tests of amqp1_fixtures.rabbit.addresses: every address and the
text of each refusal as rabbitmq-server 4.0.5 gave them (the behaviour
tests check the same on the real node and the fake)."""

import pytest

from amqp1_fixtures.rabbit import addresses
from amqp1_fixtures.rabbit.addresses import Node
from amqp1_fixtures.rabbit.topology import SessionError

BAD = 'Attach rejected: {bad_address_string,<<"%s">>}'
UNKNOWN = 'Attach rejected: {unknown_destination,"%s"}'
BAD_SOURCE = 'Attach rejected: {bad_address,{utf8,<<"%s">>}}'
INVALID = 'Attach rejected: {invalid_destination,%s,"/"}'

#: address -> (as a target, as a source): a Node, or the refusal's text
TABLE = {
    '/queues/q1': (Node('queue', 'q1'), Node('queue', 'q1')),
    '/queues/a%2Fb': (Node('queue', 'a/b'), Node('queue', 'a/b')),
    '/queues/': (BAD % '/queues/', Node('queue', '')),
    '/queues/q/x': (BAD % '/queues/q/x', BAD_SOURCE % '/queues/q/x'),
    '/queues/%ZZ': (BAD % '/queues/%ZZ', BAD_SOURCE % '/queues/%ZZ'),
    '/exchanges/x1': (Node('exchange', 'x1'), UNKNOWN % '/exchanges/x1'),
    '/exchanges/x1/k': (Node('exchange', 'x1', 'k'),
                        UNKNOWN % '/exchanges/x1/k'),
    '/exchanges/amq.topic/a%2Fb': (Node('exchange', 'amq.topic', 'a/b'),
                                   UNKNOWN % '/exchanges/amq.topic/a%2Fb'),
    '/exchanges/x/a/b': (BAD % '/exchanges/x/a/b',
                         UNKNOWN % '/exchanges/x/a/b'),
    '/exchanges/': (BAD % '/exchanges/', UNKNOWN % '/exchanges/'),
    '/exchanges/amq.default': (BAD % '/exchanges/amq.default',
                               UNKNOWN % '/exchanges/amq.default'),
    '/queue/q1': (Node('queue', 'q1', declare=True),
                  Node('queue', 'q1', declare=True)),
    '/queue/': (INVALID % 'queue', INVALID % 'queue'),
    '/topic/a.b': (Node('exchange', 'amq.topic', 'a.b'),
                   Node('exchange', 'amq.topic', 'a.b', bind=True)),
    '/topic/': (INVALID % 'topic', INVALID % 'topic'),
    '/exchange/x1/k': (Node('exchange', 'x1', 'k'),
                       Node('exchange', 'x1', 'k', bind=True)),
    '/exchange/amq.direct': (Node('exchange', 'amq.direct'),
                             Node('exchange', 'amq.direct', bind=True)),
    '/amq/queue/q1': (Node('queue', 'q1'), Node('queue', 'q1')),
    'plain': (Node('queue', 'plain', declare=True),
              Node('queue', 'plain', declare=True)),
    'openstack.org/om/rpc/anycast/t/s': (
        UNKNOWN % 'openstack.org/om/rpc/anycast/t/s',
        UNKNOWN % 'openstack.org/om/rpc/anycast/t/s'),
}


def _check(parse, address, expected):
    if isinstance(expected, str):
        with pytest.raises(SessionError) as err:
            parse(address)
        assert (err.value.condition, err.value.description) == (
            'amqp:invalid-field', expected)
    else:
        assert parse(address) == expected


@pytest.mark.parametrize('address', sorted(TABLE))
def test_target(address):
    _check(addresses.target, address, TABLE[address][0])


@pytest.mark.parametrize('address', sorted(TABLE))
def test_source(address):
    _check(addresses.source, address, TABLE[address][1])


def test_null_target_is_the_anonymous_relay():
    assert addresses.target(None) is None
    assert addresses.target('') is None


@pytest.mark.parametrize('to, node', [
    ('/queues/q1', Node('queue', 'q1')),
    ('/exchanges/x1/a.b', Node('exchange', 'x1', 'a.b')),
    ('/exchanges/x1', Node('exchange', 'x1')),
])
def test_relay_target(to, node):
    assert addresses.relay_target(to) == node


@pytest.mark.parametrize('to, description', [
    (None, "anonymous terminus requires 'to' address to be set"),
    ('q1', "bad 'to' address string: q1"),
    ('/queue/q1', "bad 'to' address string: /queue/q1"),
    ('/queues/', "bad 'to' address string: /queues/"),
    ('/exchanges/amq.direct/a/b',
     "bad 'to' address string: /exchanges/amq.direct/a/b"),
    ('/exchanges/amq.default/q',
     "bad 'to' address string: /exchanges/amq.default/q"),
])
def test_relay_target_rejected(to, description):
    with pytest.raises(addresses.Rejected) as err:
        addresses.relay_target(to)
    assert (err.value.condition, err.value.description) == (
        'amqp:precondition-failed', description)


@pytest.mark.parametrize('node, exchange, key', [
    (Node('queue', 'q1'), '', 'q1'),
    (Node('exchange', 'x1', 'k'), 'x1', 'k'),
])
def test_where_a_message_is_published(node, exchange, key):
    assert (node.exchange, node.routing_key) == (exchange, key)
