"""Tests of devstack/tools/amqp_probe.py, the plugin's check that a daemon
(or DevStack's RabbitMQ) serves AMQP 1.0 with the services' credentials:
run as the plugin runs it, against FakeRouter and FakeBroker over real
TCP, plain and TLS, with and without SASL."""

import io
import os
import subprocess
import sys
import time

import fixtures
import testtools

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from amqp1_fixtures import RouterMesh
from amqp1_fixtures.daemons import ports
from amqp1_fixtures.daemons import rabbitmq4
from amqp1_fixtures import tls
from tests.unit.devstack import tools

PROBE = tools.path('amqp_probe.py')
PASSWORD = 'pr0be p@ss:w/rd%'


def run(host, port, *args, password=''):
    """Run the probe as the plugin does: the password on stdin."""
    result = subprocess.run([sys.executable, PROBE, host, str(port)] +
                            list(args), input=password,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=60)
    return result.returncode, result.stdout.strip()


class TestProbe(testtools.TestCase):

    def test_an_open_router_names_itself(self):
        router = self.useFixture(FakeRouter())
        status, out = run('127.0.0.1', router.port)
        self.assertEqual((0, 'qpid-dispatch-router 0.1.0'), (status, out))

    def test_sasl_plain_with_the_password_from_stdin(self):
        broker = self.useFixture(FakeBroker(users={'svc': PASSWORD}))
        status, out = run('127.0.0.1', broker.port, '--user', 'svc',
                          password=PASSWORD)
        self.assertEqual((0, 'qpid-cpp 0.1.0'), (status, out))

    def test_a_wrong_password_fails_and_says_why_without_it(self):
        broker = self.useFixture(FakeBroker(users={'svc': PASSWORD}))
        status, out = run('127.0.0.1', broker.port, '--user', 'svc',
                          password='wrong ' + PASSWORD)
        self.assertEqual(1, status)
        self.assertIn('ConnectionException', out)
        self.assertIn('amqp:unauthorized-access', out)
        self.assertNotIn(PASSWORD, out)

    def test_anonymous_to_a_listener_that_wants_plain_fails(self):
        router = self.useFixture(FakeRouter(users={'svc': PASSWORD}))
        status, out = run('127.0.0.1', router.port)
        self.assertEqual(1, status)
        self.assertIn('ConnectionException', out)

    def test_nothing_listening_fails_at_once(self):
        port = self.useFixture(ports.ReservedPort()).port
        started = time.monotonic()
        status, out = run('127.0.0.1', port, '--timeout', '30')
        self.assertEqual(1, status)
        self.assertIn('Connection refused', out)
        self.assertLess(time.monotonic() - started, 20)


class TestProbeTls(testtools.TestCase):

    def setUp(self):
        super().setUp()
        directory = self.useFixture(fixtures.TempDir()).path
        self.certs = tls.make_test_certificates(directory)
        self.router = self.useFixture(FakeRouter(
            users={'svc': PASSWORD}, tls=self.certs.server_tls()))
        other = os.path.join(directory, 'other')
        os.mkdir(other)
        self.other_ca = tls.make_test_certificates(other).ca_file

    # The peer name is checked as proton checks it: against the
    # certificate's DNS names and common name, never its IP addresses
    # (DevStack's make_cert puts the common name, an address too, among
    # the DNS names); this certificate names "localhost".
    def test_tls_verified_against_the_ca(self):
        status, out = run('localhost', self.router.port, '--user', 'svc',
                          '--ca', self.certs.ca_file, password=PASSWORD)
        self.assertEqual((0, 'qpid-dispatch-router 0.1.0'), (status, out))

    def test_a_host_the_certificate_does_not_name_fails(self):
        certs = tls.make_test_certificates(
            self.useFixture(fixtures.TempDir()).path,
            hostnames=('other.example.org',))
        router = self.useFixture(FakeRouter(
            users={'svc': PASSWORD}, tls=certs.server_tls()))
        status, out = run('localhost', router.port, '--user', 'svc',
                          '--ca', certs.ca_file, password=PASSWORD)
        self.assertEqual(1, status)
        self.assertIn('certificate verify failed', out)

    def test_a_certificate_from_another_ca_fails(self):
        status, out = run('localhost', self.router.port, '--user', 'svc',
                          '--ca', self.other_ca, password=PASSWORD)
        self.assertEqual(1, status)
        self.assertRegex(out, '(SSL|certificate|verify)')

    def test_a_plain_connection_to_the_tls_listener_fails(self):
        status, out = run('127.0.0.1', self.router.port, '--user', 'svc',
                          '--timeout', '5', password=PASSWORD)
        self.assertEqual(1, status)


