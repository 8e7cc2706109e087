"""Two proton engines talking in memory: the driver's side and a peer.

The driver's objects (senders, replies, servers, outbox) get a real
proton session on a client connection whose bytes are pumped to a
server-mode proton connection and back in this thread: real AMQP frames,
no socket, no thread.  :class:`Peer` plays the other side: it attaches
what the driver attaches (giving dynamic sources an address), grants
credit, keeps what it receives and settles it as the test says.
"""

import itertools

import proton
from proton import Collector
from proton import Connection
from proton import Delivery
from proton import Endpoint
from proton import Event
from proton import Transport

from amqp1_driver import codec
from amqp1_driver import request

_addresses = itertools.count(1)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Received:
    """One message the peer received, and its delivery."""

    def __init__(self, delivery, message):
        self.delivery = delivery
        self.message = message
        self.link = delivery.link

    def settle(self, state=Delivery.ACCEPTED, failed=False,
               undeliverable=False, condition=None):
        """Answer with ``state`` (and modified's flags) and settle."""
        if failed:
            self.delivery.local.failed = True
        if undeliverable:
            self.delivery.local.undeliverable = True
        if condition is not None:
            self.delivery.local.condition = condition
        self.delivery.update(state)
        self.delivery.settle()


class Peer:
    """The server side of an in-memory connection.

    :param credit: credit granted on each link the driver sends on
        (0: none until :meth:`grant`).
    :param refuse: addresses whose links are refused (attached with a
        null terminus, then detached with ``amqp:not-found``).
    """

    def __init__(self, credit=10, refuse=()):
        self.credit = credit
        self.refuse = set(refuse)
        self.conn = Connection()
        self.transport = Transport(Transport.SERVER)
        self.collector = Collector()
        self.conn.collect(self.collector)
        self.transport.bind(self.conn)
        self.received = []
        self.links = {}
        self.closed_links = []

    def handle(self):
        """React to what the driver did since the last call."""
        while True:
            ev = self.collector.peek()
            if ev is None:
                return
            self._on(ev)
            self.collector.pop()

    def _on(self, ev):
        t = ev.type
        if t == Event.CONNECTION_REMOTE_OPEN:
            if self.conn.state & Endpoint.LOCAL_UNINIT:
                self.conn.open()
        elif t == Event.SESSION_REMOTE_OPEN:
            if ev.session.state & Endpoint.LOCAL_UNINIT:
                ev.session.open()
        elif t == Event.LINK_REMOTE_OPEN:
            link = ev.link
            if not link.state & Endpoint.LOCAL_UNINIT:
                return
            address = (link.remote_target.address if link.is_receiver
                       else link.remote_source.address)
            self.links[link.name] = link
            if address in self.refuse:
                # a null terminus, then a detach with the reason
                link.condition = proton.Condition(
                    'amqp:not-found', 'refused by the test')
                if link.is_receiver:
                    link.target.type = proton.Terminus.UNSPECIFIED
                else:
                    link.source.type = proton.Terminus.UNSPECIFIED
                link.open()
                link.close()
                return
            link.source.copy(link.remote_source)
            link.target.copy(link.remote_target)
            if link.is_sender and link.remote_source.dynamic:
                link.source.address = 'dynamic-%d' % next(_addresses)
            link.open()
            if link.is_receiver and self.credit:
                link.flow(self.credit)
        elif t == Event.LINK_REMOTE_CLOSE:
            self.closed_links.append(ev.link.name)
            if not ev.link.state & Endpoint.LOCAL_CLOSED:
                ev.link.close()
        elif t == Event.DELIVERY:
            dlv = ev.delivery
            if dlv.link.is_receiver and dlv.readable and not dlv.partial:
                data = dlv.link.recv(dlv.pending)
                dlv.link.advance()
                msg = proton.Message()
                msg.decode(data)
                self.received.append(Received(dlv, msg))

    def link(self, fragment):
        """The peer's end of the link whose name contains ``fragment``."""
        found = [link for name, link in self.links.items()
                 if fragment in name]
        assert len(found) == 1, (fragment, list(self.links))
        return found[0]

    def grant(self, fragment, credit):
        """Grant ``credit`` on the link whose name contains ``fragment``."""
        self.link(fragment).flow(credit)

    def send(self, fragment, message, settled=False):
        """Send ``message`` (a :class:`proton.Message` or a
        :class:`~amqp1_driver.codec.Outgoing`) on the peer's sender link
        ``fragment`` (to the driver's receiver)."""
        link = self.link(fragment)
        dlv = link.delivery('t%d' % next(_addresses))
        if isinstance(message, codec.Outgoing):
            data = codec.Encoder().encode(message, link.target.address)
        else:
            data = message.encode()
        link.send(data)
        link.advance()
        if settled:
            dlv.settle()
        return dlv

    def detach(self, fragment, name='amqp:internal-error',
               description='closed by the test'):
        """Close the link ``fragment`` with an error condition."""
        link = self.link(fragment)
        link.condition = proton.Condition(name, description)
        link.close()


class Pair:
    """A client connection (the driver's) and a :class:`Peer`, with the
    bytes between them pumped by :meth:`pump`.

    ``session`` is an open session of the client connection;
    ``events`` collects the client connection's events for the test to
    route (as the I/O thread would).
    """

    def __init__(self, peer=None):
        self.peer = peer or Peer()
        self.conn = Connection()
        self.transport = Transport(Transport.CLIENT)
        self.events = Collector()
        self.conn.collect(self.events)
        self.transport.bind(self.conn)
        self.conn.open()
        self.session = self.conn.session()
        self.session.open()
        self.pump()

    def pump(self):
        """Move bytes both ways until neither side has any to give."""
        for _ in range(100):
            moved = _move(self.transport, self.peer.transport)
            moved += _move(self.peer.transport, self.transport)
            self.peer.handle()
            moved += _move(self.peer.transport, self.transport)
            if not moved:
                return
        raise AssertionError('the two engines never went quiet')

    def client_events(self):
        """The client's events since the last call: ``[(type, obj)]``."""
        out = []
        while True:
            ev = self.events.peek()
            if ev is None:
                return out
            if ev.type == Event.DELIVERY:
                out.append((ev.type, ev.delivery))
            else:
                out.append((ev.type, ev.link))
            self.events.pop()


def _move(src, dst):
    pending = src.pending()
    if pending <= 0:
        return 0
    data = src.peek(pending)
    src.pop(len(data))
    dst.push(data)
    return len(data)


def completed(completions):
    """Flush ``completions`` (as the I/O thread does after its write)."""
    completions.flush()


def send(kind=request.CAST, body='x', presettled=False, retry=None,
         address=None, msg_id=None):
    """A :class:`~amqp1_driver.request.Send` of a small message."""
    return request.Send(kind, codec.Outgoing(body), address=address,
                        presettled=presettled, retry=retry, msg_id=msg_id)
