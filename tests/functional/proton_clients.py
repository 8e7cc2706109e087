"""Plain python-qpid-proton clients for the behaviour tests of the fakes.

Every connection of a test shares one proton ``Container`` driven from the
test's own thread: :meth:`Clients.wait` runs the container's event loop
(one ``select`` over all the client sockets) until a predicate holds.  So a
sender and a receiver of the same test both make progress while the test
waits, with no client threads and no sleeps.

Run as a script, the module is a receiver in its own process, so that a
test can crash a real listener with SIGKILL (see :func:`main`).
"""

import argparse
import sys
import time
import uuid

import fixtures
from proton import Condition
from proton import Delivery
from proton import Endpoint
from proton import Handler
from proton import Message
from proton.reactor import AtMostOnce
from proton.reactor import Container

#: seconds a wait gives up after
DEFAULT_TIMEOUT = 10.0
#: seconds the fixture's cleanup waits for close handshakes
CLOSE_TIMEOUT = 5.0

ACCEPTED = Delivery.ACCEPTED
REJECTED = Delivery.REJECTED
RELEASED = Delivery.RELEASED
MODIFIED = Delivery.MODIFIED


def unique(prefix):
    """An address no other test uses: ``prefix`` plus a random word."""
    return '%s.%s' % (prefix, uuid.uuid4().hex[:12])


class ClientTimeout(AssertionError):
    """A :meth:`Clients.wait` predicate was still false at its deadline."""


class _KeepAlive(Handler):
    """Target of a far-away timer: a proton reactor with no timer stops
    processing once its last connection is gone, and a test may still
    connect again (e.g. after a fake's ``stop()``/``start()``)."""


class Received:
    """One message a :class:`Receiver` got, with its delivery."""

    __slots__ = ('message', 'delivery', 'outcome')

    def __init__(self, message, delivery):
        self.message = message
        self.delivery = delivery
        #: the state this client settled it with, or None
        self.outcome = None

    @property
    def body(self):
        """The message body."""
        return self.message.body


class Receiver:
    """A receiving link; messages are kept in :attr:`received`.

    :param client: the :class:`Client` it belongs to.
    :param link: the proton ``Receiver``.
    """

    def __init__(self, client, link):
        self.client = client
        self.link = link
        self.received = []

    @property
    def bodies(self):
        """Bodies of every message received so far, in order."""
        return [r.body for r in self.received]

    @property
    def address(self):
        """The source address the peer confirmed (dynamic ones too)."""
        return self.link.remote_source.address

    @property
    def refused(self):
        """The condition the peer closed the link with, if it did."""
        if self.link.state & Endpoint.REMOTE_CLOSED:
            return self.link.remote_condition or Condition('closed')
        return None

    def flow(self, credit):
        """Grant ``credit`` more messages."""
        self.link.flow(credit)

    def settle(self, item, state=ACCEPTED, condition=None, failed=False):
        """Give a received message an outcome and settle it.

        :param item: a :class:`Received`, or its index in :attr:`received`.
        :param state: ``ACCEPTED``, ``REJECTED``, ``RELEASED``, ``MODIFIED``.
        :param condition: error condition of a rejection.
        :param failed: the ``delivery-failed`` flag of ``MODIFIED``.
        """
        if isinstance(item, int):
            item = self.received[item]
        delivery = item.delivery
        if condition is not None:
            delivery.local.condition = condition
        if failed:
            delivery.local.failed = True
        delivery.update(state)
        delivery.settle()
        item.outcome = state

    def unsettled(self):
        """The received messages this client has not settled yet."""
        return [r for r in self.received if r.outcome is None]

    def close(self):
        """Detach the link (the peer sees a detach with closed=true)."""
        self.link.close()


class Sender:
    """A sending link.

    :param client: the :class:`Client` it belongs to.
    :param link: the proton ``Sender``.
    """

    def __init__(self, client, link):
        self.client = client
        self.link = link
        self.deliveries = []

    @property
    def credit(self):
        """Credit the peer granted and this link has not used."""
        return self.link.credit

    @property
    def refused(self):
        """The condition the peer closed the link with, if it did."""
        if self.link.state & Endpoint.REMOTE_CLOSED:
            return self.link.remote_condition or Condition('closed')
        return None

    def send(self, body=None, message=None, **properties):
        """Queue a message for sending (it goes once there is credit).

        :param body: the message body.
        :param message: a complete :class:`proton.Message` instead.
        :param properties: other :class:`proton.Message` attributes, e.g.
            ``address`` (the ``to`` field) or ``id``.
        :returns: the proton ``Delivery`` (pre-settled on an at-most-once
            link).
        """
        if message is None:
            message = Message(body=body, **properties)
        delivery = self.link.send(message)
        self.deliveries.append(delivery)
        return delivery

    def close(self):
        """Detach the link."""
        self.link.close()


