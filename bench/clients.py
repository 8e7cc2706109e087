"""The benchmark's AMQP 1.0 clients, each run as a process of its own.

Usage (each prints ``ready`` once its links are attached, then one JSON
line with its figures, and exits 0 if the run was complete)::

    python bench/clients.py [--impl raw|reactor] receive HOST PORT ADDRESS
        COUNT [--credit N]
    python bench/clients.py [--impl raw|reactor] send HOST PORT ADDRESS
        COUNT [--size BYTES]
    python bench/clients.py connections HOST PORT COUNT [--prefix P]

Two implementations of the sender and receiver.  ``raw`` drives
python-qpid-proton's ``Connection``/``Transport`` directly from an epoll
loop, with the message encoded once: the cheapest client proton allows, so
the server under test rather than the client sets the pace on a small
machine.  ``reactor`` is the usual ``proton.reactor`` ``MessagingHandler``
client, the kind most throughput figures quoted for qdrouterd and qpidd
are measured with.  The connections test is ``raw`` only: the reactor's
``select()`` cannot watch its 1,000+ sockets.  Times
are ``time.monotonic()``, which on Linux is one clock for every process,
so the benchmark may subtract one process's times from another's.
"""

import argparse
import json
import resource
import selectors
import socket
import sys
import time

from proton import Collector
from proton import Connection
from proton import DataException
from proton import Delivery
from proton import Endpoint
from proton import Event
from proton import Message
from proton import MessageException
from proton import Transport
from proton.handlers import MessagingHandler
from proton.reactor import Container

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE
_ACCEPTED = Delivery.ACCEPTED
_OUTCOMES = {Delivery.ACCEPTED: 'accepted', Delivery.REJECTED: 'rejected',
             Delivery.RELEASED: 'released', Delivery.MODIFIED: 'modified'}

#: client implementations: our epoll loop, or proton's reactor
IMPLS = ('raw', 'reactor')
#: receiver credit window (topped up when half is used)
DEFAULT_CREDIT = 500
#: message body size of the throughput runs
DEFAULT_SIZE = 100
#: address prefix of the connections test (a queue on the brokers, a
#: ``closest`` address on the router, unicast for oslo's FakeBroker)
DEFAULT_PREFIX = 'exclusive/bench-conn-'


