"""Sending: sender links, credit, retry/resend, settlement and replies.

:class:`Sending` is the :class:`~amqp1_driver.connection.IOThread` part
that turns each :class:`~amqp1_driver.links.Send` into a delivery on a
(cached) sender link once the connection is ready, re-sends released or
modified messages after ``link_retry_delay`` while their retry budget
lasts, completes or fails the request futures from the peer's
disposition or the call's reply, and detaches idle sender links.  Only the
I/O thread calls into it.
"""

import logging
import time

import cproton
import cproton_ffi
import oslo_messaging
from proton import Delivery

from amqp1_driver import links

# the I/O thread's logger: moving code must not move its log records
LOG = logging.getLogger('amqp1_driver.connection')

# The per-message hot path (deliveries, credit, transport I/O) calls
# proton's C binding directly: every proton wrapper object costs a dozen C
# calls (each releasing the GIL) for state that these paths never use.
_lib = cproton_ffi.lib
_ACCEPTED = int(Delivery.ACCEPTED)
_REJECTED = int(Delivery.REJECTED)
_RELEASED = int(Delivery.RELEASED)
_MODIFIED = int(Delivery.MODIFIED)
_TERMINAL = frozenset([_ACCEPTED, _REJECTED, _RELEASED, _MODIFIED])
_STATE_NAMES = {_ACCEPTED: 'accepted', _REJECTED: 'rejected',
                _RELEASED: 'released', _MODIFIED: 'modified'}


