"""The server side: subscriptions, their receiver links, credit.

Each ``listen()`` is a :class:`Subscription` of one or more addresses;
:class:`Servers` attaches a receiver link per address on every
connection, re-attaches a link the peer closed after
``link_retry_delay``, hands each incoming message to its subscription's
sink and, when the listener settles it, settles the delivery and tops
the link's credit up (14.x's rule: unsettled messages hold credit).

On RabbitMQ 4 (an addresser with ``rabbitmq`` set) a subscription's
queues, exchanges and bindings are declared through the ``/management``
node before its links attach (an attach to a missing queue would end the
session), again before a closed link is attached again, and its private
queue (an RPC server's fanout queue) is deleted when it is removed.
"""

import logging
import uuid

import cproton
import cproton_ffi
from proton import Delivery
from proton import Link

from amqp1_driver import links
from amqp1_driver import request

LOG = logging.getLogger(__name__)

# The per-message path (deliveries, credit) calls proton's C binding
# directly: every proton wrapper object costs a dozen C calls (each
# releasing the GIL) for state that this path never uses.
_lib = cproton_ffi.lib
_RELEASED = int(Delivery.RELEASED)
# how long a removed subscription's queues wait for its links' detach (s)
_CLEANUP_WAIT = 2.0


class Kept:
    """A received delivery kept unsettled until its listener settles it.

    Holds a proton reference to the ``pn_delivery_t`` as a
    :class:`proton.Delivery` would, without its wrapper's cost.  The I/O
    thread releases it once settled; one never settled (its listener
    went away) is released when this object is collected.
    """

    __slots__ = ('impl',)

    def __init__(self, impl):
        cproton.pn_incref(impl)
        self.impl = impl

    def release(self):
        """Drop the reference to the delivery (on the I/O thread)."""
        impl, self.impl = self.impl, None
        if impl is not None:
            cproton.pn_decref(impl)

    def __del__(self):
        self.release()


class Receiver:
    """One receiver link of a subscription.

    Owned by :class:`Servers`: the address, link name, proton link,
    credit, whether the peer attached it, the attempt it belongs to, and
    how many of its deliveries await a lazy settlement.
    """

    __slots__ = ('address', 'name', 'link', 'credit', 'subscription',
                 'active', 'attempt', 'awaiting')

    def __init__(self, address, credit, subscription):
        self.address = address
        self.name = links.link_name('receiver', address)
        self.link = None
        self.credit = credit
        self.subscription = subscription
        self.active = False
        self.attempt = None
        self.awaiting = 0


class Subscription:
    """What one ``listen()`` asked for.

    Its receivers, ``closed``, ``declare`` and ``cleanup`` are owned by
    :class:`Servers`; ``ready`` (a :class:`~amqp1_driver.request.Future`)
    is set once every link is attached, or when the I/O thread ends, and
    failed when the declaration of its topology failed (RabbitMQ 4).

    :param specs: list of ``(target, pattern, service)`` with ``pattern``
        one of ``unicast``, ``multicast``, ``anycast``.
    :param credit: credit of each receiver link.
    :param sink: callable(item) run on the I/O thread per message, with
        ``item = (data, delivery, receiver, attempt)``: the encoded
        message, a :class:`Kept` delivery (None if pre-settled), and
        what :meth:`Servers.settle` needs.
    :param lazy: its listener may settle with a deferred task (see
        :meth:`Servers.awaiting`): RPC servers, whose acknowledgement of a
        call rides with its reply.
    """

    def __init__(self, specs, credit, sink, lazy=False):
        self.specs = specs
        self.credit = credit
        self.sink = sink
        self.lazy = lazy
        self.receivers = []
        self.closed = False
        self.ready = request.Future()
        # RabbitMQ 4: the listener's fanout queue is named with it
        self.unique = uuid.uuid4().hex
        # RabbitMQ 4: the declarations of its topology, and what to
        # delete when it is removed (owned by Servers)
        self.declare = ()
        self.cleanup = ()


