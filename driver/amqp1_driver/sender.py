"""One sender link to one address and the messages going out on it.

Messages leave in order as credit allows.  Unsettled ones wait for the
peer's disposition: accepted completes a cast or notification (a call
then waits for its reply); released, or modified without
``delivery-failed``/``undeliverable-here``, is re-sent after
``link_retry_delay`` while its retry budget lasts, and every later
message waits behind it (14.x's rule); anything else fails.  A message
sent but not settled when its link or connection goes is failed, never
re-sent: the peer may have it.
"""

import collections
import logging

import cproton
import cproton_ffi
import oslo_messaging
from proton import Delivery

from amqp1_driver import links
from amqp1_driver import request

LOG = logging.getLogger(__name__)

# The per-message path calls proton's C binding directly (see servers.py).
_lib = cproton_ffi.lib
_ACCEPTED = int(Delivery.ACCEPTED)
_REJECTED = int(Delivery.REJECTED)
_RELEASED = int(Delivery.RELEASED)
_MODIFIED = int(Delivery.MODIFIED)
_TERMINAL = frozenset([_ACCEPTED, _REJECTED, _RELEASED, _MODIFIED])
_STATE_NAMES = {_ACCEPTED: 'accepted', _REJECTED: 'rejected',
                _RELEASED: 'released', _MODIFIED: 'modified'}


