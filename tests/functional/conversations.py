"""Real proton client conversations, recorded as bytes, for hostile tests.

:class:`RawClient` drives a client-side :class:`proton.Transport` over a
plain socket and keeps every byte the client wrote, so that the tests of
hostile peers (and the fuzz test) replay, cut and mutate the bytes of a
genuine AMQP 1.0 client instead of encoding AMQP by hand.  It also hands
out the raw bytes of the messages it receives: a message proton could not
decode (a string that is not UTF-8) is still compared byte for byte.
"""

import socket
import struct
import time

from proton import Connection
from proton import Data
from proton import Delivery
from proton import Described
from proton import Message
from proton import Transport
from proton import ulong

#: seconds any wait gives up after
TIMEOUT = 10.0

SASL_HEADER = b'AMQP\x03\x01\x00\x00'
AMQP_HEADER = b'AMQP\x00\x01\x00\x00'


def section(code, value):
    """One message section encoded by proton: ``Described(code, value)``."""
    data = Data()
    data.put_object(Described(ulong(code), value))
    return bytes(data.encode())


def split_frames(stream):
    """Cut a byte stream into protocol headers and frames (by the frame
    size field only; nothing is decoded).  A trailing partial frame is
    returned as it is."""
    parts = []
    while stream:
        if stream.startswith(b'AMQP'):
            size = 8
        elif len(stream) >= 4:
            size = max(8, struct.unpack_from('>I', stream)[0])
        else:
            size = len(stream)
        parts.append(stream[:size])
        stream = stream[size:]
    return parts


class RawClient:
    """A proton client connection over a blocking socket.

    :param port: the fake's port on 127.0.0.1.
    :param user: SASL PLAIN user (else ANONYMOUS).
    :param password: its password.
    """

    def __init__(self, port, user=None, password=None):
        self.sock = socket.create_connection(('127.0.0.1', port),
                                             timeout=TIMEOUT)
        self.sent = bytearray()
        self.received = []
        self.connection = Connection()
        self.transport = Transport()
        sasl = self.transport.sasl()
        if user is not None:
            sasl.allowed_mechs('PLAIN')
            # PLAIN without TLS: only ever to a fake on loopback
            sasl.allow_insecure_mechs = True
            self.connection.user = user
            self.connection.password = password
        else:
            sasl.allowed_mechs('ANONYMOUS')
        self.transport.bind(self.connection)
        self.connection.hostname = '127.0.0.1'
        self.connection.open()
        self.session = self.connection.session()
        self.session.open()
        self.eof = False

    def close(self):
        self.sock.close()

    def pump(self, until, what='condition', timeout=TIMEOUT):
        """Exchange bytes until ``until()`` holds.

        :raises AssertionError: it did not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not until():
            self._write()
            if until():
                return
            if self.eof or self.transport.closed:
                raise AssertionError('connection closed before %s' % what)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError('no %s within %.1f s' % (what, timeout))
            self.sock.settimeout(min(remaining, 0.2))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b''
            if not data:
                self.eof = True
                self.transport.close_tail()
            else:
                self.transport.push(data)
            self._collect()

    def _write(self):
        while True:
            pending = self.transport.pending()
            if pending <= 0:
                return
            data = self.transport.peek(pending)
            self.sock.sendall(data)
            self.sent += data
            self.transport.pop(len(data))

    def _collect(self):
        for link in self._receivers():
            while True:
                delivery = link.current
                if delivery is None or delivery.partial or \
                        not delivery.readable:
                    break
                data = link.recv(delivery.pending)
                link.advance()
                self.received.append((delivery, bytes(data)))

    def _receivers(self):
        link = self.connection.link_head(0)
        while link is not None:
            if link.is_receiver:
                yield link
            link = link.next(0)

    def opened(self):
        """Wait for the server's open frame."""
        self.pump(lambda: self.connection.remote_condition or
                  self.connection.state & self.connection.REMOTE_ACTIVE,
                  'open')

    def send(self, address, encoded, settle_wait=True):
        """Attach a sender, send one encoded message, wait for its
        outcome; return the delivery."""
        sender = self.session.sender('s-%s' % address)
        sender.target.address = address
        sender.open()
        self.pump(lambda: sender.credit > 0 or sender.remote_condition,
                  'credit on %s' % address)
        delivery = sender.delivery(b'1')
        sender.send(encoded)
        sender.advance()
        if settle_wait:
            self.pump(lambda: delivery.remote_state, 'an outcome')
        else:
            self._write()
        return delivery

    def listen(self, address, credit=1):
        """Attach a receiver with ``credit``; wait for the attach."""
        receiver = self.session.receiver('r-%s' % address)
        receiver.source.address = address
        receiver.open()
        receiver.flow(credit)
        self.pump(lambda: receiver.state & receiver.REMOTE_ACTIVE or
                  receiver.remote_condition, 'attach of %s' % address)
        return receiver

    def wait_received(self, count):
        """Wait until ``count`` messages arrived in all; return them as
        ``(delivery, bytes)`` pairs (left unsettled)."""
        self.pump(lambda: len(self.received) >= count,
                  '%d messages' % count)
        return self.received[:count]

    def receive(self, address, count=1):
        """Attach a receiver; wait for ``count`` more messages; return the
        new ``(delivery, bytes)`` pairs (left unsettled)."""
        before = len(self.received)
        self.listen(address, count)
        return self.wait_received(before + count)[before:]

    def accept(self, delivery):
        delivery.update(Delivery.ACCEPTED)
        delivery.settle()
        self._write()

    def close_cleanly(self):
        """Close with a close frame and wait for the server's."""
        self.connection.close()
        self.pump(lambda: self.connection.state &
                  self.connection.REMOTE_CLOSED or self.eof, 'close')
        self.sock.close()


def hand_over(producer, consumer, address, body='ok'):
    """Send ``body`` from ``producer`` to ``address``, where ``consumer``
    listens, and accept it there; return the sender's delivery (its
    outcome has come) and the body the consumer decoded."""
    delivery = producer.send(address, Message(body=body).encode(),
                             settle_wait=False)
    [(received, data)] = consumer.wait_received(1)
    consumer.accept(received)
    producer.pump(lambda: delivery.remote_state, 'the outcome')
    msg = Message()
    msg.decode(data)
    return delivery, msg.body


def record(port, address, body=b'fuzz', user=None, password=None):
    """Run a sender conversation (send one message, close) and return the
    bytes the client wrote."""
    client = RawClient(port, user, password)
    try:
        client.send(address, Message(body=body).encode())
        client.close_cleanly()
    finally:
        client.close()
    return bytes(client.sent)


def read_until_closed(sock, timeout=TIMEOUT):
    """Read until the server closes ``sock``; return what it sent.

    :raises AssertionError: it did not close within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    received = b''
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError('server kept the connection open '
                                 'for %.1f s' % timeout)
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return received
        if not data:
            return received
        received += data
