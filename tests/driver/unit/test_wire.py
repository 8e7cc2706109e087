"""The pure helpers of amqp1_driver.wire: TLS decision, container-id."""

import types

import testtools

from amqp1_driver import exceptions
from amqp1_driver import wire


def group(**values):
    base = dict(ssl=False, ssl_ca_file='', ssl_cert_file='')
    base.update(values)
    return types.SimpleNamespace(**base)


class TlsCheckTest(testtools.TestCase):

    def test_requested(self):
        self.assertFalse(wire.tls_requested(group()))
        self.assertTrue(wire.tls_requested(group(ssl=True)))
        self.assertTrue(wire.tls_requested(group(ssl_ca_file='ca')))
        self.assertTrue(wire.tls_requested(group(ssl_cert_file='c')))

    def test_unavailable(self):
        self.assertRaises(exceptions.TLSUnavailable,
                          wire.require_tls_support, False)

    def test_container_id(self):
        cid = wire.container_id()
        self.assertTrue(cid.startswith('openstack.org/om/container/'))
        self.assertEqual(7, len(cid.split('/')))
