"""Message layout of the 14.x driver, without any I/O.

Every body is one AMQP-value section holding a UTF-8 JSON string:

=============  ==============================================================
request        ``{"request": msg, "context": ctxt[, "call_monitor_timeout"]}``
               (notifications of version 2.0 envelope ``msg``)
reply          ``{"response": result}`` or ``{"failure": "<json string>"}``
heartbeat      no body; ``correlation-id`` and ``ttl`` only
=============  ==============================================================

``message-id`` is ``uuid4().hex`` (a str) and a reply's ``correlation-id``
is the request's ``message-id``.  Like the old driver we put ``ttl`` on
calls; unlike it we set no ``absolute-expiry-time`` (the old one put a
monotonic clock reading there) and we never enforce one we receive.

The calling thread builds an :class:`Outgoing` (the JSON body and the
fields it knows); the I/O thread's :class:`Encoder` turns it into bytes
with the address and ids it knows, and its :class:`Decoder` reads what
arrives.  Both reuse one proton message and call proton's C binding
directly: a :class:`proton.Message` per message costs three times as
much (four :class:`proton.Data` wrappers per encode or decode, and an
encode buffer grown from 16 bytes by doubling).  The bytes are proton's
encoding either way.
"""

import uuid

import cproton
import cproton_ffi
import proton
from oslo_messaging._drivers import common
from oslo_serialization import jsonutils

from amqp1_driver import rabbit_codec
from amqp1_driver import rabbitmq4

_lib = cproton_ffi.lib
_OVERFLOW = _lib.PN_OVERFLOW
_STRING = _lib.PN_STRING


class DecodeError(ValueError):
    """A received message does not have the layout of this driver."""


class Outgoing:
    """A message to send, as its caller builds it.

    :param body: the JSON text, or None (a heartbeat has no body).
    :param ttl: the header's time-to-live in seconds, or None.
    :param correlation_id: a reply's or heartbeat's correlation-id.
    :param parts: what the body was built from, for the rabbit driver's
        format (:mod:`amqp1_driver.rabbit_codec`): ``('request', message,
        ctxt, envelope, call_monitor_timeout)`` or ``('reply', result,
        serialized failure, ending)``.
    :ivar rabbit: the body in the rabbit driver's format, once built (by
        the caller when it knows the peer is RabbitMQ 4, else by the I/O
        thread's encoder), and ``rabbit_reply_to``, the reply address it
        names.
    """

    __slots__ = ('body', 'ttl', 'correlation_id', 'parts', 'rabbit',
                 'rabbit_reply_to')

    def __init__(self, body=None, ttl=None, correlation_id=None,
                 parts=None):
        self.body = body
        self.ttl = ttl
        self.correlation_id = correlation_id
        self.parts = parts
        self.rabbit = None
        self.rabbit_reply_to = None


def new_message_id():
    """A message-id as the 14.x driver makes them: 32 hex digits."""
    return uuid.uuid4().hex


def request(message, ctxt, envelope=False, call_monitor_timeout=None,
            ttl=None, lazy=False):
    """Build an RPC request or notification.

    :param message: the payload dict.
    :param ctxt: the context dict.
    :param envelope: wrap ``message`` in the 2.0 envelope (notifications).
    :param call_monitor_timeout: put into the body for call monitoring.
    :param ttl: seconds, the header's time-to-live (calls only).
    :param lazy: leave this driver's JSON body unbuilt (the peer is
        RabbitMQ 4, whose format the caller builds): the encoder builds it
        if the message goes to another peer after all.
    :returns: an :class:`Outgoing`.
    """
    parts = ('request', message, ctxt, envelope, call_monitor_timeout)
    if lazy:
        return Outgoing(None, ttl or None, parts=parts)
    return Outgoing(_request_json(*parts[1:]), ttl or None, parts=parts)


def _request_json(message, ctxt, envelope, call_monitor_timeout):
    if envelope:
        message = common.serialize_msg(message)
    data = {'request': message, 'context': ctxt}
    if call_monitor_timeout is not None:
        data['call_monitor_timeout'] = call_monitor_timeout
    return jsonutils.dumps(data)


