"""amqp1_driver.rabbit_codec: the rabbit driver's message format, what
oslo.messaging's own ``rabbit://`` driver reads and writes (its
``amqpdriver`` helpers are the reference), and the driver's decoder
reading it."""

import sys

from oslo_messaging._drivers import amqp as rabbit_amqp
from oslo_messaging._drivers import common
from oslo_serialization import jsonutils
from proton import Message
import pytest

from amqp1_driver import codec
from amqp1_driver import rabbit_codec as rc


def _as_rabbit_listener(text):
    """What the rabbit driver's listener unpacks from a body: kombu's
    JSON, then ``deserialize_msg`` and ``unpack_context``."""
    message = common.deserialize_msg(jsonutils.loads(text))
    ctxt = rabbit_amqp.unpack_context(message)
    unique_id = rabbit_amqp._MsgIdCache().check_duplicate_message(message)
    return message, ctxt, unique_id


def test_call_as_the_rabbit_driver_reads_it():
    text = rc.request({'method': 'echo', 'args': {'v': 1}},
                      {'user': 'u1', 'project': 'p1'}, msg_id='m1',
                      reply_q='reply_abc', call_monitor_timeout=7)
    message, ctxt, unique_id = _as_rabbit_listener(text)
    assert message == {'method': 'echo', 'args': {'v': 1}}
    assert (ctxt.msg_id, ctxt.reply_q, ctxt.client_timeout) == (
        'm1', 'reply_abc', 7)
    assert ctxt.to_dict()['user'] == 'u1'
    assert len(unique_id) == 32


def test_cast_and_notification_envelopes():
    cast = jsonutils.loads(rc.request({'method': 'm'}, {}))
    assert cast['oslo.version'] == '2.0'
    assert '_msg_id' not in jsonutils.loads(cast['oslo.message'])
    v1 = jsonutils.loads(rc.request({'event_type': 'e'}, {},
                                    envelope=False))
    assert v1['event_type'] == 'e' and '_unique_id' in v1


def test_request_round_trip_through_the_driver_decoder():
    out = codec.request({'method': 'echo'}, {'user': 'u1'},
                        call_monitor_timeout=5, ttl=30)
    data = rc.Encoder().encode(out, '/exchanges/openstack/t', 'm1',
                               '/queues/reply_abc')
    msg = Message()
    msg.decode(data)
    assert (msg.content_type, msg.content_encoding, msg.address,
            msg.reply_to, msg.id, msg.ttl) == (
        'application/json', 'utf-8', '/exchanges/openstack/t',
        '/queues/reply_abc', 'm1', 30)
    # a data section (bytes), not an amqp-value
    assert isinstance(msg.body, (bytes, memoryview))
    assert codec.Decoder().request(data) == (
        {'method': 'echo'}, {'user': 'u1'}, 5, 'm1', '/queues/reply_abc')


def test_a_rabbit_caller_is_answered_through_its_reply_queue():
    """A request without ``reply-to`` (from rabbit://): the reply goes to
    ``/queues/<_reply_q>``."""
    text = rc.request({'method': 'echo'}, {}, msg_id='m2',
                      reply_q='reply_xyz')
    data = rc.Encoder().encode_text(text, '/exchanges/openstack/t')
    assert codec.Decoder().request(data)[3:] == ('m2', '/queues/reply_xyz')


def test_replies_and_heartbeats():
    decoder = codec.Decoder()
    encoder = rc.Encoder()
    reply = codec.reply('m1', {'r': 1})
    assert decoder.reply(encoder.encode(reply, '/queues/q')) == (
        'm1', {'response': {'r': 1}})
    beat = codec.heartbeat('m1', 10)
    assert decoder.reply(encoder.encode(beat, '/queues/q')) == ('m1', None)
    try:
        raise ValueError('boom')
    except ValueError:
        failure = codec.reply('m1', failure=sys.exc_info())
    msg_id, body = decoder.reply(encoder.encode(failure, '/queues/q'))
    result, error = codec.parse_reply_body(body, [])
    assert (msg_id, result) == ('m1', None)
    assert isinstance(error, ValueError) and 'boom' in str(error)


def test_reply_as_the_rabbit_driver_reads_it():
    text = rc.reply('m1', {'r': 1})
    message = common.deserialize_msg(jsonutils.loads(text))
    assert (message['_msg_id'], message['result'], message['failure'],
            message['ending']) == ('m1', {'r': 1}, None, True)


def test_a_rabbit_format_body_follows_the_reply_address():
    out = codec.request({'method': 'echo'}, {})
    rc.text_of(out, 'm1', '/queues/reply_old')
    data = rc.Encoder().encode(out, '/exchanges/x/t', 'm1',
                               '/queues/reply_new')
    assert codec.Decoder().request(data)[4] == '/queues/reply_new'
    message = common.deserialize_msg(jsonutils.loads(out.rabbit))
    assert message['_reply_q'] == 'reply_new'


@pytest.mark.parametrize('body', [b'not json', b'[1, 2]', b'\xff'])
def test_undecodable(body):
    data = rc.Encoder().encode_text('x', '/q')
    msg = Message()
    msg.decode(data)
    msg.body = body
    msg.inferred = True
    with pytest.raises(codec.DecodeError):
        codec.Decoder().request(msg.encode())


def test_lazy_bodies_are_built_for_another_peer():
    """Built for RabbitMQ 4 only (``lazy``): the driver's own JSON is made
    when the message goes to another peer after all (a failover)."""
    out = codec.request({'method': 'echo'}, {'u': 1}, lazy=True)
    assert out.body is None
    assert codec.Decoder().request(codec.Encoder().encode(out, 'a'))[:2] \
        == ({'method': 'echo'}, {'u': 1})
    reply = codec.reply('m1', {'r': 2}, lazy=True)
    rc.text_of(reply)
    decoder = codec.Decoder()
    assert decoder.reply(codec.Encoder().encode(reply, 'a')) == (
        'm1', '{"response": {"r": 2}}')
    assert decoder.reply(rc.Encoder().encode(reply, 'a')) == (
        'm1', {'response': {'r': 2}})
