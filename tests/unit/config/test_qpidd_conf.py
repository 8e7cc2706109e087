"""Unit tests of amqp1_fixtures.config.qpidd_conf (parsing qpidd.conf): no
sockets, temp dirs only."""

import logging
import re

from amqp1_fixtures.config.qpidd_conf import parse_qpidd_conf
from amqp1_fixtures.config.sasl_config import write_credentials
from tests.unit.config.config_case import ConfigTestCase
from tests.unit.config.config_case import SASLDB_MESSAGE


class TestParseQpidd(ConfigTestCase):

    def conf(self, text):
        return self.write('qpidd.conf', text)

    def check(self, text, line, option, message):
        path = self.conf(text)
        return self.assertConfigError(
            lambda: parse_qpidd_conf(path), path, line, option,
            message)

    def sasl(self, mech_list='PLAIN'):
        creds = write_credentials(self.path('users'),
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
        settings = parse_qpidd_conf(path)
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
        settings = parse_qpidd_conf(self.conf('auth=no\n'))
        self.assertEqual(dict(
            host='127.0.0.1', port=5672, users=None,
            sasl_mechanisms=['ANONYMOUS'], tls=None, idle_timeout=0.0,
            max_connections=None, handshake_timeout=10.0,
            container_id=None, queue_patterns=None,
            topic_patterns=None, max_queue_depth=None,
            redelivery_limit=None, data_dir=None), settings.kwargs())
        self.assertEqual(logging.INFO, settings.log_level)

    def test_booleans_and_no_data_dir(self):
        settings = parse_qpidd_conf(self.conf(
            'auth=off\ndata-dir=/d\nno-data-dir=\nlog-to-stderr=false\n'
            'max-connections=0\n'))
        self.assertIsNone(settings.data_dir)
        self.assertFalse(settings.log_to_stderr)
        self.assertIsNone(settings.max_connections)

    def test_patterns_match_at_the_start(self):
        settings = parse_qpidd_conf(self.conf(
            'auth=no\nqueue-patterns=exclusive\ntopic-patterns=bro.dcast\n'))
        self.assertTrue(re.match(settings.queue_patterns[0],
                                 'exclusive/foo'))
        self.assertFalse(re.match(settings.queue_patterns[0], 'x/exclusive'))
        self.assertTrue(re.match(settings.topic_patterns[0], 'broadcast/a'))

    def test_auth_mechanisms_from_mech_list(self):
        sasl_dir = self.sasl(mech_list='ANONYMOUS PLAIN')
        settings = parse_qpidd_conf(self.conf(
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
        self.assertConfigError(lambda: parse_qpidd_conf(path), path,
                               1, 'sasl-config', SASLDB_MESSAGE)
