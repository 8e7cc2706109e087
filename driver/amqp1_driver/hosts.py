"""Failover and reconnection: which host next, and when.

The first host of the URL is picked at random, then round-robin; the
delay before the next attempt starts at ``connection_retry_interval``, is
multiplied by ``connection_retry_backoff`` after each failed attempt
(14.x multiplied although its help said "add"), is capped at
``connection_retry_interval_max`` and is reset once a connection opens.
No I/O here: the I/O thread asks :class:`Hosts` where and when to
connect, and tells it how each attempt ended.
"""

import random
import time


def next_delay(delay, interval, backoff, maximum):
    """The reconnection delay after one more failed attempt.

    Never below ``interval`` (a backoff of 0 must not spin), never above
    ``maximum``.
    """
    return min(max(delay * backoff, interval), maximum)


class Host:
    """One host of the transport URL."""

    __slots__ = ('hostname', 'port', 'username', 'password')

    def __init__(self, hostname='localhost', port=5672, username=None,
                 password=None):
        self.hostname = hostname or 'localhost'
        self.port = port or 5672
        self.username = username
        self.password = password

    def __str__(self):
        return '%s:%s' % (self.hostname, self.port)

    def __repr__(self):
        return '<Host %s>' % self


class Hosts:
    """The failover order and the reconnect schedule.

    Owns the hosts, which one the current attempt uses, the current
    delay, the time the next attempt is due and the last attempt's error
    (with its host).

    :param hosts: :class:`Host` objects in URL order (default: one
        ``localhost:5672``).
    :param interval: ``connection_retry_interval`` (s).
    :param backoff: ``connection_retry_backoff`` (a factor).
    :param maximum: ``connection_retry_interval_max`` (s).
    :param clock: a monotonic clock in seconds.
    :param first: index of the first host (random when None).
    """

    def __init__(self, hosts, interval=1, backoff=2, maximum=30,
                 clock=time.monotonic, first=None):
        self._hosts = list(hosts) or [Host()]
        self._interval = interval
        self._backoff = backoff
        self._maximum = maximum
        self._clock = clock
        self._next = (random.randrange(len(self._hosts)) if first is None
                      else first % len(self._hosts))
        self._delay = interval
        self.current = None
        self.due = clock()
        self.last_error = None

    @classmethod
    def from_url(cls, url, group, clock=time.monotonic):
        """The hosts of an :class:`oslo_messaging.TransportURL` with the
        ``connection_retry_*`` options of ``group``."""
        return cls([Host(h.hostname, h.port, h.username, h.password)
                    for h in url.hosts],
                   interval=group.connection_retry_interval,
                   backoff=group.connection_retry_backoff,
                   maximum=group.connection_retry_interval_max,
                   clock=clock)

    def __len__(self):
        return len(self._hosts)

    @property
    def delay(self):
        """Seconds the next failure will make the next attempt wait."""
        return self._delay

    def next(self):
        """The host of a new attempt (round-robin); it becomes current."""
        host = self._hosts[self._next]
        self._next = (self._next + 1) % len(self._hosts)
        self.current = host
        return host

    def failed(self, reason):
        """The current attempt failed or its connection was lost.

        :param reason: why, for :attr:`last_error` (e.g. ``cannot connect
            to h:5672: Connection refused``).
        :returns: the clock time the next attempt is due.
        """
        self.last_error = reason
        self.due = self._clock() + self._delay
        self._delay = next_delay(self._delay, self._interval, self._backoff,
                                 self._maximum)
        return self.due

    def connected(self):
        """The current attempt's connection opened: reset the delay."""
        self._delay = self._interval
        self.last_error = None
