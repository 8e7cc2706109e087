"""Bookkeeping of the I/O thread: requests, senders, receivers, credit.

Only :mod:`amqp1_driver.connection` (the I/O thread) mutates these objects,
except :class:`Future`, which is how other threads wait for it.
"""

import collections
import threading
import uuid

CALL = 'call'
CAST = 'cast'
NOTIFY = 'notify'
REPLY = 'reply'
HEARTBEAT = 'heartbeat'


def link_name(kind, address):
    """Link names as the 14.x driver made them (kind: sender/receiver)."""
    return 'openstack.org/om/%s/[%s]/%s' % (kind, address, uuid.uuid4().hex)


def refill(credit, maximum):
    """Credit to add to a receiver: top up to ``maximum`` once at half.

    The 14.x rule: nothing until the credit falls to ``(maximum+1)//2``.
    """
    if credit <= (maximum + 1) // 2:
        return maximum - credit
    return 0


class Future:
    """The outcome of one request, waited for with a deadline.

    Set by the I/O thread, read by the requesting thread(s).  A lock held
    from creation until the outcome is known: waking a waiter is one lock
    release, not a :class:`threading.Event`'s condition and waiter lock
    (green under eventlet's monkey-patching either way).
    """

    __slots__ = ('_lock', '_done', 'value', 'error')

    def __init__(self):
        self._lock = threading.Lock()
        self._lock.acquire()
        self._done = False
        self.value = None
        self.error = None

    def set(self, value=None):
        """Complete with ``value`` (the first outcome wins)."""
        if not self._done:
            self.value = value
            self._done = True
            self._lock.release()

    def fail(self, error):
        """Complete with the exception ``error``."""
        if not self._done:
            self.error = error
            self._done = True
            self._lock.release()

    def done(self):
        return self._done

    def wait(self, timeout):
        """True once complete; False when ``timeout`` seconds passed."""
        if self._done:
            return True
        if self._lock.acquire(True, -1 if timeout is None else timeout):
            # pass it on to the next waiter, if any
            self._lock.release()
            return True
        return self._done


class Send:
    """One outgoing message and where it stands.

    :param kind: CALL, CAST, NOTIFY, REPLY or HEARTBEAT.
    :param msg: the :class:`proton.Message` (address filled in on send).
    :param target: an oslo Target to resolve once connected, or None.
    :param address: a literal address (replies), or None.
    :param service: ``rpc`` or ``notify`` (for resolving ``target``).
    :param presettled: send settled, done once written.
    :param retry: re-sends allowed; None or negative = unlimited.
    """

    __slots__ = ('kind', 'msg', 'target', 'address', 'service', 'presettled',
                 'retry', 'future', 'msg_id', 'beat', 'cancelled', 'sender')

    def __init__(self, kind, msg, target=None, address=None, service='rpc',
                 presettled=False, retry=None, msg_id=None):
        self.kind = kind
        self.msg = msg
        self.target = target
        self.address = address
        self.service = service
        self.presettled = presettled
        self.retry = retry
        self.msg_id = msg_id
        self.future = Future()
        # monotonic time of the last call-monitor heartbeat (0: none yet)
        self.beat = 0.0
        self.cancelled = False
        self.sender = None

    def may_retry(self):
        """Consume one retry; False when none is left."""
        if self.retry is None or self.retry < 0:
            return True
        if self.retry > 0:
            self.retry -= 1
            return True
        return False


class Sender:
    """A cached sender link to one address, with its FIFO of messages."""

    __slots__ = ('address', 'name', 'link', 'queue', 'unacked', 'held',
                 'used')

    def __init__(self, address):
        self.address = address
        self.name = link_name('sender', address)
        self.link = None
        self.queue = collections.deque()
        self.unacked = {}
        # re-sends waiting for link_retry_delay: later messages wait too
        self.held = 0
        self.used = True


class Receiver:
    """One server receiver link of a subscription."""

    __slots__ = ('address', 'name', 'link', 'credit', 'subscription',
                 'active', 'generation')

    def __init__(self, address, credit, subscription):
        self.address = address
        self.name = link_name('receiver', address)
        self.link = None
        self.credit = credit
        self.subscription = subscription
        self.active = False
        self.generation = 0


class Subscription:
    """What one ``listen()`` asked for: (target, pattern, service) triples.

    :param specs: list of ``(target, pattern, service)`` with ``pattern``
        one of ``unicast``, ``multicast``, ``anycast``.
    :param credit: credit of each receiver link.
    :param sink: callable(incoming) run on the I/O thread per message.
    """

    def __init__(self, specs, credit, sink):
        self.specs = specs
        self.credit = credit
        self.sink = sink
        self.receivers = []
        self.closed = False
        self.ready = None
