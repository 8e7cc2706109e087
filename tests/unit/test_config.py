"""Unit tests of the configuration API as a whole, through the re-export
module amqp1_fixtures.config: rendering and parsing back, the DevStack
plugin's files, timeouts and startup errors across both daemons' formats;
no sockets, temp dirs only."""

import logging
import os
import textwrap

import fixtures
import testtools

from amqp1_fixtures import config
from amqp1_fixtures import config_common
from amqp1_fixtures import exceptions
from amqp1_fixtures import qdrouterd_conf
from amqp1_fixtures import qpidd_conf
from amqp1_fixtures import sasl_config
from amqp1_fixtures.tls import TlsConfig
from tests.unit.config_case import ConfigTestCase


class TestRender(ConfigTestCase):

    def test_router_defaults_like_the_plugin(self):
        path = config.render_qdrouterd_conf(self.path('qdrouterd.conf'))
        text = open(path).read()
        self.assertIn('host: 127.0.0.1', text)
        self.assertNotIn('0.0.0.0', text)
        self.assertIn('authenticatePeer: no', text)
        self.assertIn('mode: standalone', text)
        settings = config.parse_qdrouterd_conf(path)
        self.assertEqual(list(config.ROUTER_ADDRESSES), settings.addresses)
        self.assertEqual(9, text.count('address {'))
        self.assertEqual(0o644, self.mode(path) | 0o044)
        self.assertEqual(0, self.mode(path) & 0o133)

    def test_router_round_trip(self):
        tls = TlsConfig('/c.pem', '/k.pem', password='key:pw',
                        ca_file='/ca.pem')
        cases = [
            dict(),
            dict(host='::1', port=0, users={'stack': 'p:w#1', 'b': ' x'},
                 idle_timeout=0, addresses=[('a/b', 'balanced')],
                 router_id='R1', log_file=self.path('qdr.log'),
                 log_level=logging.DEBUG),
            dict(port=12345, tls=tls, users={'u': 'v'},
                 sasl_mechanisms=['PLAIN', 'ANONYMOUS'],
                 log_level=logging.ERROR),
            dict(tls=TlsConfig('/c', '/k'), log_level=config.LOG_NONE),
        ]
        for kw in cases:
            path = config.render_qdrouterd_conf(self.path('qdrouterd.conf'),
                                                **kw)
            got = config.parse_qdrouterd_conf(path)
            expected = dict(
                host=kw.get('host', '127.0.0.1'), port=kw.get('port', 5672),
                users=kw.get('users'),
                sasl_mechanisms=kw.get('sasl_mechanisms') or (
                    ['PLAIN'] if kw.get('users') else ['ANONYMOUS']),
                tls=kw.get('tls'),
                idle_timeout=float(kw.get('idle_timeout', 16)),
                max_connections=None,
                handshake_timeout=10.0,
                container_id=kw.get('router_id', 'Router.A'),
                addresses=kw.get('addresses', list(config.ROUTER_ADDRESSES)),
                router_id=kw.get('router_id', 'Router.A'))
            self.assertEqual(expected, got.kwargs(), kw)
            self.assertEqual(kw.get('log_file'), got.log_file)
            self.assertEqual(kw.get('log_level', logging.INFO), got.log_level)

    def test_router_secret_files_are_0600(self):
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        tls = TlsConfig('/c.pem', '/k.pem', password='pw')
        path = config.render_qdrouterd_conf(
            self.path('qdrouterd.conf'), tls=tls, users={'a': 'b'})
        self.assertEqual(0o600, self.mode(
            self.path('sasl2/qdrouterd.credentials')))
        self.assertEqual(0o700, self.mode(self.path('sasl2')))
        # the key password is in a file of its own; the config names it
        pw_file = self.path('qdrouterd.conf.tls-password')
        self.assertEqual(0o600, self.mode(pw_file))
        self.assertEqual('pw\n', open(pw_file).read())
        text = open(path).read()
        self.assertIn('password: file:%s\n' % pw_file, text)
        self.assertNotIn('pass:', text)
        self.assertEqual(0o644, self.mode(path))

    def test_router_uses_current_attribute_names(self):
        text = open(config.render_qdrouterd_conf(
            self.path('qdrouterd.conf'), users={'a': 'b'})).read()
        self.assertIn('saslConfigDir: ', text)
        self.assertNotIn('saslConfigPath', text)

    def test_router_verify_client_offers_external(self):
        tls = TlsConfig('/c.pem', '/k.pem', ca_file='/ca.pem',
                        verify_client=True)
        for users, mechs in ((None, 'EXTERNAL'),
                             ({'a': 'b'}, 'EXTERNAL PLAIN')):
            path = config.render_qdrouterd_conf(
                self.path('qdrouterd.conf'), tls=tls, users=users)
            text = open(path).read()
            self.assertIn('saslMechanisms: %s\n' % mechs, text)
            self.assertIn('authenticatePeer: yes', text)
            # the stand-in reads it back as "client certificate required"
            got = config.parse_qdrouterd_conf(path)
            self.assertTrue(got.tls.verify_client)
            self.assertEqual(['PLAIN'] if users else ['ANONYMOUS'],
                             got.sasl_mechanisms)
        self.assertRaises(exceptions.ConfigError,
                          config.render_qdrouterd_conf,
                          self.path('x.conf'),
                          tls=TlsConfig('/c', '/k', verify_client=True))

    def test_broker_log_none_is_no_output(self):
        # real qpidd: "Invalid log level name: none"
        path = config.render_qpidd_conf(self.path('qpidd.conf'),
                                        log_level=config.LOG_NONE)
        lines = open(path).read().splitlines()
        self.assertNotIn('log-enable=none', lines)
        self.assertIn('log-to-stderr=no', lines)
        got = config.parse_qpidd_conf(path)
        self.assertFalse(got.log_to_stderr)
        self.assertIsNone(got.log_file)
        # and the stand-in refuses what real qpidd refuses
        bad = self.path('bad.conf')
        with open(bad, 'w') as f:
            f.write('log-enable=none\n')
        error = self.assertRaises(exceptions.ConfigError,
                                  config.parse_qpidd_conf, bad)
        self.assertIn('Invalid log level name: none', str(error))

    def test_custom_sasl_locations(self):
        creds = self.path('elsewhere/creds')
        os.makedirs(os.path.dirname(creds))
        path = config.render_qdrouterd_conf(
            self.path('qdrouterd.conf'), users={'a': 'b'},
            sasl_config_dir=self.path('sasl'), sasl_config_name='qdr',
            credentials_file=creds)
        app = config.parse_sasl_app_config(self.path('sasl/qdr.conf'))
        self.assertEqual((creds, ['PLAIN']), (app.sasldb_path,
                                              app.mech_list))
        self.assertEqual(creds, config.parse_qdrouterd_conf(
            path).credentials_file)

    def test_sasl_config_cannot_overwrite_the_daemon_config(self):
        self.assertRaises(exceptions.ConfigError, config.render_qpidd_conf,
                          self.path('qpidd.conf'), users={'a': 'b'},
                          sasl_config_dir=self.dir)
        self.assertEqual([], os.listdir(self.dir))

    def test_wildcard_needs_users(self):
        for render in (config.render_qdrouterd_conf,
                       config.render_qpidd_conf):
            for host in ('0.0.0.0', '::'):
                self.assertRaises(exceptions.ConfigError, render,
                                  self.path('x.conf'), host=host)
            render(self.path('x.conf'), host='0.0.0.0', users={'a': 'b'})

    def test_broker_defaults_like_the_plugin(self):
        path = config.render_qpidd_conf(self.path('qpidd.conf'))
        lines = open(path).read().splitlines()
        for line in ('queue-patterns=exclusive', 'queue-patterns=unicast',
                     'topic-patterns=broadcast', 'auth=no',
                     'interface=127.0.0.1'):
            self.assertIn(line, lines)
        settings = config.parse_qpidd_conf(path)
        self.assertEqual((['exclusive', 'unicast'], ['broadcast']),
                         (settings.queue_patterns, settings.topic_patterns))

    def test_broker_round_trip(self):
        cases = [
            dict(),
            dict(host='127.0.0.3', port=0, users={'stack': 'a:b', 'c': 'd'},
                 queue_patterns=['q1', '^q2$'], topic_patterns=['t.*'],
                 log_file=self.path('qpidd.log'), log_level=logging.WARNING,
                 data_dir=self.path('data'), max_connections=7,
                 pid_dir=self.path('run')),
        ]
        for kw in cases:
            path = config.render_qpidd_conf(self.path('qpidd.conf'), **kw)
            got = config.parse_qpidd_conf(path)
            expected = dict(
                host=kw.get('host', '127.0.0.1'), port=kw.get('port', 5672),
                users=kw.get('users'),
                sasl_mechanisms=['PLAIN'] if kw.get('users') else [
                    'ANONYMOUS'],
                tls=None, idle_timeout=0.0,
                max_connections=kw.get('max_connections'),
                handshake_timeout=10.0,
                container_id=None,
                queue_patterns=kw.get('queue_patterns',
                                      list(config.BROKER_QUEUE_PATTERNS)),
                topic_patterns=kw.get('topic_patterns',
                                      list(config.BROKER_TOPIC_PATTERNS)),
                max_queue_depth=None, redelivery_limit=None,
                data_dir=kw.get('data_dir'))
            self.assertEqual(expected, got.kwargs(), kw)
            self.assertEqual((kw.get('log_file'),
                              kw.get('log_level', logging.INFO),
                              kw.get('pid_dir')),
                             (got.log_file, got.log_level, got.pid_dir))

    def test_broker_credentials_are_0600_and_config_names_no_password(self):
        path = config.render_qpidd_conf(self.path('qpidd.conf'),
                                        users={'stack': 'hunter2'})
        self.assertNotIn('hunter2', open(path).read())
        self.assertNotIn('hunter2',
                         open(self.path('sasl2/qpidd.conf')).read())
        self.assertEqual(0o600,
                         self.mode(self.path('sasl2/qpidd.credentials')))

    def test_render_is_atomic_and_leaves_no_temp_files(self):
        path = self.path('qpidd.conf')
        config.render_qpidd_conf(path)
        first = os.stat(path).st_ino
        config.render_qpidd_conf(path, port=1)
        self.assertNotEqual(first, os.stat(path).st_ino)
        self.assertEqual(['qpidd.conf'], os.listdir(self.dir))


