"""Tests of amqp1_fixtures.service that need no backend: modes, URLs of
the external mode, and the oslo.config helper."""

from oslo_config import cfg
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures import service

RPC = 'amqp://u:p@127.0.0.1:45672/'
NOTIFY = 'amqp://u:p@127.0.0.1:5672/'


class TestModes(testtools.TestCase):

    def test_devstack_words(self):
        self.assertEqual(('qpid', 'qpid-dual', 'qpid-hybrid', 'rabbitmq',
                          'external'), service.SERVICE_MODES)
        self.assertEqual(('broker', 'broker'), service.LAYOUT['qpid'])
        self.assertEqual(('router', 'broker'), service.LAYOUT['qpid-dual'])
        self.assertEqual(('router', 'rabbitmq'),
                         service.LAYOUT['qpid-hybrid'])
        self.assertEqual(('rabbitmq4', 'rabbitmq4'),
                         service.LAYOUT['rabbitmq'])

    def test_hybrid_notify_driver(self):
        self.assertEqual(('router', 'rabbitmq'),
                         service.layout('qpid-hybrid'))
        self.assertEqual(('router', 'rabbitmq'),
                         service.layout('qpid-hybrid', 'rabbit'))
        self.assertEqual(('router', 'rabbitmq4'),
                         service.layout('qpid-hybrid', 'amqp'))
        svc = service.Amqp1Service('qpid-hybrid', notify_driver='amqp')
        self.assertEqual(('amqp', 'rabbitmq'),
                         (svc.notify_driver, svc.oslo_backend))
        self.assertIsNone(service.Amqp1Service('qpid').notify_driver)

    def test_notify_driver_only_for_hybrid(self):
        err = self.assertRaises(exceptions.ConfigError,
                                service.Amqp1Service, 'rabbitmq',
                                notify_driver='amqp')
        self.assertEqual('notify_driver', err.option)
        err = self.assertRaises(exceptions.ConfigError,
                                service.Amqp1Service, 'qpid-hybrid',
                                notify_driver='kafka')
        self.assertIn("'kafka'", str(err))

    def test_rabbitmq4_process_serves_no_tls(self):
        err = self.assertRaises(exceptions.ConfigError,
                                service.make_backend, 'rabbitmq4',
                                daemons=True, tls=object())
        self.assertEqual('tls', err.option)

    def test_unknown_mode_lists_valid_ones(self):
        err = self.assertRaises(exceptions.ConfigError,
                                service.Amqp1Service, 'rabbit')
        for mode in service.MODES:
            self.assertIn(mode, str(err))
        self.assertIn("'rabbit'", str(err))

    def test_urls_only_for_external(self):
        self.assertRaises(exceptions.ConfigError, service.Amqp1Service,
                          'qpid', rpc_url=RPC)

    def test_rabbitmq_only_for_modes_using_one(self):
        self.assertRaises(exceptions.ConfigError, service.Amqp1Service,
                          'qpid-dual', rabbitmq=object())
        for mode in ('qpid-hybrid', 'rabbitmq'):
            service.Amqp1Service(mode, rabbitmq=object())

    def test_oslo_backend_names_the_notification_intermediary(self):
        names = {m: service.Amqp1Service(m).oslo_backend
                 for m in service.MODES}
        self.assertEqual({'qpid': 'qpidd', 'qpid-dual': 'qpidd',
                          'qpid-hybrid': None, 'rabbitmq': 'rabbitmq',
                          'external': None, 'router': 'qdrouterd',
                          'broker': 'qpidd'}, names)

    def test_transport_environ(self):
        self.assertEqual(
            {'X_RPC_TRANSPORT_URL': RPC, 'X_NOTIFY_TRANSPORT_URL': NOTIFY,
             'X_TRANSPORT_URL': RPC},
            service.transport_environ(RPC, NOTIFY, prefix='X_'))


class TestExternal(testtools.TestCase):

    def test_given_urls(self):
        with service.Amqp1Service('external', rpc_url=RPC,
                                  notify_url=NOTIFY, environ={}) as svc:
            self.assertEqual(RPC, svc.rpc_url)
            self.assertEqual(NOTIFY, svc.notify_url)
            self.assertIsNone(svc.rpc_backend)
        self.assertIsNone(svc.rpc_url)

    def test_notify_defaults_to_rpc(self):
        with service.Amqp1Service('external', rpc_url=RPC,
                                  environ={}) as svc:
            self.assertEqual(RPC, svc.notify_url)

    def test_environment_devstack_names_first(self):
        env = {'AMQP1_RPC_TRANSPORT_URL': RPC, 'TRANSPORT_URL': 'x://',
               'NOTIFY_TRANSPORT_URL': NOTIFY}
        with service.Amqp1Service('external', environ=env) as svc:
            self.assertEqual((RPC, NOTIFY), (svc.rpc_url, svc.notify_url))
            self.assertEqual(
                {'RPC_TRANSPORT_URL': RPC, 'NOTIFY_TRANSPORT_URL': NOTIFY,
                 'TRANSPORT_URL': RPC}, svc.environ_vars())

    def test_argument_beats_environment(self):
        env = {'RPC_TRANSPORT_URL': 'amqp://other:1/'}
        with service.Amqp1Service('external', rpc_url=RPC,
                                  environ=env) as svc:
            self.assertEqual(RPC, svc.rpc_url)

    def test_no_url_is_an_error(self):
        svc = service.Amqp1Service('external', environ={})
        err = self.assertRaises(Exception, svc.setUp)
        self.assertIsInstance(err.args[0][1], exceptions.ConfigError)
        self.assertIn('RPC_TRANSPORT_URL', str(err.args[0][1]))


class TestConfigure(testtools.TestCase):

    def test_sets_and_clears_overrides(self):
        conf = cfg.ConfigOpts()
        svc = service.Amqp1Service('external', rpc_url=RPC,
                                   notify_url=NOTIFY, environ={})
        with svc:
            self.assertIs(conf, svc.configure(conf, default_reply_timeout=7,
                                              addressing_mode='dynamic'))
            self.assertEqual(RPC, conf.transport_url)
            self.assertEqual(
                NOTIFY, conf.oslo_messaging_notifications.transport_url)
            self.assertEqual(7, conf.oslo_messaging_amqp.default_reply_timeout)
            self.assertEqual('dynamic',
                             conf.oslo_messaging_amqp.addressing_mode)
        self.assertNotEqual(RPC, conf.transport_url)
        self.assertEqual(30, conf.oslo_messaging_amqp.default_reply_timeout)

    def test_unknown_amqp_option(self):
        svc = self.useFixture(service.Amqp1Service(
            'external', rpc_url=RPC, environ={}))
        err = self.assertRaises(exceptions.ConfigError, svc.configure,
                                cfg.ConfigOpts(), no_such_thing=1)
        self.assertIn('no_such_thing', str(err))

    def test_needs_setup(self):
        self.assertRaises(exceptions.ConfigError,
                          service.Amqp1Service('qpid').configure,
                          cfg.ConfigOpts())
