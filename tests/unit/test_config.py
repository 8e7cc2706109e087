"""Unit tests of amqp1_fixtures.config: no sockets, temp dirs only."""

import logging
import os
import re
import shutil
import stat
import struct
import subprocess
import textwrap

import fixtures
import testtools

from amqp1_fixtures import config
from amqp1_fixtures import exceptions
from amqp1_fixtures.tls import TlsConfig

SASLDB_MESSAGE = ('Cyrus sasldb is not readable by the stand-in; '
                  'write a credentials file')


class ConfigTestCase(testtools.TestCase):
    """Base: a temp dir and helpers to write files and check errors."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o644):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, 'w') as f:
            f.write(textwrap.dedent(text))
        os.chmod(path, mode)  # test input only: the umask must not matter
        return path

    def assertConfigError(self, func, path, line, option, text):
        """``func`` raises ConfigError naming path, line and option."""
        err = self.assertRaises(exceptions.ConfigError, func)
        self.assertEqual((path, line, option), (err.path, err.line,
                                                err.option), str(err))
        self.assertIn(text, str(err))
        prefix = '%s:%s: ' % (path, line) if line else '%s: ' % path
        self.assertTrue(str(err).startswith(prefix), str(err))
        if option is not None:
            self.assertIn("option '%s'" % option, str(err))
        self.assertNotIn('\n', str(err))
        return err

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)


# ---------------------------------------------------------------------------
# credentials


class TestCredentials(ConfigTestCase):

    def test_write_then_read(self):
        users = {'stack': 'se:cr#et', 'nova': ' spaced ', 'u@QPID': 'x'}
        path = config.write_credentials(self.path('creds'), users)
        self.assertEqual(0o600, self.mode(path))
        self.assertEqual(users, config.read_credentials(path))

    def test_write_is_0600_whatever_the_umask(self):
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        path = config.write_credentials(self.path('creds'), {'a': 'b'})
        self.assertEqual(0o600, self.mode(path))

    def test_write_replaces_a_wider_file(self):
        path = self.write('creds', 'old:one\n', mode=0o644)
        config.write_credentials(path, {'new': 'two'})
        self.assertEqual(0o600, self.mode(path))
        self.assertEqual({'new': 'two'}, config.read_credentials(path))
        self.assertEqual(['creds'], os.listdir(self.dir))

    def test_write_refuses_unwritable_names(self):
        for users in ({'a:b': 'x'}, {'': 'x'}, {'#a': 'x'}, {'a b': 'x'},
                      {'a': 'x\ny'}):
            self.assertRaises(exceptions.ConfigError,
                              config.write_credentials, self.path('c'),
                              users)
        self.assertEqual([], os.listdir(self.dir))

    def test_read_splits_at_first_colon_and_skips_comments(self):
        path = self.write('creds', """\
            # a comment
            stack:pass:word

              # indented comment
            other:
            """, mode=0o600)
        self.assertEqual({'stack': 'pass:word', 'other': ''},
                         config.read_credentials(path))

    def test_read_refuses_group_or_other_bits(self):
        for mode in (0o640, 0o604, 0o660, 0o644):
            path = self.write('creds', 'a:b\n', mode=mode)
            err = self.assertConfigError(
                lambda: config.read_credentials(path), path, None, None,
                'has mode %04o' % mode)
            self.assertIn('chmod 600', str(err))

    def test_read_refuses_berkeley_db_both_byte_orders(self):
        for magic in (b'\x00\x06\x15\x61', b'\x61\x15\x06\x00',
                      struct.pack('<I', 0x053162)):
            path = self.path('sasldb')
            with open(path, 'wb') as f:
                f.write(b'\x00' * 12 + magic + b'\x00' * 100)
            os.chmod(path, 0o600)
            self.assertTrue(config.is_sasldb(path))
            err = self.assertConfigError(
                lambda: config.read_credentials(path), path, None, None,
                SASLDB_MESSAGE)
            self.assertIn('Berkeley DB', str(err))

    def test_sasldb_detected_before_mode(self):
        # The plugin of old made its sasldb world-readable; the useful
        # complaint is that it is a sasldb at all.
        path = self.path('sasldb')
        with open(path, 'wb') as f:
            f.write(b'\x00' * 12 + b'\x00\x06\x15\x61' + b'\x00' * 100)
        os.chmod(path, 0o644)
        self.assertConfigError(lambda: config.read_credentials(path), path,
                               None, None, SASLDB_MESSAGE)

    @testtools.skipUnless(shutil.which('saslpasswd2'),
                          'saslpasswd2 (sasl2-bin, cyrus-sasl) not installed')
    def test_read_refuses_a_real_sasldb(self):
        path = self.path('qpidd.sasldb')
        # the password goes through stdin, never on a command line
        subprocess.run(['saslpasswd2', '-p', '-c', '-f', path, '-u', 'QPID',
                        'stack'], input=b'secret', check=True, timeout=60)
        self.assertTrue(config.is_sasldb(path))
        self.assertConfigError(lambda: config.read_credentials(path), path,
                               None, None, SASLDB_MESSAGE)

    def test_read_refuses_gdbm_and_binary_files(self):
        for data in (struct.pack('<I', 0x13579ace) + b'x' * 60,
                     b'user:pa\x00ss\n'):
            path = self.path('db')
            with open(path, 'wb') as f:
                f.write(data)
            os.chmod(path, 0o600)
            self.assertConfigError(lambda: config.read_credentials(path),
                                   path, None, None, SASLDB_MESSAGE)

    def test_text_file_is_not_a_sasldb(self):
        path = self.write('creds', 'a' * 100 + ':b\n', mode=0o600)
        self.assertFalse(config.is_sasldb(path))

    def test_malformed_line_never_shows_the_password(self):
        path = self.write('creds', 'ok:1\n\nsecretpassword\n', mode=0o600)
        err = self.assertConfigError(lambda: config.read_credentials(path),
                                     path, 3, None, 'expected user:password')
        self.assertNotIn('secretpassword', str(err))

    def test_empty_user_and_duplicate_user(self):
        path = self.write('creds', ':pw\n', mode=0o600)
        self.assertConfigError(lambda: config.read_credentials(path), path,
                               1, None, 'empty user name')
        path = self.write('creds', 'a:1\nb:2\na:3\n', mode=0o600)
        self.assertConfigError(lambda: config.read_credentials(path), path,
                               3, None, 'first at line 1')

    def test_missing_file(self):
        path = self.path('nope')
        self.assertConfigError(lambda: config.read_credentials(path), path,
                               None, None, 'cannot read credentials file')


# ---------------------------------------------------------------------------
# Cyrus SASL application config


class TestSaslAppConfig(ConfigTestCase):

    def test_plugin_style_config(self):
        path = self.write('sasl2/qdrouterd.conf', """\
            pwcheck_method: auxprop
            auxprop_plugin: sasldb
            # comment
            sasldb_path: /var/lib/qdrouterd/qdrouterd.sasldb
            mech_list: PLAIN anonymous
            sql_select: dummy select
            """)
        app = config.parse_sasl_app_config(path)
        self.assertEqual('/var/lib/qdrouterd/qdrouterd.sasldb',
                         app.sasldb_path)
        self.assertEqual(['PLAIN', 'ANONYMOUS'], app.mech_list)
        self.assertEqual((4, 5), (app.sasldb_line, app.mech_list_line))

    def test_unsupported_password_checks(self):
        path = self.write('a.conf', 'pwcheck_method: saslauthd\n')
        self.assertConfigError(lambda: config.parse_sasl_app_config(path),
                               path, 1, 'pwcheck_method', 'auxprop')
        path = self.write('a.conf', 'auxprop_plugin: sql\n')
        self.assertConfigError(lambda: config.parse_sasl_app_config(path),
                               path, 1, 'auxprop_plugin', 'sasldb')

    def test_line_without_colon(self):
        path = self.write('a.conf', '\nsasldb_path /x\n')
        self.assertConfigError(lambda: config.parse_sasl_app_config(path),
                               path, 2, None, 'expected "option: value"')


# ---------------------------------------------------------------------------
# qdrouterd.conf

LISTENER = """\
    listener {
        host: 127.0.0.1
        port: 5672
    }
    """


class TestParseQdrouterd(ConfigTestCase):

    def conf(self, text):
        return self.write('qdrouterd.conf', text)

    def users(self, users=None, mech_list='PLAIN', name='qdrouterd'):
        """Write sasl2/<name>.conf and its credentials; return the dir."""
        creds = config.write_credentials(self.path('users'),
                                         users or {'stack': 'secret'})
        text = 'sasldb_path: %s\n' % creds
        if mech_list:
            text += 'mech_list: %s\n' % mech_list
        self.write('sasl2/%s.conf' % name, text)
        return self.path('sasl2')

    def test_full_file(self):
        sasl_dir = self.users({'stack': 'p:w', 'nova': 'x'})
        self.useFixture(fixtures.EnvironmentVariable('KEYPW', 'kp'))
        path = self.conf("""\
            # The router
            router {
                mode: standalone   # trailing comment
                id: "Router.A"
                worker-threads: 4
                saslConfigPath: '%s'
                sasl_config_name: qdrouterd
            }

            sslProfile {
                name: tls
                certFile: /c.pem
                keyFile: /k.pem
                password: env:KEYPW
                caCertFile: /ca.pem
            }

            listener {
                host: ::1
                port: amqps
                role: normal
                authenticatePeer: yes
                sasl-mechanisms: PLAIN
                sslProfile: tls
                requireSsl: true
                idleTimeoutSeconds: 0
            }

            address {
                prefix: unicast
                distribution: closest
            }
            address {
                name: bc
                prefix: broadcast
                distribution: multicast
            }

            log {
                module: DEFAULT
                enable: warning+
                output: /var/log/qdr.log
                timestamp: no
                includeSource: yes
            }
            """ % sasl_dir)
        settings = config.parse_qdrouterd_conf(path)
        self.assertEqual(dict(
            host='::1', port=5671, users={'stack': 'p:w', 'nova': 'x'},
            sasl_mechanisms=['PLAIN'],
            tls=TlsConfig('/c.pem', '/k.pem', password='kp',
                          ca_file='/ca.pem'),
            idle_timeout=0.0, max_connections=None, handshake_timeout=10.0,
            container_id='Router.A',
            addresses=[('unicast', 'closest'), ('broadcast', 'multicast')],
            router_id='Router.A'), settings.kwargs())
        self.assertEqual('/var/log/qdr.log', settings.log_file)
        self.assertEqual(logging.WARNING, settings.log_level)
        self.assertFalse(settings.log_to_stderr)
        self.assertFalse(settings.log_timestamp)
        self.assertTrue(settings.log_source)
        self.assertEqual(self.path('users'), settings.credentials_file)
        self.assertNotIn('p:w', repr(settings))
        self.assertNotIn('kp', repr(settings))

    def test_minimal_file_defaults(self):
        settings = config.parse_qdrouterd_conf(self.conf('listener {\n}\n'))
        self.assertEqual(dict(
            host='127.0.0.1', port=5672, users=None,
            sasl_mechanisms=['ANONYMOUS'], tls=None, idle_timeout=16.0,
            max_connections=None, handshake_timeout=10.0,
            container_id=None, addresses=None,
            router_id=None), settings.kwargs())
        self.assertEqual(logging.INFO, settings.log_level)
        self.assertTrue(settings.log_to_stderr)
        self.assertIsNone(settings.log_file)

    def test_port_zero_is_allowed(self):
        settings = config.parse_qdrouterd_conf(
            self.conf('listener {\n  port: 0\n}\n'))
        self.assertEqual(0, settings.port)

    def test_log_outputs_and_levels(self):
        for enable, output, level, stderr, syslog in (
                ('trace+', 'stderr', logging.DEBUG, True, False),
                ('info+,error', 'syslog', logging.INFO, False, True),
                ('none', None, config.LOG_NONE, True, False),
                ('notice', None, logging.INFO, True, False)):
            text = LISTENER + 'log {\n module: DEFAULT\n enable: %s\n' % enable
            if output:
                text += ' outputFile: %s\n' % output
            settings = config.parse_qdrouterd_conf(self.conf(text + '}\n'))
            self.assertEqual((level, None, stderr, syslog),
                             (settings.log_level, settings.log_file,
                              settings.log_to_stderr, settings.log_to_syslog))

    def test_ssl_password_forms(self):
        pwfile = self.write('pw', 'from-file\nignored\n', mode=0o600)
        for value, expected in (('literal:a:b', 'a:b'), ('pass:c', 'c'),
                                ('plain', 'plain'),
                                ('file:%s' % pwfile, 'from-file')):
            path = self.conf("""\
                sslProfile {
                    name: p
                    certFile: /c
                    privateKeyFile: /k
                    password: %s
                }
                listener {
                    sslProfile: p
                }
                """ % value)
            settings = config.parse_qdrouterd_conf(path)
            self.assertEqual(expected, settings.tls.password)
            self.assertFalse(settings.tls.verify_client)

    def test_missing_env_password_names_the_variable_only(self):
        self.useFixture(fixtures.EnvironmentVariable('NO_SUCH_PW'))
        path = self.conf("""\
            sslProfile {
                name: p
                certFile: /c
                privateKeyFile: /k
                password: env:NO_SUCH_PW
            }
            listener {
                sslProfile: p
            }
            """)
        self.assertConfigError(lambda: config.parse_qdrouterd_conf(path),
                               path, 5, 'password', 'NO_SUCH_PW is not set')

    def test_anonymous_listener_ignores_missing_sasl_files(self):
        path = self.conf("""\
            router {
                saslConfigDir: /nonexistent
            }
            listener {
                authenticatePeer: no
                saslMechanisms: ANONYMOUS
            }
            """)
        settings = config.parse_qdrouterd_conf(path)
        self.assertEqual((None, ['ANONYMOUS']),
                         (settings.users, settings.sasl_mechanisms))

    def test_mech_list_restricts_listener_mechanisms(self):
        sasl_dir = self.users(mech_list='PLAIN ANONYMOUS')
        path = self.conf("""\
            router {
                saslConfigDir: %s
            }
            listener {
                authenticatePeer: yes
                saslMechanisms: ANONYMOUS PLAIN SCRAM-SHA-1
            }
            """ % sasl_dir)
        settings = config.parse_qdrouterd_conf(path)
        self.assertEqual(['ANONYMOUS', 'PLAIN'], settings.sasl_mechanisms)

    def test_mech_list_alone_and_no_mech_list(self):
        for mech_list, expected in (('plain', ['PLAIN']), (None, ['PLAIN'])):
            sasl_dir = self.users(mech_list=mech_list, name='custom')
            path = self.conf("""\
                router {
                    saslConfigDir: %s
                    saslConfigName: custom
                }
                listener {
                    authenticatePeer: yes
                }
                """ % sasl_dir)
            settings = config.parse_qdrouterd_conf(path)
            self.assertEqual(expected, settings.sasl_mechanisms)
            self.assertEqual({'stack': 'secret'}, settings.users)

    # --- errors: each names file, line and option ------------------------

    def check(self, text, line, option, message):
        path = self.conf(text)
        return self.assertConfigError(
            lambda: config.parse_qdrouterd_conf(path), path, line, option,
            message)

    def test_real_but_unsupported_options(self):
        self.check('listener {\n    linkCapacity: 100\n}\n', 2,
                   'linkCapacity', 'does not support')
        self.check('listener {\n    link-capacity: 100\n}\n', 2,
                   'link-capacity', 'does not support')
        self.check('router {\n    defaultDistribution: closest\n}\n', 2,
                   'defaultDistribution', 'does not support')
        self.check('sslProfile {\n  name: a\n  ciphers: x\n}\n', 3,
                   'ciphers', 'does not support')
        self.check(LISTENER + 'address {\n  pattern: a.*\n}\n', 6,
                   'pattern', 'does not support')

    def test_real_but_unsupported_sections(self):
        for section in ('connector', 'autoLink', 'linkRoute', 'policy',
                        'vhost', 'exchange', 'binding', 'authServicePlugin'):
            self.check(LISTENER + '\n%s {\n  name: x\n}\n' % section, 6,
                       section, 'section is not supported by the stand-in')

    def test_removed_names(self):
        self.check('fixedAddress {\n}\n', 1, 'fixedAddress', 'replaced by')
        self.check('listener {\n  addr: 0.0.0.0\n}\n', 2, 'addr',
                   'renamed host')

    def test_unsupported_values(self):
        self.check('router {\n    mode: interior\n}\n' + LISTENER, 2, 'mode',
                   "mode 'interior' is not supported by the stand-in")
        self.check('listener {\n  role: inter-router\n}\n', 2, 'role',
                   'not supported')
        self.check(LISTENER + 'address {\n  prefix: a\n'
                   '  distribution: unavailable\n}\n', 7, 'distribution',
                   'not supported')
        self.check(LISTENER + 'log {\n  module: ROUTER_CORE\n}\n', 6,
                   'module', 'not supported')
        self.check('router {\n    mode: sideways\n}\n', 2, 'mode',
                   "unknown mode 'sideways'")

    def test_unknown_names(self):
        self.check('listener {\n  colour: blue\n}\n', 2, 'colour',
                   'unknown option')
        self.check('bridge {\n}\n', 1, 'bridge', 'unknown section')

    def test_syntax_errors(self):
        self.check('port: 5\n', 1, 'port', 'outside of a section')
        self.check('listener {\n  port: 5\n', 1, 'listener', 'not closed')
        self.check(LISTENER + '}\n', 5, None, 'without an open section')
        self.check('listener {\n  log {\n', 2, 'log', 'opened inside')
        self.check('listener {\n  just words\n}\n', 2, None, 'expected')
        self.check('listener {\n  host: "127.0.0.1\n}\n', 2, 'host',
                   'unterminated')
        self.check('listener {\n  host:\n}\n', 2, 'host', 'no value')
        self.check('listener {\n  host: # nothing\n}\n', 2, 'host',
                   'no value')

    def test_duplicates(self):
        self.check('listener {\n  port: 1\n  port: 2\n}\n', 3, 'port',
                   'first at line 2')
        # an alias and the current name are the same attribute
        self.check('router {\n  saslConfigPath: /a\n  saslConfigDir: /b\n}\n',
                   3, 'saslConfigDir', 'given twice')
        self.check(LISTENER + LISTENER, 5, 'listener',
                   'the stand-in has one listener')
        self.check('router {\n}\nrouter {\n}\n', 3, 'router', 'second router')
        self.check(LISTENER + 'address {\n prefix: a\n}\naddress {\n'
                   ' prefix: a\n}\n', 9, 'prefix', 'declared twice')
        self.check(LISTENER + 'log {\n module: DEFAULT\n}\nlog {\n'
                   ' module: DEFAULT\n}\n', 9, 'module', 'twice')

    def test_bad_values(self):
        self.check('listener {\n  authenticatePeer: maybe\n}\n', 2,
                   'authenticatePeer', 'expected yes or no')
        self.check('listener {\n  port: 99999\n}\n', 2, 'port',
                   'out of range')
        self.check('listener {\n  port: no-such-service\n}\n', 2, 'port',
                   'port number or service name')
        self.check('listener {\n  idleTimeoutSeconds: -1\n}\n', 2,
                   'idleTimeoutSeconds', 'integer >= 0')
        self.check('router {\n workerThreads: 0\n}\n', 2, 'workerThreads',
                   'integer >= 1')
        self.check(LISTENER + 'log {\n module: DEFAULT\n enable: loud+\n}\n',
                   7, 'enable', 'unknown log level')
        self.check(LISTENER + 'log {\n module: DEFAULT\n outputFile: stdout'
                   '\n}\n', 7, 'outputFile', 'not stdout')

    def test_no_listener(self):
        self.check('router {\n  id: R\n}\n', None, 'listener',
                   'no listener section')

    def test_tls_reference_errors(self):
        self.check('listener {\n  sslProfile: nope\n}\n', 2, 'sslProfile',
                   "no sslProfile named 'nope'")
        self.check('listener {\n  requireSsl: yes\n}\n', 2, 'requireSsl',
                   'needs an sslProfile')
        self.check('sslProfile {\n  certFile: /c\n}\n', 1, 'sslProfile',
                   'needs a name')
        self.check('sslProfile {\n  name: p\n  certFile: /c\n}\n'
                   'listener {\n  sslProfile: p\n}\n', 1, 'privateKeyFile',
                   'has no privateKeyFile')

    def test_authentication_errors(self):
        self.check('listener {\n  authenticatePeer: yes\n}\n', 2,
                   'authenticatePeer', 'needs saslConfigDir')
        self.check('router {\n  saslConfigPath: %s\n}\nlistener {\n'
                   '  authenticatePeer: yes\n}\n' % self.path('none'), 2,
                   'saslConfigPath', 'does not exist')
        self.check('listener {\n  saslMechanisms: PLAIN\n}\n', 2,
                   'saslMechanisms', 'only ANONYMOUS')
        sasl_dir = self.users()
        self.check('router {\n  saslConfigDir: %s\n}\nlistener {\n'
                   '  authenticatePeer: yes\n  saslMechanisms: SCRAM-SHA-1 '
                   'EXTERNAL\n}\n' % sasl_dir, 6, 'saslMechanisms',
                   'none of SCRAM-SHA-1 EXTERNAL is allowed by mech_list')
        sasl_dir = self.users(mech_list=None)
        self.check('router {\n  saslConfigDir: %s\n}\nlistener {\n'
                   '  authenticatePeer: yes\n  saslMechanisms: PLAIN '
                   'GSSAPI\n}\n' % sasl_dir, 6, 'saslMechanisms',
                   'GSSAPI is not supported by the stand-in')

    def test_unsupported_mechanism_in_mech_list(self):
        sasl_dir = self.users(mech_list='PLAIN DIGEST-MD5')
        path = self.conf('router {\n  saslConfigDir: %s\n}\nlistener {\n'
                         '  authenticatePeer: yes\n}\n' % sasl_dir)
        app_conf = os.path.join(sasl_dir, 'qdrouterd.conf')
        self.assertConfigError(lambda: config.parse_qdrouterd_conf(path),
                               app_conf, 2, 'mech_list',
                               'DIGEST-MD5 is not supported')

    def test_credential_problems_reach_the_caller(self):
        sasl_dir = self.users()
        os.chmod(self.path('users'), 0o644)
        path = self.conf('router {\n  saslConfigDir: %s\n}\nlistener {\n'
                         '  authenticatePeer: yes\n}\n' % sasl_dir)
        # the config line that leads to the credentials file is named
        self.assertConfigError(lambda: config.parse_qdrouterd_conf(path),
                               path, 2, 'saslConfigDir',
                               'has mode 0644')
        self.write('sasl2/qdrouterd.conf', 'mech_list: PLAIN\n')
        self.assertConfigError(lambda: config.parse_qdrouterd_conf(path),
                               self.path('sasl2/qdrouterd.conf'), None,
                               'sasldb_path', 'not set')

    def test_unreadable_file(self):
        path = self.path('missing.conf')
        self.assertConfigError(lambda: config.parse_qdrouterd_conf(path),
                               path, None, None, 'cannot read')


# ---------------------------------------------------------------------------
# qpidd.conf


class TestParseQpidd(ConfigTestCase):

    def conf(self, text):
        return self.write('qpidd.conf', text)

    def check(self, text, line, option, message):
        path = self.conf(text)
        return self.assertConfigError(
            lambda: config.parse_qpidd_conf(path), path, line, option,
            message)

    def sasl(self, mech_list='PLAIN'):
        creds = config.write_credentials(self.path('users'),
                                         {'stack': 'secret'})
        self.write('sasl2/qpidd.conf', 'sasldb_path: %s\nmech_list: %s\n'
                   % (creds, mech_list))
        return self.path('sasl2')

    def test_full_file(self):
        sasl_dir = self.sasl()
        path = self.conf("""\
            # qpidd configuration
            port=0
            interface = 127.0.0.2   # comment
            auth=yes
            sasl-config=%s
            sasl-service-name=amqp
            realm=QPID
            queue-patterns=exclusive
            queue-patterns=unicast
            topic-patterns=broadcast
            log-enable=notice+
            log-enable=debug+:broker
            log-to-file=/var/log/qpidd.log
            log-to-syslog=yes
            log-time=no
            data-dir=/var/lib/qpidd
            max-connections=10
            mgmt-enable=no
            pid-dir=/run/qpidd
            worker-threads=4
            protocols=amqp1.0
            require-encryption=no
            """ % sasl_dir)
        settings = config.parse_qpidd_conf(path)
        self.assertEqual(dict(
            host='127.0.0.2', port=0, users={'stack': 'secret'},
            sasl_mechanisms=['PLAIN'], tls=None, idle_timeout=0.0,
            max_connections=10, handshake_timeout=10.0, container_id=None,
            queue_patterns=['exclusive', 'unicast'],
            topic_patterns=['broadcast'], max_queue_depth=None,
            redelivery_limit=None, data_dir='/var/lib/qpidd'),
            settings.kwargs())
        self.assertEqual(('/var/log/qpidd.log', logging.DEBUG, True, True,
                          False, '/run/qpidd'),
                         (settings.log_file, settings.log_level,
                          settings.log_to_stderr, settings.log_to_syslog,
                          settings.log_timestamp, settings.pid_dir))

    def test_defaults_with_auth_off(self):
        settings = config.parse_qpidd_conf(self.conf('auth=no\n'))
        self.assertEqual(dict(
            host='127.0.0.1', port=5672, users=None,
            sasl_mechanisms=['ANONYMOUS'], tls=None, idle_timeout=0.0,
            max_connections=None, handshake_timeout=10.0,
            container_id=None, queue_patterns=None,
            topic_patterns=None, max_queue_depth=None,
            redelivery_limit=None, data_dir=None), settings.kwargs())
        self.assertEqual(logging.INFO, settings.log_level)

    def test_booleans_and_no_data_dir(self):
        settings = config.parse_qpidd_conf(self.conf(
            'auth=off\ndata-dir=/d\nno-data-dir=\nlog-to-stderr=false\n'
            'max-connections=0\n'))
        self.assertIsNone(settings.data_dir)
        self.assertFalse(settings.log_to_stderr)
        self.assertIsNone(settings.max_connections)

    def test_patterns_match_at_the_start(self):
        settings = config.parse_qpidd_conf(self.conf(
            'auth=no\nqueue-patterns=exclusive\ntopic-patterns=bro.dcast\n'))
        self.assertTrue(re.match(settings.queue_patterns[0],
                                 'exclusive/foo'))
        self.assertFalse(re.match(settings.queue_patterns[0], 'x/exclusive'))
        self.assertTrue(re.match(settings.topic_patterns[0], 'broadcast/a'))

    def test_auth_mechanisms_from_mech_list(self):
        sasl_dir = self.sasl(mech_list='ANONYMOUS PLAIN')
        settings = config.parse_qpidd_conf(self.conf(
            'sasl-config=%s\n' % sasl_dir))
        self.assertEqual(['ANONYMOUS', 'PLAIN'], settings.sasl_mechanisms)
        self.assertEqual(self.path('users'), settings.credentials_file)

    # --- errors ------------------------------------------------------------

    def test_nss_tls_is_unsupported(self):
        for option in ('ssl-cert-db', 'ssl-port', 'ssl-cert-name',
                       'ssl-cert-password-file'):
            err = self.check('auth=no\n%s=/etc/pki/nssdb\n' % option, 2,
                             option, 'does not support')
            self.assertIn('NSS certificate database', str(err))

    def test_real_but_unsupported_options(self):
        for option, why in (('acl-file', 'no ACL'),
                            ('store-dir', 'data-dir'),
                            ('default-queue-limit', 'byte limit'),
                            ('cluster-name', 'clustering'),
                            ('ha-cluster', 'HA'),
                            ('daemon', 'foreground'),
                            ('federation-tag', '')):
            self.check('auth=no\n\n%s=x\n' % option, 3, option,
                       'a qpidd option the stand-in does not support')
            if why:
                self.check('auth=no\n\n%s=x\n' % option, 3, option, why)

    def test_unknown_option(self):
        self.check('auth=no\nqueue-pattern=x\n', 2, 'queue-pattern',
                   'unknown option')
        self.check('[broker]\n', 1, None, 'expected option=value')

    def test_single_valued_option_repeated(self):
        self.check('auth=no\nport=1\nport=2\n', 3, 'port', 'first at line 2')
        self.check('auth=no\nlog-to-file=/a\nlog-to-file=/b\n', 3,
                   'log-to-file', 'given twice')

    def test_one_interface(self):
        self.check('auth=no\ninterface=127.0.0.1\ninterface=::1\n', 3,
                   'interface', 'one interface (first at line 2)')

    def test_interface_name_is_refused(self):
        import socket
        names = [name for _, name in socket.if_nameindex()]
        if not names:
            self.skipTest('no network interface names')
        self.check('auth=no\ninterface=%s\n' % names[0], 2, 'interface',
                   'network interface name')

    def test_bad_values(self):
        self.check('auth=maybe\n', 1, 'auth', 'expected yes or no')
        self.check('auth=no\nport=x\n', 2, 'port', 'port number or service')
        self.check('auth=no\nqueue-patterns=ex(\n', 2, 'queue-patterns',
                   'not a regular expression')
        self.check('auth=no\nlog-to-file="/var/log/q"\n', 2, 'log-to-file',
                   'does not strip quotes')
        self.check('auth=no\nmax-connections=-1\n', 2, 'max-connections',
                   'integer >= 0')
        self.check('auth=no\nlog-enable=chatty+\n', 2, 'log-enable',
                   'unknown log level')
        self.check('auth=no\nprotocols=amqp0-10\n', 2, 'protocols',
                   'only amqp1.0')
        self.check('auth=no\nrequire-encryption=yes\n', 2,
                   'require-encryption', 'no TLS listener')
        self.check('auth=no\nport=\n', 2, 'port', 'no value')

    def test_auth_needs_sasl_config(self):
        self.check('port=1\nauth=yes\n', 2, 'auth', 'needs sasl-config')
        # qpidd authenticates by default
        self.check('port=1\n', None, 'auth', 'the qpidd default')
        self.check('sasl-config=%s\n' % self.path('none'), 1, 'sasl-config',
                   'does not exist')

    def test_sasldb_behind_sasl_config(self):
        db = self.path('qpidd.sasldb')
        with open(db, 'wb') as f:
            f.write(b'\x00' * 12 + b'\x61\x15\x06\x00' + b'\x00' * 64)
        self.write('sasl2/qpidd.conf', 'sasldb_path: %s\n' % db)
        path = self.conf('sasl-config=%s\n' % self.path('sasl2'))
        self.assertConfigError(lambda: config.parse_qpidd_conf(path), path,
                               1, 'sasl-config', SASLDB_MESSAGE)


# ---------------------------------------------------------------------------
# rendering


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