class TestDevstackPluginFiles(ConfigTestCase):
    """The files devstack/lib/amqp1 writes, stand-in flavour."""

    def setUp(self):
        super().setUp()
        config.write_credentials(self.path('router.secret'),
                                 {'stackrabbit': 'pw'})
        config.write_credentials(self.path('broker.secret'),
                                 {'stackrabbit': 'pw2'})
        for daemon, name in (('router', 'qdrouterd'), ('broker', 'qpidd')):
            self.write('sasl2/%s.conf' % name, """\
                # Written by devstack-plugin-amqp1; replaced by each run.
                pwcheck_method: auxprop
                auxprop_plugin: sasldb
                sasldb_path: %s
                mech_list: PLAIN
                """ % self.path('%s.secret' % daemon))

    def test_qdrouterd_conf(self):
        path = self.write('qdrouterd.conf', """\
            # Written by devstack-plugin-amqp1 for AMQP1_SERVICE=hybrid;
            # replaced by each stack.sh run.

            router {
                mode: standalone
                id: devstack.amqp1
                saslConfigPath: %s
                saslConfigName: qdrouterd
            }

            sslProfile {
                name: amqp1-tls
                certFile: /opt/stack/data/amqp1/router/tls/router.crt
                privateKeyFile: /opt/stack/data/amqp1/router/tls/router.key
            }

            listener {
                host: 10.0.0.5
                port: 5671
                role: normal
                authenticatePeer: yes
                saslMechanisms: PLAIN
                sslProfile: amqp1-tls
            }

            address {
                prefix: openstack.org/om/rpc/anycast
                distribution: balanced
            }

            log {
                module: DEFAULT
                enable: info+
                outputFile: /opt/stack/logs/qdrouterd.log
            }
            """ % self.path('sasl2'))
        settings = config.parse_qdrouterd_conf(path)
        self.assertEqual(
            ('10.0.0.5', 5671, {'stackrabbit': 'pw'}, ['PLAIN'],
             'devstack.amqp1', '/opt/stack/logs/qdrouterd.log'),
            (settings.host, settings.port, settings.users,
             settings.sasl_mechanisms, settings.router_id,
             settings.log_file))
        self.assertEqual('/opt/stack/data/amqp1/router/tls/router.key',
                         settings.tls.key_file)

    def test_qpidd_conf(self):
        path = self.write('qpidd.conf', """\
            # Written by devstack-plugin-amqp1 for AMQP1_SERVICE=hybrid;
            # replaced by each stack.sh run.
            port=5672
            interface=127.0.0.1
            auth=yes
            sasl-config=%s
            queue-patterns=exclusive
            queue-patterns=unicast
            topic-patterns=broadcast
            data-dir=/opt/stack/data/amqp1/broker
            log-enable=info+
            log-to-file=/opt/stack/logs/qpidd.log
            """ % self.path('sasl2'))
        settings = config.parse_qpidd_conf(path)
        self.assertEqual(
            ({'stackrabbit': 'pw2'}, ['exclusive', 'unicast'],
             ['broadcast'], '/opt/stack/data/amqp1/broker'),
            (settings.users, settings.queue_patterns,
             settings.topic_patterns, settings.data_dir))

    def test_original_plugin_qpidd_conf_names_acl_file(self):
        # The first plugin's qpidd.conf started with acl-file=, which the
        # stand-in cannot honour.
        path = self.write('qpidd.conf', """\
            acl-file=/etc/qpid/qpidd.acl
            auth=no
            """)
        self.assertConfigError(lambda: config.parse_qpidd_conf(path), path,
                               1, 'acl-file', 'enforces no ACL')


