"""The ``amqp://`` driver: :class:`AMQP1Driver` and its listener classes.

Loaded by oslo.messaging (>= 16) through the ``oslo.messaging.drivers``
entry point ``amqp``.  Every public call hands its work to the transport's
I/O thread (:mod:`amqp1_driver.iothread`) and waits for it with a
deadline: the caller's timeout, else ``default_send_timeout``,
``default_notify_timeout`` or ``default_reply_timeout``.
"""

import collections
import importlib.metadata
import logging
import os
import threading
import time

import oslo_messaging
from oslo_messaging._drivers import base
from oslo_messaging._drivers import common
from oslo_messaging import target as om_target
from proton import Delivery

from amqp1_driver import addressing
from amqp1_driver import codec
from amqp1_driver import exceptions
from amqp1_driver import iothread
from amqp1_driver import opts
from amqp1_driver import rabbit_codec
from amqp1_driver import rabbitmq4
from amqp1_driver import request
from amqp1_driver import servers

LOG = logging.getLogger(__name__)

_ACCEPTED = int(Delivery.ACCEPTED)
_REJECTED = int(Delivery.REJECTED)
_RELEASED = int(Delivery.RELEASED)
_PRE_SETTLED = ('rpc-call', 'rpc-reply', 'rpc-cast', 'notify')
# How long cleanup() waits for a listener's links to detach.
_DETACH_WAIT = 5.0
# How long listen() waits for its links to attach.
_LISTEN_WAIT = 5.0


def check_oslo_messaging(version=None):
    """Refuse to run under oslo.messaging < 15, which has its own driver.

    :param version: the version string to check; the installed one if None.
    :raises RuntimeError: naming both distributions and the fix.
    """
    if version is None:
        version = importlib.metadata.version('oslo.messaging')
    major = int(version.split('.')[0])
    if major < 15:
        raise RuntimeError(
            'amqp1-driver needs oslo.messaging >= 16 but %s is installed; '
            'oslo.messaging < 15 ships its own amqp:// driver: uninstall '
            'amqp1-driver or upgrade oslo.messaging' % version)


check_oslo_messaging()


