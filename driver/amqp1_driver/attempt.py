"""One connection attempt: a socket and the proton objects on it.

Each attempt (the first connect, every reconnect and failover) is a new
:class:`Attempt`; the links, deliveries and timers of an older one are
recognised by identity (``x.attempt is not current``), not by a counter.
"""

import errno
import logging
import os
import selectors
import socket

import cproton_ffi
import proton

from amqp1_driver import exceptions
from amqp1_driver import wire

LOG = logging.getLogger(__name__)

UNAUTHORIZED = 'amqp:unauthorized-access'
_READ_SIZE = 65536

# The per-message path (transport I/O) calls proton's C binding directly:
# every proton wrapper object costs a dozen C calls (each releasing the
# GIL) for state this path never uses.
_lib = cproton_ffi.lib


class AttemptFailed(Exception):
    """The attempt ended before it could start (resolve, connect, setup)."""


class Attempt:
    """One TCP connection and AMQP connection to one host.

    Owns the socket and its watch on the loop, whether the TCP connect
    is still pending, the proton Connection, Transport, Collector and
    SASL objects, the session, the idle time-out timer, whether the
    peer's Open arrived, and how
    the attempt ended: ``reason`` (for the log and the waiters),
    ``condition`` (the peer's error condition, if it sent one) and
    ``auth_error``.

    :param host: the :class:`~amqp1_driver.hosts.Host`.
    :param group: the ``[oslo_messaging_amqp]`` option values.
    :param container: the container-id of the Open frame.
    :param vhost: the URL's virtual host.
    :param tls: wrap the connection in TLS.
    :param loop: the :class:`~amqp1_driver.loop.Loop` to watch the
        socket with.
    """

    def __init__(self, host, group, container, vhost, tls, loop):
        self.host = host
        self._group = group
        self._container = container
        self._vhost = vhost
        self._tls = tls
        self._loop = loop
        self.sock = None
        self._mask = 0
        self.connecting = False
        self.conn = None
        self.transport = None
        self.collector = None
        self.sasl = None
        self.session = None
        self.opened = False
        self.failure = None
        self.reason = None
        self.condition = None
        self.auth_error = None
        self._tick_timer = None

    def __str__(self):
        return str(self.host)

    def start(self):
        """Resolve the host, start the TCP connect, build the proton
        objects.

        :raises AttemptFailed: with the reason, e.g. ``cannot connect to
            h:5672: Connection refused``.
        :raises TLSUnavailable: TLS asked for, proton built without it.
        """
        host, port = self.host.hostname, self.host.port
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            family, stype, proto, _, addr = infos[0]
            sock = socket.socket(family, stype, proto)
        except (OSError, UnicodeError) as exc:
            raise AttemptFailed('cannot resolve %s: %s' % (self.host, exc))
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK,
                       errno.EAGAIN):
            raise AttemptFailed('cannot connect to %s: %s'
                                % (self.host, os.strerror(err)))
        self.connecting = True
        self._watch(selectors.EVENT_WRITE)
        try:
            (self.conn, self.transport, self.collector,
             self.sasl) = wire.new_connection(self._group, self.host,
                                              self._container, self._vhost,
                                              self._tls)
        except exceptions.TLSUnavailable:
            raise
        except Exception as exc:
            # e.g. an unreadable certificate file: retry, and say why
            raise AttemptFailed('cannot set up the connection to %s: %s'
                                % (self.host, exc))

    # ------------------------------------------------------------------
    # Socket I/O
    def _watch(self, mask):
        if mask != self._mask:
            self._loop.watch(self.sock, mask, self._on_socket)
            self._mask = mask

    def _on_socket(self, mask):
        if self.connecting:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.failure = ('cannot connect to %s: %s'
                                % (self.host, os.strerror(err)))
                return
            self.connecting = False
        t = self.transport
        if t is None or not mask & selectors.EVENT_READ:
            return
        cap = _lib.pn_transport_capacity(t._impl)
        if cap <= 0:
            return
        try:
            data = self.sock.recv(min(cap, _READ_SIZE))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.reason = self.reason or str(exc)
            t.close_tail()
            return
        if data:
            t.push(data)
        else:
            t.close_tail()

    def flush(self):
        """Write what proton produced, as far as the socket takes it, and
        watch the socket for what the transport wants next.

        :returns: False once the transport is done both ways (the
            connection is over).
        """
        t = self.transport
        impl = t._impl
        head = _lib.pn_transport_pending(impl)
        if not self.connecting:
            while head > 0:
                try:
                    n = self.sock.send(t.peek(head))
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    self.reason = self.reason or str(exc)
                    t.close_head()
                    head = _lib.pn_transport_pending(impl)
                    break
                _lib.pn_transport_pop(impl, n)
                head = _lib.pn_transport_pending(impl)
        tail = _lib.pn_transport_capacity(impl)
        if head < 0 and tail < 0:
            return False
        if not self.connecting:
            mask = 0
            if tail > 0:
                mask |= selectors.EVENT_READ
            if head > 0:
                mask |= selectors.EVENT_WRITE
            if mask != self._mask:
                self._loop.watch(self.sock, mask, self._on_socket)
                self._mask = mask
        return True

    def start_ticks(self):
        """Run proton's idle time-out processing on the loop's clock (if
        either side asked for an idle time-out)."""
        if self.transport.remote_idle_timeout or self._group.idle_timeout:
            self._tick()

    def _tick(self):
        self._tick_timer = None
        if self.transport is None:
            return
        deadline = self.transport.tick(self._loop.clock())
        if deadline:
            self._tick_timer = self._loop.call_at(deadline, self._tick)

    # ------------------------------------------------------------------
    # Connection events
    def on_remote_open(self):
        """The peer's Open arrived: open the session (one per connection).

        :returns: the peer's Open properties (a dict).
        """
        self.opened = True
        self.auth_error = None
        self.session = self.conn.session()
        self.session.open()
        return self.conn.remote_properties or {}

    def on_transport_error(self):
        """Record the transport's error condition (an authentication
        failure included)."""
        cond = self.transport.condition
        name = cond.name if cond else None
        desc = cond.description if cond else None
        sasl = self.sasl
        if name == UNAUTHORIZED or (
                sasl is not None and not self.opened and
                sasl.outcome in (proton.SASL.AUTH, proton.SASL.PERM)):
            self.auth_error = exceptions.AuthenticationFailure(
                str(self.host), self.host.username, desc or name)
            LOG.error('%s', self.auth_error)
        self.reason = '%s: %s' % (name, desc) if cond else 'transport error'
        if cond:
            self.condition = (name, desc)

    def on_remote_close(self):
        """The peer closed the connection: record why, close ours."""
        cond = self.conn.remote_condition
        if cond is not None:
            self.reason = 'closed by peer: %s: %s' % (cond.name,
                                                      cond.description)
            self.condition = (cond.name, cond.description)
            if cond.name == UNAUTHORIZED:
                self.auth_error = exceptions.AuthenticationFailure(
                    str(self.host), self.host.username, cond.description)
        else:
            self.reason = 'closed by peer'
        self.conn.close()

    def close(self, reason=None):
        """Close the AMQP connection (the peer answers, then it ends).

        :param reason: why (replaces an earlier reason).
        """
        if reason:
            self.reason = reason
        if self.conn is not None:
            self.conn.close()

    def drop(self):
        """Close the socket and let proton free its objects."""
        if self.sock is not None:
            self._loop.unwatch(self.sock)
            try:
                self.sock.close()
            except OSError:
                pass
        self._mask = 0
        self.connecting = False
        self._loop.cancel(self._tick_timer)
        self._tick_timer = None
        # proton frees its objects when the last wrapper goes away
        self.conn = self.transport = self.collector = None
        self.sasl = self.session = None
