"""RabbitMQ 4's ``/management`` node: the link pair and its requests.

RabbitMQ 4 declares queues, exchanges and bindings over AMQP 1.0 itself:
"HTTP over AMQP" requests (:class:`~amqp1_driver.rabbitmq4.
ManagementRequest`) on a *link pair* -- a sender to ``/management`` and a
receiver from it with the same name, both with the link property
``paired = true``.  A response's ``subject`` is its status and its
``correlation-id`` the request's ``message-id``.

:class:`Management` is that pair on one connection, in a session of its
own (a malformed request ends only that session), and the requests in
flight; :meth:`Management.declare` runs a list of requests in order and
reports once, when all succeeded or at the first failure.  Everything
runs on the I/O thread; requests are few (declarations before the first
use of an address), so :class:`proton.Message` encodes them.
"""

import collections
import itertools
import logging
import uuid

import cproton
import cproton_ffi
from proton import Link
from proton import Message
from proton import symbol

from amqp1_driver import links
from amqp1_driver import rabbitmq4

LOG = logging.getLogger(__name__)

_lib = cproton_ffi.lib

#: credit of the receiving half (responses)
RESPONSE_CREDIT = 100
_PAIRED = {symbol('paired'): True}


class ManagementUnavailable(Exception):
    """The link pair went away before the response came.

    :param reason: why (the peer's condition, or the connection lost).
    """


def encode_request(request, message_id):
    """The bytes of one request (a ``None`` body is an amqp-value null:
    a request with no body section ends RabbitMQ 4.0's session)."""
    msg = Message(id=message_id, address=request.path,
                  subject=request.method, reply_to='$me',
                  body=request.body)
    msg._pre_encode()
    if request.body is None:
        _lib.pn_data_put_null(cproton.pn_message_body(msg._msg))
    size = 1024
    while True:
        err, data = cproton.pn_message_encode(msg._msg, size)
        if err != _lib.PN_OVERFLOW:
            break
        size *= 2
    if err < 0:
        raise ValueError('cannot encode %s %s: proton error %d'
                         % (request.method, request.path, err))
    return bytes(data)


class _Sequence:
    """Requests answered in order, reported once (the owner's record)."""

    __slots__ = ('left', 'done', 'failed', 'finished')

    def __init__(self, count, done, failed):
        self.left = count
        self.done = done
        self.failed = failed
        self.finished = False


class Management:
    """The ``/management`` link pair of one connection.

    Owns its session and its two links (with their ``pn_link_t``
    pointers, which events are matched with), whether both are attached,
    the requests waiting to be sent, the requests sent and not answered
    (by message-id, each with its sequence) and the delivery-tag
    counter.  I/O thread only.
    """

    def __init__(self):
        self._session = None
        self._sender = None
        self._receiver = None
        self._attached = set()
        self._waiting = collections.deque()
        self._pending = {}
        self._tags = itertools.count(1)

    @property
    def ready(self):
        """True once both links are attached."""
        return len(self._attached) == 2

    def owns(self, impl):
        """True if ``impl`` (a ``pn_link_t``) is one of the pair."""
        return impl in self._attached or (
            self._sender is not None and impl in (self._sender._impl,
                                                  self._receiver._impl))

    def owns_session(self, session):
        """True if ``session`` is the pair's."""
        return self._session is not None and session == self._session

    # ------------------------------------------------------------------
    # The pair
    def attach(self, connection):
        """Open the pair in a new session of ``connection``."""
        self._session = connection.session()
        self._session.open()
        name = links.link_name('management', rabbitmq4.MANAGEMENT_ADDRESS)
        sender = self._session.sender(name)
        sender.target.address = rabbitmq4.MANAGEMENT_ADDRESS
        sender.snd_settle_mode = Link.SND_SETTLED
        sender.properties = dict(_PAIRED)
        receiver = self._session.receiver(name)
        receiver.source.address = rabbitmq4.MANAGEMENT_ADDRESS
        receiver.properties = dict(_PAIRED)
        sender.open()
        receiver.open()
        receiver.flow(RESPONSE_CREDIT)
        self._sender, self._receiver = sender, receiver
        self._attached = set()

    def on_link_open(self, impl):
        """The peer attached one half."""
        self._attached.add(impl)
        self._pump()

    def on_flow(self, impl):
        """The peer gave the sending half credit."""
        if self._sender is not None and impl == self._sender._impl:
            self._pump()

    def reset(self, reason):
        """The pair is gone (its session ended, the connection lost):
        every request waiting or in flight fails with ``reason``."""
        self._session = self._sender = self._receiver = None
        self._attached = set()
        sequences = {id(seq): seq for _, seq in self._pending.values()}
        sequences.update((id(seq), seq) for _, seq in self._waiting)
        self._pending.clear()
        self._waiting.clear()
        error = ManagementUnavailable(reason)
        for seq in sequences.values():
            self._fail(seq, error)

    def detach(self):
        """Close the pair (shutting down)."""
        if self._session is not None:
            self._session.close()

    # ------------------------------------------------------------------
    # Requests
    def declare(self, requests, done, failed):
        """Send ``requests`` (:class:`~amqp1_driver.rabbitmq4.
        ManagementRequest`) in order; call ``done()`` once all succeeded,
        or ``failed(error)`` at the first that did not (a
        :class:`~amqp1_driver.rabbitmq4.ManagementError`, or
        :class:`ManagementUnavailable`).  Nothing to send: ``done()`` at
        once."""
        if not requests:
            done()
            return
        seq = _Sequence(len(requests), done, failed)
        for request in requests:
            self._waiting.append((request, seq))
        self._pump()

    def _pump(self):
        if not self.ready:
            return
        link = self._sender._impl
        while self._waiting and _lib.pn_link_credit(link) > 0:
            request, seq = self._waiting.popleft()
            if seq.finished:
                continue
            message_id = uuid.uuid4().hex
            self._pending[message_id] = (request, seq)
            dlv = cproton.pn_delivery(link, '%x' % next(self._tags))
            cproton.pn_link_send(link, encode_request(request, message_id))
            _lib.pn_link_advance(link)
            _lib.pn_delivery_settle(dlv)

    def on_delivery(self, dlv, link, data):
        """A response arrived on the receiving half."""
        if not _lib.pn_delivery_settled(dlv):
            _lib.pn_delivery_update(dlv, 0x24)  # accepted
        _lib.pn_delivery_settle(dlv)
        more = links.refill(_lib.pn_link_credit(link), RESPONSE_CREDIT)
        if more:
            _lib.pn_link_flow(link, more)
        response = Message()
        try:
            response.decode(data)
        except Exception as exc:  # noqa: B902 - proton's errors vary
            LOG.warning('undecodable management response: %s', exc)
            return
        entry = self._pending.pop(response.correlation_id, None)
        if entry is None:
            return
        request, seq = entry
        if seq.finished:
            return
        try:
            rabbitmq4.check_response(request, response.subject,
                                     response.body)
        except rabbitmq4.ManagementError as err:
            self._fail(seq, err)
            return
        seq.left -= 1
        if seq.left == 0:
            seq.finished = True
            seq.done()

    @staticmethod
    def _fail(seq, error):
        if not seq.finished:
            seq.finished = True
            seq.failed(error)
