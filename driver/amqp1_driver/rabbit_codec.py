"""The rabbit driver's message format, spoken over AMQP 1.0 to RabbitMQ 4.

With RabbitMQ >= 4 the driver writes what oslo.messaging's ``rabbit://``
driver (``amqpdriver.py``, ``impl_rabbit.py``, kombu's JSON serializer)
writes, so a service on ``rabbit://`` and one on ``amqp://`` understand
each other through the same RabbitMQ:

* the body is one *data* section holding the JSON text, with
  ``content-type`` ``application/json`` and ``content-encoding``
  ``utf-8`` (RabbitMQ hands a 0-9-1 consumer the bytes as they are, and an
  AMQP 1.0 consumer gets a 0-9-1 body as a data section);
* a request is the rabbit driver's dict: the payload, the context packed
  as ``_context_<key>`` items, ``_unique_id`` and, for a call,
  ``_msg_id``, ``_reply_q`` (the reply queue's *name*: a rabbit:// server
  replies through the default exchange) and ``_timeout`` (the call
  monitor's), in the 2.0 envelope (``{"oslo.version": "2.0",
  "oslo.message": "<json>"}``; notifications of version 1.0 without it);
* a reply is ``{"result", "failure", "ending": true, "_msg_id",
  "_unique_id"}`` in the envelope; a call-monitor heartbeat is the same
  with ``ending`` false and no result.

The AMQP 1.0 fields are set too (``message-id``, ``reply-to`` as a v2
address, ``correlation-id``): an ``amqp://`` server replies to
``reply-to`` when it is there, else to ``/queues/<_reply_q>``.

The JSON functions are pure; :class:`Encoder` turns an
:class:`~amqp1_driver.codec.Outgoing` into bytes with one reused proton
message (I/O thread), as :mod:`amqp1_driver.codec` does for the other
intermediaries, whose :class:`~amqp1_driver.codec.Decoder` reads this
format too (a data section).
"""

import uuid
from urllib import parse

import cproton
import cproton_ffi
import proton
from oslo_messaging._drivers import common
from oslo_serialization import jsonutils

_lib = cproton_ffi.lib
_OVERFLOW = _lib.PN_OVERFLOW
_BINARY = _lib.PN_BINARY
_STRING = _lib.PN_STRING

CONTENT_TYPE = 'application/json'
CONTENT_ENCODING = 'utf-8'

#: the keys the rabbit driver adds to a message
MSG_ID = '_msg_id'
REPLY_Q = '_reply_q'
TIMEOUT = '_timeout'
UNIQUE_ID = '_unique_id'
CONTEXT_PREFIX = '_context_'


class DecodeError(ValueError):
    """A received message is not in the rabbit driver's format."""


# --- JSON ----------------------------------------------------------------

def request(message, ctxt, msg_id=None, reply_q=None,
            call_monitor_timeout=None, envelope=True):
    """The JSON text of an RPC request or a notification.

    :param message: the payload dict (not changed).
    :param ctxt: the context dict.
    :param msg_id: a call's message id (with ``reply_q``).
    :param reply_q: the name of the caller's reply queue.
    :param call_monitor_timeout: a call's ``_timeout``.
    :param envelope: wrap in the 2.0 envelope (RPC always; notifications
        of version 2.0).
    """
    msg = dict(message)
    if msg_id is not None:
        msg[MSG_ID] = msg_id
        msg[REPLY_Q] = reply_q
        msg[TIMEOUT] = call_monitor_timeout
    msg[UNIQUE_ID] = uuid.uuid4().hex
    for key, value in (ctxt or {}).items():
        msg[CONTEXT_PREFIX + key] = value
    if envelope:
        msg = common.serialize_msg(msg)
    return jsonutils.dumps(msg)


def reply(msg_id, result=None, failure=None, ending=True):
    """The JSON text of a reply (``ending``) or a call-monitor heartbeat.

    :param failure: the remote failure as
        ``oslo_messaging._drivers.common.serialize_remote_exception``
        wrote it, or None.
    """
    msg = {'result': result, 'failure': failure, 'ending': ending,
           MSG_ID: msg_id, UNIQUE_ID: uuid.uuid4().hex}
    return jsonutils.dumps(common.serialize_msg(msg))


def _loads(text):
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode('utf-8')
        except UnicodeDecodeError as exc:
            raise DecodeError('message body is not UTF-8: %s' % exc) from exc
    if not isinstance(text, str):
        raise DecodeError('message body is %s, not JSON text'
                          % type(text).__name__)
    try:
        data = common.deserialize_msg(jsonutils.loads(text))
    except Exception as exc:  # noqa: B902 - ValueError, envelope errors
        raise DecodeError('message body is not the rabbit driver\'s JSON: '
                          '%s' % exc) from exc
    if not isinstance(data, dict):
        raise DecodeError('message body is not a JSON object')
    return data


