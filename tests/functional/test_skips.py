"""A fixture that cannot run skips the test, with the reason, under every
runner a service's suite uses: pytest (plugin fixtures and testtools test
cases), ``python -m testtools.run`` and stestr.

Each runner runs in a subprocess on a small generated suite, in an
environment where the real qdrouterd, qpidd and rabbitmq-server are absent
(not named by their variables, not on ``PATH``, not at Debian's path), and
its own report is parsed: the outcome and reason of every test.
"""

import io
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree

import fixtures
import psutil
import subunit
import testtools

from amqp1_fixtures.daemons import qpid as daemons
from amqp1_fixtures.daemons import rabbitmq
from tests import realqpid

ROUTER_ABSENT = 'qdrouterd is not installed'
BROKER_ABSENT = 'qpidd is not installed'
RABBIT_ABSENT = 'rabbitmq-server is not installed'

#: set in the suite's environment: a stand-in for a *real* qpidd (it
#: listens where its config says and records its pid), so that a service
#: starts a "real" broker before its router skips
FAKE_QPIDD_ENV = 'SKIPS_FAKE_QPIDD'
PIDS_ENV = 'SKIPS_PIDS'

FAKE_QPIDD = r'''#!%s
import os, re, signal, socket, sys
assert sys.argv[1] == '--config', sys.argv
with open(os.environ['%s'], 'a') as f:
    f.write('%%d\n' %% os.getpid())
text = open(sys.argv[2]).read()
port = int(re.search(r'^\s*port\s*=\s*(\d+)', text, re.M).group(1))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen()
while True:
    signal.pause()
''' % (sys.executable, PIDS_ENV)

# Debian's rabbitmq-server is found at its package path too.
HIDE_RABBIT = '''
from amqp1_fixtures.daemons import qpid as daemons
from amqp1_fixtures.daemons import rabbitmq
rabbitmq._DEBIAN_SCRIPT = '/nonexistent/rabbitmq-server'
'''

TESTTOOLS_SUITE = HIDE_RABBIT + '''
import os

import fixtures
import testtools

from amqp1_fixtures import Amqp1Service
from amqp1_fixtures import BrokerDaemon
from amqp1_fixtures import RabbitMQDaemon
from amqp1_fixtures import RouterDaemon


class TestAbsent(testtools.TestCase):

    def test_router_daemon(self):
        self.useFixture(RouterDaemon(require_real=True))

    def test_broker_daemon(self):
        self.useFixture(BrokerDaemon(require_real=True))

    def test_rabbitmq_daemon(self):
        self.useFixture(RabbitMQDaemon())

    def test_service_qpid(self):
        self.useFixture(Amqp1Service('qpid', daemons=True,
                                     require_real=True))

    def test_service_qpid_dual(self):
        self.useFixture(Amqp1Service('qpid-dual', daemons=True,
                                     require_real=True))

    def test_service_qpid_hybrid(self):
        self.useFixture(Amqp1Service('qpid-hybrid', daemons=True,
                                     require_real=True))

    def test_service_qpid_hybrid_fakes(self):
        self.useFixture(Amqp1Service('qpid-hybrid'))

    def test_service_after_a_real_broker_started(self):
        # qpidd "installed", qdrouterd not: the broker starts first
        # (notifications first), then the router skips.
        self.useFixture(fixtures.EnvironmentVariable(
            'AMQP1_QPIDD', os.environ['%(fake)s']))
        self.useFixture(Amqp1Service('qpid-dual', daemons=True,
                                     require_real=True))

    def test_an_error_stays_an_error(self):
        self.useFixture(Amqp1Service('qpid-dual', daemons=True,
                                     broker_options={'no_such': 1}))
''' % {'fake': FAKE_QPIDD_ENV}

PLUGIN_SUITE = HIDE_RABBIT + '''

def test_router(amqp1_router):
    pass


def test_router_session(amqp1_router_session):
    pass


def test_broker(amqp1_broker):
    pass


def test_qpid(amqp1_qpid):
    pass


def test_qpid_dual(amqp1_qpid_dual):
    pass


def test_qpid_dual_session(amqp1_qpid_dual_session):
    pass


def test_qpid_hybrid(amqp1_qpid_hybrid):
    pass


def test_rabbitmq(amqp1_rabbitmq_session):
    pass
'''

#: test -> reason it skips with (None: it must end as an error)
TESTTOOLS_EXPECTED = {
    'test_router_daemon': ROUTER_ABSENT,
    'test_broker_daemon': BROKER_ABSENT,
    'test_rabbitmq_daemon': RABBIT_ABSENT,
    'test_service_qpid': BROKER_ABSENT,
    'test_service_qpid_dual': BROKER_ABSENT,
    'test_service_qpid_hybrid': RABBIT_ABSENT,
    'test_service_qpid_hybrid_fakes': RABBIT_ABSENT,
    'test_service_after_a_real_broker_started': ROUTER_ABSENT,
    'test_an_error_stays_an_error': None,
}
PLUGIN_EXPECTED = {
    'test_router': ROUTER_ABSENT,
    'test_router_session': ROUTER_ABSENT,
    'test_broker': BROKER_ABSENT,
    'test_qpid': BROKER_ABSENT,
    'test_qpid_dual': BROKER_ABSENT,
    'test_qpid_dual_session': BROKER_ABSENT,
    'test_qpid_hybrid': RABBIT_ABSENT,
    'test_rabbitmq': RABBIT_ABSENT,
}