class AMQP1Driver(base.BaseDriver):
    """AMQP 1.0 driver, wire-compatible with oslo.messaging 14.x's.

    :param conf: the service's ``ConfigOpts``; ``[oslo_messaging_amqp]`` is
        registered on it.
    :param url: the :class:`oslo_messaging.TransportURL`; its query may
        override any ``[oslo_messaging_amqp]`` option.
    """

    def __init__(self, conf, url, default_exchange=None,
                 allowed_remote_exmods=None):
        super().__init__(conf, url, default_exchange,
                         allowed_remote_exmods or [])
        group = opts.register(conf)
        _check_url_options(url)
        self._conf = common.ConfigOptsProxy(conf, url, group.name)
        g = self._group = self._conf.oslo_messaging_amqp
        # read once: the proxy parses the URL on every attribute access
        self._send_timeout = g.default_send_timeout
        self._notify_timeout = g.default_notify_timeout
        self._reply_timeout = g.default_reply_timeout
        self._reply_retry = g.default_reply_retry
        kinds = [k.lower() for k in g.pre_settled]
        unknown = set(kinds).difference(_PRE_SETTLED)
        if unknown:
            LOG.warning('Ignoring unrecognized pre_settled value(s): %s',
                        ' '.join(sorted(unknown)))
        self._pre_settled = set(kinds)
        # the rabbit driver's topology options, for a RabbitMQ 4 peer
        self._rabbit = rabbitmq4.options_from(
            _rabbit_group(conf), self._default_exchange)
        self._io = None
        self._lock = threading.Lock()
        self._cleaned = False

    def require_features(self, requeue=True):
        """Requeue (released) is supported: nothing to refuse."""

    def _io_thread(self):
        io = self._io
        if io is not None and io.pid == os.getpid():
            if io.dead is not None:
                raise io.dead
            return io
        with self._lock:
            io = self._io
            if io is not None and io.pid != os.getpid():
                # forked: the connection belongs to the parent process
                LOG.warning('Process forked after the AMQP 1.0 connection '
                            'was made; opening a new one')
                io.abandon()
                io = self._io = None
            if io is None:
                self._cleaned = False
                io = self._io = iothread.IOThread(
                    _Snapshot(self._group), self._url,
                    self._default_exchange, rabbit=self._rabbit).start()
            if io.dead is not None:
                raise io.dead
            return io

    # ------------------------------------------------------------------
    def send(self, target, ctxt, message, wait_for_reply=False, timeout=None,
             call_monitor_timeout=None, retry=None, transport_options=None):
        """RPC call (``wait_for_reply``) or cast; see BaseDriver.send."""
        io = self._io_thread()
        if wait_for_reply:
            msg = codec.request(message, ctxt,
                                call_monitor_timeout=call_monitor_timeout,
                                ttl=timeout, lazy=io.rabbitmq)
            send = request.Send(request.CALL, msg, target=target,
                                presettled='rpc-call' in self._pre_settled,
                                retry=retry, msg_id=codec.new_message_id())
            if io.rabbitmq:
                _rabbit_text(io, msg, send.msg_id)
            return self._call(io, send, timeout or self._send_timeout,
                              call_monitor_timeout)
        msg = codec.request(message, ctxt, ttl=timeout, lazy=io.rabbitmq)
        if io.rabbitmq:
            _rabbit_text(io, msg)
        send = request.Send(request.CAST, msg, target=target,
                            presettled='rpc-cast' in self._pre_settled,
                            retry=retry)
        self._wait_sent(io, send, timeout or self._send_timeout,
                        bool(timeout), 'RPC cast to %s' % target)

    def _wait_sent(self, io, send, timeout, caller_timeout, what):
        io.submit(send)
        future = send.future
        if not future.wait(timeout):
            io.cancel(send)
            if caller_timeout:
                raise oslo_messaging.MessagingTimeout(
                    '%s timed out after %s s%s' % (what, timeout, _why(io)))
            raise oslo_messaging.MessageDeliveryFailure(
                '%s not acknowledged within %s s%s'
                % (what, timeout, _why(io)))
        if future.error is not None:
            raise future.error

    def _call(self, io, send, timeout, monitor):
        io.submit(send)
        future = send.future
        start = time.monotonic()
        deadline = start + timeout
        while True:
            now = time.monotonic()
            wake = deadline
            if monitor:
                wake = min(deadline, max(send.beat, start) + monitor)
            if future.wait(max(0.0, wake - now)):
                break
            now = time.monotonic()
            if now >= deadline:
                io.cancel(send)
                raise oslo_messaging.MessagingTimeout(
                    'RPC call to %s timed out after %s s%s'
                    % (send.target, timeout, _why(io)))
            if monitor and now >= max(send.beat, start) + monitor:
                io.cancel(send)
                raise oslo_messaging.MessagingTimeout(
                    'RPC call to %s: call monitor timed out (no heartbeat '
                    'for %s s)' % (send.target, monitor))
        if future.error is not None:
            raise future.error
        result, error = codec.parse_reply_body(future.value,
                                               self._allowed_remote_exmods)
        if error is not None:
            raise error
        return result

    def send_notification(self, target, ctxt, message, version, retry=None):
        """Send a notification (stored and forwarded by a broker)."""
        io = self._io_thread()
        msg = codec.request(message, ctxt, envelope=(version == 2.0),
                            lazy=io.rabbitmq)
        if io.rabbitmq:
            _rabbit_text(io, msg)
        send = request.Send(request.NOTIFY, msg, target=target,
                            service=addressing.NOTIFY,
                            presettled='notify' in self._pre_settled,
                            retry=retry)
        self._wait_sent(io, send, self._notify_timeout, False,
                        'Notification to %s' % target.topic)

    def listen(self, target, batch_size, batch_timeout):
        """Subscribe an RPC server: unicast, multicast and anycast links."""
        specs = [(target, pattern, addressing.RPC)
                 for pattern in ('unicast', 'multicast', 'anycast')]
        return self._listener(specs, self._group.rpc_server_credit,
                              batch_size, batch_timeout, lazy=True)

    def _listener(self, specs, credit, batch_size, batch_timeout,
                  lazy=False):
        if batch_size == 1:
            # RPC servers and plain notification listeners: hand each
            # message straight from the I/O thread to the server's
            # executor, one thread hop less than a poll thread
            return AMQP1PushListener(self, specs, credit, lazy)
        listener = AMQP1Listener(self, specs, credit, lazy)
        return base.PollStyleListenerAdapter(listener, batch_size,
                                             batch_timeout)

    def listen_for_notifications(self, targets_and_priorities, pool,
                                 batch_size, batch_timeout):
        """One anycast link per (target, priority); pools are refused."""
        if pool:
            raise NotImplementedError('"pool" not implemented by the '
                                      'amqp:// driver')
        specs = [(om_target.Target(topic='%s.%s' % (t.topic, priority)),
                  'anycast', addressing.NOTIFY)
                 for t, priority in targets_and_priorities]
        return self._listener(specs, self._group.notify_server_credit,
                              batch_size, batch_timeout)

    def cleanup(self):
        """Close the connection and end the I/O thread."""
        with self._lock:
            io, self._io = self._io, None
            self._cleaned = True
        if io is not None and io.pid == os.getpid():
            io.shutdown()
        LOG.debug('AMQP 1.0 driver cleaned up')

    # used by the incoming messages
    def _reply(self, reply_to, correlation_id, result, failure):
        try:
            io = self._io_thread()
            msg = codec.reply(correlation_id, result, failure,
                              lazy=io.rabbitmq)
            if io.rabbitmq:
                rabbit_codec.text_of(msg)
            presettled = 'rpc-reply' in self._pre_settled
            send = request.Send(request.REPLY, msg, address=reply_to,
                                presettled=presettled,
                                retry=self._reply_retry)
            if presettled:
                # nothing to wait for but the write: the I/O thread owns
                # it now (and logs if it cannot send it)
                io.submit(send)
                return
            self._wait_sent(io, send, self._reply_timeout, False,
                            'RPC reply to %s' % reply_to)
        except Exception as exc:  # noqa: B902 - reply() must not raise
            LOG.warning('RPC reply to %s failed: %s', reply_to, exc)

    def _heartbeat(self, reply_to, correlation_id, ttl):
        try:
            io = self._io_thread()
            send = request.Send(request.HEARTBEAT,
                                codec.heartbeat(correlation_id, ttl),
                                address=reply_to, presettled=True, retry=0)
            # best effort, like 14.x: never block the server on it
            io.submit(send)
        except Exception as exc:  # noqa: B902 - heartbeat() must not raise
            LOG.debug('RPC heartbeat to %s failed: %s', reply_to, exc)