class Sender:
    """A sender link to one address, with its messages.

    Owns its proton link and link name, the FIFO of messages waiting for
    credit (``queue``), the messages sent and not yet settled by delivery
    tag (``unacked``), the re-sends waiting out ``link_retry_delay``
    (``held``, each with its timer), its delivery-tag counter, whether
    it was used since the last idle sweep (``used``) and, on RabbitMQ 4,
    whether its address's topology is declared (``ready``).

    :param address: the target address.
    :param loop: the :class:`~amqp1_driver.loop.Loop` (re-send timers).
    :param completions: the I/O thread's
        :class:`~amqp1_driver.request.Completions`.
    :param replies: the :class:`~amqp1_driver.replies.Replies` calls are
        registered with when they go out.
    :param retry_delay: ``link_retry_delay`` (s).
    :param encoder: the I/O thread's :class:`~amqp1_driver.codec.Encoder`
        (or :class:`~amqp1_driver.rabbit_codec.Encoder`).
    :param relay: attach with a null target (RabbitMQ 4).
    :param declare: ``declare(done, failed)`` declares what the address
        needs (RabbitMQ 4); messages wait until ``done()``, and
        ``failed(error)`` fails them.  None: nothing to declare.
    """

    def __init__(self, address, loop, completions, replies, retry_delay,
                 encoder, relay=False, declare=None):
        self.address = address
        self.name = links.link_name('sender', address)
        self._loop = loop
        self._completions = completions
        self._replies = replies
        self._encoder = encoder
        self._delay = retry_delay
        self.link = None
        self.queue = collections.deque()
        self.unacked = {}
        self.held = []
        self._tag = 0
        self.used = True
        self.relay = relay
        self._declare = declare
        # False until the address's topology is declared (RabbitMQ 4)
        self.ready = declare is None
        self._declaring = False
        # the last send rejected with amqp:not-found and sent again
        self._redeclared = None

    def __repr__(self):
        return '<Sender %s>' % self.address

    @property
    def idle(self):
        """True if nothing is queued, unsettled or held."""
        return not (self.queue or self.unacked or self.held)

    def attach(self, session):
        """Open the link on ``session``."""
        link = session.sender(self.name)
        link.source.address = self.address
        if not self.relay:
            link.target.address = self.address
        link.open()
        self.link = link

    def detach(self):
        """Close the link (idle, or shutting down)."""
        for _, timer in self.held:
            self._loop.cancel(timer)
        if self.link is not None:
            self.link.close()

    # ------------------------------------------------------------------
    # Sending
    def send(self, send):
        """Queue ``send``; it goes out at once if credit allows."""
        self.used = True
        send.sender = self
        self.queue.append(send)
        if not self.ready:
            self._start_declaring()
        elif not self.held and _lib.pn_link_credit(self.link._impl) > 0:
            self.pump()

    def _start_declaring(self):
        if not self._declaring:
            self._declaring = True
            self._declare(self.declared, self._declare_failed)

    def declared(self):
        """The address's topology is declared: send what waited."""
        self._declaring = False
        self.ready = True
        if self.link is not None:
            self.pump()

    def _declare_failed(self, error):
        """The declaration failed: the messages waiting for it fail (the
        next one declares again)."""
        self._declaring = False
        failure = oslo_messaging.MessageDeliveryFailure(
            'Message to %s not sent: %s' % (self.address, error))
        for send in self._unsent():
            self._replies.forget(send.msg_id)
            send.fail(failure)

    def pump(self):
        """Send queued messages while there is credit and none is held."""
        if not self.ready or self.link is None:
            return
        link = self.link._impl
        queue = self.queue
        completions = self._completions
        encode = self._encoder.encode
        while queue and not self.held and _lib.pn_link_credit(link) > 0:
            send = queue.popleft()
            if send.cancelled:
                continue
            if send.kind == request.CALL:
                data = encode(send.msg, self.address, send.msg_id,
                              self._replies.address)
                self._replies.expect(send)
            else:
                data = encode(send.msg, self.address)
            self._tag += 1
            tag = '%x' % self._tag
            dlv = cproton.pn_delivery(link, tag)
            cproton.pn_link_send(link, data)
            _lib.pn_link_advance(link)
            if send.presettled:
                _lib.pn_delivery_settle(dlv)
                if send.kind != request.CALL:
                    completions.set(send.future)
            else:
                self.unacked[tag] = send

    def cancel(self, send):
        """Forget ``send`` (its caller gave up)."""
        try:
            self.queue.remove(send)
        except ValueError:
            pass

    # ------------------------------------------------------------------
    # The peer's answers
    def on_disposition(self, dlv):
        """The peer settled (or updated) one of our deliveries."""
        state = _lib.pn_delivery_remote_state(dlv)
        if state not in _TERMINAL:
            return
        send = self.unacked.pop(cproton.pn_delivery_tag(dlv), None)
        failed = undeliverable = False
        cond = None
        if state != _ACCEPTED and state != _RELEASED:
            remote = Delivery.wrap(dlv).remote
            failed = remote.failed
            undeliverable = remote.undeliverable
            cond = remote.condition
        _lib.pn_delivery_settle(dlv)
        if send is None or send.finished:
            return
        if state == _ACCEPTED:
            if send.kind != request.CALL:
                self._completions.set(send.future)
        elif (state == _REJECTED and cond is not None and
              cond.name == 'amqp:not-found' and self._declare is not None
              and send is not self._redeclared):
            # RabbitMQ 4: the exchange went (an auto-delete fanout one
            # with its last server); declare it again and re-send, once
            self._redeclared = send
            self.ready = False
            self.queue.appendleft(send)
            self._start_declaring()
        elif state == _RELEASED or (
                state == _MODIFIED and not failed and not undeliverable):
            if send.may_retry():
                self._hold(send)
            else:
                self._replies.forget(send.msg_id)
                send.fail(oslo_messaging.MessageDeliveryFailure(
                    'Send retries exhausted (message %s to %s)'
                    % (_STATE_NAMES.get(state), self.address)))
        else:
            self._replies.forget(send.msg_id)
            info = {}
            if cond is not None:
                info = {'condition': cond.name,
                        'description': cond.description}
            send.fail(oslo_messaging.MessageDeliveryFailure(
                'Message to %s %s by the peer, info: %s'
                % (self.address, _STATE_NAMES.get(state), info)))

    def _hold(self, send):
        # re-send after link_retry_delay; later messages wait too
        entry = [send, None]
        entry[1] = self._loop.call_later(self._delay, self._unhold, entry)
        self.held.append(entry)

    def _unhold(self, entry):
        self.held.remove(entry)
        send = entry[0]
        if not send.finished:
            self.queue.appendleft(send)
        if self.link is not None:
            self.pump()

    def _unsent(self):
        """Every message not yet on the wire: held re-sends first."""
        for _, timer in self.held:
            self._loop.cancel(timer)
        pending = [send for send, _ in self.held]
        self.held = []
        pending.extend(self.queue)
        self.queue.clear()
        return pending

    def _fail_unacked(self, error):
        unacked = list(self.unacked.values())
        self.unacked.clear()
        for send in unacked:
            if not send.finished:
                self._replies.forget(send.msg_id)
                send.fail(error)

    def reset(self, error):
        """The link is gone (closed by the peer, or with its connection).

        Fails the messages sent and not settled, and those that may not
        be re-sent (out of retries, heartbeats), with ``error``.

        :returns: the messages to send again, in order, on a new link.
        """
        self.link = None
        self._fail_unacked(error)
        retry = []
        for send in self._unsent():
            if send.finished:
                continue
            send.sender = None
            if send.kind != request.HEARTBEAT and send.may_retry():
                retry.append(send)
            else:
                self._replies.forget(send.msg_id)
                send.fail(error)
        return retry

    def fail_all(self, error):
        """Fail every message this sender holds (the I/O thread ends)."""
        self._fail_unacked(error)
        for send in self._unsent():
            send.fail(error)
