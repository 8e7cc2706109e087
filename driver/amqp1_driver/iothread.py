"""The I/O thread: the one owner of proton for one transport.

It drives a :class:`proton.Connection`/:class:`proton.Transport` over a
non-blocking socket with :mod:`selectors` (no reactor): reads into the
transport, dispatches the collector's events, writes what proton
produced.  Other threads never touch proton; they hand it work through
the loop's task queue, then wait on a
:class:`~amqp1_driver.request.Future` with their own deadline.

:class:`IOThread` only routes events; the state lives in objects that
own it, each in its own module:

=========================================  ================================
:class:`~amqp1_driver.loop.Loop`           selector, wake-up, tasks, timers
:class:`~amqp1_driver.hosts.Hosts`         failover order, backoff schedule
:class:`~amqp1_driver.attempt.Attempt`     one connection attempt: socket,
                                           proton connection and transport
:class:`~amqp1_driver.outbox.Outbox`       messages waiting, sender links
:class:`~amqp1_driver.sender.Sender`       one address: queue, unsettled
                                           and held messages
:class:`~amqp1_driver.replies.Replies`     reply link, calls waiting
:class:`~amqp1_driver.servers.Servers`     subscriptions, receiver links
:class:`~amqp1_driver.management.          RabbitMQ 4's ``/management``
Management`                                link pair, requests in flight
:class:`~amqp1_driver.codec.Encoder`,      the proton message reused to
:class:`~amqp1_driver.codec.Decoder`       encode and decode
:class:`~amqp1_driver.request.Completions` futures completed and listeners
                                           handed messages after the write
:class:`~amqp1_driver.green.GreenSelector` the loop's selector under
                                           eventlet
=========================================  ================================

When the peer's Open says RabbitMQ >= 4 (:func:`~amqp1_driver.rabbitmq4.
is_rabbitmq4`), the connection uses v2 addresses and declares the
topology it needs through a :class:`~amqp1_driver.management.Management`
link pair (see :mod:`amqp1_driver.rabbitmq4`): the reply queue before the
reply link (or Direct Reply-To on 4.2), a target's exchange (and a
notification's queue) before its first message, a listener's queues
before its links.

When the connection is lost the thread asks each owner to reset (as
14.x's ``_hard_reset`` did) and schedules the next attempt.  Under
eventlet's monkey-patching the same code runs green: the thread, the
selector, the sockets and the waiters' locks are all patched, and
proton's C calls never block.  If the loop ever raises, every waiter
fails at once with :class:`~amqp1_driver.exceptions.IOThreadDead` and
later submissions fail immediately with the same reason.
"""

import logging
import os
import threading
import time
import uuid

import cproton
import cproton_ffi
import oslo_messaging
from proton import Event
from proton import Link
from proton import Session
from proton import Terminus

from amqp1_driver import addressing
from amqp1_driver import attempt as attempt_mod
from amqp1_driver import codec
from amqp1_driver import exceptions
from amqp1_driver import hosts as hosts_mod
from amqp1_driver import loop as loop_mod
from amqp1_driver import management as management_mod
from amqp1_driver import outbox as outbox_mod
from amqp1_driver import rabbitmq4
from amqp1_driver import replies as replies_mod
from amqp1_driver import request
from amqp1_driver import servers as servers_mod
from amqp1_driver import wire

LOG = logging.getLogger(__name__)

# The per-message path calls proton's C binding directly (see servers.py).
_lib = cproton_ffi.lib
_NULL = cproton_ffi.ffi.NULL

# How long a clean shutdown waits for the peer to answer our close.
_CLOSE_WAIT = 2.0
# Conditions a peer closes a connection with that are not a refusal: an
# administrative close or a redirect, after which requests are retried on
# the next connection as after any loss (14.x's behaviour).
_TRANSIENT = frozenset(['amqp:connection:forced',
                        'amqp:connection:redirect'])

# While an RPC server's calls await their acknowledgement, the loop turns
# at least this often (s): an acknowledgement is a deferred task that
# normally rides with the call's reply (one wake-up, one write, one
# frame less per call), and arrives this late at worst.
_SETTLE_WAIT = 0.02