def _rabbit_text(io, msg, msg_id=None):
    """Build the rabbit driver's format of ``msg`` on the calling thread
    (the I/O thread builds it otherwise: a peer not known yet, a reply
    address that changed)."""
    reply_to = io.reply_queue.reply_to if msg_id is not None else None
    rabbit_codec.text_of(msg, msg_id, reply_to)


def _rabbit_group(conf):
    """``[oslo_messaging_rabbit]``, whose topology options the driver
    follows on RabbitMQ 4 (registered here if the rabbit driver was not
    loaded), or None if they cannot be."""
    try:
        from oslo_messaging._drivers import amqp as rabbit_amqp
        from oslo_messaging._drivers import impl_rabbit
        conf.register_opts(rabbit_amqp.amqp_opts,
                           group='oslo_messaging_rabbit')
        conf.register_opts(impl_rabbit.rabbit_opts,
                           group='oslo_messaging_rabbit')
        return conf.oslo_messaging_rabbit
    except Exception as exc:  # noqa: B902 - an option clash, an import
        LOG.warning('cannot read [oslo_messaging_rabbit] (%s): RabbitMQ 4 '
                    'topology with the rabbit driver\'s defaults', exc)
        return None


def _why(io):
    """``: <why requests cannot reach the bus>``, or '' if they can."""
    status = io.status()
    return ': %s' % status if status else ''


