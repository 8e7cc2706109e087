"""RouterDaemon and BrokerDaemon: the stand-in processes, the real
daemons' code path with a fake executable, and the real qdrouterd and
qpidd (CI's bundle, see tests.realqpid; skipped where absent)."""

import os
import shutil
import subprocess
import sys

import fixtures
import psutil
import testtools

from amqp1_fixtures import config
from amqp1_fixtures.daemons import qpid as daemons
from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import ports
from amqp1_fixtures.daemons.rabbitmq import DaemonNotInstalled
from amqp1_fixtures import tls
from tests import messaging
from tests.functional import proton_clients
from tests import realqpid

# Pretends to be qdrouterd/qpidd: checks it got "--config FILE", reads the
# port from it (qdrouterd "port: N" or qpidd "port=N") and listens there.
FAKE_REAL = r'''#!%s
import re, signal, socket, sys
assert sys.argv[1] == '--config', sys.argv
text = open(sys.argv[2]).read()
port = int(re.search(r'^\s*port\s*[:=]\s*(\d+)', text, re.M).group(1))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen()
print('fake real daemon on', port, flush=True)
while True:
    signal.pause()
''' % sys.executable


# Run inside the namespaces of test_realm_on_a_host_whose_name_has_a_domain
REALM_PROBE = '''
from amqp1_fixtures.daemons import qpid as daemons
from tests.functional import proton_clients
router = daemons.RouterDaemon(users={'stack': 'pw'}, require_real=True)
router.setUp()
try:
    clients = proton_clients.Clients()
    clients.setUp()
    client = clients.connect(router.url())
    print('realm=%s opened=%s' % (daemons.cyrus_server_realm(),
                                  client.opened))
    clients.cleanUp()
finally:
    router.cleanUp()
'''


class TestStandinRouter(testtools.TestCase):

    def test_rpc_call_with_sasl(self):
        users = {'stackqpid': 'se cret'}
        router = self.useFixture(daemons.RouterDaemon(users=users,
                                                      impl='standin'))
        self.assertEqual('standin', router.impl)
        self.assertNotEqual(0, router.port)
        self.assertEqual('amqp://stackqpid:se%%20cret@127.0.0.1:%d/'
                         % router.port, router.transport_url)
        conf = messaging.make_conf()
        topic = messaging.unique()
        self.useFixture(messaging.RpcServer(conf, router.transport_url,
                                            topic))
        client = self.useFixture(messaging.RpcClient(
            conf, router.transport_url, topic))
        self.assertEqual(3, client.call(3)['value'])

    def test_secrets_and_details(self):
        router = self.useFixture(daemons.RouterDaemon(
            users={'u1': 'pw-not-shown'}, impl='standin'))
        details = router.getDetails()
        self.assertEqual(
            ['router-standin-log', 'router-standin-qdrouterd.conf',
             'router-standin-sasl2/qdrouterd.conf'], sorted(details))
        for content in details.values():
            self.assertNotIn('pw-not-shown', content.as_text())
        creds = os.path.join(router.workdir, 'sasl2',
                             'qdrouterd.credentials')
        self.assertEqual(0o600, os.stat(creds).st_mode & 0o777)
        cmdline = ' '.join(psutil.Process(router.pid).cmdline())
        self.assertNotIn('pw-not-shown', cmdline)
        self.assertIn('listening on', details['router-standin-log']
                      .as_text())

    def test_stop_start_same_port(self):
        router = self.useFixture(daemons.RouterDaemon(impl='standin'))
        port = router.port
        self.assertEqual(0, router.stop())
        self.assertFalse(ports.accepts_connections('127.0.0.1', port))
        router.start()
        self.assertEqual(port, router.port)
        self.assertTrue(ports.accepts_connections('127.0.0.1', port))


class TestStandinBroker(testtools.TestCase):

    def test_notification(self):
        broker = self.useFixture(daemons.BrokerDaemon(impl='standin'))
        self.assertEqual('standin', broker.impl)
        conf = messaging.make_conf()
        topic = messaging.unique()
        # A broker keeps the notification until the listener comes.
        notifier = self.useFixture(messaging.Notifier(
            conf, broker.transport_url, topic))
        notifier.info('d.test', {'x': 1})
        listener = self.useFixture(messaging.NotifyListener(
            conf, broker.transport_url, topic))
        self.assertEqual(('d.test', {'x': 1}), listener.get(timeout=20))

    def test_tls_is_refused(self):
        self.assertRaises(exceptions.ConfigError, daemons.BrokerDaemon,
                          tls=object())


