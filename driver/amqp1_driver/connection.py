"""The I/O thread: the one owner of proton for one transport.

It drives a :class:`proton.Connection`/:class:`proton.Transport` over a
non-blocking socket with :mod:`selectors` (no reactor): reads into the
transport, dispatches the collector's events, writes what proton produced.
Other threads never touch proton; they append work to one deque and write
one byte to a socketpair (only when the loop is not already awake), then
wait on a :class:`~amqp1_driver.links.Future` with their own deadline.

Reconnection is ours: the first host of the URL is picked at random, then
round-robin; the delay starts at ``connection_retry_interval``, is
multiplied by ``connection_retry_backoff`` after each failed attempt,
capped at ``connection_retry_interval_max`` and reset once a connection
opens.  A host name that does not resolve is a failed attempt like a
refused connection.

Under eventlet's monkey-patching the same code runs green: the thread, the
selector, the sockets and the waiters' events are all patched, and proton's
C calls never block, so the loop is one green thread among the service's.
(Real OS threads would need a green-safe hand-off back to the callers; the
green loop needs none.)

If the loop ever raises, every waiter fails at once with
:class:`~amqp1_driver.exceptions.IOThreadDead` and later submissions fail
immediately with the same reason.

:class:`IOThread` is the state machine that ties its parts together: the
loop itself is in :mod:`amqp1_driver.eventloop`, the proton
connection/transport setup (SASL, TLS) in :mod:`amqp1_driver.wire`, the
host rotation and backoff in :mod:`amqp1_driver.reconnect`, senders and
request completion in :mod:`amqp1_driver.sending`, receivers in
:mod:`amqp1_driver.receiving`.  This module keeps the public hand-off
(``submit``, ``cancel``, ``shutdown``, ``abandon``), the thread body, the
connection and link events, loss of the connection and shutdown.
"""

import collections
import logging
import os
import random
import selectors
import socket
import threading

import cproton
import cproton_ffi
import oslo_messaging
import proton
from proton import Event
from proton import Link

from amqp1_driver import addressing
from amqp1_driver import codec
from amqp1_driver import eventloop
from amqp1_driver import exceptions
from amqp1_driver import links
from amqp1_driver import receiving
from amqp1_driver import reconnect
from amqp1_driver import sending
from amqp1_driver import wire
# re-exported: the driver's tests import them from here
from amqp1_driver.reconnect import next_delay  # noqa: F401
from amqp1_driver.wire import container_id  # noqa: F401
from amqp1_driver.wire import require_tls_support  # noqa: F401
from amqp1_driver.wire import tls_requested  # noqa: F401

LOG = logging.getLogger(__name__)

_UNAUTHORIZED = 'amqp:unauthorized-access'

# The per-message hot path (deliveries, credit, transport I/O) calls
# proton's C binding directly: every proton wrapper object costs a dozen C
# calls (each releasing the GIL) for state that these paths never use.
_lib = cproton_ffi.lib