def parse_request(text):
    """``(message, context, call_monitor_timeout, msg_id, reply_q)`` of a
    request's JSON text (what the rabbit driver's listener unpacks).

    :raises DecodeError: not the rabbit driver's format.
    """
    msg = _loads(text)
    ctxt = {}
    for key in [k for k in msg if k.startswith(CONTEXT_PREFIX)]:
        ctxt[key[len(CONTEXT_PREFIX):]] = msg.pop(key)
    msg_id = msg.pop(MSG_ID, None)
    reply_q = msg.pop(REPLY_Q, None)
    timeout = msg.pop(TIMEOUT, None)
    msg.pop(UNIQUE_ID, None)
    return msg, ctxt, timeout, msg_id, reply_q


def parse_reply(text):
    """``(msg_id, body)`` of a reply's JSON text: ``body`` is ``None``
    for a heartbeat, else ``{'response': result}`` or ``{'failure':
    serialized}`` (what :func:`amqp1_driver.codec.parse_reply_body`
    reads).

    :raises DecodeError: not the rabbit driver's format.
    """
    msg = _loads(text)
    msg_id = msg.get(MSG_ID)
    if msg.get('failure'):
        return msg_id, {'failure': msg['failure']}
    if not msg.get('ending', False) and msg.get('result') is None:
        return msg_id, None
    return msg_id, {'response': msg.get('result')}


# --- bytes ---------------------------------------------------------------

def reply_queue(reply_to):
    """The queue name of a v2 reply address (``/queues/<name>``), what a
    rabbit:// server reads from ``_reply_q``."""
    if reply_to and reply_to.startswith('/queues/'):
        return parse.unquote(reply_to[len('/queues/'):])
    return reply_to


def text_of(out, msg_id=None, reply_to=None):
    """The rabbit-format JSON text of an
    :class:`~amqp1_driver.codec.Outgoing`, from its ``parts``; kept on it
    (``out.rabbit``) for a re-send."""
    parts = out.parts
    if parts[0] == 'reply':
        _, result, failure, ending = parts
        text = reply(out.correlation_id, result, failure, ending)
    else:
        _, message, ctxt, envelope, monitor = parts
        text = request(message, ctxt, msg_id, reply_queue(reply_to)
                       if msg_id is not None else None, monitor, envelope)
    out.rabbit = text
    out.rabbit_reply_to = reply_to
    return text


class Encoder:
    """Encodes messages in this format with one reused proton message.

    Owns that message; for one thread only (the I/O thread).
    """

    def __init__(self):
        self._msg = cproton.pn_message()

    def __del__(self):
        msg, self._msg = self._msg, None
        if msg is not None:
            cproton.pn_message_free(msg)

    def encode(self, out, address, msg_id=None, reply_to=None):
        """An :class:`~amqp1_driver.codec.Outgoing` encoded in this format
        (the interface of :class:`amqp1_driver.codec.Encoder`): its
        ``rabbit`` text if the caller built it for this ``reply_to``, else
        built here from its ``parts``.
        """
        text = out.rabbit
        if text is None or (msg_id is not None and
                            out.rabbit_reply_to != reply_to):
            text = text_of(out, msg_id, reply_to)
        return self.encode_text(text, address, msg_id, reply_to,
                                out.correlation_id, out.ttl)

    def encode_text(self, text, address, msg_id=None, reply_to=None,
                    correlation_id=None, ttl=None):
        """The encoded message.

        :param text: the JSON text (:func:`request`, :func:`reply`).
        :param address: ``to`` (a v2 address).
        :param msg_id: ``message-id`` (calls).
        :param reply_to: ``reply-to`` (calls: the reply queue's address).
        :param correlation_id: ``correlation-id`` (replies).
        :param ttl: the header's time-to-live in seconds.
        :returns: a bytes-like object.
        """
        m = self._msg
        _lib.pn_message_clear(m)
        _lib.pn_message_set_inferred(m, True)
        cproton.pn_message_set_address(m, address)
        cproton.pn_message_set_content_type(m, CONTENT_TYPE)
        cproton.pn_message_set_content_encoding(m, CONTENT_ENCODING)
        if msg_id is not None:
            cproton.pn_message_set_id(m, msg_id)
        if reply_to is not None:
            cproton.pn_message_set_reply_to(m, reply_to)
        if correlation_id is not None:
            cproton.pn_message_set_correlation_id(m, correlation_id)
        if ttl:
            _lib.pn_message_set_ttl(m, int(ttl * 1000))
        body = text.encode('utf-8')
        cproton.pn_data_put_binary(_lib.pn_message_body(m), body)
        size = 512 + len(body)
        while True:
            err, data = cproton.pn_message_encode(m, size)
            if err != _OVERFLOW:
                break
            size *= 2
        if err < 0:
            raise proton.MessageException('cannot encode the message: %s'
                                          % err)
        return data