class TestProbeRabbitMQ4(testtools.TestCase):
    """What the plugin's rabbitmq mode asks DevStack's RabbitMQ, asked of
    a real RabbitMQ 4 node (skipped where there is none)."""

    def setUp(self):
        super().setUp()
        if not rabbitmq4.find_rabbitmq4_server():
            self.skipTest(rabbitmq4.absent_reason())
        self.node = self.useFixture(rabbitmq4.RabbitMQ4Daemon(
            users={'stackrabbit': PASSWORD}))

    def test_rabbitmq_names_itself_and_its_version(self):
        status, out = run('127.0.0.1', self.node.port, '--user',
                          'stackrabbit', password=PASSWORD)
        self.assertEqual((0, 'RabbitMQ %s' % self.node.version),
                         (status, out))
        self.assertGreaterEqual(
            rabbitmq4.parse_version(out.split()[1])[:2], (4, 0))

    def test_a_wrong_password_is_refused_at_once(self):
        started = time.monotonic()
        status, out = run('127.0.0.1', self.node.port, '--user',
                          'stackrabbit', password='wrong')
        self.assertEqual(1, status)
        self.assertIn('ConnectionException', out)
        self.assertNotIn(PASSWORD, out)
        self.assertLess(time.monotonic() - started, 20)


class TestReach(testtools.TestCase):
    """``--reach``: the plugin's check that a subnode's router has joined
    the hub's, against meshes of FakeRouters and of real qdrouterd."""

    def test_a_router_joined_to_the_hub_is_reached(self):
        mesh = self.useFixture(RouterMesh([('sub', 'hub', 1)],
                                          users={'svc': PASSWORD}))
        status, out = run('127.0.0.1', mesh.routers['sub'].port, '--user',
                          'svc', '--reach', '127.0.0.1',
                          str(mesh.routers['hub'].port), password=PASSWORD)
        self.assertEqual((0, 'reached 127.0.0.1:%d from 127.0.0.1:%d' % (
            mesh.routers['sub'].port, mesh.routers['hub'].port)),
            (status, out))

    def test_the_real_qdrouterd_mesh_is_reached(self):
        mesh = self.useFixture(RouterMesh([('sub', 'hub', 1)], daemons=True,
                                          require_real=True,
                                          impl='qdrouterd'))
        status, out = run('127.0.0.1', mesh.routers['sub'].port, '--reach',
                          '127.0.0.1', str(mesh.routers['hub'].port))
        self.assertEqual(0, status, out)

    def test_a_router_not_joined_is_not_reached(self):
        hub = self.useFixture(FakeRouter())
        alone = self.useFixture(FakeRouter())
        status, out = run('127.0.0.1', alone.port, '--timeout', '1',
                          '--reach', '127.0.0.1', str(hub.port))
        self.assertEqual(1, status)
        self.assertIn('the hub gave no credit within 1.0s', out)

    def test_no_hub_listening_fails_saying_why(self):
        alone = self.useFixture(FakeRouter(users={'svc': PASSWORD}))
        port = self.useFixture(ports.ReservedPort()).port
        started = time.monotonic()
        status, out = run('127.0.0.1', alone.port, '--user', 'svc',
                          '--timeout', '30', '--reach', '127.0.0.1',
                          str(port), password=PASSWORD)
        self.assertEqual(1, status)
        self.assertIn('Connection refused', out)
        self.assertNotIn(PASSWORD, out)
        self.assertLess(time.monotonic() - started, 20)


class TestPieces(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.probe = tools.load('amqp_probe.py')

    def test_url_brackets_an_ipv6_address(self):
        self.assertEqual('amqp://[::1]:5672', self.probe.url_of('::1', 5672))
        self.assertEqual('amqps://[::1]:1',
                         self.probe.url_of('[::1]', 1, tls=True))
        self.assertEqual('amqp://192.0.2.1:2',
                         self.probe.url_of('192.0.2.1', 2))

    def test_peer_identity_of_open_properties(self):
        from proton import symbol
        self.assertEqual('RabbitMQ 4.0.5', self.probe.peer_identity(
            {symbol('product'): 'RabbitMQ', symbol('version'): '4.0.5'}))
        self.assertEqual('unknown unknown', self.probe.peer_identity(None))

    def test_no_user_means_no_sasl_plain_and_no_password_read(self):
        self.assertEqual({}, self.probe.connection_options())
        stdin = io.StringIO('unread')
        router = self.useFixture(FakeRouter())
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertEqual(0, self.probe.main(
            ['127.0.0.1', str(router.port)], stdin=stdin))
        self.assertEqual('unread', stdin.read())
