"""Receiving: receiver links, credit, dispatch and settlement.

:class:`Receiving` is the :class:`~amqp1_driver.connection.IOThread` part
that attaches each subscription's receiver links (again after every
reconnect), hands each incoming message to its subscription's sink,
settles it when the listener says so and tops the link's credit up.
Deliveries on sender links and on the reply link go to
:class:`~amqp1_driver.sending.Sending`.  Only the I/O thread touches
proton; ``subscribe``, ``settle`` and ``unsubscribe`` hand it work.
"""

import cproton
import cproton_ffi
from proton import Delivery
from proton import Link

from amqp1_driver import links

# The per-message hot path (deliveries, credit, transport I/O) calls
# proton's C binding directly: every proton wrapper object costs a dozen C
# calls (each releasing the GIL) for state that these paths never use.
_lib = cproton_ffi.lib
_RELEASED = int(Delivery.RELEASED)


class _Kept:
    """A received delivery kept unsettled until ``settle()``.

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
        impl, self.impl = self.impl, None
        if impl is not None:
            cproton.pn_decref(impl)

    def __del__(self):
        self.release()


class Receiving:
    """Subscriptions, their receivers and settlement (mixed into IOThread).

    Owns the I/O thread's ``_subscriptions`` and the receiver entries of
    ``_links``.
    """

    def _on_delivery(self, ev):
        # raw pn_delivery_t/pn_link_t pointers (see _lib)
        dlv = _lib.pn_event_delivery(ev)
        link = _lib.pn_delivery_link(dlv)
        if _lib.pn_link_is_sender(link):
            self._on_disposition(dlv, link)
            return
        if not _lib.pn_delivery_readable(dlv) or _lib.pn_delivery_partial(
                dlv):
            return
        _, data = cproton.pn_link_recv(link, _lib.pn_delivery_pending(dlv))
        _lib.pn_link_advance(link)
        data = bytes(data)
        name = cproton.pn_link_name(link)
        if name == self._reply_name:
            self._on_reply(dlv, link, data)
            return
        rcv = self._links.get(name)
        if rcv is None or rcv.subscription.closed:
            _lib.pn_delivery_update(dlv, _RELEASED)
            _lib.pn_delivery_settle(dlv)
            return
        if _lib.pn_delivery_settled(dlv):
            _lib.pn_delivery_settle(dlv)
            dlv = None
        else:
            dlv = _Kept(dlv)
        rcv.subscription.sink(data, dlv, rcv, self._generation)

    def subscribe(self, sub):
        """Attach the links of ``sub`` now and after every reconnect."""
        sub.ready = links.Future()
        self.submit(lambda: self._add_subscription(sub))
        return sub.ready

    def _add_subscription(self, sub):
        self._subscriptions.append(sub)
        # not connected yet: ready is set once the links attach on open
        if self._open:
            self._attach(sub)

    def _attach(self, sub):
        old = sub.receivers
        sub.receivers = []
        for i, (target, pattern, service) in enumerate(sub.specs):
            address = getattr(self._addresser, pattern)(target, service)
            rcv = links.Receiver(address, sub.credit, sub)
            if i < len(old):
                # keep the objects listeners' deliveries point to
                rcv = old[i]
                rcv.address = address
                rcv.name = links.link_name('receiver', address)
            sub.receivers.append(rcv)
            self._open_receiver(rcv)

    def _open_receiver(self, rcv):
        link = self._session.receiver(rcv.name)
        link.source.address = rcv.address
        link.target.address = rcv.address
        link.snd_settle_mode = Link.SND_MIXED
        link.rcv_settle_mode = Link.RCV_FIRST
        link.open()
        link.flow(rcv.credit)
        rcv.link = link
        rcv.active = False
        rcv.generation = self._generation
        self._links[rcv.name] = rcv

    def _reattach(self, rcv, generation):
        if (generation != self._generation or not self._open or
                rcv.subscription.closed):
            return
        rcv.name = links.link_name('receiver', rcv.address)
        self._open_receiver(rcv)

    def settle(self, dlv, rcv, generation, state=Delivery.ACCEPTED):
        """From a listener thread: settle one delivery with ``state``."""
        self.submit(lambda: self._settle(dlv, rcv, generation, state))

    def _settle(self, dlv, rcv, generation, state):
        try:
            if generation != self._generation or rcv.link is None or (
                    rcv.generation != generation):
                return  # the link is gone; the peer has re-queued it
            if dlv is not None and dlv.impl is not None:
                _lib.pn_delivery_update(dlv.impl, int(state))
                _lib.pn_delivery_settle(dlv.impl)
            link = rcv.link._impl
            more = links.refill(_lib.pn_link_credit(link), rcv.credit)
            if more:
                _lib.pn_link_flow(link, more)
        finally:
            if dlv is not None:
                dlv.release()  # here, on the I/O thread

    def unsubscribe(self, sub):
        """Detach the links of ``sub``; returns a Future."""
        done = links.Future()

        def task():
            sub.closed = True
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
            for rcv in sub.receivers:
                if rcv.link is not None and self._conn is not None:
                    rcv.link.close()
                self._links.pop(rcv.name, None)
                rcv.link = None
            done.set()
        self.submit(task)
        return done
