"""The replies of RPC calls: the reply link and the calls waiting.

One receiver link per connection with a dynamic source; the address the
peer gives it is every request's ``reply-to``.  On RabbitMQ 4.0 and 4.1,
which have no dynamic sources, the link consumes the reply queue the
driver declared (:meth:`Replies.attach_queue`); on 4.2 and later, a
Direct Reply-To pseudo-queue (:meth:`Replies.attach_volatile`).  A reply's
``correlation-id`` is its request's ``message-id``; a body-less reply is
a call-monitor heartbeat.  Credit is topped up to ``reply_link_credit``
once at half, on every reply (14.x's rule).
"""

import logging

import cproton_ffi
from proton import Data
from proton import Delivery
from proton import Link
from proton import Terminus

from amqp1_driver import links

LOG = logging.getLogger(__name__)

# The per-message path calls proton's C binding directly (see servers.py).
_lib = cproton_ffi.lib
_ACCEPTED = int(Delivery.ACCEPTED)
#: the source capability of RabbitMQ 4.2's Direct Reply-To
VOLATILE_QUEUE = 'rabbitmq:volatile-queue'


class Replies:
    """The reply link and the calls waiting for a reply.

    Owns the reply link (the proton link, its ``pn_link_t`` pointer
    ``impl`` events are matched with, the address the peer assigned), the
    calls sent and not yet answered by message-id, and their last
    heartbeat time (``Send.beat``, read by the waiting caller).  A call's
    deadline is its caller's: the caller gives up and :meth:`forget`
    drops the call.

    :param credit: ``reply_link_credit``.
    :param completions: the I/O thread's
        :class:`~amqp1_driver.request.Completions` (replies complete their
        call's future after the socket write).
    :param decoder: a :class:`~amqp1_driver.codec.Decoder` (I/O thread).
    :param clock: a monotonic clock in seconds (heartbeat times).
    """

    def __init__(self, credit, completions, decoder, clock):
        self._credit = credit
        self._completions = completions
        self._decoder = decoder
        self._clock = clock
        self._link = None
        self.impl = None
        self.address = None
        self._calls = {}

    @property
    def ready(self):
        """True once the peer attached the link: calls can be sent."""
        return self.address is not None

    def __len__(self):
        return len(self._calls)

    # ------------------------------------------------------------------
    # The link
    def attach(self, session, address=None, volatile=False):
        """Open the reply link on ``session`` (a new connection).

        :param address: consume this address (RabbitMQ 4.0/4.1: the
            declared reply queue) rather than a dynamic source.
        :param volatile: a dynamic source with capability
            ``rabbitmq:volatile-queue``, settled deliveries (RabbitMQ
            4.2's Direct Reply-To).
        """
        link = session.receiver(links.link_name('receiver', 'rpc-response'))
        if address is not None:
            link.source.address = address
        else:
            link.source.dynamic = True
        link.target.address = 'rpc-response'
        link.snd_settle_mode = Link.SND_MIXED
        if volatile:
            caps = link.source.capabilities
            caps.put_array(False, Data.SYMBOL)
            caps.enter()
            caps.put_symbol(VOLATILE_QUEUE)
            caps.exit()
            link.source.expiry_policy = Terminus.EXPIRE_WITH_LINK
            link.snd_settle_mode = Link.SND_SETTLED
        link.rcv_settle_mode = Link.RCV_FIRST
        link.open()
        link.flow(self._credit)
        self._link = link
        self.impl = link._impl
        self.address = None

    def on_link_open(self, link):
        """The peer attached the link: its source address is known.

        :returns: the address, or None if the peer attached without one
            (a refusal, followed by its detach).
        """
        self.address = link.remote_source.address or None
        return self.address

    def detach(self):
        """Close the reply link (shutting down)."""
        if self._link is not None:
            self._link.close()

    def reset(self):
        """The connection is gone; the link with it.

        The calls stay: an accepted call may still be answered on a
        route the peer kept (and otherwise its caller times out, as with
        14.x).
        """
        self._link = None
        self.impl = None
        self.address = None

    # ------------------------------------------------------------------
    # Calls
    def expect(self, send):
        """``send`` (a call) is going out: wait for its reply."""
        self._calls[send.msg_id] = send

    def forget(self, msg_id):
        """Stop waiting for the reply to ``msg_id`` (no-op if unknown)."""
        self._calls.pop(msg_id, None)

    def fail_all(self, error):
        """Fail every call waiting for a reply."""
        calls = list(self._calls.values())
        self._calls.clear()
        for send in calls:
            send.fail(error)

    def on_delivery(self, dlv, link, data):
        """A reply (or heartbeat) arrived on the reply link."""
        correlation_id, body = self._decoder.reply(data)
        send = self._calls.get(correlation_id)
        settled = _lib.pn_delivery_settled(dlv)
        if send is not None:
            if body is None:
                send.beat = self._clock()
            else:
                del self._calls[correlation_id]
                self._completions.set(send.future, body)
            if not settled:
                _lib.pn_delivery_update(dlv, _ACCEPTED)
        elif not settled:
            LOG.debug('reply for an unknown call %s dropped',
                      correlation_id)
            wrapped = Delivery.wrap(dlv)
            wrapped.local.failed = True
            wrapped.local.undeliverable = True
            wrapped.update(Delivery.MODIFIED)
        _lib.pn_delivery_settle(dlv)
        more = links.refill(_lib.pn_link_credit(link), self._credit)
        if more:
            _lib.pn_link_flow(link, more)
