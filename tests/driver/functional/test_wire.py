"""What the driver puts on the wire before any peer answers.

A plain TCP listener records the client's first bytes; a server-mode
proton Transport decodes them (no hand-made framing).
"""

import os
import socket
import subprocess
import sys
import threading

import oslo_messaging
import proton

from amqp1_driver import links
from tests import messaging

AMQP_HEADER = b'AMQP\x00\x01\x00\x00'
SASL_HEADER = b'AMQP\x03\x01\x00\x00'


class Recorder:
    """Accept one connection and keep what the client sends (bounded)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.data = b''
        self.got = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(10)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(2)
        with conn:
            try:
                while len(self.data) < 4096:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    self.data += chunk
                    if len(self.data) > 64:
                        self.got.set()
            except OSError:
                pass
        self.got.set()

    def close(self):
        self.sock.close()
        self.thread.join(10)


class WireTest(messaging.TestCase):

    def _capture(self, url_fmt, **options):
        rec = Recorder()
        self.addCleanup(rec.close)
        if options:
            self.conf = messaging.make_conf(**options)
        client = self.client(url_fmt % rec.port)
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.call, 1, timeout=1)
        self.assertTrue(rec.got.wait(10))
        return rec.data

    def _decode_open(self, data):
        self.assertEqual(AMQP_HEADER, data[:8])
        conn = proton.Connection()
        transport = proton.Transport(proton.Transport.SERVER)
        transport.bind(conn)
        transport.push(data)
        return conn

    def test_no_sasl_layer_without_credentials(self):
        data = self._capture('amqp://127.0.0.1:%d/')
        self.assertEqual(AMQP_HEADER, data[:8])

    def test_sasl_layer_with_credentials(self):
        data = self._capture('amqp://joe:secret@127.0.0.1:%d/')
        self.assertEqual(SASL_HEADER, data[:8])

    def test_open_frame(self):
        conn = self._decode_open(self._capture('amqp://127.0.0.1:%d/vh'))
        self.assertTrue(conn.remote_container.startswith(
            'openstack.org/om/container/'))
        props = conn.remote_properties
        self.assertEqual({'process', 'pid', 'node'}, set(props))
        self.assertEqual(socket.gethostname(), props['node'])
        # pseudo_vhost (default): the vhost goes into the addresses only
        self.assertFalse(conn.remote_hostname)

    def test_open_hostname_without_pseudo_vhost(self):
        conn = self._decode_open(self._capture('amqp://127.0.0.1:%d/vh',
                                               pseudo_vhost=False))
        self.assertEqual('vh', conn.remote_hostname)

    def test_container_name_option(self):
        conn = self._decode_open(self._capture('amqp://127.0.0.1:%d/',
                                               container_name='my-svc'))
        self.assertEqual('my-svc', conn.remote_container)


class LinkNameTest(messaging.TestCase):

    def test_link_names_as_14x(self):
        name = links.link_name('receiver', 'rpc-response')
        prefix = 'openstack.org/om/receiver/[rpc-response]/'
        self.assertTrue(name.startswith(prefix))
        self.assertEqual(32, len(name) - len(prefix))

    def test_refill_at_half(self):
        self.assertEqual(0, links.refill(51, 100))
        self.assertEqual(50, links.refill(50, 100))
        self.assertEqual(100, links.refill(0, 100))
        self.assertEqual(0, links.refill(101, 200))
        self.assertEqual(100, links.refill(100, 200))


class ReceiverLinksTest(messaging.TestCase):

    def test_three_receivers_per_rpc_listen(self):
        from amqp1_fixtures import FakeRouter
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url, 'host1')
        prefix = 'openstack.org/om/rpc/'
        got = router.wait_for(lambda: router.consumers(prefix))
        t = self.topic
        self.assertEqual({prefix + 'unicast/openstack/%s/host1' % t: 1,
                          prefix + 'multicast/openstack/%s' % t: 1,
                          prefix + 'anycast/openstack/%s' % t: 1}, got)

    def test_one_receiver_per_priority(self):
        from amqp1_fixtures import FakeBroker
        broker = self.useFixture(FakeBroker())
        transport = self.useFixture(messaging.Transport(
            self.conf, broker.transport_url, notification=True)).transport
        listener = transport._driver.listen_for_notifications(
            [(oslo_messaging.Target(topic=self.topic, exchange='ignored'),
              p) for p in ('info', 'error')], None, 1, None)
        self.addCleanup(listener.cleanup)
        got = broker.wait_for(lambda: broker.consumers('unicast'))
        self.assertEqual({'unicast.openstack.%s.info' % self.topic: 1,
                          'unicast.openstack.%s.error' % self.topic: 1},
                         got)


class SettlementTest(messaging.TestCase):
    """pre_settled: casts and replies by default, as 14.x."""

    def _rpc(self, bus):
        url = bus.transport_url
        self.server(url)
        client = self.client(url)
        client.call(1)
        client.cast(2)
        bus.wait_for(lambda: bus.stats.totals.received >= 3)
        msgs = bus.stats.recent_messages()
        request = [m for m in msgs if m.message.reply_to]
        reply = [m for m in msgs if m.message.correlation_id]
        cast = [m for m in msgs if not m.message.reply_to and
                not m.message.correlation_id and m.message.body]
        return request[0], reply[0], cast[0]

    def test_defaults(self):
        from amqp1_fixtures import FakeRouter
        request, reply, cast = self._rpc(self.useFixture(FakeRouter()))
        self.assertFalse(request.settled)
        self.assertTrue(reply.settled)
        self.assertTrue(cast.settled)
        msg = request.message
        self.assertIsInstance(msg.id, str)
        self.assertEqual(32, len(msg.id))
        self.assertEqual(10, msg.ttl)
        self.assertEqual(msg.id, reply.message.correlation_id)

    def test_all_settled(self):
        from amqp1_fixtures import FakeRouter
        self.conf = messaging.make_conf(pre_settled=['rpc-call', 'notify'])
        request, reply, cast = self._rpc(self.useFixture(FakeRouter()))
        self.assertTrue(request.settled)
        self.assertFalse(reply.settled)
        self.assertFalse(cast.settled)


_TRACE_SCRIPT = '''
import sys
import oslo_messaging
from tests import messaging
conf = messaging.make_conf(trace=sys.argv[2] == "1")
transport = oslo_messaging.get_rpc_transport(conf, url=sys.argv[1])
client = oslo_messaging.get_rpc_client(
    transport, oslo_messaging.Target(topic="traced"), timeout=1)
try:
    client.call({}, "echo", value=1)
except oslo_messaging.MessagingTimeout:
    pass
transport.cleanup()
'''


class TraceTest(messaging.TestCase):
    """``trace``: proton's frame trace of the driver's connection."""

    def _run(self, url, trace):
        top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        proc = subprocess.run(
            [sys.executable, '-c', _TRACE_SCRIPT, url, trace],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=top,
            timeout=60)
        out = proc.stdout.decode('utf-8', 'replace')
        self.assertEqual(0, proc.returncode, out)
        return out

    def test_frames_traced_only_when_asked(self):
        from amqp1_fixtures import FakeRouter
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        traced = self._run(url, '1')
        self.assertIn('@open', traced)
        self.assertIn('@attach', traced)
        self.assertIn('rpc-response', traced)
        self.assertIn('@close', traced)
        quiet = self._run(url, '0')
        self.assertNotIn('@open', quiet)