_OPTS = {opt.dest: opt for opt in opts.amqp1_opts}


def _check_url_options(url):
    """Check the values of ``[oslo_messaging_amqp]`` options in ``url``'s
    query (an unknown name is left to oslo's proxy: ``NoSuchOptError``).

    :raises InvalidURLOption: naming the option and the value (oslo's
        proxy would raise a bare ``ValueError`` from the type's parser).
    """
    for name, value in (url.query or {}).items():
        opt = _OPTS.get(name)
        if opt is None:
            continue
        try:
            opt.type(value)
        except (ValueError, TypeError) as exc:
            raise exceptions.InvalidURLOption(url, name, value,
                                              exc) from exc


class _Snapshot:
    """The option values read once (a ConfigOptsProxy is slow to read)."""

    def __init__(self, group):
        for opt in opts.amqp1_opts:
            setattr(self, opt.dest, group[opt.dest])


class AMQP1Listener(base.PollStyleListener):
    """Messages of one subscription, queued for the server's poll thread.

    :param driver: the :class:`AMQP1Driver`.
    :param specs: ``(target, pattern, service)`` triples to subscribe.
    :param credit: credit of each link.
    :param lazy: an RPC server's: calls are acknowledged with their reply.
    """

    def __init__(self, driver, specs, credit, lazy=False):
        super().__init__(driver.prefetch_size)
        self._driver = driver
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._stopped = False
        self._io = driver._io_thread()
        self._decoder = codec.Decoder()
        self._sub = servers.Subscription(specs, credit, self._sink, lazy)
        _wait_subscribed(self._io.subscribe(self._sub), specs)

    def _sink(self, item):
        # on the I/O thread: keep it short, decode in the poll thread
        with self._cond:
            self._queue.append(item)
            self._cond.notify()

    @base.batch_poll_helper
    def poll(self, timeout=None):
        """One incoming message, or None after ``timeout`` or stop()."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._queue:
                if self._stopped:
                    return None
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._cond.wait(left)
            item = self._queue.popleft()
        return _decode(self, self._decoder, item)

    def stop(self):
        """Unblock poll(); already queued messages can still be polled."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def cleanup(self):
        """Detach this listener's links (bounded wait)."""
        self.stop()
        try:
            done = self._io.unsubscribe(self._sub)
        except exceptions.IOThreadDead:
            return
        done.wait(_DETACH_WAIT)


def _wait_subscribed(ready, specs):
    # Block until the links are attached, so that a fanout sent right
    # after the server started reaches it; bounded, as the peer may be
    # down (the links attach whenever the connection opens).
    if not ready.wait(_LISTEN_WAIT):
        LOG.info('AMQP 1.0 links for %s not attached yet; they will be '
                 'once connected', specs[0][0])
    elif ready.error is not None:
        # RabbitMQ 4 refused to declare the listener's queues
        raise oslo_messaging.MessageDeliveryFailure(
            'cannot listen on %s: %s' % (specs[0][0], ready.error))


