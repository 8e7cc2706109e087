"""Functional tests of ``amqp1-fixtures serve``: real processes, real AMQP.

Each test renders a config with :mod:`amqp1_fixtures.config`, starts
``python -m amqp1_fixtures.cli serve ...``, waits for its readiness line
(never sleeps), talks AMQP 1.0 to it with python-qpid-proton and stops it
with a signal.
"""

import importlib.util
import os
import queue
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

import fixtures
import testtools
from testtools import content

from amqp1_fixtures import config
from amqp1_fixtures.cli import serve

#: seconds to wait for readiness, an exit or a message
TIMEOUT = 30


def _has_broker():
    return importlib.util.find_spec('amqp1_fixtures.broker') is not None


class ServeProcess:
    """A running ``serve`` subprocess and the lines of its stderr."""

    def __init__(self, kind, conf, python=sys.executable, preexec_fn=None):
        self.kind = kind
        self.proc = subprocess.Popen(
            [python, '-m', 'amqp1_fixtures.cli', 'serve', kind,
             '--config' if kind == 'broker' else '-c', conf],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
        self.stderr = []
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.host = self.port = None

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip('\n'))
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready(self):
        """Wait for the readiness line; return (host, port) or None on exit.

        :raises queue.Empty: neither happened within TIMEOUT.
        """
        while True:
            line = self._lines.get(timeout=TIMEOUT)
            if line is None:
                return None
            parsed = serve.parse_ready_line(line)
            if parsed is not None:
                kind, self.host, self.port = parsed
                assert kind == self.kind, line
                return self.host, self.port

    def stop(self, signum=signal.SIGTERM):
        """Send ``signum``; return the exit status."""
        self.proc.send_signal(signum)
        return self.wait()

    def wait(self):
        status = self.proc.wait(timeout=TIMEOUT)
        self._reader.join(TIMEOUT)
        return status

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self._reader.join(TIMEOUT)
        self.proc.stderr.close()


class ServeTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, kind, conf, python=sys.executable, preexec_fn=None):
        """Start ``serve`` under ``python``; attach config, stderr, log."""
        process = ServeProcess(kind, conf, python, preexec_fn)
        self.addCleanup(process.cleanup)
        self.addDetail('config', content.content_from_file(
            conf, buffer_now=True))
        self.addDetail('stderr', content.Content(
            content.UTF8_TEXT,
            lambda: ['\n'.join(process.stderr).encode('utf-8')]))
        return process

    def start_ready(self, kind, conf, python=sys.executable,
                    preexec_fn=None):
        process = self.start(kind, conf, python, preexec_fn)
        self.assertIsNotNone(process.wait_ready(),
                             '%s serve exited before it was ready' % kind)
        return process

    def connect(self, process, user=None, password=None):
        from proton.utils import BlockingConnection

        kwargs = {}
        if user is not None:
            kwargs = dict(user=user, password=password,
                          allowed_mechs='PLAIN', allow_insecure_mechs=True)
        host = process.host
        if ':' in host:
            host = '[%s]' % host
        conn = BlockingConnection('amqp://%s:%d' % (host, process.port),
                                  timeout=TIMEOUT, **kwargs)
        self.addCleanup(self._close, conn)
        return conn

    def start_tls_router(self, certs, python=sys.executable):
        """A ready stand-in router whose listener serves ``certs``' TLS."""
        conf = config.render_qdrouterd_conf(
            self.path('qdrouterd.conf'), port=0, tls=certs.server_tls(),
            log_file=self.path('qdrouterd.log'))
        return self.start_ready('router', conf, python=python)

    def connect_tls(self, process, certs):
        """A connection over TLS that checks the server against
        ``certs``' CA and the name ``localhost``."""
        from proton import SSLDomain
        from proton.utils import BlockingConnection

        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_trusted_ca_db(certs.ca_file)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
        # proton checks the name as a DNS name, never as an IP address SAN
        conn = BlockingConnection('amqps://127.0.0.1:%d' % process.port,
                                  timeout=TIMEOUT, ssl_domain=domain,
                                  virtual_host='localhost')
        self.addCleanup(self._close, conn)
        return conn

    @staticmethod
    def _close(conn):
        try:
            conn.close()
        except Exception:  # already closed by the test or the peer
            return

    def exchange(self, conn, address, body):
        """Send ``body`` to ``address`` and receive it back."""
        from proton import Message
        from proton.reactor import AtMostOnce

        # Pre-settled, and with credit granted up front: a router settles
        # a delivery only once the consumer has, and this one thread
        # cannot consume while send() waits for that.
        receiver = conn.create_receiver(address, credit=1)
        sender = conn.create_sender(address, options=AtMostOnce())
        sender.send(Message(body=body), timeout=TIMEOUT)
        # arrives pre-settled from a router: nothing to accept
        message = receiver.receive(timeout=TIMEOUT)
        self.assertEqual(body, message.body)

    def assertOneLineError(self, process, status, text):
        """Exit ``status``; the last stderr line is the one error line."""
        self.assertEqual(status, process.wait())
        errors = [line for line in process.stderr
                  if line.startswith('amqp1-fixtures serve %s: error: '
                                     % process.kind)]
        self.assertEqual(1, len(errors), process.stderr)
        self.assertEqual(errors[0], process.stderr[-1])
        self.assertIn(text, errors[0])