def parse_request(msg):
    """Decode a request: ``(message, context, call_monitor_timeout)``.

    :raises DecodeError: the body is not the JSON this driver sends.
    """
    data = _json(msg.body)
    try:
        body = common.deserialize_msg(data.get('request'))
    except Exception as exc:
        raise DecodeError('bad request envelope: %s' % exc) from exc
    return body, data.get('context'), data.get('call_monitor_timeout')


def reply(correlation_id, result=None, failure=None, lazy=False):
    """Build an RPC reply.

    :param failure: ``sys.exc_info()`` of the remote failure, or None.
    :param lazy: see :func:`request`.
    :returns: an :class:`Outgoing`.
    """
    if failure is not None:
        failure = common.serialize_remote_exception(failure)
    parts = ('reply', result, failure, True)
    if lazy:
        return Outgoing(None, correlation_id=correlation_id, parts=parts)
    return Outgoing(_reply_json(result, failure),
                    correlation_id=correlation_id, parts=parts)


def _reply_json(result, failure):
    if failure is not None:
        return jsonutils.dumps({'failure': failure})
    return jsonutils.dumps({'response': result})


def body_of(out):
    """This driver's JSON body of ``out`` (built now if the caller left
    it out), or None (a heartbeat)."""
    if out.body is None and out.parts is not None:
        kind = out.parts[0]
        if kind == 'request':
            out.body = _request_json(*out.parts[1:])
        elif out.parts[3]:
            out.body = _reply_json(out.parts[1], out.parts[2])
    return out.body


def heartbeat(correlation_id, ttl):
    """Build a call-monitor heartbeat: no body, ``ttl`` in seconds."""
    return Outgoing(None, ttl or None, correlation_id,
                    parts=('reply', None, None, False))


def is_heartbeat(msg):
    """True for a body-less message (a call-monitor heartbeat)."""
    return msg.body is None


def parse_reply(msg, allowed_remote_exmods):
    """The result of a reply, or the remote exception *object* to raise.

    :returns: ``(result, exception)``; one of them is None.
    :raises DecodeError: the body is not a reply of this driver.
    """
    return parse_reply_body(msg.body, allowed_remote_exmods)


def parse_reply_body(body, allowed_remote_exmods):
    """:func:`parse_reply` of a reply's body (see :class:`Decoder`): its
    JSON text, or the dict a rabbit-format reply was read into."""
    data = body if isinstance(body, dict) else _json(body)
    failure = data.get('failure')
    if failure is not None:
        return None, common.deserialize_remote_exception(
            failure, allowed_remote_exmods)
    return data.get('response'), None


def _msgid(value):
    # a binary id comes as a view into the message's buffer
    if isinstance(value, memoryview):
        return value.tobytes()
    return value


class Encoder:
    """Encodes :class:`Outgoing` messages with one reused proton message.

    Owns that message; for one thread only (the I/O thread).  The bytes
    are those :class:`proton.Message` (``inferred=True``, as 14.x) would
    produce for the same fields.
    """

    def __init__(self):
        self._msg = cproton.pn_message()

    def __del__(self):
        msg, self._msg = self._msg, None
        if msg is not None:
            cproton.pn_message_free(msg)

    def encode(self, out, address, msg_id=None, reply_to=None):
        """The encoded message: ``out`` sent to ``address``.

        :param msg_id: the message-id (calls), or None.
        :param reply_to: the reply-to address (calls), or None.
        :returns: a bytes-like object.
        """
        m = self._msg
        _lib.pn_message_clear(m)
        # inferred keeps a bytes body from becoming vbin8 (RabbitMQ's old
        # 1.0 plugin could not read it); a str body is an AMQP value
        _lib.pn_message_set_inferred(m, True)
        cproton.pn_message_set_address(m, address)
        if msg_id is not None:
            cproton.pn_message_set_id(m, msg_id)
        if reply_to is not None:
            cproton.pn_message_set_reply_to(m, reply_to)
        if out.correlation_id is not None:
            cproton.pn_message_set_correlation_id(m, out.correlation_id)
        if out.ttl:
            _lib.pn_message_set_ttl(m, int(out.ttl * 1000))
        body = out.body
        if body is None:
            body = body_of(out)
        size = 512
        if body is not None:
            cproton.pn_data_put_string(_lib.pn_message_body(m), body)
            size += 4 * len(body)
        while True:
            err, data = cproton.pn_message_encode(m, size)
            if err != _OVERFLOW:
                break
            size *= 2
        if err < 0:
            raise proton.MessageException('cannot encode the message: %s'
                                          % err)
        return data