class IOThread(eventloop.EventLoop, reconnect.Reconnect,
               receiving.Receiving, sending.Sending, wire.WireSetup):
    """One AMQP connection (with failover) and the thread that runs it.

    :param group: the ``[oslo_messaging_amqp]`` options (URL-overridable).
    :param url: the :class:`oslo_messaging.TransportURL`.
    :param default_exchange: ``[DEFAULT] control_exchange``.
    """

    def __init__(self, group, url, default_exchange):
        self._group = group
        self._default_exchange = default_exchange
        self._vhost = url.virtual_host
        hosts = [(h.hostname or 'localhost', h.port or 5672, h.username,
                  h.password) for h in url.hosts] or [
            ('localhost', 5672, None, None)]
        self._hosts = hosts
        self._host_index = random.randrange(len(hosts))
        self._container = group.container_name or container_id()
        self._tls = tls_requested(group)
        if self._tls:
            require_tls_support()
        self._interval = group.connection_retry_interval
        self._delay = self._interval
        self._pid = os.getpid()

        self._tasks = collections.deque()
        # decodes on this I/O thread only (replies, push listeners)
        self.decoder = codec.Decoder()
        # (future, value) pairs completed at the end of a loop iteration
        self._done = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._woken = False
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._timers = []
        self._cancelled_timers = 0

        self.dead = None
        self._stopping = False
        self._stopped = links.Future()
        # connection state
        self._sock = None
        self._sock_mask = 0
        self._connecting = False
        self._conn = None
        self._transport = None
        self._collector = None
        self._session = None
        self._generation = 0
        self._host = None
        self._addresser = None
        self._open = False
        self._reply = None
        self._reply_name = None
        self.reply_address = None
        self._ready = False
        self._tag = 0
        self._tick_timer = None
        self._reason = None
        self._auth_error = None
        self._sasl = None
        # requests and links
        self._waiting = collections.deque()
        self._senders = {}
        self._links = {}
        self._calls = {}
        self._subscriptions = []
        self._sweep_timer = None

        self._thread = threading.Thread(
            target=self._run, name='amqp1-driver I/O %s' % self._container,
            daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------
    # Any thread
    @property
    def pid(self):
        """The pid of the process that created this connection."""
        return self._pid

    @property
    def thread(self):
        return self._thread

    def submit(self, task):
        """Hand ``task`` (a callable or a :class:`links.Send`) to the loop.

        :raises IOThreadDead: the loop has ended.
        """
        if self.dead is not None:
            raise self.dead
        self._tasks.append(task)
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b'x')
            except (BlockingIOError, InterruptedError):
                pass  # the pipe is full: the loop is awake anyway
            except OSError:
                if self.dead is not None:
                    raise self.dead
                raise
        if self.dead is not None:
            raise self.dead

    def cancel(self, send):
        """Forget ``send`` (its caller gave up): from any thread."""
        send.cancelled = True
        try:
            self.submit(lambda: self._forget(send))
        except exceptions.IOThreadDead:
            pass

    def shutdown(self, timeout=10.0):
        """Close links and connection, end the thread, wait for it."""
        if self._thread.is_alive() and self.dead is None:
            try:
                self.submit(self._begin_stop)
            except exceptions.IOThreadDead:
                pass
            if threading.current_thread() is self._thread:
                return  # called back on the loop itself: it stops soon
            self._thread.join(timeout)
        self._close_wakeup()

    def abandon(self):
        """In a forked child: drop the parent's connection, touch nothing."""
        self.dead = exceptions.IOThreadDead('connection owned by the parent '
                                            'process (pid %s)' % self._pid)
        for obj in (self._sock, self._wake_r, self._wake_w):
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass

    # ------------------------------------------------------------------
    # The thread body, and its death failing every waiter
    def _run(self):
        try:
            self._start_connect()
            self._loop()
        except BaseException as exc:  # noqa: B902 - must fail every waiter
            LOG.exception('AMQP 1.0 driver I/O thread failed')
            self._die(exc)
        else:
            self._fail_all(exceptions.DriverShutdown(
                'the transport was cleaned up'))
            self.dead = exceptions.IOThreadDead('the transport was cleaned up')
        finally:
            self._drop_socket()
            self._close_wakeup()

    def _die(self, exc):
        self.dead = exceptions.IOThreadDead(
            'the AMQP 1.0 driver I/O thread died: %r' % (exc,))
        self._fail_all(self.dead)

    def _fail_all(self, error):
        for future, value in self._done:
            future.set(value)
        self._done.clear()
        pending = []
        while self._tasks:
            task = self._tasks.popleft()
            if isinstance(task, links.Send):
                pending.append(task)
        pending.extend(self._waiting)
        self._waiting.clear()
        for s in self._senders.values():
            pending.extend(s.queue)
            pending.extend(s.unacked.values())
        pending.extend(self._calls.values())
        self._calls.clear()
        # re-sends waiting out link_retry_delay live only in their timer
        for timer in self._timers:
            if timer.cancelled:
                continue
            if timer.func == self._unhold:
                pending.append(timer.args[1])
            elif timer.func == self._resend:
                pending.extend(timer.args[0])
        for send in pending:
            send.future.fail(error)
        for sub in self._subscriptions:
            if sub.ready is not None:
                sub.ready.set()
        self._stopped.set()

    # ------------------------------------------------------------------
    # Losing the connection
    def _teardown(self):
        self._drop_socket()
        # proton frees its objects when the last wrapper goes away
        self._conn = None
        self._transport = None
        self._collector = None
        self._session = None
        self._sasl = None
        self._cancel_timer(self._tick_timer)
        self._tick_timer = None
        self._open = False
        self._ready = False
        self._reply = None
        self.reply_address = None
        self._links = {}

    def _lost(self, reason):
        """The connection ended: keep what may be retried, then reconnect."""
        was_open = self._open
        host = '%s:%s' % self._host[:2]
        self._teardown()
        if self._stopping:
            return
        error = None
        if self._auth_error is not None and not was_open:
            error = self._auth_error
        else:
            LOG.warning('AMQP 1.0 connection to %s lost: %s', host, reason)
        failure = error or oslo_messaging.MessageDeliveryFailure(
            'Message send failed: %s' % reason)
        for sender in self._senders.values():
            # sent but not settled: the peer may have it, so a re-send
            # could duplicate it (14.x failed these too)
            for send in sender.unacked.values():
                if not (send.cancelled or send.future.done()):
                    self._calls.pop(send.msg_id, None)
                    send.future.fail(failure)
            sender.unacked.clear()
            pending = list(sender.queue)
            sender.queue.clear()
            for send in pending:
                self._requeue_or_fail(send, failure)
        self._senders = {}
        for sub in self._subscriptions:
            for rcv in sub.receivers:
                rcv.link = None
                rcv.active = False
        if error is not None:
            self._fail_waiting(error)
        if was_open:
            self._delay = self._interval
        self._schedule_reconnect()

    # ------------------------------------------------------------------
    # Events
    def _dispatch(self):
        # proton.Event wraps every object an event touches (a dozen cffi
        # calls, each releasing the GIL); most events need none of them, so
        # peek at the raw event and wrap only what a handler uses.
        collector = self._collector
        if collector is None:
            return
        impl = collector._impl
        handlers = _HANDLERS
        while True:
            ev = cproton.pn_collector_peek(impl)
            if cproton.isnull(ev):
                return
            handler = handlers.get(cproton.pn_event_type(ev))
            if handler is not None:
                handler(self, ev)
                if self._collector is not collector:
                    return  # torn down by the handler
            cproton.pn_collector_pop(impl)

    def _on_transport_error(self, ev):
        t = self._transport
        cond = t.condition
        name = cond.name if cond else None
        desc = cond.description if cond else None
        host = self._host
        if name == _UNAUTHORIZED or (
                self._sasl is not None and not self._open and
                self._sasl.outcome in (proton.SASL.AUTH, proton.SASL.PERM)):
            self._auth_error = exceptions.AuthenticationFailure(
                '%s:%s' % host[:2], host[2], desc or name)
            LOG.error('%s', self._auth_error)
        self._reason = '%s: %s' % (name, desc) if cond else 'transport error'

    def _on_transport_closed(self, ev):
        self._lost(self._reason or 'connection closed')

    def _on_conn_remote_open(self, ev):
        conn = self._conn
        self._open = True
        self._auth_error = None
        self._delay = self._interval
        if self._transport.remote_idle_timeout or self._group.idle_timeout:
            self._tick()
        props = conn.remote_properties or {}
        legacy = addressing.is_legacy(self._group.addressing_mode, props)
        self._addresser = addressing.choose_addresser(
            self._group, self._default_exchange, props, self._vhost)
        LOG.info('AMQP 1.0 connection to %s:%s open (%s addressing)',
                 self._host[0], self._host[1],
                 'legacy' if legacy else 'routable')
        ssn = conn.session()
        ssn.open()
        self._session = ssn
        rcv = ssn.receiver(links.link_name('receiver', 'rpc-response'))
        rcv.source.dynamic = True
        rcv.target.address = 'rpc-response'
        rcv.snd_settle_mode = Link.SND_MIXED
        rcv.rcv_settle_mode = Link.RCV_FIRST
        rcv.open()
        rcv.flow(self._group.reply_link_credit)
        self._reply = rcv
        self._reply_name = rcv.name
        for sub in self._subscriptions:
            self._attach(sub)
        if self._sweep_timer is None:
            self._sweep_timer = self._later(
                self._group.default_sender_link_timeout, self._sweep)

    def _on_conn_remote_close(self, ev):
        cond = self._conn.remote_condition
        if cond is not None:
            self._reason = 'closed by peer: %s: %s' % (cond.name,
                                                       cond.description)
            if cond.name == _UNAUTHORIZED:
                host = self._host
                self._auth_error = exceptions.AuthenticationFailure(
                    '%s:%s' % host[:2], host[2], cond.description)
        else:
            self._reason = 'closed by peer'
        self._conn.close()

    def _on_link_remote_open(self, ev):
        link = Link.wrap(cproton.pn_event_link(ev))
        name = link.name
        if name == self._reply_name:
            self.reply_address = link.remote_source.address
            self._ready = True
            self._flush_waiting()
            return
        obj = self._links.get(name)
        if isinstance(obj, links.Receiver):
            obj.active = True
            sub = obj.subscription
            if sub.ready is not None and all(
                    r.active for r in sub.receivers):
                sub.ready.set()

    def _on_link_remote_close(self, ev):
        link = Link.wrap(cproton.pn_event_link(ev))
        name = link.name
        cond = link.remote_condition
        reason = ('%s: %s' % (cond.name, cond.description) if cond
                  else 'detached by peer')
        link.close()
        if self._stopping:
            return
        if name == self._reply_name:
            # the replies of this connection can no longer arrive
            self._reason = 'reply link closed: %s' % reason
            if self._conn is not None:
                self._conn.close()
            return
        obj = self._links.pop(name, None)
        delay = self._group.link_retry_delay
        if isinstance(obj, links.Sender):
            LOG.warning('sender link to %s closed: %s', obj.address, reason)
            if self._senders.get(obj.address) is obj:
                del self._senders[obj.address]
            error = oslo_messaging.MessageDeliveryFailure(
                'Message send failed: link to %s closed: %s'
                % (obj.address, reason))
            # sent but not settled: may have been delivered, never re-send
            for send in obj.unacked.values():
                if not (send.cancelled or send.future.done()):
                    self._calls.pop(send.msg_id, None)
                    send.future.fail(error)
            obj.unacked.clear()
            pending = list(obj.queue)
            obj.queue.clear()
            retry = []
            for send in pending:
                if send.cancelled or send.future.done():
                    continue
                if send.kind != links.HEARTBEAT and send.may_retry():
                    send.sender = None
                    retry.append(send)
                else:
                    self._calls.pop(send.msg_id, None)
                    send.future.fail(error)
            if retry:
                self._later(delay, self._resend, retry)
        elif isinstance(obj, links.Receiver):
            LOG.warning('receiver link from %s closed: %s', obj.address,
                        reason)
            obj.active = False
            obj.link = None
            self._later(delay, self._reattach, obj, self._generation)

    def _on_link_flow(self, ev):
        link = _lib.pn_event_link(ev)
        if _lib.pn_link_is_sender(link):
            obj = self._links.get(cproton.pn_link_name(link))
            if obj is not None:
                self._pump(obj)

    # ------------------------------------------------------------------
    # Shutdown
    def _begin_stop(self):
        self._stopping = True
        self._fail_all(exceptions.DriverShutdown(
            'the transport was cleaned up'))
        if self._conn is not None and self._open:
            for obj in list(self._links.values()):
                if obj.link is not None:
                    obj.link.close()
            if self._reply is not None:
                self._reply.close()
            self._conn.close()
            # give the peer a moment to see the close frames
            self._later(2.0, self._force_stop)
        else:
            self._force_stop()

    def _force_stop(self):
        self._teardown()


# keyed by the raw event type number (see IOThread._dispatch)
_HANDLERS = {
    Event.TRANSPORT_ERROR.number: IOThread._on_transport_error,
    Event.TRANSPORT_CLOSED.number: IOThread._on_transport_closed,
    Event.CONNECTION_REMOTE_OPEN.number: IOThread._on_conn_remote_open,
    Event.CONNECTION_REMOTE_CLOSE.number: IOThread._on_conn_remote_close,
    Event.LINK_REMOTE_OPEN.number: IOThread._on_link_remote_open,
    Event.LINK_REMOTE_CLOSE.number: IOThread._on_link_remote_close,
    Event.LINK_REMOTE_DETACH.number: IOThread._on_link_remote_close,
    Event.LINK_FLOW.number: IOThread._on_link_flow,
    Event.DELIVERY.number: IOThread._on_delivery,
}