class TestServeRouter(ServeTestCase):

    def test_anonymous_exchange_then_sigterm(self):
        log = self.path('qdrouterd.log')
        conf = config.render_qdrouterd_conf(self.path('qdrouterd.conf'),
                                            port=0, log_file=log)
        process = self.start_ready('router', conf)
        self.assertEqual('127.0.0.1', process.host)
        self.assertNotEqual(0, process.port)
        conn = self.connect(process)
        self.exchange(conn, 'openstack.org/om/rpc/unicast/x', 'hello')
        conn.close()
        self.assertEqual(0, process.stop(signal.SIGTERM))
        # the log went to the configured file, not to stderr
        self.assertEqual(1, len(process.stderr), process.stderr)
        with open(log) as f:
            text = f.read()
        self.assertIn('listening on 127.0.0.1:%d' % process.port, text)
        self.assertIn('stopping on SIGTERM', text)

    def test_plain_authentication_then_sigint(self):
        password = 'pass:with#odd chars'
        conf = config.render_qdrouterd_conf(
            self.path('qdrouterd.conf'), port=0, users={'stack': password},
            log_file=self.path('qdrouterd.log'), log_level=10)
        process = self.start_ready('router', conf)
        conn = self.connect(process, 'stack', password)
        self.exchange(conn, 'exclusive/reply', 'authenticated')

        from proton import ConnectionException
        self.assertRaises(ConnectionException, self.connect, process,
                          'stack', 'wrong')
        self.assertRaises(ConnectionException, self.connect, process,
                          'nobody', password)
        conn.close()
        self.assertEqual(0, process.stop(signal.SIGINT))
        # passwords are neither on the command line nor in any output
        self.assertNotIn(password, ' '.join(process.proc.args))
        self.assertNotIn(password, '\n'.join(process.stderr))
        with open(self.path('qdrouterd.log')) as f:
            self.assertNotIn(password, f.read())

    def test_tls_listener_with_encrypted_key(self):
        from amqp1_fixtures.tls import make_test_certificates

        certs = make_test_certificates(self.dir, key_password='key:pass')
        process = self.start_tls_router(certs)
        conn = self.connect_tls(process, certs)
        self.exchange(conn, 'broadcast/tls', 'encrypted')
        conn.close()
        self.assertEqual(0, process.stop())
        with open(self.path('qdrouterd.log')) as f:
            self.assertNotIn('key:pass', f.read())

    def test_bad_config_exits_2_naming_file_line_option(self):
        conf = self.path('qdrouterd.conf')
        with open(conf, 'w') as f:
            f.write('listener {\n    port: 0\n    linkCapacity: 10\n}\n')
        process = self.start('router', conf)
        self.assertOneLineError(
            process, serve.EXIT_CONFIG, "%s:3: option 'linkCapacity'" % conf)

    def test_interior_routers_join_a_mesh(self):
        # Two stand-ins from the files the renderer writes for a mesh: B's
        # connector finds A's inter-router listener, and a message from a
        # producer on B reaches a consumer on A.
        from amqp1_fixtures.daemons import ports
        from amqp1_fixtures.router import mesh_probe

        mesh_port = self.useFixture(ports.ReservedPort()).port
        a = self.start_ready('router', config.render_qdrouterd_conf(
            self.path('a.conf'), port=0, router_id='A',
            inter_router_listeners=[config.InterRouterListener(
                port=mesh_port)]))
        b = self.start_ready('router', config.render_qdrouterd_conf(
            self.path('b.conf'), port=0, router_id='B',
            connectors=[config.InterRouterConnector(
                '127.0.0.1', mesh_port, cost=2)]))
        mesh_probe.wait_converged(
            {name: 'amqp://127.0.0.1:%d' % process.port
             for name, process in (('A', a), ('B', b))}, TIMEOUT)
        self.assertEqual(0, b.stop())
        self.assertEqual(0, a.stop())

    def test_what_the_stand_in_does_not_implement_exits_2(self):
        for text, line, option, reason in (
                ('router {\n  mode: edge\n}\n', 2, 'mode',
                 "mode 'edge' is not supported by the stand-in"),
                ('router {\n  mode: interior\n}\nlistener {\n}\n'
                 'linkRoute {\n  prefix: x\n}\n', 6, 'linkRoute',
                 'a qdrouterd linkRoute section is not supported'),
                ('router {\n  mode: interior\n}\nlistener {\n}\n'
                 'autoLink {\n  address: x\n}\n', 6, 'autoLink',
                 'a qdrouterd autoLink section is not supported'),
                ('router {\n  mode: interior\n}\nlistener {\n}\n'
                 'listener {\n  role: edge\n}\n', 7, 'role',
                 "role 'edge' is not supported")):
            conf = self.path('qdrouterd.conf')
            with open(conf, 'w') as f:
                f.write(text)
            process = self.start('router', conf)
            self.assertOneLineError(
                process, serve.EXIT_CONFIG, "%s:%d: option '%s': %s"
                % (conf, line, option, reason))

    def test_sasldb_exits_2(self):
        conf = config.render_qdrouterd_conf(self.path('qdrouterd.conf'),
                                            port=0, users={'a': 'b'})
        with open(self.path('sasl2/qdrouterd.credentials'), 'wb') as f:
            f.write(b'\x00' * 12 + b'\x00\x06\x15\x61' + b'\x00' * 64)
        process = self.start('router', conf)
        self.assertOneLineError(
            process, serve.EXIT_CONFIG,
            'Cyrus sasldb is not readable by the stand-in; write a '
            'credentials file')

    def test_port_in_use_exits_3(self):
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        conf = config.render_qdrouterd_conf(self.path('qdrouterd.conf'),
                                            port=port)
        process = self.start('router', conf)
        self.assertOneLineError(process, serve.EXIT_PORT_IN_USE,
                                'port 127.0.0.1:%d is already in use' % port)

    def test_out_of_descriptors_pauses_accepts(self):
        # At the descriptor limit accept() fails with EMFILE while the
        # listener stays readable; the stand-in must pause accepts, not
        # retry (and log) in a busy loop.
        def few_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

        log = self.path('qdrouterd.log')
        conf = config.render_qdrouterd_conf(self.path('qdrouterd.conf'),
                                            port=0, log_file=log)
        process = self.start_ready('router', conf,
                                   preexec_fn=few_descriptors)
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(80):
            socks.append(socket.create_connection(
                (process.host, process.port), timeout=TIMEOUT))

        def paused():
            with open(log) as f:
                return f.read().count('accept paused')
        # Wait for the limit to be hit, then let a second pass: a busy
        # loop would log thousands of lines in it, the backoff a few.
        deadline = time.monotonic() + TIMEOUT
        while not paused():
            self.assertLess(time.monotonic(), deadline, 'never paused')
            time.sleep(0.05)
        start = paused()
        time.sleep(1.0)
        self.assertLess(paused() - start, 20)
        for sock in socks:
            sock.close()
        socks.clear()
        # Descriptors are free again: a real client is served.
        conn = self.connect(process)
        self.exchange(conn, 'openstack.org/om/rpc/unicast/x', 'after')
        conn.close()
        self.assertEqual(0, process.stop(signal.SIGTERM))


