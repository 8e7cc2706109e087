"""TLS and SASL PLAIN against the fakes' ``tls=`` and ``users=``."""

import fixtures
import oslo_messaging

from amqp1_driver import wire
from amqp1_driver import exceptions
from amqp1_fixtures import FakeRouter
from amqp1_fixtures import make_test_certificates
from tests import messaging


class TlsTest(messaging.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def _router(self, verify_client=False, key_password=None, **kwargs):
        self.certs = make_test_certificates(self.tmp,
                                            key_password=key_password)
        return self.useFixture(FakeRouter(
            tls=self.certs.server_tls(verify_client=verify_client),
            **kwargs))

    def _conf(self, **options):
        self.conf = messaging.make_conf(**options)

    def _roundtrip(self, url):
        self.server(url)
        self.assertEqual(5, self.client(url).call(5)['value'])

    def test_server_certificate_verified(self):
        router = self._router()
        self._conf(ssl=True, ssl_ca_file=self.certs.ca_file)
        # the certificate names localhost and 127.0.0.1
        self._roundtrip('amqp://localhost:%d/' % router.port)

    def test_client_certificate_and_plain(self):
        router = self._router(verify_client=True, users={'joe': 'secret'})
        self._conf(ssl_ca_file=self.certs.ca_file,
                   ssl_cert_file=self.certs.client_cert,
                   ssl_key_file=self.certs.client_key)
        self._roundtrip('amqp://joe:secret@localhost:%d/' % router.port)

    def test_encrypted_client_key(self):
        # the fixtures encrypt the *server* key; make the client use the
        # server's pair as its certificate, with ssl_key_password
        router = self._router(verify_client=True, key_password='pw')
        self._conf(ssl_ca_file=self.certs.ca_file,
                   ssl_cert_file=self.certs.server_cert,
                   ssl_key_file=self.certs.server_key,
                   ssl_key_password='pw')
        self._roundtrip('amqp://localhost:%d/' % router.port)

    def test_verify_vhost(self):
        router = self._router()
        self._conf(ssl_ca_file=self.certs.ca_file, ssl_verify_vhost=True)
        # the peer name checked is the vhost, not the host we dial
        self._roundtrip('amqp://127.0.0.1:%d/localhost' % router.port)

    def test_wrong_peer_name_fails(self):
        router = self._router()
        self._conf(ssl_ca_file=self.certs.ca_file, ssl_verify_vhost=True)
        client = self.client('amqp://127.0.0.1:%d/wrong.example'
                             % router.port)
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.call, 1, timeout=2)

    def test_ssl_from_url_query(self):
        router = self._router()
        self._conf(ssl_ca_file=self.certs.ca_file)
        self._roundtrip('amqp://localhost:%d/?ssl=1' % router.port)


class TlsUnavailableTest(messaging.TestCase):

    def test_message_names_cause_and_fix(self):
        error = self.assertRaises(exceptions.TLSUnavailable,
                                  wire.require_tls_support, False)
        text = str(error)
        for word in ('SSL', 'OpenSSL', 'libssl-dev', 'pkg-config',
                     '--no-cache-dir --force-reinstall'):
            self.assertIn(word, text)

    def test_present_is_fine(self):
        wire.require_tls_support(True)

    def test_first_call_fails_at_once_without_tls(self):
        self.useFixture(fixtures.MonkeyPatch(
            'proton.SSL.present', staticmethod(lambda: False)))
        self.conf = messaging.make_conf(ssl=True)
        client = self.client('amqp://127.0.0.1:1/')
        self.assertRaises(exceptions.TLSUnavailable, client.call, 1,
                          timeout=30)


class SaslAnonymousTest(messaging.TestCase):

    def test_anonymous_mechanism(self):
        router = self.useFixture(FakeRouter(sasl_mechanisms=['ANONYMOUS']))
        self.conf = messaging.make_conf(sasl_mechanisms='ANONYMOUS')
        url = router.transport_url
        self.server(url)
        self.assertEqual(3, self.client(url).call(3)['value'])
