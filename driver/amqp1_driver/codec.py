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
"""

import uuid

import proton
from oslo_messaging._drivers import common
from oslo_serialization import jsonutils


class DecodeError(ValueError):
    """A received message does not have the layout of this driver."""


def _message(body=None):
    # inferred=True keeps a bytes body from becoming vbin8 (RabbitMQ's old
    # 1.0 plugin could not read it); a str body is an AMQP value either way.
    msg = proton.Message(inferred=True)
    if body is not None:
        msg.body = body
    return msg


def new_message_id():
    """A message-id as the 14.x driver makes them: 32 hex digits."""
    return uuid.uuid4().hex


def request(message, ctxt, envelope=False, call_monitor_timeout=None,
            ttl=None):
    """Build an RPC request or notification.

    :param message: the payload dict.
    :param ctxt: the context dict.
    :param envelope: wrap ``message`` in the 2.0 envelope (notifications).
    :param call_monitor_timeout: put into the body for call monitoring.
    :param ttl: seconds, the header's time-to-live (calls only).
    :returns: a :class:`proton.Message` with no address set.
    """
    if envelope:
        message = common.serialize_msg(message)
    data = {'request': message, 'context': ctxt}
    if call_monitor_timeout is not None:
        data['call_monitor_timeout'] = call_monitor_timeout
    msg = _message(jsonutils.dumps(data))
    if ttl:
        msg.ttl = ttl
    return msg


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


def reply(correlation_id, result=None, failure=None):
    """Build an RPC reply.

    :param failure: ``sys.exc_info()`` of the remote failure, or None.
    """
    if failure is not None:
        data = {'failure': common.serialize_remote_exception(failure)}
    else:
        data = {'response': result}
    msg = _message(jsonutils.dumps(data))
    msg.correlation_id = correlation_id
    return msg


def heartbeat(correlation_id, ttl):
    """Build a call-monitor heartbeat: no body, ``ttl`` in seconds."""
    msg = _message()
    msg.correlation_id = correlation_id
    if ttl:
        msg.ttl = ttl
    return msg


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
    """:func:`parse_reply` of a reply's body (see :class:`Decoder`)."""
    data = _json(body)
    failure = data.get('failure')
    if failure is not None:
        return None, common.deserialize_remote_exception(
            failure, allowed_remote_exmods)
    return data.get('response'), None


class Decoder:
    """Decodes received messages with one reused :class:`proton.Message`.

    A new Message per received message costs about as much as decoding
    it; a Decoder is for one thread only (the I/O thread, or one poll).
    """

    def __init__(self):
        self._msg = proton.Message()

    def reply(self, data):
        """``(correlation_id, body)`` of an encoded reply or heartbeat."""
        msg = self._msg
        msg.decode(data)
        return msg.correlation_id, msg.body

    def request(self, data):
        """``(message, context, call_monitor_timeout, id, reply_to)``.

        :raises DecodeError: not a message of this driver's layout.
        """
        msg = self._msg
        try:
            msg.decode(data)
        except Exception as exc:  # noqa: B902 - proton's errors vary
            raise DecodeError('cannot decode the message: %s' % exc) from exc
        body, ctxt, timeout = parse_request(msg)
        return body, ctxt, timeout, msg.id, msg.reply_to


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
