"""Address strings of the 14.x driver: one row per case, no I/O."""

import oslo_messaging
import testtools

from amqp1_driver import addressing

T = oslo_messaging.Target

# (target, service, vhost, legacy address, routable address)
ROWS = [
    (T(topic='compute', server='host1'), 'rpc', None,
     'exclusive.openstack.compute.host1',
     'openstack.org/om/rpc/unicast/openstack/compute/host1'),
    (T(topic='compute', server='host1'), 'rpc', 'vh',
     'exclusive.vh.openstack.compute.host1',
     'openstack.org/om/rpc/unicast/vh/openstack/compute/host1'),
    (T(topic='compute', fanout=True), 'rpc', None,
     'broadcast.openstack.compute.all',
     'openstack.org/om/rpc/multicast/openstack/compute'),
    (T(topic='compute', fanout=True), 'rpc', 'vh',
     'broadcast.vh.openstack.compute.all',
     'openstack.org/om/rpc/multicast/vh/openstack/compute'),
    # fanout wins over server
    (T(topic='compute', server='h', fanout=True), 'rpc', None,
     'broadcast.openstack.compute.all',
     'openstack.org/om/rpc/multicast/openstack/compute'),
    (T(topic='compute'), 'rpc', None,
     'unicast.openstack.compute',
     'openstack.org/om/rpc/anycast/openstack/compute'),
    (T(topic='compute'), 'rpc', 'vh',
     'unicast.vh.openstack.compute',
     'openstack.org/om/rpc/anycast/vh/openstack/compute'),
    (T(topic='compute', exchange='nova'), 'rpc', None,
     'unicast.nova.compute',
     'openstack.org/om/rpc/anycast/nova/compute'),
    (T(topic='notifications.info'), 'notify', None,
     'unicast.openstack.notifications.info',
     'openstack.org/om/notify/anycast/openstack/notifications.info'),
    (T(topic='notifications.info'), 'notify', 'vh',
     'unicast.vh.openstack.notifications.info',
     'openstack.org/om/notify/anycast/vh/openstack/notifications.info'),
]


class AddressTableTest(testtools.TestCase):

    def test_rows(self):
        for target, service, vhost, legacy, routable in ROWS:
            got = addressing.LegacyAddresser('openstack', vhost=vhost)
            self.assertEqual(legacy, got.resolve(target, service),
                             (target, service, vhost))
            got = addressing.RoutableAddresser('openstack', vhost=vhost)
            self.assertEqual(routable, got.resolve(target, service),
                             (target, service, vhost))

    def test_empty_exchange_dropped_in_legacy(self):
        a = addressing.LegacyAddresser(None)
        self.assertEqual('unicast.compute', a.resolve(T(topic='compute')))

    def test_routable_default_exchange(self):
        a = addressing.RoutableAddresser(None)
        self.assertEqual('openstack.org/om/rpc/anycast/openstack/c',
                         a.resolve(T(topic='c')))
        a = addressing.RoutableAddresser('ctl', rpc_exchange='rpcx',
                                         notify_exchange='nx')
        self.assertEqual('openstack.org/om/rpc/anycast/rpcx/c',
                         a.resolve(T(topic='c')))
        self.assertEqual('openstack.org/om/notify/anycast/nx/c.info',
                         a.resolve(T(topic='c.info'), 'notify'))
        self.assertEqual('openstack.org/om/rpc/anycast/own/c',
                         a.resolve(T(topic='c', exchange='own')))

    def test_custom_prefixes(self):
        a = addressing.LegacyAddresser('x', 'srv', 'bc', 'grp')
        self.assertEqual('srv.x.t.s', a.resolve(T(topic='t', server='s')))
        self.assertEqual('bc.x.t.all', a.resolve(T(topic='t', fanout=True)))
        self.assertEqual('grp.x.t', a.resolve(T(topic='t')))
        a = addressing.RoutableAddresser('x', rpc_prefix='p/rpc',
                                         unicast='u', multicast='m',
                                         anycast='a')
        self.assertEqual('p/rpc/u/x/t/s', a.resolve(T(topic='t', server='s')))
        self.assertEqual('p/rpc/m/x/t', a.resolve(T(topic='t', fanout=True)))

    def test_product_rule(self):
        rows = [
            ('dynamic', {'product': 'qpid-cpp'}, True),
            ('dynamic', {}, True),
            ('dynamic', None, True),
            ('dynamic', {'product': 'qpid-dispatch-router'}, False),
            ('dynamic', {'product': 'anything'}, False),
            ('legacy', {'product': 'qpid-dispatch-router'}, True),
            ('routable', {'product': 'qpid-cpp'}, False),
            ('bogus', {}, False),
        ]
        for mode, props, legacy in rows:
            self.assertEqual(legacy, addressing.is_legacy(mode, props),
                             (mode, props))

    def test_pseudo_vhost(self):
        self.assertEqual('vh', addressing.pseudo_vhost('vh', True))
        self.assertIsNone(addressing.pseudo_vhost('vh', False))
        self.assertIsNone(addressing.pseudo_vhost('', True))
        self.assertIsNone(addressing.pseudo_vhost(None, True))