class Client(Handler):
    """One AMQP connection of a :class:`Clients` fixture.

    Create it with :meth:`Clients.connect`.
    """

    def __init__(self, clients, url, **kwargs):
        super().__init__()
        self.clients = clients
        self.url = url
        self.opened = False
        self.disconnected = False
        self.transport_condition = None
        self.remote_closed = False
        # the condition of the peer's close frame: proton forgets it once
        # the transport is gone
        self._closed_with = None
        self._receivers = {}
        kwargs.setdefault('reconnect', False)
        self.connection = clients.container.connect(url, handler=self,
                                                    **kwargs)

    # --- state ----------------------------------------------------------

    @property
    def properties(self):
        """The peer's connection properties (from its open frame)."""
        return self.connection.remote_properties

    @property
    def remote_condition(self):
        """The condition of the peer's close frame, if any."""
        return self.connection.remote_condition or self._closed_with

    @property
    def transport(self):
        """The proton ``Transport`` while connected."""
        return self.connection.transport

    @property
    def usable(self):
        """Open at both ends and not disconnected."""
        return self.opened and not self.disconnected and \
            not self.remote_closed

    # --- links ----------------------------------------------------------

    def sender(self, address, presettled=False, wait=True, options=(),
               name=None):
        """Attach a sending link.

        :param address: the target address; ``None`` for an anonymous
            (relay) link.
        :param presettled: send pre-settled (at-most-once).
        :param wait: return once the peer answered the attach.
        :param options: more :class:`proton.reactor.LinkOption` objects.
        :param name: the link name (default: proton's, from the container
            id and the address, so two senders of one connection to one
            address need names of their own).
        """
        options = ([AtMostOnce()] if presettled else []) + list(options)
        link = self.clients.container.create_sender(
            self.connection, address, options=options, name=name)
        sender = Sender(self, link)
        if wait:
            self.clients.wait(lambda: self._attached(link),
                              what='attach of sender to %s' % address)
        return sender

    def receiver(self, address=None, credit=0, dynamic=False,
                 presettled=False, wait=True, options=(), name=None):
        """Attach a receiving link.

        :param address: the source address.
        :param credit: credit to grant right away.
        :param dynamic: ask the peer to assign the address.
        :param presettled: ask for pre-settled (at-most-once) delivery.
        :param wait: return once the peer answered the attach.
        :param options: more :class:`proton.reactor.LinkOption` objects
            (``Copy()`` to browse, ``Selector(...)``...).
        :param name: the link name (default: proton's, from the container
            id and the address: give two receivers of one connection for
            one address names of their own).
        """
        options = ([AtMostOnce()] if presettled else []) + list(options)
        link = self.clients.container.create_receiver(
            self.connection, address, dynamic=dynamic, options=options,
            name=name)
        receiver = Receiver(self, link)
        self._receivers[link] = receiver
        if credit:
            link.flow(credit)
        if wait:
            self.clients.wait(lambda: self._attached(link),
                              what='attach of receiver from %s' % address)
        return receiver

    def _attached(self, link):
        return not (link.state & Endpoint.REMOTE_UNINIT) or \
            self.disconnected

    def sync(self):
        """Round trip through the peer.

        Begins and ends a session and waits for the peer's answers.  Peers
        process a connection's frames in order, so once this returns the
        peer has handled everything sent before, and whatever it sent in
        response has been processed here.
        """
        session = self.connection.session()
        session.open()
        self.clients.wait(
            lambda: session.state & Endpoint.REMOTE_ACTIVE or
            self.disconnected, what='session begin')
        session.close()
        self.clients.wait(
            lambda: session.state & Endpoint.REMOTE_CLOSED or
            self.disconnected, what='session end')

    def close(self, wait=True):
        """Close the connection (close frame) and wait for the socket to
        go away."""
        if self.connection.state & Endpoint.LOCAL_ACTIVE:
            self.connection.close()
        if wait:
            self.clients.wait(lambda: self.disconnected,
                              what='close of %s' % self.url)

    def abort(self, wait=True):
        """Drop the socket without a close frame (as a crash would)."""
        transport = self.connection.transport
        if transport is not None:
            transport.close_tail()
            transport.close_head()
        if wait:
            self.clients.wait(lambda: self.disconnected,
                              what='abort of %s' % self.url)

    # --- proton events --------------------------------------------------

    def on_connection_remote_open(self, event):
        self.opened = True

    def on_connection_remote_close(self, event):
        self.remote_closed = True
        self._closed_with = event.connection.remote_condition
        if event.connection.state & Endpoint.LOCAL_ACTIVE:
            event.connection.close()

    def on_session_remote_open(self, event):
        if event.session.state & Endpoint.LOCAL_UNINIT:
            event.session.open()

    def on_link_remote_close(self, event):
        if event.link.state & Endpoint.LOCAL_ACTIVE:
            event.link.close()

    def on_delivery(self, event):
        delivery = event.delivery
        link = delivery.link
        if not link.is_receiver or not delivery.readable or \
                delivery.partial:
            return
        receiver = self._receivers.get(link)
        message = Message()
        message.decode(link.recv(delivery.pending))
        link.advance()
        if receiver is not None:
            receiver.received.append(Received(message, delivery))

    def on_transport_error(self, event):
        self.transport_condition = event.transport.condition

    def on_transport_closed(self, event):
        self.disconnected = True
        if self.transport_condition is None:
            self.transport_condition = event.transport.condition