def raise_nofile_limit():
    """Raise the soft limit on open files to the hard limit.

    :returns: the new soft limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def _address_and_body(data):
    """``(to, body)`` of an encoded message; ``None`` if it does not
    decode."""
    message = Message()
    try:
        message.decode(bytes(data))
    except (MessageException, DataException):
        return None
    body = message.body
    if isinstance(body, (memoryview, bytearray)):
        body = bytes(body)
    return message.address, body


def encode_message(address, size):
    """A message to ``address`` with a ``size``-byte body, encoded once.

    The routers route on the link's target; oslo's FakeBroker routes on
    the message's ``to``, so both are set to the same address.
    """
    return Message(address=address, body=b'x' * size).encode()


class _Conn:
    """One client connection: its socket and proton transport."""

    __slots__ = ('sock', 'transport', 'pn', 'mask', 'eof', 'dead')

    def __init__(self, sock, transport, pn):
        self.sock = sock
        self.transport = transport
        self.pn = pn
        self.mask = 0
        self.eof = False
        self.dead = False


class Loop:
    """A minimal client-side event loop over many proton connections.

    :param handler: gets ``on_event(event)`` for every proton event.
    """

    def __init__(self, handler):
        self.handler = handler
        self.collector = Collector()
        self.selector = selectors.DefaultSelector()
        self.conns = {}
        self.errors = []
        self._dirty = set()
        self._next_tick = 0.0

    def connect(self, host, port, container_id):
        """Open an AMQP connection (SASL ANONYMOUS) to ``host:port``.

        The TCP connect completes in the loop.

        :returns: the opened :class:`proton.Connection`.
        """
        sock = socket.socket(socket.AF_INET6 if ':' in host
                             else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        transport = Transport()
        transport.sasl().allowed_mechs('ANONYMOUS')
        pn = Connection()
        pn.container = container_id
        pn.hostname = host
        pn.collect(self.collector)
        transport.bind(pn)
        pn.open()
        c = _Conn(sock, transport, pn)
        self.conns[pn] = c
        # Writable once connected: the header goes out then.
        self._interest(c, _READ | _WRITE)
        return pn

    def run(self, done, timeout):
        """Serve the connections until ``done()`` is true.

        :returns: True if ``done()`` became true, False on timeout.
        """
        deadline = time.monotonic() + timeout
        select = self.selector.select
        while True:
            self._dispatch()
            self._flush()
            if done():
                return True
            now = time.monotonic()
            if now >= deadline:
                return False
            if now >= self._next_tick:
                self._tick(now)
            wait = min(deadline, self._next_tick) - now
            for key, mask in select(max(0.0, wait)):
                c = key.data
                if mask & _READ:
                    self._read(c)
                if mask & _WRITE:
                    self._dirty.add(c)

    def close(self, timeout=5.0):
        """Close every link, then every connection, then the sockets.

        Politely, in that order: oslo's FakeBroker forgets a route only
        when its link is detached, and keeps routing to the links of a
        connection that just closed or vanished.
        """
        for c in self.conns.values():
            if not c.dead:
                link = c.pn.link_head(Endpoint.LOCAL_ACTIVE)
                while link:
                    link.close()
                    link = link.next(Endpoint.LOCAL_ACTIVE)
                c.pn.close()
        self.run(lambda: all(c.dead or c.transport.closed
                             for c in self.conns.values()), timeout)
        for c in self.conns.values():
            if not c.dead:
                c.dead = True
                c.sock.close()
        self.selector.close()

    def _interest(self, c, mask):
        if c.eof:
            mask &= ~_READ
        if c.dead or mask == c.mask:
            return
        if not c.mask:
            self.selector.register(c.sock, mask, c)
        elif not mask:
            self.selector.unregister(c.sock)
        else:
            self.selector.modify(c.sock, mask, c)
        c.mask = mask

    def _tick(self, now):
        # Heartbeats: the servers advertise an idle timeout.
        deadline = now + 1.0
        for c in self.conns.values():
            if not c.dead:
                when = c.transport.tick(now)
                if when:
                    deadline = min(deadline, when)
                self._dirty.add(c)
        self._next_tick = deadline

    def _read(self, c):
        if c.dead:
            return
        t = c.transport
        size = t.capacity()
        if size <= 0:
            return
        try:
            data = c.sock.recv(min(size, 65536))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(c, 'read: %s' % exc)
            return
        if not data:
            c.eof = True
            t.close_tail()
            self._interest(c, c.mask)
        else:
            t.push(data)
        self._dirty.add(c)

    def _flush(self):
        dirty = self._dirty
        while dirty:
            c = dirty.pop()
            if c.dead:
                continue
            t = c.transport
            mask = _READ
            while True:
                pending = t.pending()
                if pending <= 0:
                    break
                try:
                    n = c.sock.send(t.peek(pending))
                except (BlockingIOError, InterruptedError):
                    mask = _READ | _WRITE
                    break
                except OSError as exc:
                    self._fail(c, 'write: %s' % exc)
                    break
                t.pop(n)
                if n < pending:
                    mask = _READ | _WRITE
                    break
            self._interest(c, mask)

    def _fail(self, c, reason):
        if not c.dead:
            self.errors.append(reason)
            self._interest(c, 0)
            c.dead = True
            c.sock.close()
            c.transport.close_tail()
            c.transport.close_head()

    def _dispatch(self):
        collector = self.collector
        on_event = self.handler.on_event
        while True:
            event = collector.peek()
            if event is None:
                return
            etype = event.type
            if etype == Event.TRANSPORT:
                c = self.conns.get(event.connection)
                if c is not None:
                    self._dirty.add(c)
            elif etype in (Event.LINK_REMOTE_CLOSE,
                           Event.CONNECTION_REMOTE_CLOSE,
                           Event.TRANSPORT_ERROR):
                endpoint = event.context
                condition = getattr(endpoint, 'remote_condition', None) \
                    or getattr(endpoint, 'condition', None)
                if condition is not None:
                    self.errors.append('%s: %s' % (etype, condition))
            on_event(event)
            collector.pop()


class Receiver:
    """Receives ``count`` messages from ``address`` and accepts each.

    :ivar received: messages received so far.
    """

    def __init__(self, host, port, address, count, credit=DEFAULT_CREDIT):
        self.count = count
        self.credit = credit
        self.received = 0
        self.t_attached = None
        self.t_first = None
        self.t_last = None
        self.loop = Loop(self)
        pn = self.loop.connect(host, port, 'bench-receiver')
        session = pn.session()
        session.open()
        self.link = session.receiver('bench-receiver')
        self.link.source.address = address
        self.link.target.address = address
        self.link.open()
        self.link.flow(credit)

    def on_event(self, event):
        etype = event.type
        if etype == Event.DELIVERY:
            delivery = event.delivery
            if delivery.readable and not delivery.partial:
                link = self.link
                link.recv(delivery.pending)
                link.advance()
                delivery.update(_ACCEPTED)
                delivery.settle()
                self.received += 1
                self.t_last = time.monotonic()
                if self.t_first is None:
                    self.t_first = self.t_last
                if link.credit <= self.credit // 2:
                    link.flow(self.credit - link.credit)
        elif etype == Event.LINK_REMOTE_OPEN:
            self.t_attached = time.monotonic()
            _say('ready')

    def run(self, timeout):
        """Receive until all arrived; return the figures as a dict."""
        ok = self.loop.run(lambda: self.received >= self.count, timeout)
        self.loop.close()
        return {'role': 'receive', 'complete': ok,
                'received': self.received, 't_attached': self.t_attached,
                't_first': self.t_first, 't_last': self.t_last,
                'errors': self.loop.errors[:5]}


class Sender:
    """Sends ``count`` unsettled messages to ``address``.

    Counts the outcomes the server settles them with.
    """

    def __init__(self, host, port, address, count, size=DEFAULT_SIZE):
        self.count = count
        self.data = encode_message(address, size)
        self.sent = 0
        self.settled = 0
        self.outcomes = dict.fromkeys(_OUTCOMES.values(), 0)
        self.outcomes['none'] = 0
        self.t_attached = None
        self.t_first = None
        self.t_last = None
        self.loop = Loop(self)
        pn = self.loop.connect(host, port, 'bench-sender')
        session = pn.session()
        session.open()
        self.link = session.sender('bench-sender')
        self.link.source.address = 'bench-sender'
        self.link.target.address = address
        self.link.open()

    def _send(self):
        link = self.link
        data = self.data
        sent = self.sent
        count = self.count
        if sent < count and link.credit > 0 and self.t_first is None:
            self.t_first = time.monotonic()
        while sent < count and link.credit > 0:
            link.delivery(str(sent))
            link.stream(data)
            link.advance()
            sent += 1
        self.sent = sent

    def on_event(self, event):
        etype = event.type
        if etype == Event.DELIVERY:
            delivery = event.delivery
            state = delivery.remote_state
            if state in _OUTCOMES or delivery.remote_settled:
                self.outcomes[_OUTCOMES.get(state, 'none')] += 1
                delivery.settle()
                self.settled += 1
                self.t_last = time.monotonic()
        elif etype == Event.LINK_FLOW:
            self._send()
        elif etype == Event.LINK_REMOTE_OPEN:
            self.t_attached = time.monotonic()
            _say('ready')
            self._send()

    def run(self, timeout):
        """Send until all are settled; return the figures as a dict."""
        ok = self.loop.run(lambda: self.settled >= self.count, timeout)
        self.loop.close()
        return {'role': 'send', 'complete': ok, 'sent': self.sent,
                'settled': self.settled, 'outcomes': self.outcomes,
                't_attached': self.t_attached, 't_first': self.t_first,
                't_last': self.t_last, 'errors': self.loop.errors[:5]}


class Connections:
    """``count`` connections, each with a receiver and a sender to it.

    Once every receiver is attached and every sender has credit, one
    message goes out on each sender; the run is complete when each
    receiver has its message and each sender its outcome.
    """

    def __init__(self, host, port, count, prefix=DEFAULT_PREFIX):
        self.count = count
        self.loop = Loop(self)
        self.attached = 0
        self.with_credit = 0
        self.received = 0
        self.accepted = 0
        self.settled = 0
        self.misrouted = 0
        self.senders = []
        self._credited = set()
        self._expect = {}
        for i in range(count):
            address = '%s%d' % (prefix, i)
            pn = self.loop.connect(host, port, 'bench-conn-%d' % i)
            session = pn.session()
            session.open()
            receiver = session.receiver('r%d' % i)
            receiver.source.address = address
            receiver.target.address = address
            receiver.open()
            receiver.flow(10)
            sender = session.sender('s%d' % i)
            sender.source.address = address
            sender.target.address = address
            sender.open()
            self.senders.append((sender, encode_message(address, 16)))
            self._expect[receiver] = (address, b'x' * 16)

    def on_event(self, event):
        etype = event.type
        if etype == Event.DELIVERY:
            delivery = event.delivery
            link = delivery.link
            if link.is_receiver:
                if delivery.readable and not delivery.partial:
                    data = link.recv(delivery.pending)
                    link.advance()
                    # Decoded, not the bytes: qpidd re-encodes messages in
                    # transit (its header states durable, priority 4 and
                    # first-acquirer explicitly).
                    if _address_and_body(data) != self._expect.get(link):
                        self.misrouted += 1
                    delivery.update(_ACCEPTED)
                    delivery.settle()
                    self.received += 1
            elif delivery.remote_state in _OUTCOMES or \
                    delivery.remote_settled:
                if delivery.remote_state == _ACCEPTED:
                    self.accepted += 1
                delivery.settle()
                self.settled += 1
        elif etype == Event.LINK_REMOTE_OPEN:
            if event.link.is_receiver:
                self.attached += 1
        elif etype == Event.LINK_FLOW:
            link = event.link
            if link.is_sender and link.credit > 0 and \
                    link not in self._credited:
                self._credited.add(link)
                self.with_credit += 1

    def run(self, timeout):
        """Open, route one message per connection; return the figures."""
        t0 = time.monotonic()
        ready = self.loop.run(
            lambda: (self.attached >= self.count and
                     self.with_credit >= self.count) or
            len(self.loop.errors) > self.count, timeout)
        t1 = time.monotonic()
        done = False
        if ready:
            _say('ready')
            for sender, data in self.senders:
                sender.delivery('1')
                sender.stream(data)
                sender.advance()
            done = self.loop.run(
                lambda: (self.received >= self.count and
                         self.settled >= self.count),
                max(1.0, timeout - (t1 - t0)))
        t2 = time.monotonic()
        self.loop.close()
        return {'role': 'connections', 'count': self.count,
                'complete': bool(done and self.misrouted == 0 and
                                 self.accepted == self.count),
                'attached': self.attached, 'with_credit': self.with_credit,
                'received': self.received, 'accepted': self.accepted,
                'misrouted': self.misrouted, 'setup_seconds': t1 - t0,
                'route_seconds': t2 - t1, 'errors': self.loop.errors[:5]}


class _ReactorClient(MessagingHandler):
    """What the two ``proton.reactor`` clients share: one connection and
    link, a deadline, and the figures they report."""

    def __init__(self, host, port, address, count, **handler_options):
        super().__init__(**handler_options)
        self.url = 'amqp://%s:%d' % (host, port)
        self.address = address
        self.count = count
        self.timeout = 120.0
        self.t_attached = self.t_first = self.t_last = None
        self.errors = []
        self.timer = None

    def on_start(self, event):
        connection = event.container.connect(self.url, reconnect=False)
        self._create_link(event.container, connection)
        self.timer = event.container.schedule(self.timeout, self)

    def on_link_opened(self, event):
        self.t_attached = time.monotonic()
        _say('ready')

    def _finish(self, event):
        # Closing (rather than stopping the container) sends the last
        # dispositions first.
        self.timer.cancel()
        event.link.close()
        event.connection.close()

    def on_timer_task(self, event):
        self.errors.append('timed out')
        event.container.stop()

    def on_transport_error(self, event):
        self.errors.append(str(event.transport.condition))
        event.container.stop()

    def run(self, timeout):
        """Run until done or ``timeout``; return the figures as a dict."""
        self.timeout = timeout
        Container(self).run()
        figures = {'t_attached': self.t_attached, 't_first': self.t_first,
                   't_last': self.t_last, 'errors': self.errors[:5]}
        figures.update(self._figures())
        return figures


class ReactorReceiver(_ReactorClient):
    """:class:`Receiver` written the usual way, on ``proton.reactor``.

    ``MessagingHandler`` with a prefetch window and auto-accept: how most
    Python AMQP 1.0 clients are written, so its figures compare with
    those measured with such clients elsewhere.
    """

    def __init__(self, host, port, address, count, credit=DEFAULT_CREDIT):
        super().__init__(host, port, address, count, prefetch=credit,
                         auto_accept=True)
        self.received = 0

    def _create_link(self, container, connection):
        container.create_receiver(connection, self.address)

    def on_message(self, event):
        self.received += 1
        self.t_last = time.monotonic()
        if self.t_first is None:
            self.t_first = self.t_last
        if self.received == self.count:
            self._finish(event)

    def _figures(self):
        return {'role': 'receive', 'complete': self.received >= self.count,
                'received': self.received}


class ReactorSender(_ReactorClient):
    """:class:`Sender` written the usual way, on ``proton.reactor``."""

    def __init__(self, host, port, address, count, size=DEFAULT_SIZE):
        super().__init__(host, port, address, count)
        self.message = Message(address=address, body=b'x' * size)
        self.sent = 0
        self.settled = 0
        self.outcomes = dict.fromkeys(_OUTCOMES.values(), 0)
        self.outcomes['none'] = 0

    def _create_link(self, container, connection):
        container.create_sender(connection, self.address)

    def on_sendable(self, event):
        sender = event.sender
        if self.t_first is None and self.sent < self.count:
            self.t_first = time.monotonic()
        while sender.credit > 0 and self.sent < self.count:
            sender.send(self.message)
            self.sent += 1

    def _outcome(self, event, name):
        self.outcomes[name] += 1
        self.settled += 1
        self.t_last = time.monotonic()
        if self.settled == self.count:
            self._finish(event)

    def on_accepted(self, event):
        self._outcome(event, 'accepted')

    def on_rejected(self, event):
        self._outcome(event, 'rejected')

    def on_released(self, event):
        # proton reports modified as released too
        self._outcome(event, 'released')

    def _figures(self):
        return {'role': 'send', 'complete': self.settled >= self.count,
                'sent': self.sent, 'settled': self.settled,
                'outcomes': self.outcomes}


def _say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def main(argv=None):
    """Run one client; the exit status is 0 if its run was complete."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--timeout', type=float, default=120.0)
    sub = parser.add_subparsers(dest='role', required=True)
    parser.add_argument('--impl', choices=IMPLS, default='raw',
                        help='raw: the epoll loop; reactor: proton.reactor '
                        'with MessagingHandler (send/receive only)')
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument('host')
    server.add_argument('port', type=int)
    link = argparse.ArgumentParser(add_help=False, parents=[server])
    link.add_argument('address')
    link.add_argument('count', type=int)
    p = sub.add_parser('receive', parents=[link])
    p.add_argument('--credit', type=int, default=DEFAULT_CREDIT)
    p = sub.add_parser('send', parents=[link])
    p.add_argument('--size', type=int, default=DEFAULT_SIZE)
    p = sub.add_parser('connections', parents=[server])
    p.add_argument('count', type=int)
    p.add_argument('--prefix', default=DEFAULT_PREFIX)
    args = parser.parse_args(argv)
    reactor = args.impl == 'reactor'
    if args.role == 'receive':
        client = (ReactorReceiver if reactor else Receiver)(
            args.host, args.port, args.address, args.count, args.credit)
    elif args.role == 'send':
        client = (ReactorSender if reactor else Sender)(
            args.host, args.port, args.address, args.count, args.size)
    else:
        raise_nofile_limit()
        client = Connections(args.host, args.port, args.count, args.prefix)
    result = client.run(args.timeout)
    _say(json.dumps(result))
    return 0 if result['complete'] else 1


if __name__ == '__main__':
    sys.exit(main())