def absent_environ():
    """The environment of the runners: no real daemon to be found."""
    env = realqpid.without_real_daemons()
    env.pop(rabbitmq.EXECUTABLE_ENV, None)
    env['PATH'] = os.pathsep.join(
        d for d in env.get('PATH', '').split(os.pathsep)
        if not shutil.which('rabbitmq-server', path=d))
    return env


class RunnersSkip(testtools.TestCase):
    """The outcome of every generated test, through each runner."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        for name, text in (('test_absent.py', TESTTOOLS_SUITE),
                           ('test_plugin_absent.py', PLUGIN_SUITE),
                           ('.stestr.conf',
                            '[DEFAULT]\ntest_path=.\ntop_dir=.\n')):
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(textwrap.dedent(text))
        fake = os.path.join(self.dir, 'fake-qpidd')
        with open(fake, 'w') as f:
            f.write(FAKE_QPIDD)
        os.chmod(fake, 0o755)
        self.pids = os.path.join(self.dir, 'fake-qpidd.pids')
        self.env = absent_environ()
        self.env.update({FAKE_QPIDD_ENV: fake, PIDS_ENV: self.pids,
                         'PYTHONDONTWRITEBYTECODE': '1'})
        self.env.pop('PYTEST_ADDOPTS', None)
        # the fake qpidd is no real launch to count
        self.env.pop(daemons.LAUNCH_LOG_ENV, None)

    def run_runner(self, *argv):
        proc = subprocess.run(
            [sys.executable] + list(argv), cwd=self.dir, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.addDetail('%s-stdout' % argv[1], testtools.content.text_content(
            proc.stdout.decode('utf-8', 'replace')[-20000:]))
        self.addDetail('%s-stderr' % argv[1], testtools.content.text_content(
            proc.stderr.decode('utf-8', 'replace')[-20000:]))
        return proc

    def assertOutcomes(self, expected, outcomes):
        """``outcomes``: test -> (outcome, reason or error text)."""
        want = {name: ('skip', reason) if reason else ('error', None)
                for name, reason in expected.items()}
        got = {}
        for name, (outcome, text) in outcomes.items():
            if outcome == 'skip':
                # the reason of expected[name] somewhere in the text
                reason = expected.get(name)
                got[name] = ('skip', reason if reason and reason in text
                             else text)
            else:
                got[name] = (outcome, None)
        self.assertEqual(want, got)

    def assertFakeBrokersStopped(self):
        with open(self.pids) as f:
            pids = [int(line) for line in f if line.strip()]
        self.assertNotEqual([], pids)
        alive = [pid for pid in pids if psutil.pid_exists(pid)
                 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        self.assertEqual([], alive)

    def test_pytest(self):
        xml = os.path.join(self.dir, 'report.xml')
        self.run_runner('-m', 'pytest', '-p', 'no:cacheprovider',
                        '-p', 'no:xdist', '--junitxml', xml,
                        '--amqp1-daemons', '--amqp1-require-real',
                        'test_absent.py', 'test_plugin_absent.py')
        outcomes = {}
        for case in ElementTree.parse(xml).iter('testcase'):
            name = case.get('name')
            skipped = case.find('skipped')
            if skipped is not None:
                outcomes[name] = ('skip', skipped.get('message', ''))
            elif (case.find('error') is not None
                  or case.find('failure') is not None):
                # pytest reports a test case's exception as a failure
                outcomes[name] = ('error', None)
            else:
                outcomes[name] = ('success', None)
        self.assertOutcomes(dict(TESTTOOLS_EXPECTED, **PLUGIN_EXPECTED),
                            outcomes)
        self.assertFakeBrokersStopped()

    def test_testtools_run(self):
        proc = self.run_runner('-m', 'testtools.run', '-v', 'test_absent')
        # testtools' text result prints no skip reason ("skipped None"):
        # the outcome is checked here, the reason under stestr, which
        # runs the same result classes through subunit.
        outcomes = {}
        for line in proc.stdout.decode().splitlines():
            test, sep, outcome = line.partition(' ... ')
            if sep and test.startswith('test_absent.TestAbsent.'):
                name = test.rsplit('.', 1)[1]
                word = outcome.split()[0]
                outcomes[name] = ({'skipped': 'skip', 'ERROR': 'error',
                                   'FAIL': 'error', 'ok': 'success'}
                                  .get(word, word), 'n/a')
        expected = {name: 'n/a' if reason else None
                    for name, reason in TESTTOOLS_EXPECTED.items()}
        self.assertOutcomes(expected, outcomes)
        self.assertFakeBrokersStopped()

    def test_stestr(self):
        proc = self.run_runner('-m', 'stestr', 'run', '--subunit',
                               '--concurrency', '2')
        outcomes = {}

        def on_test(test):
            name = test['id'].rsplit('.', 1)[1]
            details = test['details']
            text = '\n'.join(d.as_text() for d in details.values()
                             if d.content_type.type == 'text')
            outcomes[name] = ({'fail': 'error'}.get(test['status'],
                                                    test['status']), text)
            if test['status'] == 'skip':
                # nothing but the reason: no log of a daemon that never
                # ran, no traceback of a wrapped exception
                self.assertNotIn('FileNotFoundError', text)
                self.assertNotIn('MultipleExceptions', text)

        stream = subunit.ByteStreamToStreamResult(
            io.BytesIO(proc.stdout), non_subunit_name='stdout')
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        stream.run(result)
        result.stopTestRun()
        self.assertOutcomes(TESTTOOLS_EXPECTED, outcomes)
        self.assertFakeBrokersStopped()
