"""Unit tests of amqp1_fixtures.rabbit.messages: the head RabbitMQ 4
gives a delivery (as rabbitmq-server 4.0.5 was seen to), the bare message
kept as it came."""

import pytest
from proton import Data
from proton import Described
from proton import Message
from proton import symbol
from proton import ulong

from amqp1_fixtures.rabbit import messages


def _sections(*sections):
    """Encoded sections ``(descriptor, value)``, by proton's codec."""
    data = Data()
    for descriptor, value in sections:
        data.put_object(Described(ulong(descriptor), value))
    return bytes(data.encode())


def _delivered(message, exchange='x1', key='k1', times=1):
    queued = messages.QueuedMessage(messages.parse(message.encode()),
                                    exchange, key)
    for _ in range(times):
        data = queued.encode()
    received = Message()
    received.decode(data)
    return queued, received, data


def test_durable_unless_the_header_says_false():
    # proton always sends a header, with durable left out when false:
    # RabbitMQ 4 takes that as durable.
    queued, received, _ = _delivered(Message(body='a', durable=False))
    assert queued.durable and received.durable
    no_header = messages.parse(_sections((0x77, 'a')))
    assert no_header.header is None and no_header.durable
    explicit = messages.parse(_sections((0x70, [False]), (0x77, 'a')))
    assert explicit.header == [False] and not explicit.durable
    _, received, _ = _delivered(Message(body='a'))
    delivered = messages.QueuedMessage(explicit, '', 'q')
    received.decode(delivered.encode())
    assert not received.durable


def test_first_acquirer_and_delivery_count():
    queued, first, _ = _delivered(Message(body='a'))
    assert (first.first_acquirer, first.delivery_count) == (True, 0)
    queued.delivery_failed()
    again = Message()
    again.decode(queued.encode())
    assert (again.first_acquirer, again.delivery_count) == (False, 1)


def test_annotations_name_where_it_was_published():
    _, received, _ = _delivered(Message(
        body='a', annotations={symbol('x-opt-mine'): 'kept',
                               symbol('x-exchange'): 'claimed'}))
    assert received.annotations == {
        symbol('x-opt-mine'): 'kept', symbol('x-exchange'): 'x1',
        symbol('x-routing-key'): 'k1'}


def test_bare_message_kept_and_delivery_annotations_dropped():
    sent = Message(body={'k': [1, 2]}, id='id-1', reply_to='/queues/r',
                   properties={'p': 'v'}, subject='s',
                   instructions={symbol('x-hop'): 1})
    parsed = messages.parse(sent.encode())
    assert parsed.to is None and parsed.user_id is None
    _, received, data = _delivered(sent)
    assert data.endswith(parsed.bare)
    assert received.instructions is None
    assert (received.body, received.id, received.reply_to,
            received.properties, received.subject) == (
        {'k': [1, 2]}, 'id-1', '/queues/r', {'p': 'v'}, 's')


def test_user_id_and_to():
    parsed = messages.parse(Message(body='a', user_id=b'u1',
                                    address='/queues/q').encode())
    assert (parsed.user_id, parsed.to) == (b'u1', '/queues/q')


@pytest.mark.parametrize('message, expected', [
    (Message(body='a'), True),
    (Message(body=b'a'), True),
    (Message(), False),
    (Message(subject='GET', address='/queues/q'), False),
])
def test_has_body(message, expected):
    assert messages.has_body(message.encode()) is expected


def test_undecodable_head():
    with pytest.raises(messages.MessageError):
        messages.parse(_sections((0x70, [True]))[:-2])
