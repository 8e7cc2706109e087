"""Where outgoing messages wait and which sender link takes them.

Messages wait here until the connection is usable (open, reply link
attached), then go to the cached :class:`~amqp1_driver.sender.Sender` of
their address (resolved with the connection's addresser).  Sender links
unused for a whole ``default_sender_link_timeout`` are detached by a
sweep, so an idle link lives one to two sweep intervals (14.x's rule).

On RabbitMQ 4 (an addresser with ``rabbitmq`` set) every sender is a relay
in the rabbit driver's message format, and a message to a target first
has the target's topology declared through the ``/management`` node
(:mod:`amqp1_driver.management`).
"""

import collections
import logging

import oslo_messaging

from amqp1_driver import rabbit_codec
from amqp1_driver import sender as sender_mod

LOG = logging.getLogger(__name__)


class Outbox:
    """Every sender link of one transport, and the messages not yet on one.

    Owns the messages waiting for a usable connection (``waiting``), the
    messages whose link the peer closed, parked for ``link_retry_delay``
    (``parked``), the senders by address and by proton link (the
    ``pn_link_t`` pointer: events name their link that way, without a
    string conversion), the session and addresser they are created with,
    and the sweep's timer.

    :param loop: the :class:`~amqp1_driver.loop.Loop`.
    :param completions: the I/O thread's
        :class:`~amqp1_driver.request.Completions`.
    :param replies: the :class:`~amqp1_driver.replies.Replies`.
    :param retry_delay: ``link_retry_delay`` (s).
    :param sweep_interval: ``default_sender_link_timeout`` (s).
    :param encoder: the I/O thread's :class:`~amqp1_driver.codec.Encoder`.
    :param rabbit_encoder: its :class:`~amqp1_driver.rabbit_codec.Encoder`
        (RabbitMQ 4); one is made when None.
    """

    def __init__(self, loop, completions, replies, retry_delay,
                 sweep_interval, encoder, rabbit_encoder=None):
        self._loop = loop
        self._completions = completions
        self._replies = replies
        self._encoder = encoder
        self._rabbit_encoder = rabbit_encoder or rabbit_codec.Encoder()
        self._management = None
        self._delay = retry_delay
        self._sweep_interval = sweep_interval
        self.waiting = collections.deque()
        self.parked = []
        self._by_address = {}
        self._by_link = {}
        self._session = None
        self._addresser = None
        self._sweep_timer = None

    @property
    def ready(self):
        """True while messages can go out (see :meth:`open`)."""
        return self._session is not None

    def senders(self):
        """The current senders (a list)."""
        return list(self._by_address.values())

    # ------------------------------------------------------------------
    # The connection
    def open(self, session, addresser, management=None):
        """The connection is usable: send what waited for it.

        :param management: the connection's
            :class:`~amqp1_driver.management.Management` (RabbitMQ 4).
        """
        self._session = session
        self._addresser = addresser
        self._management = management
        if self._sweep_timer is None:
            self._sweep_timer = self._loop.call_later(self._sweep_interval,
                                                      self._sweep)
        waiting = self.waiting
        while waiting and self._session is not None:
            self._dispatch(waiting.popleft())

    def reset(self, error):
        """The connection is gone: every sender is reset with ``error``
        and what may be re-sent waits for the next connection."""
        self._session = None
        self._addresser = None
        self._management = None
        senders = list(self._by_address.values())
        self._by_address = {}
        self._by_link = {}
        for sender in senders:
            self.waiting.extend(sender.reset(error))

    def detach(self):
        """Close every sender link (shutting down)."""
        self._loop.cancel(self._sweep_timer)
        self._sweep_timer = None
        for sender in self._by_address.values():
            sender.detach()

    # ------------------------------------------------------------------
    # Messages
    def submit(self, send):
        """Send ``send`` now, or once the connection is usable."""
        if send.cancelled:
            return
        if self._session is None:
            self.waiting.append(send)
        else:
            self._dispatch(send)

    def _dispatch(self, send):
        if send.finished:
            return
        address = send.address
        rabbitmq = getattr(self._addresser, 'rabbitmq', False)
        plan = None
        if address is None:
            if rabbitmq:
                plan = self._addresser.send_plan(send.target, send.service)
                address = plan.address
            else:
                address = self._addresser.resolve(send.target, send.service)
        sender = self._by_address.get(address)
        if sender is None:
            if rabbitmq:
                sender = sender_mod.Sender(
                    address, self._loop, self._completions, self._replies,
                    self._delay, self._rabbit_encoder, relay=True,
                    declare=self._declarer(plan))
            else:
                sender = sender_mod.Sender(address, self._loop,
                                           self._completions, self._replies,
                                           self._delay, self._encoder)
            sender.attach(self._session)
            self._by_address[address] = sender
            self._by_link[sender.link._impl] = sender
        sender.send(send)

    def _declarer(self, plan):
        """``declare(done, failed)`` of a plan's topology, or None."""
        if plan is None or not plan.declare:
            return None
        requests = plan.requests()
        management = self._management
        return lambda done, failed: management.declare(requests, done,
                                                       failed)

    def cancel(self, send):
        """Forget ``send`` wherever it waits (its caller gave up)."""
        self._replies.forget(send.msg_id)
        if send.sender is not None:
            send.sender.cancel(send)
            return
        for place in (self.waiting, self.parked):
            try:
                place.remove(send)
                return
            except ValueError:
                pass

    def fail_waiting(self, error):
        """Fail the messages waiting for a connection with ``error``."""
        waiting = list(self.waiting)
        self.waiting.clear()
        for send in waiting:
            self._replies.forget(send.msg_id)
            send.fail(error)

    def fail_all(self, error):
        """Fail every message, wherever it is (the I/O thread ends)."""
        for sender in self._by_address.values():
            sender.fail_all(error)
        self.fail_waiting(error)
        parked, self.parked = self.parked, []
        for send in parked:
            send.fail(error)

    # ------------------------------------------------------------------
    # Link events
    def owns(self, link):
        """True if ``link`` (a ``pn_link_t``) is a current sender link."""
        return link in self._by_link

    def on_flow(self, link):
        """The peer granted credit on ``link`` (any ``pn_link_t``)."""
        sender = self._by_link.get(link)
        if sender is not None:
            sender.pump()

    def on_disposition(self, link, dlv):
        """The peer settled a delivery on ``link`` (a ``pn_link_t``).

        :returns: False if ``link`` is none of the current sender links.
        """
        sender = self._by_link.get(link)
        if sender is None:
            return False
        sender.on_disposition(dlv)
        return True

    def on_link_closed(self, link, reason):
        """The peer closed ``link`` (a ``pn_link_t``) while the
        connection stays: its messages that may be re-sent go out on a new
        link after ``link_retry_delay``."""
        sender = self._by_link.pop(link, None)
        if sender is None:
            return
        LOG.warning('sender link to %s closed: %s', sender.address, reason)
        if self._by_address.get(sender.address) is sender:
            del self._by_address[sender.address]
        retry = sender.reset(oslo_messaging.MessageDeliveryFailure(
            'Message send failed: link to %s closed: %s'
            % (sender.address, reason)))
        if retry:
            self.parked.extend(retry)
            self._loop.call_later(self._delay, self._unpark, retry)

    def on_link_refused(self, link, error):
        """The peer refused ``link`` (a ``pn_link_t``) when it was
        attached: its messages fail at once (a new link would be refused
        the same way).

        :param error: ``error(address)`` makes the exception.
        """
        sender = self._by_link.pop(link, None)
        if sender is None:
            return
        if self._by_address.get(sender.address) is sender:
            del self._by_address[sender.address]
        failure = error(sender.address)
        LOG.error('%s', failure)
        for send in sender.reset(failure):
            self._replies.forget(send.msg_id)
            send.fail(failure)

    def _unpark(self, sends):
        for send in sends:
            try:
                self.parked.remove(send)
            except ValueError:
                continue  # cancelled or failed meanwhile
            self.submit(send)

    def _sweep(self):
        """Detach sender links unused since the previous sweep."""
        for address, sender in list(self._by_address.items()):
            if sender.used or not sender.idle:
                sender.used = False
                continue
            del self._by_address[address]
            self._by_link.pop(sender.link._impl, None)
            sender.detach()
        self._sweep_timer = self._loop.call_later(self._sweep_interval,
                                                  self._sweep)
