"""Functional tests of RabbitMQDaemon with the real rabbitmq-server."""

import os

import fixtures
import pika
import psutil
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import rabbitmq


def _processes_mentioning(*needles):
    """Live processes whose command line or environment mention a needle."""
    found = []
    for proc in psutil.process_iter(['pid', 'cmdline', 'environ',
                                     'status']):
        if proc.info['status'] == psutil.STATUS_ZOMBIE:
            continue
        text = ' '.join(proc.info['cmdline'] or ())
        text += ' '.join('%s=%s' % kv
                         for kv in (proc.info['environ'] or {}).items())
        if any(n in text for n in needles):
            found.append(proc)
    return found


def _alive(pid):
    # A zombie is dead; it only waits for a parent that reaps.  In a
    # container whose PID 1 is not an init, orphans stay zombies.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class TestRabbitMQDaemon(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if not rabbitmq.find_rabbitmq_server():
            self.skipTest('rabbitmq-server is not installed')

    def test_private_node_lifecycle(self):
        daemon = rabbitmq.RabbitMQDaemon()
        with daemon:
            self.assertTrue(daemon.node_name.startswith('amqp1fx-'))
            self.assertEqual(
                'rabbit://amqp1fx:%s@127.0.0.1:%d/' % (daemon.password,
                                                       daemon.port),
                daemon.transport_url)
            # A message goes round trip as the user the node created.
            conn = pika.BlockingConnection(daemon.connection_parameters())
            try:
                channel = conn.channel()
                channel.queue_declare('q1')
                channel.basic_publish('', 'q1', b'hello')
                _, _, body = next(channel.consume('q1',
                                                  inactivity_timeout=10))
            finally:
                conn.close()
            self.assertEqual(b'hello', body)
            # A wrong password is refused.
            bad = pika.ConnectionParameters(
                daemon.host, daemon.port,
                credentials=pika.PlainCredentials(daemon.user, 'wrong'),
                connection_attempts=1)
            self.assertRaises(pika.exceptions.ProbableAuthenticationError,
                              pika.BlockingConnection, bad)
            # Every listener is on loopback.
            pids = {daemon.pid, daemon.epmd.pid}
            pids |= {c.pid for c in psutil.Process(daemon.pid).children(
                recursive=True)}
            listeners = [
                c.laddr for pid in pids
                for c in psutil.Process(pid).net_connections('tcp')
                if c.status == psutil.CONN_LISTEN]
            self.assertGreaterEqual(len(listeners), 3)
            for laddr in listeners:
                self.assertIn(laddr.ip, ('127.0.0.1', '::1'))
            # The password is in no command line, environment or log.
            self.assertEqual([], _processes_mentioning(daemon.password))
            self.assertNotIn(daemon.password,
                             open(daemon.log_path).read())
            conf = os.path.join(daemon.workdir, 'rabbitmq.conf')
            self.assertEqual(0o600, os.stat(conf).st_mode & 0o777)
            details = daemon.getDetails()
            self.assertNotIn(daemon.password,
                             details['rabbitmq-rabbitmq.conf'].as_text())
            self.assertIn('Server startup complete',
                          details['rabbitmq-log'].as_text())
            workdir = daemon.workdir
        # Nothing of the node is left: not beam, not epmd.
        self.assertEqual([], [pid for pid in pids if _alive(pid)])
        self.assertEqual([], _processes_mentioning(workdir))
        self.assertEqual(0, daemon.returncode)


class TestRabbitMQServerChoice(testtools.TestCase):
    """Absent (not named, not found) skips; a named path that does not
    exist is an error naming who named it."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable('PATH', self.tmp))
        self.useFixture(fixtures.EnvironmentVariable(
            rabbitmq.EXECUTABLE_ENV))
        self.useFixture(fixtures.MonkeyPatch(
            'amqp1_fixtures.daemons.rabbitmq._DEBIAN_SCRIPT',
            os.path.join(self.tmp, 'no-debian-script')))

    def test_absent_skips(self):
        self.assertIsNone(rabbitmq.find_rabbitmq_server())
        daemon = rabbitmq.RabbitMQDaemon()
        err = self.assertRaises(rabbitmq.DaemonNotInstalled, daemon.setUp)
        self.assertIsInstance(err, exceptions.DaemonError)
        self.assertIn('rabbitmq-server is not installed', str(err))

    def test_missing_executable_is_an_error(self):
        daemon = rabbitmq.RabbitMQDaemon(executable='/nonexistent/rabbit')
        err = self.assertRaises(fixtures.MultipleExceptions, daemon.setUp)
        error = err.args[0][1]
        self.assertIsInstance(error, exceptions.ConfigError)
        self.assertEqual('executable', error.option)
        self.assertIn('rabbitmq-server /nonexistent/rabbit does not exist',
                      str(error))

    def test_missing_environment_path_is_an_error(self):
        self.useFixture(fixtures.EnvironmentVariable(
            rabbitmq.EXECUTABLE_ENV, '/nonexistent/rabbit'))
        err = self.assertRaises(exceptions.ConfigError,
                                rabbitmq.find_rabbitmq_server)
        self.assertEqual(rabbitmq.EXECUTABLE_ENV, err.option)