@testtools.skipUnless(_has_broker(), 'amqp1_fixtures.broker not written yet')
class TestServeBroker(ServeTestCase):

    def test_queue_stores_until_consumed_then_sigterm(self):
        conf = config.render_qpidd_conf(
            self.path('qpidd.conf'), port=0, users={'stack': 'secret'},
            log_file=self.path('qpidd.log'), pid_dir=self.path('run'))
        process = self.start_ready('broker', conf)
        pid_file = self.path('run/qpidd.%d.pid' % process.port)
        with open(pid_file) as f:
            self.assertEqual(process.proc.pid, int(f.read()))

        from proton import Message
        conn = self.connect(process, 'stack', 'secret')
        # a queue address (queue-patterns=exclusive) holds the message
        # while nobody listens
        sender = conn.create_sender('exclusive/q1')
        sender.send(Message(body='stored'), timeout=TIMEOUT)
        receiver = conn.create_receiver('exclusive/q1')
        self.assertEqual('stored', receiver.receive(timeout=TIMEOUT).body)
        receiver.accept()
        conn.close()

        from proton import ConnectionException
        self.assertRaises(ConnectionException, self.connect, process,
                          'stack', 'wrong')
        self.assertEqual(0, process.stop(signal.SIGTERM))
        self.assertFalse(os.path.exists(pid_file))

    def test_engine_death_exits_1_at_once(self):
        # The store's writes fail once the file size limit is reached
        # (EFBIG: SIGXFSZ ignored), which kills the engine thread: a real
        # failure, not a simulated one.
        def small_files():
            resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        conf = config.render_qpidd_conf(self.path('qpidd.conf'), port=0,
                                        data_dir=self.path('data'))
        process = self.start_ready('broker', conf, preexec_fn=small_files)
        from proton import Message
        from proton import ConnectionException
        from proton.utils import SendException
        conn = self.connect(process)
        sender = conn.create_sender('exclusive/full')

        def fill():
            for _ in range(1000):
                sender.send(Message(body='x' * 4096), timeout=TIMEOUT)
        # the engine's death drops the connection
        self.assertRaises((ConnectionException, SendException), fill)
        self.assertOneLineError(process, serve.EXIT_FAILURE,
                                'the engine stopped')

    def test_anonymous_topic(self):
        conf = config.render_qpidd_conf(self.path('qpidd.conf'), port=0)
        process = self.start_ready('broker', conf)
        self.exchange(self.connect(process), 'broadcast/t', 'fanout')
        self.assertEqual(0, process.stop(signal.SIGINT))

    def test_nss_option_exits_2(self):
        conf = self.path('qpidd.conf')
        with open(conf, 'w') as f:
            f.write('auth=no\nport=0\nssl-cert-db=/etc/pki/nssdb\n')
        process = self.start('broker', conf)
        self.assertOneLineError(
            process, serve.EXIT_CONFIG, "%s:3: option 'ssl-cert-db'" % conf)


class TestReadyLine(testtools.TestCase):

    def test_round_trip(self):
        for host in ('127.0.0.1', '::1', 'localhost'):
            line = serve.ready_line('broker', host, 5672)
            self.assertEqual(('broker', host, 5672),
                             serve.parse_ready_line(line + '\n'))
        self.assertEqual('amqp1-fixtures serve router: listening on '
                         '[::1]:1', serve.ready_line('router', '::1', 1))
        self.assertIsNone(serve.parse_ready_line('2026 INFO listening on x'))
