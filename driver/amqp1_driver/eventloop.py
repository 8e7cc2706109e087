"""The I/O thread's loop: selector, wake-up, timers and socket I/O.

One :mod:`selectors` selector watches the wake-up socketpair (other
threads write one byte to it after queueing work, only when the loop is
not already awake) and the connection's non-blocking socket; the loop
reads into the proton transport, runs the queued tasks and due timers,
dispatches the collector's events and writes what proton produced.
:class:`EventLoop` is that part of
:class:`~amqp1_driver.connection.IOThread`; only the I/O thread runs it.
"""

import heapq
import os
import selectors
import socket
import time

import cproton_ffi

from amqp1_driver import links

_READ_SIZE = 65536

# The per-message hot path (deliveries, credit, transport I/O) calls
# proton's C binding directly: every proton wrapper object costs a dozen C
# calls (each releasing the GIL) for state that these paths never use.
_lib = cproton_ffi.lib


class _Timer:
    __slots__ = ('when', 'func', 'args', 'cancelled')

    def __init__(self, when, func, args):
        self.when = when
        self.func = func
        self.args = args
        self.cancelled = False

    def __lt__(self, other):
        return self.when < other.when


class EventLoop:
    """The select loop, its wake-up and timers (mixed into IOThread).

    Owns the I/O thread's ``_sel``, ``_wake_r``/``_wake_w``, ``_tasks``,
    ``_timers`` and the socket/transport byte pumping; proton's events
    go to ``_dispatch`` and a dead transport to ``_lost``.
    """

    def _close_wakeup(self):
        for s in (self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass
        try:
            self._sel.close()
        except (OSError, ValueError):
            pass

    def _loop(self):
        sel = self._sel
        done = self._done
        while True:
            timeout = None
            if self._tasks:
                timeout = 0
            elif self._timers:
                timeout = max(0.0, self._timers[0].when - time.monotonic())
            for key, mask in sel.select(timeout):
                if key.data is None:
                    self._drain_wakeup()
                else:
                    self._socket_ready(mask)
            self._run_tasks()
            self._run_timers()
            self._process()
            if done:
                # completed only now, after the socket write: the woken
                # callers do not compete for the GIL with that write
                for future, value in done:
                    future.set(value)
                done.clear()
            if self._stopping and self._conn is None:
                return

    def _drain_wakeup(self):
        # submit() writes one byte per wake-up, and not again before
        # _run_tasks() ran: one read empties the pair
        try:
            self._wake_r.recv(4096)
        except (BlockingIOError, InterruptedError):
            pass

    def _run_tasks(self):
        self._woken = False
        tasks = self._tasks
        while tasks:
            task = tasks.popleft()
            if isinstance(task, links.Send):
                self._new_send(task)
            else:
                task()

    def _later(self, delay, func, *args):
        timer = _Timer(time.monotonic() + delay, func, args)
        heapq.heappush(self._timers, timer)
        return timer

    def _cancel_timer(self, timer):
        if timer is not None and not timer.cancelled:
            timer.cancelled = True
            self._cancelled_timers += 1
            if self._cancelled_timers > 64 and (
                    self._cancelled_timers > len(self._timers) // 2):
                self._timers = [t for t in self._timers if not t.cancelled]
                heapq.heapify(self._timers)
                self._cancelled_timers = 0

    def _run_timers(self):
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0].when <= now:
            timer = heapq.heappop(timers)
            if timer.cancelled:
                self._cancelled_timers -= 1
                continue
            timer.func(*timer.args)

    def _socket_ready(self, mask):
        if self._connecting:
            err = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                h = self._host
                self._attempt_failed('cannot connect to %s:%s: %s'
                                     % (h[0], h[1], os.strerror(err)))
                return
            self._connecting = False
        t = self._transport
        if t is None:
            return
        if mask & selectors.EVENT_READ:
            cap = _lib.pn_transport_capacity(t._impl)
            if cap > 0:
                try:
                    data = self._sock.recv(min(cap, _READ_SIZE))
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError as exc:
                    self._reason = self._reason or str(exc)
                    t.close_tail()
                    data = None
                if data:
                    t.push(data)
                elif data is not None:
                    t.close_tail()

    def _process(self):
        """Dispatch proton's events, write its output, update interest."""
        t = self._transport
        if t is None:
            return
        self._dispatch()
        if self._transport is not t:
            return
        if not self._connecting:
            self._write()
            self._dispatch()
            if self._transport is not t:
                return
        head = _lib.pn_transport_pending(t._impl)
        tail = _lib.pn_transport_capacity(t._impl)
        if head < 0 and tail < 0:
            self._lost(self._reason or 'connection closed')
            return
        if self._connecting:
            return
        mask = 0
        if tail > 0:
            mask |= selectors.EVENT_READ
        if head > 0:
            mask |= selectors.EVENT_WRITE
        if mask != self._sock_mask:
            if mask:
                if self._sock_mask:
                    self._sel.modify(self._sock, mask, 'sock')
                else:
                    self._sel.register(self._sock, mask, 'sock')
            else:
                self._sel.unregister(self._sock)
            self._sock_mask = mask

    def _write(self):
        t = self._transport
        impl = t._impl
        while True:
            pending = _lib.pn_transport_pending(impl)
            if pending <= 0:
                return
            try:
                n = self._sock.send(t.peek(pending))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._reason = self._reason or str(exc)
                t.close_head()
                return
            _lib.pn_transport_pop(impl, n)

    def _tick(self):
        self._tick_timer = None
        t = self._transport
        if t is None:
            return
        deadline = t.tick(time.monotonic())
        if deadline:
            self._tick_timer = self._later(
                max(0.0, deadline - time.monotonic()), self._tick)

    def _drop_socket(self):
        if self._sock is not None:
            if self._sock_mask:
                try:
                    self._sel.unregister(self._sock)
                except (KeyError, ValueError, OSError):
                    pass
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._sock_mask = 0
        self._connecting = False
