"""Unit tests of amqp1_fixtures.config.qdrouterd_conf (parsing qdrouterd.conf):
no sockets, temp dirs only."""

import logging
import os

import fixtures

from amqp1_fixtures.config.common import LOG_NONE
from amqp1_fixtures.config.qdrouterd_conf import parse_qdrouterd_conf
from amqp1_fixtures.config.sasl_config import write_credentials
from amqp1_fixtures.tls import TlsConfig
from tests.unit.config.config_case import ConfigTestCase


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
        creds = write_credentials(self.path('users'),
                                  users or {'stack': 'secret'})
        text = 'sasldb_path: %s\n' % creds
        if mech_list:
            text += 'mech_list: %s\n' % mech_list
        self.write('sasl2/%s.conf' % name, text)
        return self.path('sasl2')

    def test_full_file(self):
        sasl_dir = self.users({'stack': 'p:w', 'nova': 'x'})
        self.useFixture(fixtures.EnvironmentVariable('KEYPW', 'k#p!'))
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
        settings = parse_qdrouterd_conf(path)
        self.assertEqual(dict(
            host='::1', port=5671, users={'stack': 'p:w', 'nova': 'x'},
            sasl_mechanisms=['PLAIN'],
            tls=TlsConfig('/c.pem', '/k.pem', password='k#p!',
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
        self.assertNotIn('k#p!', repr(settings))

    def test_minimal_file_defaults(self):
        settings = parse_qdrouterd_conf(self.conf('listener {\n}\n'))
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
        settings = parse_qdrouterd_conf(
            self.conf('listener {\n  port: 0\n}\n'))
        self.assertEqual(0, settings.port)

    def test_log_outputs_and_levels(self):
        for enable, output, level, stderr, syslog in (
                ('trace+', 'stderr', logging.DEBUG, True, False),
                ('info+,error', 'syslog', logging.INFO, False, True),
                ('none', None, LOG_NONE, True, False),
                ('notice', None, logging.INFO, True, False)):
            text = LISTENER + 'log {\n module: DEFAULT\n enable: %s\n' % enable
            if output:
                text += ' outputFile: %s\n' % output
            settings = parse_qdrouterd_conf(self.conf(text + '}\n'))
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
            settings = parse_qdrouterd_conf(path)
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
        self.assertConfigError(lambda: parse_qdrouterd_conf(path),
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
        settings = parse_qdrouterd_conf(path)
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
        settings = parse_qdrouterd_conf(path)
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
            settings = parse_qdrouterd_conf(path)
            self.assertEqual(expected, settings.sasl_mechanisms)
            self.assertEqual({'stack': 'secret'}, settings.users)

    # --- errors: each names file, line and option ------------------------

    def check(self, text, line, option, message):
        path = self.conf(text)
        return self.assertConfigError(
            lambda: parse_qdrouterd_conf(path), path, line, option,
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
        for section in ('autoLink', 'linkRoute', 'policy',
                        'vhost', 'exchange', 'binding', 'authServicePlugin'):
            self.check(LISTENER + '\n%s {\n  name: x\n}\n' % section, 6,
                       section, 'section is not supported by the stand-in')

    def test_removed_names(self):
        self.check('fixedAddress {\n}\n', 1, 'fixedAddress', 'replaced by')
        self.check('listener {\n  addr: 0.0.0.0\n}\n', 2, 'addr',
                   'renamed host')

    def test_unsupported_values(self):
        self.check('router {\n    mode: edge\n}\n' + LISTENER, 2, 'mode',
                   "mode 'edge' is not supported by the stand-in")
        self.check('listener {\n  role: route-container\n}\n', 2, 'role',
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
                   'the stand-in has one client listener')
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
        self.assertConfigError(lambda: parse_qdrouterd_conf(path),
                               app_conf, 2, 'mech_list',
                               'DIGEST-MD5 is not supported')

    def test_credential_problems_reach_the_caller(self):
        sasl_dir = self.users()
        os.chmod(self.path('users'), 0o644)
        path = self.conf('router {\n  saslConfigDir: %s\n}\nlistener {\n'
                         '  authenticatePeer: yes\n}\n' % sasl_dir)
        # the config line that leads to the credentials file is named
        self.assertConfigError(lambda: parse_qdrouterd_conf(path),
                               path, 2, 'saslConfigDir',
                               'has mode 0644')
        self.write('sasl2/qdrouterd.conf', 'mech_list: PLAIN\n')
        self.assertConfigError(lambda: parse_qdrouterd_conf(path),
                               self.path('sasl2/qdrouterd.conf'), None,
                               'sasldb_path', 'not set')

    def test_unreadable_file(self):
        path = self.path('missing.conf')
        self.assertConfigError(lambda: parse_qdrouterd_conf(path),
                               path, None, None, 'cannot read')
