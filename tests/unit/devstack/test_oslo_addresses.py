"""Tests of devstack/tools/oslo_addresses.py: the plugin's config files
get oslo.messaging's addresses from the fixtures' one table, without the
amqp1_fixtures package."""

import os
import subprocess
import sys

import fixtures
import testtools

from amqp1_fixtures.config import addresses
from amqp1_fixtures.config import qdrouterd_conf
from amqp1_fixtures.config import qpidd_conf
from tests.unit.devstack import tools

TOOL = tools.path('oslo_addresses.py')


def run(daemon):
    """Run the tool as the plugin does, with a python that cannot import
    amqp1_fixtures (``-S``: no site-packages, where tox installs it)."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    return subprocess.run([sys.executable, '-S', TOOL, daemon], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60, check=True).stdout


class TestTool(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_runs_without_the_package(self):
        env = dict(os.environ)
        env.pop('PYTHONPATH', None)
        probe = subprocess.run(
            [sys.executable, '-S', '-c', 'import amqp1_fixtures'], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(0, probe.returncode,
                            'the test needs a python blind to the package')
        self.assertIn('address {', run('qdrouterd'))

    def test_qdrouterd_sections_are_the_tables(self):
        self.assertEqual(
            '\n'.join(addresses.qdrouterd_address_sections()).rstrip('\n'),
            run('qdrouterd').rstrip('\n'))

    def test_qdrouterd_sections_parse_into_the_table(self):
        path = os.path.join(self.dir, 'qdrouterd.conf')
        with open(path, 'w') as f:
            f.write('router {\n    mode: standalone\n    id: r\n}\n'
                    'listener {\n    host: 127.0.0.1\n    port: 0\n'
                    '    authenticatePeer: no\n}\n')
            f.write(run('qdrouterd'))
        settings = qdrouterd_conf.parse_qdrouterd_conf(path)
        self.assertEqual(list(addresses.ROUTER_ADDRESSES),
                         settings.addresses)

    def test_qpidd_lines_parse_into_the_patterns(self):
        path = os.path.join(self.dir, 'qpidd.conf')
        with open(path, 'w') as f:
            f.write('port=0\nauth=no\n')
            f.write(run('qpidd'))
        settings = qpidd_conf.parse_qpidd_conf(path)
        self.assertEqual(
            (list(addresses.BROKER_QUEUE_PATTERNS),
             list(addresses.BROKER_TOPIC_PATTERNS)),
            (settings.queue_patterns, settings.topic_patterns))

    def test_unknown_daemon_is_a_usage_error(self):
        result = subprocess.run([sys.executable, '-S', TOOL, 'rabbitmq'],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                timeout=60)
        self.assertEqual(2, result.returncode)
        self.assertIn("invalid choice: 'rabbitmq'", result.stderr)

    def test_the_table_loaded_by_path_is_the_packages(self):
        table = tools.load('oslo_addresses.py').load_table()
        self.assertEqual(addresses.OSLO_ADDRESSES, table.OSLO_ADDRESSES)