class Decoder:
    """Decodes received messages with one reused proton message.

    Owns that message; for one thread only (the I/O thread, or one poll
    thread).
    """

    def __init__(self):
        self._msg = cproton.pn_message()

    def __del__(self):
        msg, self._msg = self._msg, None
        if msg is not None:
            cproton.pn_message_free(msg)

    def _decode(self, data):
        m = self._msg
        # decode leaves a section the data lacks as the last message had it
        _lib.pn_message_clear(m)
        err = cproton.pn_message_decode(m, data)
        if err < 0:
            raise DecodeError('cannot decode the message: proton error %d'
                              % err)
        # proton decodes the body section when it is asked for it
        body = _lib.pn_message_body(m)
        _lib.pn_data_rewind(body)
        if not _lib.pn_data_next(body):
            return None
        if _lib.pn_data_type(body) == _STRING:
            return cproton.pn_data_get_string(body)
        value = proton.Data(body).get_object()
        if isinstance(value, memoryview):
            return value.tobytes()
        return value

    def _data_section(self, body):
        """True if the last message's body was a data section (what the
        rabbit driver's format is; an amqp-value binary is this driver's
        own JSON)."""
        return isinstance(body, bytes) and bool(
            _lib.pn_message_is_inferred(self._msg))

    def reply(self, data):
        """``(correlation_id, body)`` of an encoded reply or heartbeat
        (``body`` None); a data section is a reply in the rabbit driver's
        format (RabbitMQ 4), keyed by its ``_msg_id``."""
        body = self._decode(data)
        if self._data_section(body):
            return rabbit_codec.parse_reply(body)
        return _msgid(cproton.pn_message_get_correlation_id(self._msg)), body

    def request(self, data):
        """``(message, context, call_monitor_timeout, id, reply_to)``.

        :raises DecodeError: not a message of this driver's layout.
        """
        try:
            text = self._decode(data)
        except DecodeError:
            raise
        except Exception as exc:  # noqa: B902 - proton's errors vary
            raise DecodeError('cannot decode the message: %s' % exc) from exc
        if self._data_section(text):
            # the rabbit driver's format (RabbitMQ 4)
            try:
                message, ctxt, timeout, msg_id, reply_q = \
                    rabbit_codec.parse_request(text)
            except rabbit_codec.DecodeError as exc:
                raise DecodeError(str(exc)) from exc
            reply_to = None
            if msg_id is not None:
                reply_to = rabbitmq4.reply_address(
                    cproton.pn_message_get_reply_to(self._msg), reply_q)
            return message, ctxt, timeout, msg_id, reply_to
        data = _json(text)
        try:
            body = common.deserialize_msg(data.get('request'))
        except Exception as exc:
            raise DecodeError('bad request envelope: %s' % exc) from exc
        m = self._msg
        return (body, data.get('context'), data.get('call_monitor_timeout'),
                _msgid(cproton.pn_message_get_id(m)),
                cproton.pn_message_get_reply_to(m))


def _json(body):
    if isinstance(body, bytes):
        try:
            body = body.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise DecodeError('message body is not UTF-8: %s' % exc) from exc
    if not isinstance(body, str):
        raise DecodeError('message body is %s, not a JSON string'
                          % type(body).__name__)
    try:
        data = jsonutils.loads(body)
    except ValueError as exc:
        raise DecodeError('message body is not JSON: %s' % exc) from exc
    if not isinstance(data, dict):
        raise DecodeError('message body is not a JSON object')
    return data
