"""The one precedence order of the pytest plugin's settings."""

import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures import pytest_plugin


class FakeConfig:
    """Just what get_setting reads of a pytest Config."""

    def __init__(self, options=None, ini=None):
        self.options = options or {}
        self.ini = ini or {}

    def getoption(self, name):
        return self.options.get(name)

    def getini(self, name):
        return self.ini.get(name)


class TestGetSetting(testtools.TestCase):

    def test_default(self):
        config = FakeConfig()
        self.assertFalse(pytest_plugin.get_setting(config, 'daemons'))
        self.assertEqual('qpid', pytest_plugin.get_setting(config, 'mode'))
        self.assertEqual('127.0.0.1',
                         pytest_plugin.get_setting(config, 'host'))
        self.assertIsNone(pytest_plugin.get_setting(config,
                                                    'rabbitmq_server'))

    def test_ini_over_default(self):
        config = FakeConfig(ini={'amqp1_daemons': 'yes',
                                 'amqp1_mode': 'qpid-dual'})
        self.assertTrue(pytest_plugin.get_setting(config, 'daemons'))
        self.assertEqual('qpid-dual',
                         pytest_plugin.get_setting(config, 'mode'))

    def test_empty_ini_is_unset(self):
        config = FakeConfig(ini={'amqp1_mode': ''})
        self.assertEqual('qpid', pytest_plugin.get_setting(config, 'mode'))

    def test_option_over_ini(self):
        config = FakeConfig(options={'amqp1_mode': 'router'},
                            ini={'amqp1_mode': 'qpid-dual'})
        self.assertEqual('router', pytest_plugin.get_setting(config, 'mode'))

    def test_argument_over_option(self):
        config = FakeConfig(options={'amqp1_daemons': True},
                            ini={'amqp1_daemons': 'true'})
        self.assertFalse(pytest_plugin.get_setting(config, 'daemons',
                                                   False))

    def test_invalid_values(self):
        config = FakeConfig(ini={'amqp1_daemons': 'maybe',
                                 'amqp1_mode': 'rabbit'})
        self.assertRaises(exceptions.ConfigError,
                          pytest_plugin.get_setting, config, 'daemons')
        err = self.assertRaises(exceptions.ConfigError,
                                pytest_plugin.get_setting, config, 'mode')
        self.assertIn('qpid-hybrid', str(err))

    def test_notify_driver(self):
        self.assertEqual('rabbit', pytest_plugin.get_setting(
            FakeConfig(), 'notify_driver'))
        config = FakeConfig(options={'amqp1_notify_driver': 'amqp'},
                            ini={'amqp1_notify_driver': 'kafka'})
        self.assertEqual('amqp', pytest_plugin.get_setting(
            config, 'notify_driver'))
        err = self.assertRaises(exceptions.ConfigError,
                                pytest_plugin.get_setting,
                                FakeConfig(ini={'amqp1_notify_driver':
                                                'kafka'}),
                                'notify_driver')
        self.assertEqual('amqp1_notify_driver (ini)', err.option)
