"""The I/O thread's selector, green when eventlet has patched the process.

Under eventlet's monkey-patching :class:`selectors.DefaultSelector` is a
green ``SelectSelector`` whose every ``select()`` adds a hub listener per
socket and removes it again (two ``epoll_ctl`` calls per socket per turn
of the loop, about 24 per RPC call).  :class:`GreenSelector` keeps one
listener per socket and event on eventlet's hub for as long as the socket
is registered, so a turn of the loop costs one switch to the hub.  Only
used when both ``select`` and ``thread`` are patched, i.e. when the I/O
thread and everyone who wakes it are green threads of one OS thread.
"""

import selectors
import sys


def new_selector():
    """A :class:`GreenSelector` in a process eventlet has patched, else
    :class:`selectors.DefaultSelector`."""
    eventlet = sys.modules.get('eventlet')
    if eventlet is not None:
        from eventlet import patcher
        if (patcher.is_monkey_patched('select') and
                patcher.is_monkey_patched('thread')):
            return GreenSelector()
    return selectors.DefaultSelector()


class _Key:
    """What :meth:`GreenSelector.register` was given, and its listeners.

    Has the attributes of a :class:`selectors.SelectorKey` (``fileobj``,
    ``fd``, ``events``, ``data``).
    """

    __slots__ = ('fileobj', 'fd', 'events', 'data', 'listeners')

    def __init__(self, fileobj, fd, events, data):
        self.fileobj = fileobj
        self.fd = fd
        self.events = events
        self.data = data
        self.listeners = {}


class GreenSelector:
    """A :mod:`selectors`-like selector on eventlet's hub.

    Owns the registered keys, one persistent hub listener per key and
    event, the readiness recorded by the listeners since the last
    :meth:`select`, and which green thread waits in :meth:`select`.
    The hub is the one of the thread that first calls :meth:`select`
    (the I/O thread); listeners are added from then on.
    """

    def __init__(self):
        self._keys = {}
        self._ready = {}
        self._hub = None
        self._waiter = None

    # selectors API ----------------------------------------------------
    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        if fd in self._keys:
            raise KeyError('%r is already registered' % (fileobj,))
        key = self._keys[fd] = _Key(fileobj, fd, events, data)
        self._listen(key)
        return key

    def modify(self, fileobj, events, data=None):
        key = self.get_key(fileobj)
        key.events = events
        key.data = data
        self._listen(key)
        return key

    def unregister(self, fileobj):
        key = self.get_key(fileobj)
        del self._keys[key.fd]
        self._ready.pop(key.fd, None)
        key.events = 0
        self._listen(key)
        return key

    def get_key(self, fileobj):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = self._keys.get(fd)
        if key is None and fd < 0:
            # closed since it was registered: find it by identity, as
            # the selectors module does
            for key in self._keys.values():
                if key.fileobj is fileobj:
                    return key
        if key is None:
            raise KeyError('%r is not registered' % (fileobj,))
        return key

    def select(self, timeout=None):
        """``[(key, events)]`` ready, waiting up to ``timeout`` seconds
        (None: until one is) in eventlet's hub."""
        if self._hub is None:
            from eventlet import hubs
            self._hub = hubs.get_hub()
            for key in self._keys.values():
                self._listen(key)
        if not self._ready and timeout != 0:
            from eventlet import getcurrent
            timer = None
            if timeout is not None:
                timer = self._hub.schedule_call_global(
                    max(timeout, 0.0), self._resume)
            self._waiter = getcurrent()
            try:
                self._hub.switch()
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        ready, self._ready = self._ready, {}
        keys = self._keys
        return [(keys[fd], mask & keys[fd].events)
                for fd, mask in ready.items()
                if fd in keys and mask & keys[fd].events]

    def close(self):
        for fd in list(self._keys):
            self.unregister(fd)
        self._hub = None

    # the hub's side ----------------------------------------------------
    def _listen(self, key):
        hub = self._hub
        if hub is None:
            return
        for event, evtype in ((selectors.EVENT_READ, hub.READ),
                              (selectors.EVENT_WRITE, hub.WRITE)):
            listener = key.listeners.get(event)
            if key.events & event:
                if listener is None:
                    key.listeners[event] = hub.add(
                        evtype, key.fd, self._on_ready(event),
                        self._on_closed(key.fd), _ignore)
            elif listener is not None:
                del key.listeners[event]
                hub.remove(listener)

    def _on_ready(self, event):
        def ready(fd):
            self._ready[fd] = self._ready.get(fd, 0) | event
            self._resume()
        return ready

    def _on_closed(self, fd):
        def closed(*args):
            # the descriptor went away under us: report it ready, so that
            # the loop's next read or write sees the error
            self._ready[fd] = selectors.EVENT_READ | selectors.EVENT_WRITE
            self._resume()
        return closed

    def _resume(self):
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.switch()


def _ignore(*args):
    pass
