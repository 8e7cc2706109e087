"""Tests of amqp1_fixtures.config.addresses: one table, read by every
consumer."""

import io
import os
from unittest import mock

import fixtures
import testtools

from amqp1_fixtures.config import addresses
from amqp1_fixtures import cli
from amqp1_fixtures.config import qdrouterd_conf
from amqp1_fixtures.config import qpidd_conf
from amqp1_fixtures.broker import queues
from amqp1_fixtures.router import routing


class TestTable(testtools.TestCase):

    def test_multicast_prefixes_are_topics_and_the_rest_queues(self):
        for a in addresses.OSLO_ADDRESSES:
            self.assertEqual(a.distribution == addresses.MULTICAST,
                             a.node == addresses.TOPIC, a)

    def test_legacy_prefixes_are_the_brokers(self):
        self.assertEqual(('exclusive', 'unicast'),
                         addresses.BROKER_QUEUE_PATTERNS)
        self.assertEqual(('broadcast',), addresses.BROKER_TOPIC_PATTERNS)

    def test_every_consumer_reads_the_table(self):
        self.assertIs(addresses.ROUTER_ADDRESSES, routing.DEFAULT_ADDRESSES)
        self.assertIs(addresses.ROUTER_ADDRESSES,
                      qdrouterd_conf.ROUTER_ADDRESSES)
        self.assertIs(addresses.BROKER_QUEUE_PATTERNS,
                      qpidd_conf.BROKER_QUEUE_PATTERNS)
        self.assertIs(addresses.BROKER_TOPIC_PATTERNS,
                      qpidd_conf.BROKER_TOPIC_PATTERNS)
        policy = queues.NodePolicy()
        table = routing.AddressTable()
        for a in addresses.OSLO_ADDRESSES:
            self.assertEqual(a.node, policy.kind(a.prefix + '/x'), a)
            self.assertEqual(a.distribution,
                             table.distribution(a.prefix + '/x'), a)


class TestRendering(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def print_lines(self, daemon):
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            self.assertEqual(0, cli.main(['addresses', daemon]))
        return out.getvalue()

    def test_printed_qdrouterd_sections_parse_into_the_table(self):
        path = os.path.join(self.dir, 'qdrouterd.conf')
        with open(path, 'w') as f:
            f.write('router {\n    mode: standalone\n    id: r\n}\n'
                    'listener {\n    host: 127.0.0.1\n    port: 0\n'
                    '    authenticatePeer: no\n}\n')
            f.write(self.print_lines('qdrouterd'))
        settings = qdrouterd_conf.parse_qdrouterd_conf(path)
        self.assertEqual(list(addresses.ROUTER_ADDRESSES),
                         settings.addresses)

    def test_printed_qpidd_lines_parse_into_the_patterns(self):
        path = os.path.join(self.dir, 'qpidd.conf')
        with open(path, 'w') as f:
            f.write('port=0\nauth=no\n')
            f.write(self.print_lines('qpidd'))
        settings = qpidd_conf.parse_qpidd_conf(path)
        self.assertEqual(
            (list(addresses.BROKER_QUEUE_PATTERNS),
             list(addresses.BROKER_TOPIC_PATTERNS)),
            (settings.queue_patterns, settings.topic_patterns))

    def test_rendered_configs_carry_the_table(self):
        path = qdrouterd_conf.render_qdrouterd_conf(
            os.path.join(self.dir, 'r.conf'))
        text = open(path).read()
        self.assertIn('\n'.join(addresses.qdrouterd_address_sections()),
                      text)
        path = qpidd_conf.render_qpidd_conf(os.path.join(self.dir, 'b.conf'))
        text = open(path).read()
        self.assertIn('\n'.join(addresses.qpidd_pattern_lines()), text)
