"""A small AMQP 1.0 server on proton that refuses what a test asks.

The driver meets peers that say no: RabbitMQ 4.0 ends the session when a
client asks for a dynamic source ("Dynamic sources not supported"), a
broker refuses a link to an address it does not know (an attach with a
null terminus, then a detach with the error), a peer closes the
connection with an error condition.  :class:`RefusingPeer` is a real
proton engine (a server-mode Transport per connection, over TCP on a
port the OS picks) with exactly one such behaviour; everything else it
accepts: links attach, messages are accepted and settled.
"""

import itertools
import selectors
import socket
import threading

import fixtures
import proton
from proton import Collector
from proton import Connection
from proton import Endpoint
from proton import Event
from proton import Transport

#: what the peer refuses, and how
MODES = {
    # RabbitMQ 4.0/4.1: a dynamic source ends the session
    'dynamic-session': ('amqp:not-implemented',
                        'Dynamic sources not supported'),
    # a dynamic source refused on the link alone
    'dynamic-link': ('amqp:not-implemented',
                     'Dynamic sources not supported'),
    # every link the client sends on is refused
    'sender-links': ('amqp:not-found', 'no such node'),
    # the connection is closed with an error once the client attaches
    'connection': ('amqp:not-allowed', 'this peer says no'),
}


class _Conn:
    """One accepted connection: its socket and proton objects."""

    def __init__(self, sock):
        self.sock = sock
        self.conn = Connection()
        self.conn.container = 'refusing-peer'
        self.transport = Transport(Transport.SERVER)
        self.collector = Collector()
        self.conn.collect(self.collector)
        self.transport.bind(self.conn)


class RefusingPeer(fixtures.Fixture):
    """The server; ``url`` is its transport URL.

    :param mode: a key of :data:`MODES`.
    """

    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.condition = MODES[mode]
        self.refusals = 0
        self._names = itertools.count(1)

    def _setUp(self):
        self._sel = selectors.DefaultSelector()
        self.addCleanup(self._sel.close)
        self._listener = socket.socket()
        self.addCleanup(self._listener.close)
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(8)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self.url = 'amqp://127.0.0.1:%d/' % self.port
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='refusing-peer')
        self._thread.start()
        self.addCleanup(self._thread.join, 10)
        self.addCleanup(self._stop.set)

    def _run(self):
        conns = []
        while not self._stop.is_set():
            for key, _ in self._sel.select(0.05):
                if key.data is None:
                    sock, _ = self._listener.accept()
                    sock.setblocking(False)
                    c = _Conn(sock)
                    conns.append(c)
                    self._sel.register(sock, selectors.EVENT_READ, c)
                else:
                    self._read(key.data)
            for c in list(conns):
                self._handle(c)
                if not self._write(c):
                    self._sel.unregister(c.sock)
                    c.sock.close()
                    conns.remove(c)
        for c in conns:
            c.sock.close()

    def _read(self, c):
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b''
        if data:
            c.transport.push(data)
        else:
            c.transport.close_tail()

    def _write(self, c):
        t = c.transport
        while t.pending() > 0:
            try:
                n = c.sock.send(t.peek(t.pending()))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                t.close_head()
                break
            t.pop(n)
        return not (t.pending() < 0 and t.capacity() < 0)

    def _refuse(self, endpoint):
        endpoint.condition = proton.Condition(*self.condition)
        self.refusals += 1

    def _handle(self, c):
        while True:
            ev = c.collector.peek()
            if ev is None:
                return
            self._on(ev)
            c.collector.pop()

    def _on(self, ev):
        t = ev.type
        if t == Event.CONNECTION_REMOTE_OPEN:
            ev.connection.open()
        elif t == Event.SESSION_REMOTE_OPEN:
            if ev.session.state & Endpoint.LOCAL_UNINIT:
                ev.session.open()
        elif t == Event.LINK_REMOTE_OPEN:
            self._on_attach(ev.link)
        elif t == Event.LINK_REMOTE_CLOSE:
            if not ev.link.state & Endpoint.LOCAL_CLOSED:
                ev.link.close()
        elif t == Event.SESSION_REMOTE_CLOSE:
            if not ev.session.state & Endpoint.LOCAL_CLOSED:
                ev.session.close()
        elif t == Event.CONNECTION_REMOTE_CLOSE:
            if not ev.connection.state & Endpoint.LOCAL_CLOSED:
                ev.connection.close()
        elif t == Event.DELIVERY:
            dlv = ev.delivery
            if dlv.link.is_receiver and not dlv.partial:
                dlv.link.recv(dlv.pending)
                dlv.link.advance()
                dlv.update(proton.Delivery.ACCEPTED)
                dlv.settle()
                dlv.link.flow(1)

    def _on_attach(self, link):
        if not link.state & Endpoint.LOCAL_UNINIT:
            return
        mode = self.mode
        if mode == 'connection':
            self._refuse(link.connection)
            link.connection.close()
            return
        dynamic = link.is_sender and link.remote_source.dynamic
        if dynamic and mode == 'dynamic-session':
            self._refuse(link.session)
            link.session.close()
            return
        if (dynamic and mode == 'dynamic-link') or (
                link.is_receiver and mode == 'sender-links'):
            # an attach with a null terminus, then the detach with why
            self._refuse(link)
            if link.is_receiver:
                link.target.type = proton.Terminus.UNSPECIFIED
            else:
                link.source.type = proton.Terminus.UNSPECIFIED
            link.open()
            link.close()
            return
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        if dynamic:
            link.source.address = 'dynamic-%d' % next(self._names)
        link.open()
        if link.is_receiver:
            link.flow(10)
