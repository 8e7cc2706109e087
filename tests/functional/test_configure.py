"""Amqp1Service.configure() on a bare ``cfg.ConfigOpts()``, on whichever
oslo.messaging this environment has (14.x with its own driver in the
``all`` env; the newest 18.x with driver/ in the ``examples`` env).

oslo.messaging 18.x registers the amqp driver's group only when a
transport is made, and 18.3 registers ``[oslo_messaging_tracing]`` only
on the global ``cfg.CONF``: configure() must register both, or a service
test written as the guide shows fails before its first message.
"""

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import opts as oslo_opts
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures import service
from tests import messaging


class ConfigureBareConfTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.service = self.useFixture(service.Amqp1Service('qpid-dual'))

    def test_rpc_and_notifications_through_a_bare_conf(self):
        conf = cfg.ConfigOpts()
        self.assertIs(conf, self.service.configure(
            conf, default_reply_timeout=10, default_send_timeout=10))
        self.assertEqual(10, conf.oslo_messaging_amqp.default_reply_timeout)
        topic = messaging.unique()
        # No URL below: what configure() set is all oslo.messaging gets.
        self.useFixture(messaging.RpcServer(conf, None, topic))
        client = self.useFixture(messaging.RpcClient(conf, None, topic))
        self.assertEqual({'server': 'server', 'value': 3}, client.call(3))

        notifier = self.useFixture(messaging.Notifier(conf, None, topic))
        notifier.info('configure.test', {'n': 1})
        # stored by the broker, then read by a listener started after
        listener = self.useFixture(messaging.NotifyListener(conf, None, topic))
        self.assertEqual(('configure.test', {'n': 1}), listener.get(20))

    def test_the_amqp_group_is_the_drivers(self):
        conf = cfg.ConfigOpts()
        self.assertTrue(service.register_messaging_opts(conf))
        # 14.x lists its driver's options itself; on 16 and later they
        # come from driver/'s oslo.config.opts entry point
        listed = dict(oslo_opts.list_opts()).get(service.AMQP_GROUP)
        if listed is None:
            [(group, listed)] = service._driver_opts()
        names = sorted(opt.name for opt in listed)
        self.assertEqual(names, sorted(conf[service.AMQP_GROUP]))

    def test_registering_twice_and_the_driver_after_is_harmless(self):
        conf = cfg.ConfigOpts()
        service.register_messaging_opts(conf)
        service.register_messaging_opts(conf)
        transport = oslo_messaging.get_rpc_transport(
            conf, url=self.service.rpc_url)
        self.addCleanup(transport.cleanup)

    def test_amqp_options_without_an_amqp_driver(self):
        # oslo.messaging >= 15 without driver/: nothing lists the group
        no_amqp = [(g, o) for g, o in oslo_opts.list_opts()
                   if g != service.AMQP_GROUP]
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.opts.list_opts', return_value=no_amqp))
        self.useFixture(fixtures.MockPatchObject(
            service, '_driver_opts', return_value=[]))
        conf = cfg.ConfigOpts()
        err = self.assertRaises(exceptions.ConfigError,
                                self.service.configure, conf,
                                default_reply_timeout=10)
        self.assertIn('driver/', str(err))
        self.assertIn('[oslo_messaging_amqp] default_reply_timeout',
                      str(err))
        # the URLs alone need no amqp group
        self.service.configure(conf)
        self.assertEqual(self.service.rpc_url, conf.transport_url)