class HandshakeTimeoutTest(testtools.TestCase):
    """qpidd's max-negotiate-time and qdrouterd's
    initialHandshakeTimeoutSeconds set the engine's handshake_timeout."""

    def conf(self, name, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_qpidd_max_negotiate_time_is_in_milliseconds(self):
        settings = config.parse_qpidd_conf(self.conf(
            'qpidd.conf', 'auth=no\nmax-negotiate-time=2500\n'))
        self.assertEqual(2.5, settings.kwargs()['handshake_timeout'])

    def test_qdrouterd_initial_handshake_timeout(self):
        settings = config.parse_qdrouterd_conf(self.conf(
            'qdrouterd.conf',
            'listener {\n    initialHandshakeTimeoutSeconds: 3\n}\n'))
        self.assertEqual(3.0, settings.kwargs()['handshake_timeout'])


class StartupErrorTest(testtools.TestCase):
    """Issue 10, finding 10: startup errors name file, line and option."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def conf(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def assertNames(self, func, path, line, option, text):
        err = self.assertRaises(exceptions.ConfigError, func)
        self.assertEqual((path, line, option),
                         (err.path, err.line, err.option), str(err))
        self.assertIn(text, str(err))

    def test_unresolvable_listener_host(self):
        path = self.conf('qdrouterd.conf', """\
            listener {
                port: 0
                host: no-such-host.invalid
            }
            """)
        self.assertNames(lambda: config.parse_qdrouterd_conf(path), path, 3,
                         'host', 'cannot resolve')

    def test_unresolvable_interface(self):
        path = self.conf('qpidd.conf',
                         'auth=no\ninterface=no-such-host.invalid\n')
        self.assertNames(lambda: config.parse_qpidd_conf(path), path, 2,
                         'interface', 'cannot resolve')

    def test_unterminated_quote(self):
        path = self.conf('qpidd.conf', 'auth=no\ninterface="127.0.0.1\n')
        self.assertNames(lambda: config.parse_qpidd_conf(path), path, 2,
                         'interface', 'unterminated quote')

    def test_data_dir_that_is_a_file(self):
        data = self.conf('data', 'not a directory\n')
        path = self.conf('qpidd.conf', 'auth=no\ndata-dir=%s\n' % data)
        self.assertNames(lambda: config.parse_qpidd_conf(path), path, 2,
                         'data-dir', 'is not a directory')

    def test_missing_cert_file(self):
        path = self.conf('qdrouterd.conf', """\
            sslProfile {
                name: p
                certFile: %s/missing.pem
                privateKeyFile: %s/missing.key
            }
            listener {
                sslProfile: p
            }
            """ % (self.dir, self.dir))
        settings = config.parse_qdrouterd_conf(path)
        self.assertNames(settings.check_files, path, 3, 'certFile',
                         'no such file')

    def test_missing_log_directory(self):
        log = os.path.join(self.dir, 'nowhere', 'qdrouterd.log')
        path = self.conf('qdrouterd.conf', """\
            listener {
            }
            log {
                module: DEFAULT
                outputFile: %s
            }
            """ % log)
        settings = config.parse_qdrouterd_conf(path)
        self.assertNames(settings.check_files, path, 5, 'outputFile',
                         'does not exist')
        path = self.conf('qpidd.conf', 'auth=no\nlog-to-file=%s\n' % log)
        settings = config.parse_qpidd_conf(path)
        self.assertNames(settings.check_files, path, 2, 'log-to-file',
                         'does not exist')


class TestReExports(testtools.TestCase):
    """amqp1_fixtures.config re-exports the per-format modules' names."""

    def test_every_name_is_the_defining_modules_own(self):
        modules = (config_common, qdrouterd_conf, qpidd_conf, sasl_config)
        for name in config.__all__:
            owners = [m for m in modules if name in vars(m) and
                      vars(m)[name] is getattr(config, name)]
            self.assertTrue(owners, name)