class IOThread:
    """One AMQP connection (with failover) and the thread that runs it.

    Owns which attempt is current and the addresser chosen for it, the
    refusal that fails new requests at once while no connection is usable
    (an authentication failure, or a peer's refusal: a link refused, the
    session or the connection ended with an error condition), whether it
    is stopping, why it died (``dead``), and the thread.  Everything else
    is owned by the objects it routes between (see the module docstring),
    which it creates and holds.

    :param group: the ``[oslo_messaging_amqp]`` option values.
    :param url: the :class:`oslo_messaging.TransportURL`.
    :param default_exchange: ``[DEFAULT] control_exchange``.
    :param clock: a monotonic clock in seconds.
    :param rabbit: the :class:`~amqp1_driver.rabbitmq4.Options` of a
        RabbitMQ 4 peer (``[oslo_messaging_rabbit]``'s).
    """

    def __init__(self, group, url, default_exchange, clock=time.monotonic,
                 rabbit=None):
        self._group = group
        self._default_exchange = default_exchange
        self._vhost = url.virtual_host
        self._container = group.container_name or wire.container_id()
        self._tls = wire.tls_requested(group)
        if self._tls:
            wire.require_tls_support()
        self._pid = os.getpid()
        # decodes on this I/O thread only (replies, push listeners)
        self.decoder = codec.Decoder()
        completions = self._completions = request.Completions()
        self.loop = loop_mod.Loop(self._run_task, clock)
        self.hosts = hosts_mod.Hosts.from_url(url, group, clock)
        self.replies = replies_mod.Replies(group.reply_link_credit,
                                           completions, self.decoder, clock)
        self.outbox = outbox_mod.Outbox(self.loop, completions, self.replies,
                                        group.link_retry_delay,
                                        group.default_sender_link_timeout,
                                        codec.Encoder())
        self.servers = servers_mod.Servers(self.loop, group.link_retry_delay,
                                           completions)
        self.attempt = None
        self._addresser = None
        self._rabbit_options = rabbit or rabbitmq4.Options(
            control_exchange=default_exchange or 'openstack')
        #: the connection's /management link pair (RabbitMQ 4), or None
        self.management = None
        #: True once a peer was RabbitMQ >= 4 (callers then build the
        #: rabbit driver's format themselves)
        self.rabbitmq = False
        #: RabbitMQ 4.0/4.1: the reply queue, the same across reconnects
        #: (the rabbit driver's ``reply_<uuid>``)
        self.reply_queue = rabbitmq4.reply_queue(uuid.uuid4().hex,
                                                 self._rabbit_options)
        self._refusal = None
        # shutting down on RabbitMQ 4: what to do once the reply link's
        # detach is answered (delete the reply queue, then close)
        self._after_replies_detached = None
        self._stopping = False
        self.dead = None
        self._thread = threading.Thread(
            target=self._run, name='amqp1-driver I/O %s' % self._container,
            daemon=True)

    def start(self):
        """Start the thread (it connects at once); returns self."""
        self._thread.start()
        return self

    # ------------------------------------------------------------------
    # Any thread
    @property
    def pid(self):
        """The pid of the process that created this connection."""
        return self._pid

    @property
    def thread(self):
        """The :class:`threading.Thread` running the loop."""
        return self._thread

    @property
    def container(self):
        """The container-id of the connection's Open frame."""
        return self._container

    def submit(self, task):
        """Hand ``task`` (a callable or a :class:`request.Send`) to the loop.

        :raises IOThreadDead: the loop has ended (and will not run it).
        """
        self._hand_over(task, self.loop.submit)

    def _hand_over(self, task, how):
        if self.dead is not None:
            raise self.dead
        try:
            how(task)
        except OSError:
            if self.dead is not None:
                raise self.dead
            raise
        # Ended meanwhile: a task the loop ran, or failed when it ended,
        # is gone from its queue; one queued after that never runs.
        if self.dead is not None and self.loop.holds(task):
            raise self.dead

    def status(self):
        """Why requests cannot go out now, or None if they can.

        For error messages, from any thread: it reads the owners' state
        without a lock, which is enough to say where the bus is and what
        went wrong last.
        """
        if self.outbox.ready:
            return None
        if self._refusal is not None:
            return str(self._refusal)
        error = self.hosts.last_error
        if error:
            return 'not connected to the bus (last attempt: %s)' % error
        return 'not connected to the bus yet (connecting to %s)' % (
            self.hosts.current,)

    def cancel(self, send):
        """Forget ``send`` (its caller gave up): from any thread."""
        send.cancelled = True
        try:
            self.submit(lambda: self.outbox.cancel(send))
        except exceptions.IOThreadDead:
            pass

    def subscribe(self, sub):
        """Attach the links of ``sub`` now and after every reconnect.

        :returns: ``sub.ready``, set once the links are attached.
        """
        self.submit(lambda: self.servers.add(sub))
        return sub.ready

    def unsubscribe(self, sub):
        """Detach the links of ``sub``; returns a Future set when done."""
        done = request.Future()

        def task():
            self.servers.remove(sub)
            done.set()
        self.submit(task)
        return done

    def settle(self, kept, rcv, attempt, state, lazy=False):
        """From a listener's thread: settle one delivery with ``state``.

        :param lazy: do not wake the loop for it (a call's acknowledgement:
            its reply follows, or the loop turns within ``_SETTLE_WAIT``).
        """
        task = lambda: self.servers.settle(kept, rcv, attempt, state)  # noqa
        self._hand_over(task, self.loop.defer if lazy else self.loop.submit)

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
        self.loop.close()

    def abandon(self):
        """In a forked child: drop the parent's connection, touch nothing."""
        self.dead = exceptions.IOThreadDead('connection owned by the parent '
                                            'process (pid %s)' % self._pid)
        attempt = self.attempt
        if attempt is not None and attempt.sock is not None:
            try:
                attempt.sock.close()
            except OSError:
                pass
        self.loop.close()

    # ------------------------------------------------------------------
    # The thread body, and its death failing every waiter
    def _run(self):
        try:
            self._connect()
            loop = self.loop
            servers = self.servers
            while not (self._stopping and self.attempt is None):
                loop.run_once(_SETTLE_WAIT if servers.awaiting else None)
                self._process()
        except BaseException as exc:  # noqa: B902 - must fail every waiter
            LOG.exception('AMQP 1.0 driver I/O thread failed')
            self.dead = exceptions.IOThreadDead(
                'the AMQP 1.0 driver I/O thread died: %r' % (exc,))
            self._fail_all(self.dead)
        else:
            self._fail_all(exceptions.DriverShutdown(
                'the transport was cleaned up'))
            self.dead = exceptions.IOThreadDead('the transport was cleaned up')
        finally:
            if self.attempt is not None:
                self.attempt.drop()
            self.loop.close()

    def _run_task(self, task):
        if type(task) is request.Send:
            self._new_send(task)
        else:
            task()

    def _fail_all(self, error):
        self._completions.flush()
        for task in self.loop.drain_tasks():
            if type(task) is request.Send:
                task.fail(error)
        self.outbox.fail_all(error)
        self.replies.fail_all(error)
        self.servers.release_waiters()

    def _new_send(self, send):
        if send.cancelled:
            return
        if not self.outbox.ready and self._refusal is not None:
            send.fail(self._refusal)
            return
        self.outbox.submit(send)

    def _process(self):
        """After each turn of the loop: proton's events, the socket write,
        then the completions (after the write: the woken callers do not
        compete with it for the GIL)."""
        a = self.attempt
        if a is not None:
            if a.failure is not None:
                self._attempt_failed(a.failure)
            else:
                self._dispatch(a)
                if self.attempt is a and not a.flush():
                    # the transport is done: its last events first (a
                    # transport error says why, e.g. a SASL failure)
                    self._dispatch(a)
                    if self.attempt is a:
                        self._lost(a)
        self._completions.flush()

    # ------------------------------------------------------------------
    # Connecting and losing the connection
    def _connect(self):
        if self._stopping:
            return
        a = self.attempt = attempt_mod.Attempt(
            self.hosts.next(), self._group, self._container, self._vhost,
            self._tls, self.loop)
        try:
            a.start()
        except attempt_mod.AttemptFailed as exc:
            self._attempt_failed(str(exc))

    def _attempt_failed(self, reason):
        self.attempt.drop()
        self.attempt = None
        self._retry(reason)

    def _retry(self, reason):
        if self._stopping:
            return
        delay = self.hosts.delay
        when = self.hosts.failed(reason)
        LOG.warning('AMQP 1.0 connection attempt failed: %s; retrying in '
                    '%s s', reason, delay)
        self.loop.call_at(when, self._connect)

    def _lost(self, a):
        """The connection ended: each owner resets, then reconnect."""
        a.drop()
        self.attempt = None
        self._addresser = None
        reason = a.reason or 'connection closed'
        auth = a.auth_error if not a.opened else None
        # the management link pair last: its pending declarations fail
        # once the senders and listeners waiting on them were reset (and
        # their messages kept for the next connection)
        management, self.management = self.management, None
        self.replies.reset()
        self.servers.reset()
        if self._stopping:
            self.outbox.reset(exceptions.DriverShutdown(
                'the transport was cleaned up'))
            if management is not None:
                management.reset('connection closed: %s' % reason)
            return
        if auth is None and self._refusal is None:
            LOG.warning('AMQP 1.0 connection to %s lost: %s', a, reason)
        if auth is not None:
            self._refusal = auth
        refusal = self._refusal
        self.outbox.reset(refusal or oslo_messaging.MessageDeliveryFailure(
            'Message send failed: %s' % reason))
        if management is not None:
            management.reset('connection lost: %s' % reason)
        if refusal is not None:
            # nothing waits for the next connection: it would be refused
            # the same way
            self.outbox.fail_waiting(refusal)
            self.replies.fail_all(refusal)
        self.loop.call_at(self.hosts.failed(
            'connection to %s %s: %s' % (a, 'lost' if a.opened else 'failed',
                                         reason)), self._connect)

    def _refuse(self, error):
        """The peer refused (see :class:`exceptions.PeerRefused`): fail
        every request waiting for a usable connection now, and later ones
        at once until a connection is usable again."""
        LOG.error('%s', error)
        self._refusal = error
        self.outbox.fail_waiting(error)

    # ------------------------------------------------------------------
    # Events
    def _dispatch(self, a):
        # proton.Event wraps every object an event touches (a dozen cffi
        # calls, each releasing the GIL); most events need none of them, so
        # peek at the raw event and wrap only what a handler uses.
        impl = a.collector._impl
        handlers = _HANDLERS
        while True:
            ev = _lib.pn_collector_peek(impl)
            if ev == _NULL:
                return
            handler = handlers.get(_lib.pn_event_type(ev))
            if handler is not None:
                handler(self, ev)
                if self.attempt is not a:
                    return  # the attempt ended in the handler
            _lib.pn_collector_pop(impl)

    def _on_transport_error(self, ev):
        self.attempt.on_transport_error()

    def _on_transport_closed(self, ev):
        self._lost(self.attempt)

    def _on_conn_remote_open(self, ev):
        a = self.attempt
        props = a.on_remote_open()
        self.hosts.connected()
        a.start_ticks()
        g = self._group
        if rabbitmq4.is_rabbitmq4(props):
            if g.addressing_mode == 'dynamic':
                self._open_rabbitmq(a, props)
                return
            LOG.warning('AMQP 1.0 peer %s is RabbitMQ >= 4, which refuses '
                        '%s addresses: set addressing_mode = dynamic (the '
                        'default)', a, g.addressing_mode)
        legacy = addressing.is_legacy(g.addressing_mode, props)
        self._addresser = addressing.choose_addresser(
            g, self._default_exchange, props, self._vhost)
        LOG.info('AMQP 1.0 connection to %s open (%s addressing)', a,
                 'legacy' if legacy else 'routable')
        self.replies.attach(a.session)
        self.servers.attach(a, self._addresser)

    def _open_rabbitmq(self, a, props):
        """RabbitMQ >= 4: v2 addresses, topology through /management."""
        g = self._group
        self.rabbitmq = True
        self._addresser = rabbitmq4.Addresser(
            self._rabbit_options, g.default_rpc_exchange,
            g.default_notification_exchange)
        mgmt = self.management = management_mod.Management()
        mgmt.attach(a.conn)
        direct = rabbitmq4.has_direct_reply_to(props)
        LOG.info('AMQP 1.0 connection to %s open (RabbitMQ %s: v2 '
                 'addresses, %s)', a, '.'.join(
                     str(n) for n in rabbitmq4.broker_version(props)),
                 'Direct Reply-To' if direct else 'reply queue %s'
                 % self.reply_queue.reply_to)
        if direct:
            self.replies.attach(a.session, volatile=True)
        else:
            def failed(error):
                if self.attempt is a:
                    self._refuse(exceptions.PeerRefused(
                        str(a), 'refused the reply queue', 'amqp:'
                        'precondition-failed', str(error)))
                    a.close('cannot declare the reply queue: %s' % error)
            mgmt.declare(self.reply_queue.requests(),
                         lambda: self.attempt is a and self.replies.attach(
                             a.session, self.reply_queue.reply_to), failed)
        self.servers.attach(a, self._addresser, mgmt)

    def _on_conn_remote_close(self, ev):
        a = self.attempt
        a.on_remote_close()
        if (a.condition is None or self._stopping or
                (a.auth_error is not None and not a.opened) or
                a.condition[0] in _TRANSIENT):
            return
        self._refuse(exceptions.PeerRefused(
            str(a), 'closed the connection', *a.condition))

    def _on_session_remote_close(self, ev):
        # one session per connection: without it, nothing goes through
        a = self.attempt
        ssn = Session.wrap(cproton.pn_event_session(ev))
        cond = ssn.remote_condition
        ssn.close()
        if self._stopping:
            return
        if cond is not None:
            self._refuse(exceptions.PeerRefused(
                str(a), 'ended the session', cond.name, cond.description))
            a.close('session ended by the peer: %s: %s'
                    % (cond.name, cond.description))
        else:
            a.close('session ended by the peer')

    def _on_link_remote_open(self, ev):
        impl = _lib.pn_event_link(ev)
        if impl == self.replies.impl:
            if self.replies.on_link_open(Link.wrap(impl)):
                self._refusal = None
                self.outbox.open(self.attempt.session, self._addresser,
                                 self.management)
            return
        mgmt = self.management
        if mgmt is not None and mgmt.owns(impl):
            mgmt.on_link_open(impl)
            return
        self.servers.on_link_open(impl)

    def _on_link_remote_close(self, ev):
        impl = _lib.pn_event_link(ev)
        link = Link.wrap(impl)
        cond = link.remote_condition
        reason = ('%s: %s' % (cond.name, cond.description) if cond
                  else 'detached by peer')
        # A refusal (AMQP 1.0 2.6.3): the peer's attach carried no
        # terminus for its side (or none with an address), then its
        # detach an error.  A link closed later is not one.
        # A relay link (RabbitMQ 4: null target) has no address to refuse:
        # its detach (a pre-settled message to a missing exchange) is a
        # close, its messages go again on a new link.
        theirs = link.remote_target if link.is_sender else link.remote_source
        ours = link.target if link.is_sender else link.source
        refused = cond is not None and (
            theirs.type == Terminus.UNSPECIFIED or not theirs.address) \
            and bool(ours.address or ours.dynamic)
        link.close()
        if self._stopping:
            then = self._after_replies_detached
            if then is not None and impl == self.replies.impl:
                self._after_replies_detached = None
                then()
            return
        a = self.attempt
        mgmt = self.management
        if mgmt is not None and mgmt.owns(impl):
            mgmt.reset('management link closed: %s' % reason)
            a.close('management link closed: %s' % reason)
            if refused:
                self._refuse(exceptions.PeerRefused(
                    str(a), 'refused the management link', cond.name,
                    cond.description))
            return
        if impl == self.replies.impl:
            if refused:
                self._refuse(exceptions.PeerRefused(
                    str(a), 'refused the reply link', cond.name,
                    cond.description))
            # the replies of this connection can no longer arrive
            a.close('reply link closed: %s' % reason)
        elif self.outbox.owns(impl):
            if refused:
                self.outbox.on_link_refused(
                    impl, lambda address: exceptions.PeerRefused(
                        str(a), 'refused the link to %s' % address,
                        cond.name, cond.description))
            else:
                self.outbox.on_link_closed(impl, reason)
        else:
            self.servers.on_link_closed(impl, reason, refused)

    def _on_link_flow(self, ev):
        impl = _lib.pn_event_link(ev)
        mgmt = self.management
        if mgmt is not None and mgmt.owns(impl):
            mgmt.on_flow(impl)
            return
        self.outbox.on_flow(impl)

    def _on_delivery(self, ev):
        # raw pn_delivery_t/pn_link_t pointers (see _lib)
        dlv = _lib.pn_event_delivery(ev)
        link = _lib.pn_delivery_link(dlv)
        if self.outbox.on_disposition(link, dlv):
            return
        if _lib.pn_link_is_sender(link):
            # a sender link we forgot: settle our end all the same
            _lib.pn_delivery_settle(dlv)
            return
        if not _lib.pn_delivery_readable(dlv) or _lib.pn_delivery_partial(
                dlv):
            return
        _, data = cproton.pn_link_recv(link, _lib.pn_delivery_pending(dlv))
        _lib.pn_link_advance(link)
        data = bytes(data)
        if link == self.replies.impl:
            self.replies.on_delivery(dlv, link, data)
        elif self.management is not None and self.management.owns(link):
            self.management.on_delivery(dlv, link, data)
        else:
            self.servers.on_delivery(dlv, link, data)

    # ------------------------------------------------------------------
    # Shutdown
    def _begin_stop(self):
        self._stopping = True
        self._fail_all(exceptions.DriverShutdown(
            'the transport was cleaned up'))
        a = self.attempt
        if a is not None and a.opened:
            self.outbox.detach()
            self.servers.detach()
            self.replies.detach()
            mgmt = self.management
            if mgmt is not None and mgmt.ready and self.replies.ready \
                    and self.replies.address == self.reply_queue.reply_to:
                # RabbitMQ 4: the reply queue goes with its transport
                # (x-expires would remove it later otherwise), once the
                # peer answered the reply link's detach (4.0.5 ends the
                # session when a detach reaches a queue being deleted)
                self._after_replies_detached = lambda: mgmt.declare(
                    self.reply_queue.cleanup_requests(), a.close,
                    lambda error: a.close())
            else:
                a.close()
            # give the peer a moment to see the close frames
            self.loop.call_later(_CLOSE_WAIT, self._force_stop)
        else:
            self._force_stop()

    def _force_stop(self):
        if self.attempt is not None:
            self._lost(self.attempt)


# keyed by the raw event type number (see IOThread._dispatch)
_HANDLERS = {
    Event.TRANSPORT_ERROR.number: IOThread._on_transport_error,
    Event.TRANSPORT_CLOSED.number: IOThread._on_transport_closed,
    Event.CONNECTION_REMOTE_OPEN.number: IOThread._on_conn_remote_open,
    Event.CONNECTION_REMOTE_CLOSE.number: IOThread._on_conn_remote_close,
    Event.SESSION_REMOTE_CLOSE.number: IOThread._on_session_remote_close,
    Event.LINK_REMOTE_OPEN.number: IOThread._on_link_remote_open,
    Event.LINK_REMOTE_CLOSE.number: IOThread._on_link_remote_close,
    Event.LINK_REMOTE_DETACH.number: IOThread._on_link_remote_close,
    Event.LINK_FLOW.number: IOThread._on_link_flow,
    Event.DELIVERY.number: IOThread._on_delivery,
}
