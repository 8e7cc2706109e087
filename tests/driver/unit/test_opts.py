"""The [oslo_messaging_amqp] options of the 14.x driver."""

from oslo_config import cfg
import oslo_messaging
import testtools

from amqp1_driver import driver
from amqp1_driver import opts

EXPECTED = {
    'container_name': None, 'idle_timeout': 0, 'trace': False,
    'ssl': False, 'ssl_ca_file': '', 'ssl_cert_file': '',
    'ssl_key_file': '', 'ssl_key_password': None,
    'ssl_verify_vhost': False, 'sasl_mechanisms': '',
    'sasl_config_dir': '', 'sasl_config_name': '',
    'sasl_default_realm': '', 'connection_retry_interval': 1,
    'connection_retry_backoff': 2, 'connection_retry_interval_max': 30,
    'link_retry_delay': 10, 'default_reply_retry': 0,
    'default_reply_timeout': 30, 'default_send_timeout': 30,
    'default_notify_timeout': 30, 'default_sender_link_timeout': 600,
    'addressing_mode': 'dynamic', 'pseudo_vhost': True,
    'server_request_prefix': 'exclusive', 'broadcast_prefix': 'broadcast',
    'group_request_prefix': 'unicast',
    'rpc_address_prefix': 'openstack.org/om/rpc',
    'notify_address_prefix': 'openstack.org/om/notify',
    'multicast_address': 'multicast', 'unicast_address': 'unicast',
    'anycast_address': 'anycast', 'default_notification_exchange': None,
    'default_rpc_exchange': None, 'reply_link_credit': 200,
    'rpc_server_credit': 100, 'notify_server_credit': 100,
    'pre_settled': ['rpc-cast', 'rpc-reply'],
}
DEPRECATED_AMQP1 = {
    'container_name', 'idle_timeout', 'trace', 'ssl_ca_file',
    'ssl_cert_file', 'ssl_key_file', 'ssl_key_password', 'sasl_mechanisms',
    'sasl_config_dir', 'sasl_config_name', 'server_request_prefix',
    'broadcast_prefix', 'group_request_prefix',
}


class OptsTest(testtools.TestCase):

    def test_names_and_defaults(self):
        self.assertEqual(38, len(opts.amqp1_opts))
        self.assertEqual(EXPECTED,
                         {o.dest: o.default for o in opts.amqp1_opts})

    def test_deprecated_group(self):
        got = {o.dest for o in opts.amqp1_opts
               if any(d.group == 'amqp1' for d in o.deprecated_opts)}
        self.assertEqual(DEPRECATED_AMQP1, got)

    def test_list_opts(self):
        [(group, listed)] = opts.list_opts()
        self.assertEqual('oslo_messaging_amqp', group)
        self.assertEqual(38, len(listed))
        self.assertIsNot(listed[0], opts.amqp1_opts[0])

    def test_secret(self):
        [key] = [o for o in opts.amqp1_opts if o.dest == 'ssl_key_password']
        self.assertTrue(key.secret)

    def test_registered_by_driver_and_url_overrides(self):
        conf = cfg.ConfigOpts()
        conf([])
        url = oslo_messaging.TransportURL.parse(
            conf, 'amqp://h:1/?idle_timeout=7&addressing_mode=legacy')
        drv = driver.AMQP1Driver(conf, url)
        self.assertEqual(7, drv._group.idle_timeout)
        self.assertEqual('legacy', drv._group.addressing_mode)
        self.assertEqual(0, conf.oslo_messaging_amqp.idle_timeout)
        drv.cleanup()

    def test_unknown_query_option(self):
        conf = cfg.ConfigOpts()
        conf([])
        url = oslo_messaging.TransportURL.parse(conf, 'amqp://h:1/?bogus=1')
        self.assertRaises(cfg.NoSuchOptError, driver.AMQP1Driver, conf, url)

    def test_oslo_messaging_guard(self):
        self.assertRaises(RuntimeError, driver.check_oslo_messaging, '14.9.3')
        driver.check_oslo_messaging('16.1.2')
        driver.check_oslo_messaging('18.3.1')

    def test_entry_points(self):
        from importlib import metadata
        eps = metadata.entry_points()
        [drv] = [e for e in eps.select(group='oslo.messaging.drivers')
                 if e.name == 'amqp']
        self.assertEqual('amqp1_driver.driver:AMQP1Driver', drv.value)
        [o] = [e for e in eps.select(group='oslo.config.opts')
               if e.name == 'oslo.messaging.amqp1']
        self.assertEqual('amqp1_driver.opts:list_opts', o.value)
