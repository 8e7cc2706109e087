"""Reconnection and failover: which host next, and after what delay.

The first host of the URL is picked at random, then round-robin; the
delay starts at ``connection_retry_interval``, is multiplied by
``connection_retry_backoff`` after each failed attempt, capped at
``connection_retry_interval_max`` and reset once a connection opens.  A
host name that does not resolve is a failed attempt like a refused
connection.  :class:`Reconnect` is the
:class:`~amqp1_driver.connection.IOThread` part that starts each attempt;
only the I/O thread calls into it.
"""

import errno
import logging
import os
import selectors
import socket

from amqp1_driver import exceptions

# the I/O thread's logger: moving code must not move its log records
LOG = logging.getLogger('amqp1_driver.connection')


def next_delay(delay, interval, backoff, maximum):
    """The reconnection delay after one more failed attempt.

    14.x multiplied by ``connection_retry_backoff`` (its help said "add");
    never below ``interval`` (a backoff of 0 must not spin), never above
    ``maximum``.
    """
    return min(max(delay * backoff, interval), maximum)


class Reconnect:
    """Starts connection attempts and schedules the next (mixed into IOThread).

    Rotates the I/O thread's ``_hosts``/``_host_index``, registers the new
    socket with its selector, builds the proton objects through
    :meth:`~amqp1_driver.wire.WireSetup._setup_transport` and, after a
    failure, tears down and retries with :func:`next_delay`.
    """

    def _start_connect(self):
        if self._stopping:
            return
        host, port, user, password = self._hosts[self._host_index]
        self._host_index = (self._host_index + 1) % len(self._hosts)
        self._host = (host, port, user, password)
        self._reason = None
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            family, stype, proto, _, addr = infos[0]
            sock = socket.socket(family, stype, proto)
        except (OSError, UnicodeError) as exc:
            self._attempt_failed('cannot resolve %s:%s: %s'
                                 % (host, port, exc))
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(addr)
        self._sock = sock
        self._connecting = True
        self._sock_mask = selectors.EVENT_WRITE
        self._sel.register(sock, self._sock_mask, 'sock')
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK,
                       errno.EAGAIN):
            self._attempt_failed('cannot connect to %s:%s: %s'
                                 % (host, port, os.strerror(err)))
            return
        try:
            self._setup_transport(host, user, password)
        except exceptions.TLSUnavailable:
            raise
        except Exception as exc:
            # e.g. an unreadable certificate file: retry, and say why
            self._attempt_failed('cannot set up the connection to %s:%s: '
                                 '%s' % (host, port, exc))

    def _attempt_failed(self, reason):
        LOG.warning('AMQP 1.0 connection attempt failed: %s; retrying in '
                    '%s s', reason, self._delay)
        self._teardown()
        self._schedule_reconnect()

    def _schedule_reconnect(self):
        if self._stopping:
            return
        delay = self._delay
        g = self._group
        self._delay = next_delay(delay, self._interval,
                                 g.connection_retry_backoff,
                                 g.connection_retry_interval_max)
        self._later(delay, self._start_connect)
