"""Requests handed to the I/O thread, and how their callers wait.

A :class:`Send` is one outgoing message; whichever object holds it on
the I/O thread (the outbox, a sender, the replies) completes its
:class:`Future`, on which the calling thread waits with a deadline.
:class:`Completions` lets the I/O thread complete futures only after its
socket write, so the woken callers do not compete with that write for
the GIL.
"""

import threading

CALL = 'call'
CAST = 'cast'
NOTIFY = 'notify'
REPLY = 'reply'
HEARTBEAT = 'heartbeat'


class Future:
    """The outcome of one request, waited for with a deadline.

    Owns its value or error and whether it is done.  Set by the I/O
    thread, read by the requesting thread(s).  A lock held from creation
    until the outcome is known: waking a waiter is one lock release, not
    a :class:`threading.Event`'s condition and waiter lock (green under
    eventlet's monkey-patching either way).
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
        """Complete with the exception ``error`` (the first outcome wins)."""
        if not self._done:
            self.error = error
            self._done = True
            self._lock.release()

    def done(self):
        """True once set or failed."""
        return self._done

    def wait(self, timeout):
        """True once complete; False when ``timeout`` seconds passed.

        :param timeout: seconds, or None to wait without a bound (only for
            tests: the driver always passes its deadline).
        """
        if self._done:
            return True
        if self._lock.acquire(True, -1 if timeout is None else timeout):
            # pass it on to the next waiter, if any
            self._lock.release()
            return True
        return self._done


class Send:
    """One outgoing message and where it stands.

    A record shared by its caller and the I/O thread: the caller sets
    ``cancelled`` when it gives up; on the I/O thread ``sender`` is
    written by :class:`~amqp1_driver.sender.Sender` only (the sender
    whose queue holds it), ``beat`` by :class:`~amqp1_driver.replies.
    Replies` only, ``retry`` through :meth:`may_retry`.

    :param kind: CALL, CAST, NOTIFY, REPLY or HEARTBEAT.
    :param msg: the :class:`~amqp1_driver.codec.Outgoing` (encoded by the
        I/O thread with its address and ids).
    :param target: an oslo Target to resolve once connected, or None.
    :param address: a literal address (replies), or None.
    :param service: ``rpc`` or ``notify`` (for resolving ``target``).
    :param presettled: send settled, done once written.
    :param retry: re-sends allowed; None or negative = unlimited.
    :param msg_id: the message-id of a call (its replies' correlation-id).
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

    @property
    def finished(self):
        """True if nobody waits for this send any more."""
        return self.cancelled or self.future._done

    def may_retry(self):
        """Consume one retry; False when none is left."""
        if self.retry is None or self.retry < 0:
            return True
        if self.retry > 0:
            self.retry -= 1
            return True
        return False

    def fail(self, error):
        """Fail the caller's future with ``error``."""
        self.future.fail(error)


class Completions:
    """Futures to complete, and callbacks to run, at the end of one turn
    of the I/O thread's loop, after its socket write.

    Owns the list of deferred completions; only the I/O thread uses it.
    """

    __slots__ = ('_pending',)

    def __init__(self):
        self._pending = []

    def set(self, future, value=None):
        """Complete ``future`` with ``value`` at the end of this turn."""
        self._pending.append((future.set, value))

    def call(self, func, arg):
        """Run ``func(arg)`` at the end of this turn (e.g. a hand-off to a
        listener's executor)."""
        self._pending.append((func, arg))

    def __bool__(self):
        return bool(self._pending)

    def flush(self):
        """Run everything deferred so far, in order."""
        pending = self._pending
        while pending:
            batch = pending[:]
            del pending[:]
            for func, arg in batch:
                func(arg)