class TestImplChoice(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # No real daemon on PATH, whatever the machine has installed.
        self.useFixture(fixtures.EnvironmentVariable('PATH', self.tmp))
        for var in ('AMQP1_QDROUTERD', 'AMQP1_QPIDD'):
            self.useFixture(fixtures.EnvironmentVariable(var))
        # A fake executable is no real launch: not counted.
        self.useFixture(fixtures.EnvironmentVariable(daemons.LAUNCH_LOG_ENV))

    def fake_real(self):
        path = os.path.join(self.tmp, 'fake-daemon')
        with open(path, 'w') as f:
            f.write(FAKE_REAL)
        os.chmod(path, 0o755)
        return path

    def test_standin_when_absent(self):
        self.assertEqual('standin', daemons.RouterDaemon().impl)
        self.assertEqual('standin', daemons.BrokerDaemon().impl)

    def test_require_real_skips(self):
        """Absent (not named, not on PATH): setUp raises the skip itself,
        not wrapped in MultipleExceptions (tests.functional.test_skips
        runs it through the test runners)."""
        router = daemons.RouterDaemon(require_real=True)
        self.assertIsNone(router.impl)
        err = self.assertRaises(DaemonNotInstalled, router.setUp)
        self.assertIn('qdrouterd is not installed', str(err))
        self.assertEqual({}, router.getDetails())

    def test_named_executable_that_does_not_exist_is_an_error(self):
        for require_real in (False, True):
            err = self.assertRaises(
                exceptions.ConfigError, daemons.RouterDaemon,
                executable='/nonexistent/qdrouterd',
                require_real=require_real)
            self.assertEqual('executable', err.option)
            self.assertIn('/nonexistent/qdrouterd does not exist', str(err))

    def test_environment_path_that_does_not_exist_is_an_error(self):
        """AMQP1_QPIDD names a qpidd: an error if it is missing, never a
        skip or the stand-in."""
        self.useFixture(fixtures.EnvironmentVariable(
            'AMQP1_QPIDD', os.path.join(self.tmp, 'no-qpidd')))
        for require_real in (False, True):
            err = self.assertRaises(exceptions.ConfigError,
                                    daemons.BrokerDaemon,
                                    require_real=require_real)
            self.assertEqual('AMQP1_QPIDD', err.option)
            self.assertIn("option 'AMQP1_QPIDD': qpidd %s/no-qpidd does "
                          "not exist" % self.tmp, str(err))
        # impl='standin' does not look for the real one at all
        self.assertEqual('standin',
                         daemons.BrokerDaemon(impl='standin').impl)

    def test_named_file_that_is_not_executable_is_an_error(self):
        path = os.path.join(self.tmp, 'qdrouterd')
        with open(path, 'w') as f:
            f.write('#!/bin/sh\n')
        self.useFixture(fixtures.EnvironmentVariable('AMQP1_QDROUTERD',
                                                     path))
        err = self.assertRaises(exceptions.ConfigError,
                                daemons.RouterDaemon)
        self.assertIn('%s is not executable' % path, str(err))

    def test_bad_impl(self):
        self.assertRaises(exceptions.ConfigError, daemons.RouterDaemon,
                          impl='qpidd')

    def test_environment_names_the_real_daemon(self):
        self.useFixture(fixtures.EnvironmentVariable('AMQP1_QPIDD',
                                                     self.fake_real()))
        self.assertEqual('qpidd', daemons.BrokerDaemon().impl)

    def test_real_router_path(self):
        router = self.useFixture(daemons.RouterDaemon(
            executable=self.fake_real()))
        self.assertEqual('qdrouterd', router.impl)
        self.assertIn('fake real daemon on %d' % router.port,
                      router.log_tail())
        low, high = ports.ephemeral_range()
        self.assertFalse(low <= router.port <= high)

    def test_real_broker_path_with_sasldb(self):
        if not (shutil.which('saslpasswd2', path='/usr/sbin:/usr/bin')
                and shutil.which('sasldblistusers2',
                                 path='/usr/sbin:/usr/bin')):
            self.skipTest('sasl2-bin is not installed')
        self.useFixture(fixtures.EnvironmentVariable(
            'PATH', self.tmp + ':/usr/sbin:/usr/bin'))
        broker = self.useFixture(daemons.BrokerDaemon(
            executable=self.fake_real(), users={'alice': 'a-secret'}))
        self.assertEqual('qpidd', broker.impl)
        sasldb = os.path.join(broker.workdir, 'sasl2', 'qpidd.credentials')
        self.assertEqual(0o600, os.stat(sasldb).st_mode & 0o777)
        listed = subprocess.run(['sasldblistusers2', '-f', sasldb],
                                capture_output=True, text=True, check=True)
        self.assertIn('alice@QPID', listed.stdout)
        self.assertNotIn('a-secret', listed.stdout)


class _RealDaemonCase(testtools.TestCase):
    """The real daemon (``real``), skipped with a reason where absent."""

    real = None

    def setUp(self):
        super().setUp()
        if not realqpid.find(self.real):
            self.skipTest(realqpid.absent_reason(self.real))


class TestRealRouter(_RealDaemonCase):
    """RouterDaemon runs the real qdrouterd 1.19 (CI's bundle)."""

    real = 'qdrouterd'

    def test_rpc_call_with_sasl_plain(self):
        # The sasldb realm is Cyrus' canonical host name: a wrong realm
        # fails PLAIN with "Authentication failed [mech=PLAIN]".
        router = self.useFixture(daemons.RouterDaemon(
            users={'stackqpid': 'se cret'}, require_real=True))
        self.assertEqual('qdrouterd', router.impl)
        conf = messaging.make_conf()
        topic = messaging.unique()
        self.useFixture(messaging.RpcServer(conf, router.transport_url,
                                            topic))
        client = self.useFixture(messaging.RpcClient(
            conf, router.transport_url, topic))
        self.assertEqual(3, client.call(3)['value'])
        text = open(router.config_path).read()
        self.assertIn('saslConfigDir:', text)
        self.assertNotIn('se cret', router.log_tail(200))

    def test_realm_on_a_host_whose_name_has_a_domain(self):
        # A cloud-init style /etc/hosts, simulated in a user, mount and
        # UTS namespace: Cyrus files the users under node1.example.org,
        # not gethostname()'s node1 (with which PLAIN fails).
        unshare = shutil.which('unshare')
        if not unshare or subprocess.run(
                [unshare, '-rmu', 'true'], capture_output=True).returncode:
            self.skipTest('unshare -rmu (user namespaces) is not available')
        hosts = os.path.join(self.useFixture(fixtures.TempDir()).path,
                             'hosts')
        with open(hosts, 'w') as f:
            f.write('127.0.0.1 localhost\n'
                    '127.0.1.1 node1.example.org node1\n')
        result = subprocess.run(
            [unshare, '-rmu', 'sh', '-c',
             'mount --bind "$1" /etc/hosts && hostname node1 && '
             'exec "$2" -c "$3"', 'sh', hosts, sys.executable, REALM_PROBE],
            cwd=realqpid.TOP, capture_output=True, text=True, timeout=120)
        self.assertIn('realm=node1.example.org opened=True', result.stdout,
                      result.stderr[-2000:])

    def test_wrong_password_is_refused(self):
        router = self.useFixture(daemons.RouterDaemon(
            users={'stackqpid': 'right'}, require_real=True))
        clients = self.useFixture(proton_clients.Clients())
        client = clients.connect(router.url(password='wrong'))
        self.assertFalse(client.opened)
        self.assertIn('unauthorized-access',
                      str(client.transport_condition))

    def test_verify_client_and_key_password_file(self):
        certs = tls.make_test_certificates(
            self.useFixture(fixtures.TempDir()).path, key_password='k pw')
        router = self.useFixture(daemons.RouterDaemon(
            tls=certs.server_tls(verify_client=True), require_real=True))
        text = open(router.config_path).read()
        self.assertNotIn('k pw', text)
        self.assertIn('password: file:', text)
        self.assertIn('saslMechanisms: EXTERNAL', text)
        self.assertEqual(
            {'no certificate': False, 'client certificate': True},
            tls_outcomes(self, certs, router))

    def test_log_none(self):
        router = self.useFixture(daemons.RouterDaemon(
            log_level=config.LOG_NONE, require_real=True))
        self.assertTrue(ports.accepts_connections('127.0.0.1', router.port))


class TestRealBroker(_RealDaemonCase):
    """BrokerDaemon runs the real qpidd 1.40 (CI's bundle)."""

    real = 'qpidd'

    def test_notification_with_sasl_plain(self):
        broker = self.useFixture(daemons.BrokerDaemon(
            users={'stackqpid': 'se cret'}, require_real=True))
        self.assertEqual('qpidd', broker.impl)
        conf = messaging.make_conf()
        topic = messaging.unique()
        notifier = self.useFixture(messaging.Notifier(
            conf, broker.transport_url, topic))
        notifier.info('d.test', {'x': 1})
        listener = self.useFixture(messaging.NotifyListener(
            conf, broker.transport_url, topic))
        self.assertEqual(('d.test', {'x': 1}), listener.get(timeout=20))

    def test_log_none(self):
        # qpidd exits 1 on "log-enable=none" (Invalid log level name).
        broker = self.useFixture(daemons.BrokerDaemon(
            log_level=config.LOG_NONE, require_real=True))
        self.assertTrue(ports.accepts_connections('127.0.0.1', broker.port))
        self.assertEqual('', broker.log_tail())


class TestStandinTls(testtools.TestCase):
    """The stand-in enforces verify_client as qdrouterd does."""

    def test_verify_client(self):
        certs = tls.make_test_certificates(
            self.useFixture(fixtures.TempDir()).path, key_password='k pw')
        router = self.useFixture(daemons.RouterDaemon(
            tls=certs.server_tls(verify_client=True), impl='standin'))
        self.assertEqual(
            {'no certificate': False, 'client certificate': True},
            tls_outcomes(self, certs, router))


def tls_outcomes(case, certs, router):
    """Whether a TLS client opens a connection without / with a client
    certificate."""
    from proton import SSLDomain
    outcomes = {}
    for label, with_cert in (('no certificate', False),
                             ('client certificate', True)):
        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_trusted_ca_db(certs.ca_file)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER)
        if with_cert:
            domain.set_credentials(certs.client_cert, certs.client_key, None)
        clients = case.useFixture(proton_clients.Clients())
        url = 'amqps://localhost:%d' % router.port
        outcomes[label] = clients.connect(url, ssl_domain=domain).opened
    return outcomes
