"""Pure helpers of the I/O thread module."""

import types

import testtools

from amqp1_driver import connection
from amqp1_driver import exceptions


def group(**values):
    base = dict(ssl=False, ssl_ca_file='', ssl_cert_file='')
    base.update(values)
    return types.SimpleNamespace(**base)


class BackoffTest(testtools.TestCase):

    def test_defaults_double_up_to_max(self):
        delays = [1]
        for _ in range(7):
            delays.append(connection.next_delay(delays[-1], 1, 2, 30))
        self.assertEqual([1, 2, 4, 8, 16, 30, 30, 30], delays)

    def test_zero_backoff_does_not_spin(self):
        self.assertEqual(1, connection.next_delay(1, 1, 0, 30))


class TlsCheckTest(testtools.TestCase):

    def test_requested(self):
        self.assertFalse(connection.tls_requested(group()))
        self.assertTrue(connection.tls_requested(group(ssl=True)))
        self.assertTrue(connection.tls_requested(group(ssl_ca_file='ca')))
        self.assertTrue(connection.tls_requested(group(ssl_cert_file='c')))

    def test_unavailable(self):
        self.assertRaises(exceptions.TLSUnavailable,
                          connection.require_tls_support, False)

    def test_container_id(self):
        cid = connection.container_id()
        self.assertTrue(cid.startswith('openstack.org/om/container/'))
        self.assertEqual(7, len(cid.split('/')))
