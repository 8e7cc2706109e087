"""The I/O thread's loop: selector, wake-up, tasks and timers.

Other threads hand work to the loop with :meth:`Loop.submit`: a task
queued on a deque and one byte written to a socketpair, only when the
loop is not already awake.  Time comes from an injectable clock, so the
timers (and everything scheduled on them: reconnects, re-sends,
re-attaches) are tested without waiting.
"""

import collections
import errno
import heapq
import selectors
import socket
import time

from amqp1_driver import green


class Timer:
    """A call scheduled on the loop; :meth:`Loop.cancel` cancels it."""

    __slots__ = ('when', 'func', 'args', 'cancelled')

    def __init__(self, when, func, args):
        self.when = when
        self.func = func
        self.args = args
        self.cancelled = False

    def __lt__(self, other):
        return self.when < other.when


class Loop:
    """One selector loop with a thread-safe task queue and timers.

    Owns the selector and what is registered with it, the wake-up
    socketpair and the woken flag, the task deque and the timer heap.
    Only the loop's own thread runs :meth:`run_once`; any thread may
    :meth:`submit`.

    :param run_task: called on the loop's thread with each submitted
        task (e.g. ``lambda task: task()``).
    :param clock: a monotonic clock in seconds (``time.monotonic``).
    :param selector: a :mod:`selectors` selector (when None, a new one
        from :func:`amqp1_driver.green.new_selector`).
    """

    def __init__(self, run_task, clock=time.monotonic, selector=None):
        self._run_task = run_task
        self.clock = clock
        self._tasks = collections.deque()
        self._timers = []
        self._cancelled = 0
        self._woken = False
        self._sel = selector or green.new_selector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self.closed = False

    # ------------------------------------------------------------------
    # Any thread
    def submit(self, task):
        """Queue ``task`` and wake the loop (from any thread).

        :raises OSError: the loop was closed.
        """
        if self.closed:
            raise OSError(errno.EBADF, 'the loop is closed')
        self._tasks.append(task)
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b'x')
            except (BlockingIOError, InterruptedError):
                pass  # the pair is full: the loop is awake anyway

    def defer(self, task):
        """Queue ``task`` without waking the loop (from any thread): it
        runs at the loop's next turn, at the latest after the
        ``max_wait`` its owner passes to :meth:`run_once`.

        :raises OSError: the loop was closed.
        """
        if self.closed:
            raise OSError(errno.EBADF, 'the loop is closed')
        self._tasks.append(task)

    # ------------------------------------------------------------------
    # The loop's thread
    def call_at(self, when, func, *args):
        """Run ``func(*args)`` once the clock reads ``when``."""
        timer = Timer(when, func, args)
        heapq.heappush(self._timers, timer)
        return timer

    def call_later(self, delay, func, *args):
        """Run ``func(*args)`` in ``delay`` seconds."""
        return self.call_at(self.clock() + delay, func, *args)

    def cancel(self, timer):
        """Cancel ``timer`` (None and cancelled timers are ignored)."""
        if timer is None or timer.cancelled:
            return
        timer.cancelled = True
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled > len(self._timers) // 2:
            self._timers = [t for t in self._timers if not t.cancelled]
            heapq.heapify(self._timers)
            self._cancelled = 0

    def watch(self, sock, mask, callback):
        """Call ``callback(mask)`` when ``sock`` is ready for ``mask``.

        ``mask`` 0 stops watching; a socket already watched is modified.
        """
        try:
            key = self._sel.get_key(sock)
        except KeyError:
            key = None
        if not mask:
            if key is not None:
                self._sel.unregister(sock)
        elif key is None:
            self._sel.register(sock, mask, callback)
        elif key.events != mask or key.data is not callback:
            self._sel.modify(sock, mask, callback)

    def unwatch(self, sock):
        """Stop watching ``sock`` (closed or not, watched or not)."""
        try:
            self._sel.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass

    def next_due(self):
        """The clock time of the next timer (None if there is none)."""
        timers = self._timers
        while timers and timers[0].cancelled:
            heapq.heappop(timers)
            self._cancelled -= 1
        return timers[0].when if timers else None

    def timeout(self):
        """Seconds :meth:`run_once` may block: 0 with tasks queued, until
        the next timer, or None."""
        if self._tasks:
            return 0
        if self._timers:
            return max(0.0, self._timers[0].when - self.clock())
        return None

    def run_once(self, max_wait=None):
        """Wait for sockets, tasks or the next timer; run what is ready:
        socket callbacks, then the tasks queued, then the timers due.

        :param max_wait: wait no longer than this (seconds), e.g. while
            tasks queued with :meth:`defer` are expected.
        """
        timeout = self.timeout()
        if max_wait is not None and (timeout is None or max_wait < timeout):
            timeout = max_wait
        for key, mask in self._sel.select(timeout):
            if key.data is None:
                # submit() writes one byte per wake-up and not again
                # before run_tasks() ran: one read empties the pair
                try:
                    self._wake_r.recv(4096)
                except (BlockingIOError, InterruptedError):
                    pass
            else:
                key.data(mask)
        self.run_tasks()
        self.run_timers()

    def run_tasks(self):
        """Run the tasks queued so far (and those they queue)."""
        self._woken = False
        tasks = self._tasks
        run = self._run_task
        while tasks:
            run(tasks.popleft())

    def run_timers(self):
        """Run the timers due by the clock."""
        now = self.clock()
        timers = self._timers
        while timers and timers[0].when <= now:
            timer = heapq.heappop(timers)
            if timer.cancelled:
                self._cancelled -= 1
                continue
            timer.func(*timer.args)

    def holds(self, task):
        """True if ``task`` is queued and has not run (any thread)."""
        try:
            return task in self._tasks
        except RuntimeError:  # the loop's thread took tasks meanwhile
            return task in list(self._tasks)

    def drain_tasks(self):
        """Take the queued tasks without running them (the loop ends)."""
        tasks = list(self._tasks)
        self._tasks.clear()
        return tasks

    def close(self):
        """Close the wake-up pair and the selector; submit() then fails."""
        self.closed = True
        try:
            self._sel.close()
        except (OSError, ValueError):
            pass
        for s in (self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass

    def wakeup_fds(self):
        """The wake-up pair's descriptors (-1 once closed), for tests."""
        return self._wake_r.fileno(), self._wake_w.fileno()
