"""amqp1_driver.attempt: one connection attempt, over a loopback socket
driven step by step in this thread (the peer is a server-mode proton
transport on the accepted socket)."""

import socket
import types

import proton
from proton import Connection
from proton import Transport
import testtools

from amqp1_driver import attempt
from amqp1_driver import hosts
from amqp1_driver import loop


def group(**values):
    base = dict(pseudo_vhost=True, sasl_mechanisms='', idle_timeout=0,
                trace=False, sasl_default_realm='', sasl_config_dir='',
                sasl_config_name='', ssl=False, ssl_ca_file='',
                ssl_cert_file='', ssl_verify_vhost=False)
    base.update(values)
    return types.SimpleNamespace(**base)


class AttemptTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.loop = loop.Loop(lambda task: task())
        self.addCleanup(self.loop.close)
        self.listener = socket.socket()
        self.addCleanup(self.listener.close)
        self.listener.bind(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]

    def attempt(self, port=None, hostname='127.0.0.1', **options):
        a = attempt.Attempt(hosts.Host(hostname, port or self.port),
                            group(**options), 'cid', 'vh', False, self.loop)
        self.addCleanup(a.drop)
        return a

    def turn(self, a):
        """One turn of the I/O thread for this attempt."""
        self.loop.run_once()
        if a.failure is None and a.transport is not None:
            return a.flush()
        return None

    def test_refused(self):
        # bound, not listening: the kernel refuses the connection
        a = self.attempt()
        a.start()
        self.assertTrue(a.connecting)
        while a.failure is None:
            self.turn(a)
        self.assertEqual('cannot connect to 127.0.0.1:%d: Connection '
                         'refused' % self.port, a.failure)

    def test_unresolvable(self):
        a = self.attempt(hostname='x' * 64 + '.invalid')
        error = self.assertRaises(attempt.AttemptFailed, a.start)
        self.assertIn('cannot resolve %s.invalid:' % ('x' * 64), str(error))

    def test_open_and_close_with_a_condition(self):
        self.listener.listen(1)
        a = self.attempt()
        a.start()
        server, _ = self.listener.accept()
        self.addCleanup(server.close)
        peer = Connection()
        pt = Transport(Transport.SERVER)
        pt.bind(peer)
        # the client's header and Open reach the peer
        while not peer.remote_container:
            self.turn(a)
            server.setblocking(False)
            try:
                pt.push(server.recv(65536))
            except BlockingIOError:
                pass
        self.assertEqual('cid', peer.remote_container)
        self.assertFalse(a.opened)
        peer.open()
        peer.condition = proton.Condition('amqp:not-allowed', 'go away')
        peer.close()
        server.sendall(pt.peek(pt.pending()))
        while a.conn.remote_condition is None:
            self.turn(a)
        a.on_remote_close()
        self.assertEqual(('amqp:not-allowed', 'go away'), a.condition)
        self.assertEqual('closed by peer: amqp:not-allowed: go away',
                         a.reason)
        self.assertIsNone(a.auth_error)
        a.drop()
        self.assertEqual(-1, a.sock.fileno())
        self.assertIsNone(a.transport)
