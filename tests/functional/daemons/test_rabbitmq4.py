"""Functional tests of RabbitMQ4Daemon with a real RabbitMQ >= 4 (the one
tools/rabbitmq4-setup.sh builds, through AMQP1_RABBITMQ4); they skip with
the reason where there is none."""

import json
import os

import pika
import fixtures
import psutil
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import rabbitmq
from amqp1_fixtures.daemons import rabbitmq4
from tests.functional import proton_clients
from tests.functional.daemons.test_rabbitmq import _alive
from tests.functional.daemons.test_rabbitmq import _processes_mentioning


def _listeners(pids):
    return [c.laddr for pid in pids
            for c in psutil.Process(pid).net_connections('tcp')
            if c.status == psutil.CONN_LISTEN]


class TestRabbitMQ4Daemon(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if not rabbitmq4.find_rabbitmq4_server():
            self.skipTest(rabbitmq4.absent_reason())

    def connect(self, daemon, **kwargs):
        clients = self.useFixture(proton_clients.Clients())
        return clients.connect('amqp://%s:%d' % (daemon.host, daemon.port),
                               **kwargs)

    def test_private_node_lifecycle(self):
        daemon = rabbitmq4.RabbitMQ4Daemon(
            users={'alice': 'alice-secret-1', 'bob': 'bob-secret-2'})
        with daemon:
            self.assertEqual('RabbitMQ', daemon.properties['product'])
            self.assertGreaterEqual(
                rabbitmq4.parse_version(daemon.version)[:2], (4, 0))
            self.assertEqual('amqp://alice:alice-secret-1@127.0.0.1:%d/'
                             % daemon.port, daemon.transport_url)
            self.assertEqual('rabbit://alice:alice-secret-1@127.0.0.1:%d/'
                             % daemon.port, daemon.rabbit_url)
            # Each user logs in over AMQP 1.0 with PLAIN...
            for user, password in daemon.users.items():
                client = self.connect(daemon, user=user, password=password,
                                      allowed_mechs='PLAIN')
                self.assertTrue(client.opened, user)
            # ... and over AMQP 0-9-1 on the same port.
            conn = pika.BlockingConnection(daemon.connection_parameters())
            conn.close()
            # A wrong password is an authentication failure, at once.
            client = self.connect(daemon, user='bob', password='wrong',
                                  allowed_mechs='PLAIN')
            self.assertFalse(client.opened)
            self.assertEqual('amqp:unauthorized-access',
                             client.transport_condition.name)
            # ANONYMOUS is not offered by default.
            client = self.connect(daemon, allowed_mechs='ANONYMOUS')
            self.assertFalse(client.opened)
            # Every listener, epmd's and the distribution's included, is
            # on loopback, on the reserved ports.
            pids = {daemon.pid, daemon.epmd.pid}
            pids |= {c.pid for c in psutil.Process(daemon.pid).children(
                recursive=True)}
            listeners = _listeners(pids)
            self.assertEqual(
                {daemon.port, daemon.dist_port, daemon.epmd.port},
                {a.port for a in listeners})
            for laddr in listeners:
                self.assertIn(laddr.ip, ('127.0.0.1', '::1'))
            # No password in a command line, an environment or the log;
            # the files holding them are 0600.
            for password in daemon.users.values():
                self.assertEqual([], _processes_mentioning(password))
                self.assertNotIn(password, open(daemon.log_path).read())
                for detail in daemon.getDetails().values():
                    self.assertNotIn(password, detail.as_text())
            for name in ('rabbitmq.conf', 'definitions.json'):
                path = os.path.join(daemon.workdir, name)
                self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
            with open(os.path.join(daemon.workdir,
                                   'definitions.json')) as f:
                self.assertEqual(['alice', 'bob'], [
                    u['name'] for u in json.load(f)['users']])
            workdir = daemon.workdir
        # Nothing of the node is left: not beam, not epmd, no mount.
        self.assertEqual([], [pid for pid in pids if _alive(pid)])
        self.assertEqual([], _processes_mentioning(workdir))
        self.assertEqual(0, daemon.returncode)
        self.assertFalse(os.path.exists(workdir))
        with open('/proc/self/mountinfo') as f:
            self.assertNotIn('amqp1fx-rabbitmq4', f.read())

    def test_anonymous_maps_to_a_user(self):
        daemon = self.useFixture(rabbitmq4.RabbitMQ4Daemon(
            users={'alice': 'alice-secret-1', 'bob': 'bob-secret-2'},
            anonymous_user='bob'))
        conn = pika.BlockingConnection(daemon.connection_parameters())
        conn.channel().queue_declare('anonymous-q', durable=True)
        conn.close()
        client = self.connect(daemon, allowed_mechs='ANONYMOUS')
        self.assertTrue(client.opened)
        # It acts as bob: RabbitMQ accepts a message whose user-id is the
        # connection's user, and ends the session of any other.
        sender = client.sender('/queues/anonymous-q')
        as_bob = sender.send('hello', user_id=b'bob')
        client.clients.wait(lambda: as_bob.remote_state)
        self.assertEqual(proton_clients.ACCEPTED, as_bob.remote_state)
        sender.send('hello', user_id=b'alice')
        session = sender.link.session
        client.clients.wait(lambda: session.remote_condition)
        self.assertEqual('amqp:unauthorized-access',
                         session.remote_condition.name)
        self.assertIn("authenticated user was 'bob'",
                      session.remote_condition.description)

    def test_two_nodes_side_by_side(self):
        first = self.useFixture(rabbitmq4.RabbitMQ4Daemon())
        second = self.useFixture(rabbitmq4.RabbitMQ4Daemon())
        self.assertEqual(4, len({first.port, first.dist_port,
                                 second.port, second.dist_port}))
        self.assertNotEqual(first.epmd.port, second.epmd.port)
        for daemon in (first, second):
            self.assertTrue(self.connect(
                daemon, user=daemon.user, password=daemon.password,
                allowed_mechs='PLAIN').opened)


class TestWithoutRabbitMQ4(testtools.TestCase):

    def test_named_executable_that_does_not_exist_is_an_error(self):
        err = self.assertRaises(exceptions.ConfigError,
                                rabbitmq4.RabbitMQ4Daemon,
                                executable='/nonexistent/rabbit')
        self.assertEqual('executable', err.option)
        self.assertIn('/nonexistent/rabbit does not exist', str(err))

    def test_variable_naming_a_missing_path_is_an_error(self):
        self.useFixture(fixtures.EnvironmentVariable(
            rabbitmq4.EXECUTABLE_ENV, '/nonexistent/rabbit4'))
        err = self.assertRaises(exceptions.ConfigError,
                                rabbitmq4.RabbitMQ4Daemon)
        self.assertEqual(rabbitmq4.EXECUTABLE_ENV, err.option)

    def test_absent_skips(self):
        self.useFixture(fixtures.EnvironmentVariable(
            rabbitmq4.EXECUTABLE_ENV))
        self.useFixture(fixtures.EnvironmentVariable('PATH', '/nonexistent'))
        self.useFixture(fixtures.MonkeyPatch(
            'amqp1_fixtures.daemons.rabbitmq._DEBIAN_SCRIPT', '/nonexistent'))
        self.assertRaises(testtools.TestCase.skipException,
                          rabbitmq4.RabbitMQ4Daemon().setUp)

    def test_rabbitmq_3_is_refused_before_it_starts(self):
        old = rabbitmq.find_rabbitmq_server()
        version = rabbitmq4.installed_version(old)
        if not version or version >= (4, 0):
            self.skipTest('no RabbitMQ 3.x installed here')
        daemon = rabbitmq4.RabbitMQ4Daemon(executable=old)
        err = self.assertRaises(Exception, daemon.setUp)
        self.assertIsInstance(err.args[0][1], exceptions.ConfigError)
        self.assertIn('not >= 4.0', str(err.args[0][1]))
        self.assertIsNone(daemon.pid)
