"""A python-qpid-proton built without OpenSSL, and what it may and may not do.

``tools/tlsless-proton.sh`` builds proton the way a machine without
``libssl-dev`` or ``pkg-config`` silently does (its cffi build compiles the
SSL stub), in a throw-away venv with this project installed.  The build
takes about a minute, so it happens once per test run (tox env
``tlsless``, kept out of ``all`` so that its compiler does not load the
timing of other tests): the first pytest worker to need it builds it
under a lock, the others wait and reuse it.  ``AMQP1_TLSLESS_PYTHON``
names an existing TLS-less python to use instead.

What is checked:

* the normal build (what bindep.txt and tools/test-setup.sh install for)
  has TLS, the builder's has none;
* the fakes terminate TLS with Python's :mod:`ssl`, so a stand-in router
  running on the TLS-less proton still serves TLS clients;
* a driver call over ``amqp://...?ssl=1`` (or with a CA file or a client
  certificate) on the TLS-less proton fails at once naming SSL, the cause
  and the fix, without connecting in clear.
"""

import fcntl
import os
import signal
import socket
import subprocess
import sys

import pytest

from amqp1_fixtures.tls import make_test_certificates
from tests.functional.cli.test_serve import ServeTestCase
from tests.functional.cli.test_serve import TIMEOUT

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILDER = os.path.join(TOP, 'tools', 'tlsless-proton.sh')
DRIVER = os.path.join(TOP, 'driver')

#: seconds within which a TLS request on a TLS-less proton must fail
PROMPT = 5


def _has_tls(python):
    out = subprocess.run(
        [python, '-c', 'import proton; print(proton.SSL.present())'],
        check=True, capture_output=True, text=True, timeout=TIMEOUT)
    return out.stdout.strip() == 'True'


def _build(root):
    """Build the venv under ``root`` once per test run; return its python.

    ``root`` is shared by the xdist workers of one run (and by no other
    run), so a lock file there makes the first worker build and the
    others wait for it.
    """
    venv = os.path.join(root, 'tlsless-venv')
    done = os.path.join(root, 'tlsless-venv.ok')
    log = os.path.join(root, 'tlsless-venv.log')
    with open(os.path.join(root, 'tlsless-venv.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(done):
            return os.path.join(venv, 'bin', 'python')
        if os.path.exists(venv):
            pytest.fail('an earlier build of %s failed, see %s' % (venv, log))
        packages = ['-e', TOP]
        if os.path.isdir(DRIVER):
            packages += ['-e', DRIVER]
        with open(log, 'w') as out:
            status = subprocess.call(
                ['bash', BUILDER, venv, '--'] + packages,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        if status:
            with open(log) as f:
                pytest.fail('%s failed (%d):\n%s' % (BUILDER, status,
                                                     f.read()[-3000:]))
        open(done, 'w').close()
    return os.path.join(venv, 'bin', 'python')


@pytest.fixture(scope='session')
def tlsless_python(tmp_path_factory):
    """Path of a python whose proton has ``SSL.present()`` False."""
    python = os.environ.get('AMQP1_TLSLESS_PYTHON')
    if not python:
        root = tmp_path_factory.getbasetemp()
        # under xdist each worker has its own basetemp in the run's one
        if os.environ.get('PYTEST_XDIST_WORKER'):
            root = root.parent
        python = _build(str(root))
    if _has_tls(python):
        pytest.fail('%s: proton has TLS; not a TLS-less build' % python)
    return python


@pytest.fixture(scope='class')
def _tlsless_on_class(request, tlsless_python):
    request.cls.tlsless_python = tlsless_python


@pytest.mark.usefixtures('_tlsless_on_class')
class TestTlslessProton(ServeTestCase):

    def test_normal_build_has_tls_and_builder_has_none(self):
        # the fixture checked the builder's; this is the build CI's
        # packages (bindep.txt "compile") must give every other venv
        self.assertTrue(_has_tls(sys.executable),
                        'this python-qpid-proton was built without OpenSSL:'
                        ' install bindep.txt\'s "compile" packages '
                        '(tools/test-setup.sh) and rebuild it')
        self.assertFalse(_has_tls(self.tlsless_python))

    def test_fake_router_tls_does_not_need_proton_tls(self):
        certs = make_test_certificates(self.dir)
        process = self.start_tls_router(certs, python=self.tlsless_python)
        conn = self.connect_tls(process, certs)
        self.exchange(conn, 'broadcast/tls', 'encrypted by python ssl')
        conn.close()
        self.assertEqual(0, process.stop(signal.SIGTERM))

    def test_driver_call_over_ssl_fails_at_once(self):
        self._driver_call_fails_at_once('ssl=1')

    def test_driver_call_with_a_ca_file_fails_at_once(self):
        certs = make_test_certificates(self.dir)
        self._driver_call_fails_at_once('ssl_ca_file=' + certs.ca_file)

    def test_driver_call_with_a_client_certificate_fails_at_once(self):
        certs = make_test_certificates(self.dir)
        self._driver_call_fails_at_once('ssl_cert_file=%s&ssl_key_file=%s'
                                        % (certs.client_cert,
                                           certs.client_key))

    def _driver_call_fails_at_once(self, query):
        if not os.path.isdir(DRIVER):
            self.skipTest('needs the amqp:// driver (driver/, branch '
                          '"driver"), not merged yet')
        # A plain TCP listener where the driver would connect: it must see
        # no connection at all, so nothing is ever sent in clear.
        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        script = os.path.join(os.path.dirname(__file__),
                              'tlsless_driver_call.py')
        result = subprocess.run(
            [self.tlsless_python, script,
             'amqp://127.0.0.1:%d/?%s' % (port, query)],
            capture_output=True, text=True, timeout=TIMEOUT,
            stdin=subprocess.DEVNULL)
        self.addDetail('driver-output', _text(result.stdout + result.stderr))
        self.assertEqual(3, result.returncode, result.stderr)
        elapsed, error = result.stdout.strip().splitlines()[-2:]
        self.assertTrue(error.startswith('TLSUnavailable: '), error)
        for words in ('SSL', 'python-qpid-proton', 'without OpenSSL',
                      'libssl-dev', 'pkg-config'):
            self.assertIn(words, error)
        # the call's own timeout is 60 s: this tells "at once" from a
        # timeout, it is no speed target
        self.assertLess(float(elapsed.split()[1]), PROMPT)
        self.assertRaises(BlockingIOError, server.accept)


def _text(text):
    from testtools import content
    return content.text_content(text)