def _decode(listener, decoder, item):
    """An AMQP1IncomingMessage, or None (the message is rejected).

    :param item: ``(data, delivery, receiver, attempt)`` from the I/O
        thread (see :class:`~amqp1_driver.servers.Subscription`).
    """
    data, kept, rcv, attempt = item
    try:
        request, ctxt, client_timeout, msg_id, reply_to = decoder.request(
            data)
    except Exception as exc:  # noqa: B902 - a bad message, not ours
        LOG.error('Rejecting an undecodable message from %s: %s',
                  rcv.address, exc)
        listener._io.settle(kept, rcv, attempt, _REJECTED)
        return None
    return AMQP1IncomingMessage(listener, ctxt, request, msg_id, reply_to,
                                client_timeout, (kept, rcv, attempt))


class AMQP1PushListener(base.Listener):
    """Messages of one subscription pushed to the server one by one.

    The callback (the server's executor ``submit``) runs on the I/O
    thread.  Messages that arrive before ``start()`` or after ``stop()``
    are held unsettled; ``start()`` delivers the held ones and
    ``cleanup()`` detaches the links, so the peer gets back the rest.
    Parameters as for :class:`AMQP1Listener`.
    """

    def __init__(self, driver, specs, credit, lazy=False):
        super().__init__(1, None, driver.prefetch_size)
        self._driver = driver
        self._held = collections.deque()
        self._io = driver._io_thread()
        self._sub = servers.Subscription(specs, credit, self._sink, lazy)
        _wait_subscribed(self._io.subscribe(self._sub), specs)

    def _sink(self, item):
        callback = self.on_incoming_callback
        if callback is None:
            self._held.append(item)
            return
        # on the I/O thread: its decoder
        incoming = _decode(self, self._io.decoder, item)
        if incoming is None:
            return
        try:
            callback([incoming])
        except Exception:  # noqa: B902 - never let it end the I/O thread
            LOG.exception('AMQP 1.0 listener callback failed')

    def _flush_held(self):
        held, self._held = self._held, collections.deque()
        for item in held:
            self._sink(item)

    def start(self, on_incoming_callback):
        """Start delivering, beginning with the messages held so far."""
        super().start(on_incoming_callback)
        try:
            self._io.submit(self._flush_held)
        except exceptions.IOThreadDead as exc:
            LOG.error('cannot start the listener: %s', exc)

    def cleanup(self):
        """Detach this listener's links (bounded wait)."""
        self.stop()
        try:
            done = self._io.unsubscribe(self._sub)
        except exceptions.IOThreadDead:
            return
        done.wait(_DETACH_WAIT)


class AMQP1IncomingMessage(base.RpcIncomingMessage):
    """An RPC request or notification received by an AMQP1Listener."""

    def __init__(self, listener, ctxt, message, msg_id, reply_to,
                 client_timeout, handle):
        super().__init__(ctxt, message, msg_id)
        self.client_timeout = client_timeout
        self._listener = listener
        self._reply_to = reply_to
        self._correlation_id = msg_id
        self._handle = handle
        self._settled = False

    def _settle(self, state, lazy=False):
        if self._settled:
            return
        self._settled = True
        kept, rcv, attempt = self._handle
        try:
            self._listener._io.settle(kept, rcv, attempt, state, lazy)
        except exceptions.IOThreadDead as exc:
            LOG.debug('cannot settle: %s', exc)

    def acknowledge(self):
        """Accept the message (returns at once).

        A call's acceptance goes out with its reply (or within
        ``_SETTLE_WAIT`` of the I/O thread if the reply takes longer):
        one wake-up of the I/O thread and one frame less per call.
        """
        self._settle(_ACCEPTED, lazy=bool(self._reply_to))

    def requeue(self):
        """Release the message back to the peer (returns at once)."""
        self._settle(_RELEASED)

    def reply(self, reply=None, failure=None):
        """Send the reply of a call; a cast's reply is ignored."""
        if not self._reply_to:
            return
        self._listener._driver._reply(self._reply_to, self._correlation_id,
                                      reply, failure)

    def heartbeat(self):
        """Send a call-monitor heartbeat (a body-less message)."""
        if not self._reply_to:
            return
        self._listener._driver._heartbeat(self._reply_to,
                                          self._correlation_id,
                                          self.client_timeout)