class Clients(fixtures.Fixture):
    """Proton client connections of one test, closed at cleanup.

    :param timeout: default seconds of :meth:`wait`.
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        super().__init__()
        self.timeout = timeout

    def _setUp(self):
        self.clients = []
        self.container = Container()
        self.container.start()
        self._keepalive = self.container.schedule(86400, _KeepAlive())
        self.addCleanup(self._close_all)

    def connect(self, url, wait=True, **kwargs):
        """Open a connection.

        :param url: e.g. a fake's ``url()``.
        :param wait: return once the peer's open frame arrived (or the
            connection failed).
        :param kwargs: :meth:`proton.reactor.Container.connect` options:
            ``heartbeat``, ``user``, ``password``, ``allowed_mechs``,
            ``sasl_enabled``...
        :returns: a :class:`Client`.
        """
        client = Client(self, url, **kwargs)
        self.clients.append(client)
        if wait:
            self.wait(lambda: client.opened or client.disconnected,
                      what='open of %s' % url)
        return client

    def wait(self, predicate, timeout=None, what=None):
        """Process client events until ``predicate()`` is true.

        The predicate is evaluated after each batch of events, so it should
        depend on something the clients observe.

        :returns: the predicate's value.
        :raises ClientTimeout: still false after ``timeout`` seconds.
        """
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + timeout
        container = self.container
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ClientTimeout('%s: not done after %.1f s'
                                    % (what or predicate, timeout))
            container.timeout = remaining
            container.process()

    def idle(self, seconds):
        """Keep processing client events for ``seconds``; return early,
        with the client, if one gets disconnected.

        It is for tests about the passing of time itself (heartbeats): the
        clients keep running their protocol while the test waits.
        """
        try:
            return self.wait(lambda: [c for c in self.clients
                                      if c.disconnected], timeout=seconds)
        except ClientTimeout:
            return []

    def _close_all(self):
        live = [c for c in self.clients if not c.disconnected]
        for client in live:
            client.close(wait=False)
        try:
            self.wait(lambda: all(c.disconnected for c in live),
                      timeout=CLOSE_TIMEOUT, what='close of every client')
        except ClientTimeout:
            # A paused or dead peer never answers the close: drop sockets.
            for client in live:
                client.abort(wait=False)
        self._keepalive.cancel()
        # No select may block while the reactor winds down.
        self.container.timeout = 0
        self.container.stop()
        while self.container.process():
            pass


def main(argv=None):
    """A receiver in its own process, for crash tests.

    Prints ``got ID`` for each message as it reaches the application, and
    ``accepted ID`` once it accepted it.  After ``--accept`` messages it
    stops settling; once it holds ``--credit`` unsettled messages and the
    peer has seen every accept, it prints ``holding`` and waits for stdin
    to close (or for SIGKILL).
    """
    parser = argparse.ArgumentParser()
    parser.add_argument('url')
    parser.add_argument('address')
    parser.add_argument('--accept', type=int, required=True)
    parser.add_argument('--credit', type=int, default=20)
    args = parser.parse_args(argv)
    with Clients(timeout=60) as clients:
        client = clients.connect(args.url)
        receiver = client.receiver(args.address, credit=args.credit)
        accepted = 0
        seen = 0
        while accepted < args.accept:
            clients.wait(lambda: len(receiver.received) > seen)
            for item in receiver.received[seen:]:
                seen += 1
                ident = item.message.id
                print('got', ident, flush=True)
                if accepted < args.accept:
                    receiver.settle(item, ACCEPTED)
                    accepted += 1
                    receiver.flow(1)
                    print('accepted', ident, flush=True)
        clients.wait(lambda: len(receiver.unsettled()) >= args.credit)
        for item in receiver.received[seen:]:
            print('got', item.message.id, flush=True)
        client.sync()
        print('holding', flush=True)
        sys.stdin.read()
    return 0


if __name__ == '__main__':
    sys.exit(main())