class Sending:
    """Senders, their queues, retries and settlement (mixed into IOThread).

    Owns the I/O thread's ``_waiting``, ``_senders``, ``_calls`` and the
    sender entries of ``_links``; completed futures go to ``_done`` so the
    loop wakes their callers after its socket write.
    """

    def _requeue_or_fail(self, send, error):
        if send.cancelled or send.future.done():
            return
        send.sender = None
        if send.kind != links.HEARTBEAT and send.may_retry():
            self._waiting.append(send)
        else:
            self._calls.pop(send.msg_id, None)
            send.future.fail(error)

    def _fail_waiting(self, error):
        while self._waiting:
            send = self._waiting.popleft()
            self._calls.pop(send.msg_id, None)
            send.future.fail(error)

    def _on_reply(self, dlv, link, data):
        correlation_id, body = self.decoder.reply(data)
        send = self._calls.get(correlation_id)
        settled = _lib.pn_delivery_settled(dlv)
        if send is not None:
            if body is None:
                send.beat = time.monotonic()
            else:
                del self._calls[correlation_id]
                self._done.append((send.future, body))
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
        maximum = self._group.reply_link_credit
        more = links.refill(_lib.pn_link_credit(link), maximum)
        if more:
            _lib.pn_link_flow(link, more)

    def _on_disposition(self, dlv, link):
        state = _lib.pn_delivery_remote_state(dlv)
        if state not in _TERMINAL:
            return
        sender = self._links.get(cproton.pn_link_name(link))
        send = (sender.unacked.pop(cproton.pn_delivery_tag(dlv), None)
                if sender else None)
        failed = undeliverable = False
        cond = None
        if state != _ACCEPTED and state != _RELEASED:
            remote = Delivery.wrap(dlv).remote
            failed = remote.failed
            undeliverable = remote.undeliverable
            cond = remote.condition
        _lib.pn_delivery_settle(dlv)
        if send is None or send.cancelled or send.future.done():
            return
        if state == _ACCEPTED:
            if send.kind != links.CALL:
                self._done.append((send.future, None))
        elif state == _RELEASED or (
                state == _MODIFIED and not failed and
                not undeliverable):
            if send.may_retry():
                # resend after link_retry_delay; later messages wait too
                sender.held += 1
                self._later(self._group.link_retry_delay, self._unhold,
                            sender, send, self._generation)
            else:
                self._calls.pop(send.msg_id, None)
                send.future.fail(oslo_messaging.MessageDeliveryFailure(
                    'Send retries exhausted (message %s to %s)'
                    % (_STATE_NAMES.get(state), sender.address)))
        else:
            self._calls.pop(send.msg_id, None)
            info = {}
            if cond is not None:
                info = {'condition': cond.name,
                        'description': cond.description}
            send.future.fail(oslo_messaging.MessageDeliveryFailure(
                'Message to %s %s by the peer, info: %s'
                % (sender.address, _STATE_NAMES.get(state), info)))

    def _new_send(self, send):
        if send.cancelled:
            return
        if not self._ready:
            if self._auth_error is not None:
                send.future.fail(self._auth_error)
                return
            self._waiting.append(send)
            return
        self._dispatch_send(send)

    def _flush_waiting(self):
        waiting = self._waiting
        while waiting and self._ready:
            self._dispatch_send(waiting.popleft())

    def _dispatch_send(self, send):
        if send.cancelled:
            return
        address = send.address
        if address is None:
            address = self._addresser.resolve(send.target, send.service)
        sender = self._senders.get(address)
        if sender is None:
            sender = links.Sender(address)
            link = self._session.sender(sender.name)
            link.source.address = address
            link.target.address = address
            link.open()
            sender.link = link
            self._senders[address] = sender
            self._links[sender.name] = sender
        sender.used = True
        send.sender = sender
        sender.queue.append(send)
        if not sender.held and _lib.pn_link_credit(sender.link._impl) > 0:
            self._pump(sender)

    def _pump(self, sender):
        link = sender.link._impl
        queue = sender.queue
        while queue and not sender.held and _lib.pn_link_credit(link) > 0:
            send = queue.popleft()
            if send.cancelled:
                continue
            msg = send.msg
            msg.address = sender.address
            if send.kind == links.CALL:
                msg.id = send.msg_id
                msg.reply_to = self.reply_address
                self._calls[send.msg_id] = send
            self._tag += 1
            tag = '%x' % self._tag
            dlv = cproton.pn_delivery(link, tag)
            cproton.pn_link_send(link, msg.encode())
            _lib.pn_link_advance(link)
            if send.presettled:
                _lib.pn_delivery_settle(dlv)
                if send.kind != links.CALL:
                    self._done.append((send.future, None))
            else:
                sender.unacked[tag] = send

    def _unhold(self, sender, send, generation):
        sender.held -= 1
        if generation != self._generation:
            # the connection was lost meanwhile; _lost() never saw this
            # message (held in no queue), so decide for it here: the
            # loss counts against retry like any pending send's
            if not (send.cancelled or send.future.done()):
                send.sender = None
                if send.may_retry():
                    self._resend([send])
                else:
                    self._calls.pop(send.msg_id, None)
                    send.future.fail(oslo_messaging.MessageDeliveryFailure(
                        'Message send failed: connection lost while '
                        'waiting to re-send to %s' % sender.address))
            return
        if not send.cancelled:
            sender.queue.appendleft(send)
        if self._senders.get(sender.address) is sender:
            self._pump(sender)
        else:
            self._resend(list(sender.queue))

    def _resend(self, sends):
        # on whatever connection is up now: a send parked in _waiting
        # while _ready is true would never be flushed
        for send in sends:
            if send.cancelled or send.future.done():
                continue
            if not self._ready:
                self._waiting.append(send)
            else:
                self._dispatch_send(send)

    def _forget(self, send):
        self._calls.pop(send.msg_id, None)
        sender = send.sender
        if sender is not None:
            try:
                sender.queue.remove(send)
            except ValueError:
                pass
        else:
            try:
                self._waiting.remove(send)
            except ValueError:
                pass

    def _sweep(self):
        """Detach sender links unused since the previous sweep."""
        for address, sender in list(self._senders.items()):
            if sender.used or sender.queue or sender.unacked or sender.held:
                sender.used = False
                continue
            del self._senders[address]
            self._links.pop(sender.name, None)
            if sender.link is not None:
                sender.link.close()
        self._sweep_timer = self._later(
            self._group.default_sender_link_timeout, self._sweep)
