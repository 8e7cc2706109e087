"""Unit tests of amqp1_fixtures.config.sasl_config: the Cyrus SASL app
config and the stand-in's credentials file; no sockets, temp dirs only."""

import os
import shutil
import struct
import subprocess

import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.config.sasl_config import is_sasldb
from amqp1_fixtures.config.sasl_config import parse_sasl_app_config
from amqp1_fixtures.config.sasl_config import read_credentials
from amqp1_fixtures.config.sasl_config import write_credentials
from tests.unit.config.config_case import ConfigTestCase
from tests.unit.config.config_case import SASLDB_MESSAGE


class TestCredentials(ConfigTestCase):

    def test_write_then_read(self):
        users = {'stack': 'se:cr#et', 'nova': ' spaced ', 'u@QPID': 'x'}
        path = write_credentials(self.path('creds'), users)
        self.assertEqual(0o600, self.mode(path))
        self.assertEqual(users, read_credentials(path))

    def test_write_is_0600_whatever_the_umask(self):
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        path = write_credentials(self.path('creds'), {'a': 'b'})
        self.assertEqual(0o600, self.mode(path))

    def test_write_replaces_a_wider_file(self):
        path = self.write('creds', 'old:one\n', mode=0o644)
        write_credentials(path, {'new': 'two'})
        self.assertEqual(0o600, self.mode(path))
        self.assertEqual({'new': 'two'}, read_credentials(path))
        self.assertEqual(['creds'], os.listdir(self.dir))

    def test_write_refuses_unwritable_names(self):
        for users in ({'a:b': 'x'}, {'': 'x'}, {'#a': 'x'}, {'a b': 'x'},
                      {'a': 'x\ny'}):
            self.assertRaises(exceptions.ConfigError,
                              write_credentials, self.path('c'),
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
                         read_credentials(path))

    def test_read_refuses_group_or_other_bits(self):
        for mode in (0o640, 0o604, 0o660, 0o644):
            path = self.write('creds', 'a:b\n', mode=mode)
            err = self.assertConfigError(
                lambda: read_credentials(path), path, None, None,
                'has mode %04o' % mode)
            self.assertIn('chmod 600', str(err))

    def test_read_refuses_berkeley_db_both_byte_orders(self):
        for magic in (b'\x00\x06\x15\x61', b'\x61\x15\x06\x00',
                      struct.pack('<I', 0x053162)):
            path = self.path('sasldb')
            with open(path, 'wb') as f:
                f.write(b'\x00' * 12 + magic + b'\x00' * 100)
            os.chmod(path, 0o600)
            self.assertTrue(is_sasldb(path))
            err = self.assertConfigError(
                lambda: read_credentials(path), path, None, None,
                SASLDB_MESSAGE)
            self.assertIn('Berkeley DB', str(err))

    def test_sasldb_detected_before_mode(self):
        # The plugin of old made its sasldb world-readable; the useful
        # complaint is that it is a sasldb at all.
        path = self.path('sasldb')
        with open(path, 'wb') as f:
            f.write(b'\x00' * 12 + b'\x00\x06\x15\x61' + b'\x00' * 100)
        os.chmod(path, 0o644)
        self.assertConfigError(lambda: read_credentials(path), path,
                               None, None, SASLDB_MESSAGE)

    @testtools.skipUnless(shutil.which('saslpasswd2'),
                          'saslpasswd2 (sasl2-bin, cyrus-sasl) not installed')
    def test_read_refuses_a_real_sasldb(self):
        path = self.path('qpidd.sasldb')
        # the password goes through stdin, never on a command line
        subprocess.run(['saslpasswd2', '-p', '-c', '-f', path, '-u', 'QPID',
                        'stack'], input=b'secret', check=True, timeout=60)
        self.assertTrue(is_sasldb(path))
        self.assertConfigError(lambda: read_credentials(path), path,
                               None, None, SASLDB_MESSAGE)

    def test_read_refuses_gdbm_and_binary_files(self):
        for data in (struct.pack('<I', 0x13579ace) + b'x' * 60,
                     b'user:pa\x00ss\n'):
            path = self.path('db')
            with open(path, 'wb') as f:
                f.write(data)
            os.chmod(path, 0o600)
            self.assertConfigError(lambda: read_credentials(path),
                                   path, None, None, SASLDB_MESSAGE)

    def test_text_file_is_not_a_sasldb(self):
        path = self.write('creds', 'a' * 100 + ':b\n', mode=0o600)
        self.assertFalse(is_sasldb(path))

    def test_malformed_line_never_shows_the_password(self):
        path = self.write('creds', 'ok:1\n\nsecretpassword\n', mode=0o600)
        err = self.assertConfigError(lambda: read_credentials(path),
                                     path, 3, None, 'expected user:password')
        self.assertNotIn('secretpassword', str(err))

    def test_empty_user_and_duplicate_user(self):
        path = self.write('creds', ':pw\n', mode=0o600)
        self.assertConfigError(lambda: read_credentials(path), path,
                               1, None, 'empty user name')
        path = self.write('creds', 'a:1\nb:2\na:3\n', mode=0o600)
        self.assertConfigError(lambda: read_credentials(path), path,
                               3, None, 'first at line 1')

    def test_missing_file(self):
        path = self.path('nope')
        self.assertConfigError(lambda: read_credentials(path), path,
                               None, None, 'cannot read credentials file')


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
        app = parse_sasl_app_config(path)
        self.assertEqual('/var/lib/qdrouterd/qdrouterd.sasldb',
                         app.sasldb_path)
        self.assertEqual(['PLAIN', 'ANONYMOUS'], app.mech_list)
        self.assertEqual((4, 5), (app.sasldb_line, app.mech_list_line))

    def test_unsupported_password_checks(self):
        path = self.write('a.conf', 'pwcheck_method: saslauthd\n')
        self.assertConfigError(lambda: parse_sasl_app_config(path),
                               path, 1, 'pwcheck_method', 'auxprop')
        path = self.write('a.conf', 'auxprop_plugin: sql\n')
        self.assertConfigError(lambda: parse_sasl_app_config(path),
                               path, 1, 'auxprop_plugin', 'sasldb')

    def test_line_without_colon(self):
        path = self.write('a.conf', '\nsasldb_path /x\n')
        self.assertConfigError(lambda: parse_sasl_app_config(path),
                               path, 2, None, 'expected "option: value"')