class Servers:
    """Every subscription of one transport and its receiver links.

    Owns the subscriptions, their receivers by proton link (the
    ``pn_link_t`` pointer), which attempt
    (and addresser) the links are attached on, and how many deliveries of
    lazy subscriptions await their settlement; schedules the re-attach of
    a closed link on the loop.

    :param loop: the :class:`~amqp1_driver.loop.Loop`.
    :param retry_delay: ``link_retry_delay`` (s).
    :param completions: the I/O thread's
        :class:`~amqp1_driver.request.Completions`: messages are handed
        to the sinks after the loop's socket write.
    """

    def __init__(self, loop, retry_delay, completions):
        self._loop = loop
        self._delay = retry_delay
        self._completions = completions
        self._subs = []
        self._by_link = {}
        self._attempt = None
        self._addresser = None
        self._management = None
        self._awaiting = 0
        # RabbitMQ 4: links of removed subscriptions whose detach the peer
        # has not answered yet, and their subscription
        self._closing = {}

    def __len__(self):
        return len(self._subs)

    @property
    def awaiting(self):
        """True while deliveries of lazy subscriptions await settlement:
        the loop must then turn at least every so often, as their
        settlement may come as a deferred task."""
        return self._awaiting > 0

    # ------------------------------------------------------------------
    # Subscriptions
    def add(self, sub):
        """Subscribe ``sub``: attached now if connected, else on open."""
        self._subs.append(sub)
        if self._attempt is not None:
            self._attach(sub)

    def remove(self, sub):
        """Unsubscribe ``sub`` and detach its links (on RabbitMQ 4, then
        delete its private queues)."""
        sub.closed = True
        if sub in self._subs:
            self._subs.remove(sub)
        closing = []
        for rcv in sub.receivers:
            self._forget_awaiting(rcv)
            if rcv.link is not None and rcv.attempt is self._attempt:
                rcv.link.close()
                closing.append(rcv.link._impl)
            if rcv.link is not None:
                self._by_link.pop(rcv.link._impl, None)
            rcv.link = None
        if sub.cleanup and self._management is not None:
            if not closing:
                self._delete_queues(sub)
                return
            # RabbitMQ 4.0.5 ends the session (amqp:internal-error) when a
            # consumer's detach reaches a queue being deleted: delete once
            # the peer answered the detaches (or after a while)
            for impl in closing:
                self._closing[impl] = sub
            self._loop.call_later(_CLEANUP_WAIT, self._delete_queues, sub)

    def _delete_queues(self, sub):
        """Delete a removed subscription's private queues (once)."""
        for impl in [i for i, s in self._closing.items() if s is sub]:
            del self._closing[impl]
        cleanup, sub.cleanup = sub.cleanup, ()
        if cleanup and self._management is not None:
            self._management.declare(
                [spec.delete() for spec in cleanup], _nothing,
                lambda error: LOG.warning('cannot delete the queues of a '
                                          'stopped listener: %s', error))

    # ------------------------------------------------------------------
    # The connection
    def attach(self, attempt, addresser, management=None):
        """A connection opened: attach every subscription's links.

        :param management: the connection's
            :class:`~amqp1_driver.management.Management` (RabbitMQ 4).
        """
        self._attempt = attempt
        self._addresser = addresser
        self._management = management
        self._by_link = {}
        for sub in self._subs:
            self._attach(sub)

    def _attach(self, sub):
        if not getattr(self._addresser, 'rabbitmq', False):
            self._open_all(sub, [
                getattr(self._addresser, pattern)(target, service)
                for target, pattern, service in sub.specs])
            return
        addresses, sub.declare, sub.cleanup = \
            self._addresser.listen_plan(sub.specs, sub.unique)
        attempt = self._attempt

        def declared():
            if attempt is self._attempt and not sub.closed:
                self._open_all(sub, addresses)

        def failed(error):
            if attempt is not self._attempt:
                return  # the connection went: declared again on the next
            LOG.error('cannot declare the queues of a listener on %s: %s',
                      addresses, error)
            sub.ready.fail(error)
        self._management.declare([spec.declare() for spec in sub.declare],
                                 declared, failed)

    def _open_all(self, sub, addresses):
        old = sub.receivers
        sub.receivers = []
        for i, address in enumerate(addresses):
            if i < len(old):
                # keep the objects listeners' deliveries point to
                rcv = old[i]
                rcv.address = address
                rcv.name = links.link_name('receiver', address)
            else:
                rcv = Receiver(address, sub.credit, sub)
            sub.receivers.append(rcv)
            self._open(rcv)

    def _open(self, rcv):
        link = self._attempt.session.receiver(rcv.name)
        link.source.address = rcv.address
        link.target.address = rcv.address
        link.snd_settle_mode = Link.SND_MIXED
        link.rcv_settle_mode = Link.RCV_FIRST
        link.open()
        link.flow(rcv.credit)
        rcv.link = link
        rcv.active = False
        rcv.attempt = self._attempt
        self._by_link[link._impl] = rcv

    def reset(self):
        """The connection is gone: forget its links (the subscriptions
        stay, to be attached on the next one)."""
        self._attempt = None
        self._addresser = None
        self._management = None
        self._by_link = {}
        self._closing = {}
        self._awaiting = 0
        for sub in self._subs:
            for rcv in sub.receivers:
                rcv.awaiting = 0
                rcv.link = None
                rcv.active = False

    def detach(self):
        """Close every receiver link (shutting down)."""
        for rcv in self._by_link.values():
            if rcv.link is not None:
                rcv.link.close()

    def _forget_awaiting(self, rcv):
        self._awaiting -= rcv.awaiting
        rcv.awaiting = 0

    def release_waiters(self):
        """The I/O thread ends: nobody waits for an attach any more."""
        for sub in self._subs:
            sub.ready.set()

    # ------------------------------------------------------------------
    # Link events
    def owns(self, link):
        """True if ``link`` (a ``pn_link_t``) is one of the receiver
        links."""
        return link in self._by_link

    def on_link_open(self, link):
        """The peer attached ``link`` (a ``pn_link_t``); the subscription
        is ready once all of its links are."""
        rcv = self._by_link.get(link)
        if rcv is None:
            return
        rcv.active = True
        sub = rcv.subscription
        if all(r.active for r in sub.receivers):
            sub.ready.set()

    def on_link_closed(self, link, reason, refused=False):
        """The peer closed ``link`` (a ``pn_link_t``), or refused it when
        it was attached: re-attach it after the retry delay."""
        sub = self._closing.pop(link, None)
        if sub is not None:
            # a link of a removed subscription: its detach is answered
            if sub not in self._closing.values():
                self._delete_queues(sub)
            return
        rcv = self._by_link.pop(link, None)
        if rcv is None:
            return
        if refused:
            LOG.error('the peer refused the receiver link from %s: %s; '
                      'attaching it again in %s s', rcv.address, reason,
                      self._delay)
        else:
            LOG.warning('receiver link from %s closed: %s', rcv.address,
                        reason)
        self._forget_awaiting(rcv)
        rcv.active = False
        rcv.link = None
        self._loop.call_later(self._delay, self._reattach, rcv,
                              self._attempt)

    def _reattach(self, rcv, attempt):
        if attempt is not self._attempt or rcv.subscription.closed:
            return
        rcv.name = links.link_name('receiver', rcv.address)
        sub = rcv.subscription
        if self._management is None or not sub.declare:
            self._open(rcv)
            return

        def declared():
            if attempt is self._attempt and not sub.closed:
                self._open(rcv)

        def failed(error):
            LOG.error('cannot declare the queue of %s again: %s; retrying '
                      'in %s s', rcv.address, error, self._delay)
            self._loop.call_later(self._delay, self._reattach, rcv, attempt)
        # the queue may be gone (deleted under the link): declare first
        self._management.declare([spec.declare() for spec in sub.declare],
                                 declared, failed)

    def on_delivery(self, dlv, link, data):
        """A complete message arrived on one of our links."""
        rcv = self._by_link.get(link)
        if rcv is None or rcv.subscription.closed:
            _lib.pn_delivery_update(dlv, _RELEASED)
            _lib.pn_delivery_settle(dlv)
            return
        sub = rcv.subscription
        if _lib.pn_delivery_settled(dlv):
            _lib.pn_delivery_settle(dlv)
            kept = None
        else:
            kept = Kept(dlv)
            if sub.lazy:
                rcv.awaiting += 1
                self._awaiting += 1
        self._completions.call(sub.sink, (data, kept, rcv, self._attempt))

    # ------------------------------------------------------------------
    # Settlement (a task from a listener's thread)
    def settle(self, kept, rcv, attempt, state):
        """Settle one delivery with ``state`` and top the credit up.

        Ignored if the link or the connection it came on is gone (the
        peer has re-queued the message).
        """
        try:
            if (rcv.link is None or rcv.attempt is not attempt or
                    attempt is not self._attempt):
                return
            link = rcv.link._impl
            if kept is not None and kept.impl is not None:
                if _lib.pn_delivery_link(kept.impl) != link:
                    return  # from the link before a re-attach
                if rcv.awaiting:
                    rcv.awaiting -= 1
                    self._awaiting -= 1
                _lib.pn_delivery_update(kept.impl, state)
                _lib.pn_delivery_settle(kept.impl)
            more = links.refill(_lib.pn_link_credit(link), rcv.credit)
            if more:
                _lib.pn_link_flow(link, more)
        finally:
            if kept is not None:
                kept.release()  # here, on the I/O thread


def _nothing():
    pass
