"""Unit tests of amqp1_fixtures.daemons.rabbitmq4's pure helpers (the node
itself: tests/functional/daemons/test_rabbitmq4.py)."""

import base64
import hashlib
import os

import fixtures
import pytest
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.daemons import rabbitmq4


@pytest.mark.parametrize('text, version', [
    ('4.0.5', (4, 0, 5)),
    ('4.2', (4, 2, 0)),
    ('3.10.8', (3, 10, 8)),
    ('4.1.0-rc.1', (4, 1, 0)),
    ('', None),
    ('RabbitMQ', None),
    (None, None),
])
def test_parse_version(text, version):
    assert rabbitmq4.parse_version(text) == version


class TestInstalledVersion(testtools.TestCase):

    def layout(self, version, link=True):
        """A Debian-like /usr/lib/rabbitmq with bin/rabbitmq-server."""
        home = self.useFixture(fixtures.TempDir()).path
        sbin = os.path.join(home, 'lib', 'rabbitmq_server-%s' % version,
                            'sbin')
        os.makedirs(sbin)
        os.mkdir(os.path.join(home, 'bin'))
        script = os.path.join(home, 'bin', 'rabbitmq-server')
        if link:
            real = os.path.join(sbin, 'rabbitmq-server')
            open(real, 'w').close()
            os.symlink(os.path.relpath(real, os.path.dirname(script)),
                       script)
        else:
            open(script, 'w').close()
        os.chmod(script, 0o755)
        return script

    def test_from_the_link_target(self):
        self.assertEqual((4, 0, 5),
                         rabbitmq4.installed_version(self.layout('4.0.5')))

    def test_from_the_lib_directory(self):
        self.assertEqual((3, 10, 8), rabbitmq4.installed_version(
            self.layout('3.10.8', link=False)))

    def test_unknown(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.assertIsNone(rabbitmq4.installed_version(
            os.path.join(tmp, 'rabbitmq-server')))
        self.assertIsNone(rabbitmq4.installed_version(None))

    def test_find_prefers_the_variable(self):
        script = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'rabbitmq-server')
        with open(script, 'w') as f:
            f.write('#!/bin/sh\n')
        os.chmod(script, 0o755)
        self.assertEqual(script, rabbitmq4.find_rabbitmq4_server(
            {rabbitmq4.EXECUTABLE_ENV: script, 'PATH': ''}))

    def test_a_variable_naming_nothing_is_an_error(self):
        err = self.assertRaises(
            exceptions.ConfigError, rabbitmq4.find_rabbitmq4_server,
            {rabbitmq4.EXECUTABLE_ENV: '/x/rabbitmq-server', 'PATH': ''})
        self.assertEqual(rabbitmq4.EXECUTABLE_ENV, err.option)

    def test_find_on_path_checks_the_version(self):
        self.useFixture(fixtures.MonkeyPatch(
            'amqp1_fixtures.daemons.rabbitmq._DEBIAN_SCRIPT', '/nonexistent'))
        new = self.layout('4.0.5')
        old = self.layout('3.10.8')
        self.assertEqual(new, rabbitmq4.find_rabbitmq4_server(
            {'PATH': os.path.dirname(new)}))
        self.assertIsNone(rabbitmq4.find_rabbitmq4_server(
            {'PATH': os.path.dirname(old)}))


def test_password_hash_is_rabbitmq_sha256():
    salt = b'\x90\x8d\xa6\x0a'
    encoded = rabbitmq4.password_hash('s3cret', salt)
    raw = base64.b64decode(encoded)
    assert raw[:4] == salt
    assert raw[4:] == hashlib.sha256(salt + b's3cret').digest()
    # A random salt by default: the same password hashes differently.
    assert rabbitmq4.password_hash('s3cret') != rabbitmq4.password_hash(
        's3cret')
    with pytest.raises(ValueError):
        rabbitmq4.password_hash('s3cret', b'12345')


def test_render_definitions():
    salt = b'abcd'
    doc = rabbitmq4.render_definitions({'alice': 'a', 'bob': 'b'},
                                       vhost='v1', salt=salt)
    assert [u['name'] for u in doc['users']] == ['alice', 'bob']
    assert doc['users'][1]['password_hash'] == rabbitmq4.password_hash(
        'b', salt)
    assert {u['hashing_algorithm'] for u in doc['users']} == {
        'rabbit_password_hashing_sha256'}
    assert doc['vhosts'] == [{'name': 'v1'}]
    assert doc['permissions'] == [
        {'user': name, 'vhost': 'v1', 'configure': '.*', 'write': '.*',
         'read': '.*'} for name in ('alice', 'bob')]


@pytest.mark.parametrize('kwargs, option', [
    ({'users': {'alice': ''}}, 'users'),
    ({'users': {'alice': 'a\nb'}}, 'users'),
    ({'users': {'alice': 'a'}, 'anonymous_user': 'bob'}, 'anonymous_user'),
])
def test_bad_arguments(kwargs, option):
    with pytest.raises(exceptions.ConfigError) as err:
        rabbitmq4.RabbitMQ4Daemon(**kwargs)
    assert err.value.option == option


def test_urls_and_config_without_a_node():
    daemon = rabbitmq4.RabbitMQ4Daemon(users={'al ice': 'p@ss'},
                                       vhost='v/1', port=5999)
    daemon.port = 5999
    assert daemon.transport_url == \
        'amqp://al%20ice:p%40ss@127.0.0.1:5999/v%2F1'
    assert daemon.rabbit_url.startswith('rabbit://al%20ice:p%40ss@')
    assert daemon.user == 'al ice' and daemon.password == 'p@ss'
