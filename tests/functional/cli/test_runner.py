"""``amqp1-fixtures run`` as a real process around real commands."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import fixtures
import testtools

from amqp1_fixtures.daemons import ports
from tests import realqpid

RUN = [sys.executable, '-m', 'amqp1_fixtures.cli', 'run']
PREFIX = 'amqp1-fixtures run: '

# Prints what the runner exported, then exits with argv[1].
SHOW_ENV = '''
import os, sys
for name in ('RPC_TRANSPORT_URL', 'NOTIFY_TRANSPORT_URL', 'TRANSPORT_URL',
             'P_RPC_TRANSPORT_URL', 'AMQP1_BACKEND'):
    print('%s=%s' % (name, os.environ.get(name)))
sys.exit(int(sys.argv[1]))
'''

# A consumer on one connection, a producer on another, through
# RPC_TRANSPORT_URL: prints the URLs and the outcome.
CROSS = '''
import os
from tests.functional import proton_clients
url = os.environ['RPC_TRANSPORT_URL']
for name in sorted(os.environ):
    if name.startswith('RPC_TRANSPORT_URL'):
        print('%s=%s' % (name, os.environ[name]))
with proton_clients.Clients(timeout=30) as clients:
    consumer = clients.connect(url).receiver('mesh-run-test', credit=1)
    producer = clients.connect(url).sender('mesh-run-test')
    clients.wait(lambda: producer.credit > 0)
    delivery = producer.send('across')
    clients.wait(lambda: consumer.received)
    consumer.settle(0)
    clients.wait(lambda: delivery.remote_state)
    print('OUTCOME=%s' % delivery.remote_state.name.lower())
'''

# Says "ready" once it handles SIGTERM, then exits 7 on it.
WAIT_TERM = '''
import signal, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
print('ready', flush=True)
while True:
    signal.pause()
'''


# Opens each exported URL with proton and prints the product in its Open.
SHOW_PRODUCTS = '''
import os
from urllib import parse
from proton.utils import BlockingConnection
for name in ('RPC_TRANSPORT_URL', 'NOTIFY_TRANSPORT_URL'):
    url = parse.urlsplit(os.environ[name])
    login = {}
    if url.username:
        login = dict(user=parse.unquote(url.username), allowed_mechs='PLAIN',
                     password=parse.unquote(url.password))
    conn = BlockingConnection('amqp://%s:%d' % (url.hostname, url.port),
                              timeout=10, **login)
    props = {str(k): v for k, v in conn.conn.remote_properties.items()}
    print('%s %s %s' % (name, props['product'], props['version']))
    conn.close()
print('AMQP1_BACKEND %s' % os.environ['AMQP1_BACKEND'])
'''


def run(*args, env=None, timeout=120):
    return subprocess.run(RUN + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


class Lines:
    """The lines of a child's pipe, read on a thread (select() would not
    see what the text wrapper already buffered)."""

    def __init__(self, stream):
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,),
                                        daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self._queue.put(line)
        self._queue.put('')

    def next(self, timeout=60):
        """The next line ('' at EOF); fails after ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no output within %s s' % timeout)


class TestRun(testtools.TestCase):

    def assertStderrLines(self, stderr):
        for line in stderr.splitlines():
            self.assertTrue(line.startswith(PREFIX), line)

    def test_exports_urls_and_returns_status(self):
        result = run('qpid-dual', '--', sys.executable, '-c', SHOW_ENV, '5')
        self.assertEqual(5, result.returncode, result.stderr)
        env = dict(line.split('=', 1) for line in result.stdout.split())
        self.assertTrue(env['RPC_TRANSPORT_URL'].startswith('amqp://'))
        self.assertTrue(env['NOTIFY_TRANSPORT_URL'].startswith('amqp://'))
        self.assertNotEqual(env['RPC_TRANSPORT_URL'],
                            env['NOTIFY_TRANSPORT_URL'])
        self.assertEqual(env['RPC_TRANSPORT_URL'], env['TRANSPORT_URL'])
        self.assertEqual('qpidd', env['AMQP1_BACKEND'])
        self.assertStderrLines(result.stderr)
        self.assertIn('command exited with status 5', result.stderr)

    def test_router_mode_prefix_and_user(self):
        result = run('router', '--env-prefix', 'P_', '--user', 'bob', '--',
                     sys.executable, '-c', SHOW_ENV, '0')
        self.assertEqual(0, result.returncode, result.stderr)
        env = dict(line.split('=', 1) for line in result.stdout.split())
        self.assertEqual('None', env['RPC_TRANSPORT_URL'])
        url = env['P_RPC_TRANSPORT_URL']
        self.assertTrue(url.startswith('amqp://bob:'))
        self.assertEqual('qdrouterd', env['AMQP1_BACKEND'])
        password = url.split(':')[2].split('@')[0]
        self.assertNotIn(password, result.stderr)
        self.assertIn('bob:***@', result.stderr)

    def test_routers_a_mesh_whose_connections_are_dealt(self):
        # Two proton clients through RPC_TRANSPORT_URL: the first
        # connection goes to A, the second to B, so the message crosses.
        result = run('qpid-dual', '--routers', '2', '--', sys.executable,
                     '-c', CROSS)
        self.assertEqual(0, result.returncode, result.stderr)
        shown = dict(line.split('=', 1) for line in result.stdout.split())
        self.assertEqual('accepted', shown['OUTCOME'])
        self.assertNotIn(shown['RPC_TRANSPORT_URL'],
                         (shown['RPC_TRANSPORT_URL_A'],
                          shown['RPC_TRANSPORT_URL_B']))
        self.assertStderrLines(result.stderr)
        self.assertIn('a mesh of 2 in-process routers A, B, connections '
                      'dealt in turn', result.stderr)
        self.assertIn('mesh: 1 messages crossed between routers, of 1 from '
                      'producers (A 0/0/1, B 1/1/0', result.stderr)

    def test_routers_refused_where_they_do_not_apply(self):
        for mode, option, text in (
                ('qpid', '--routers=2', "mode 'qpid' has no router"),
                ('qpid-dual', '--routers=0', 'a number from 1 to 26'),
                ('qpid-dual', '--routers=x', 'a number from 1 to 26')):
            result = run(mode, option, '--', 'true')
            self.assertEqual(2, result.returncode)
            self.assertIn(text, result.stderr)
        env = dict(os.environ, TRANSPORT_URL='amqp://bus.example:5672/')
        result = run('external', '--routers', '2', '--', 'true', env=env)
        self.assertIn('--routers does not apply to external mode',
                      result.stderr)

    def test_unknown_mode(self):
        result = run('rabbit', '--', 'true')
        self.assertEqual(2, result.returncode)
        self.assertIn('valid modes: qpid, qpid-dual, qpid-hybrid, rabbitmq, '
                      'external', result.stderr)

    def test_backend_start_failure(self):
        env = dict(os.environ, AMQP1_RABBITMQ_SERVER='/nonexistent/rabbit')
        result = run('qpid-hybrid', '--', 'true', env=env)
        self.assertEqual(125, result.returncode)
        self.assertStderrLines(result.stderr)
        # a path the user gave that does not exist: an error naming it
        self.assertIn("error: option 'AMQP1_RABBITMQ_SERVER': "
                      "rabbitmq-server /nonexistent/rabbit does not exist",
                      result.stderr)

    def test_external_without_urls(self):
        """One error line naming the variables to set; nothing started,
        nothing said about fakes or Python arguments."""
        env = {k: v for k, v in os.environ.items()
               if not k.endswith('TRANSPORT_URL')}
        result = run('external', '--', 'true', env=env)
        self.assertEqual(125, result.returncode)
        self.assertEqual(
            [PREFIX + 'error: external mode needs the transport URL of '
             'the bus to use: set AMQP1_RPC_TRANSPORT_URL (or '
             'RPC_TRANSPORT_URL or TRANSPORT_URL), and '
             'AMQP1_NOTIFY_TRANSPORT_URL (or NOTIFY_TRANSPORT_URL) when '
             'notifications use another bus'],
            result.stderr.splitlines())

    def test_external_with_urls(self):
        env = dict(os.environ, TRANSPORT_URL='amqp://bus.example:5672/',
                   NOTIFY_TRANSPORT_URL='rabbit://u:secret@mq.example/')
        for name in ('AMQP1_RPC_TRANSPORT_URL', 'RPC_TRANSPORT_URL',
                     'AMQP1_NOTIFY_TRANSPORT_URL'):
            env.pop(name, None)
        result = run('external', '--', sys.executable, '-c', SHOW_ENV, '0',
                     env=env)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertStderrLines(result.stderr)
        self.assertIn(PREFIX + 'starting external: the given transport '
                      'URLs\n', result.stderr)
        self.assertNotIn('fakes', result.stderr)
        self.assertIn('RPC: amqp://bus.example:5672/ (given URL)',
                      result.stderr)
        self.assertIn('notifications: rabbit://u:***@mq.example/ (given '
                      'URL)', result.stderr)
        self.assertNotIn('secret', result.stderr)
        shown = dict(line.split('=', 1) for line in result.stdout.split())
        self.assertEqual('amqp://bus.example:5672/',
                         shown['RPC_TRANSPORT_URL'])

    def test_options_that_do_not_apply_to_external(self):
        env = dict(os.environ, TRANSPORT_URL='amqp://bus.example:5672/')
        for option in ('--daemons', '--require-real', '--user=bob'):
            result = run('external', option, '--', 'true', env=env)
            self.assertEqual(2, result.returncode)
            self.assertEqual(
                [PREFIX + 'error: %s does not apply to external mode (it '
                 'starts nothing)' % option.split('=')[0]],
                result.stderr.splitlines())

    def test_command_that_cannot_be_executed(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        script = os.path.join(tmp, 'not-executable')
        with open(script, 'w') as f:
            f.write('#!/bin/sh\n')
        result = run('broker', '--', script)
        self.assertEqual(126, result.returncode)
        self.assertIn('error: cannot execute %s' % script, result.stderr)

    def test_exit_statuses_are_documented(self):
        """``run --help`` and doc/source/reference/run.rst list every exit
        status the runner itself uses."""
        help_text = subprocess.run(RUN + ['--help'], capture_output=True,
                                   text=True, check=True).stdout
        with open(os.path.join(realqpid.TOP, 'doc', 'source', 'reference',
                               'run.rst')) as f:
            page = f.read()
        for status in ('0', '2', '125', '126', '127', '128+N'):
            self.assertRegex(help_text, r'(?m)^\s+%s\s+\S'
                             % re.escape(status))
            self.assertRegex(page, r'(?m)^``%s``\s+\S' % re.escape(status))

    def test_command_not_found_and_killed(self):
        self.assertEqual(127, run('broker', '--',
                                  '/nonexistent/cmd').returncode)
        self.assertEqual(128 + signal.SIGKILL, run(
            'broker', '--', 'sh', '-c', 'kill -KILL $$').returncode)

    def test_sigterm_is_forwarded_to_command(self):
        proc = subprocess.Popen(
            RUN + ['broker', '--', sys.executable, '-c', WAIT_TERM],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        self.assertEqual('ready\n', Lines(proc.stdout).next())
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(7, proc.wait(60))
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertIn('command exited with status 7', stderr)
        self.assertIn(PREFIX + 'stopped', stderr)

    def test_serve_without_command(self):
        proc = subprocess.Popen(RUN + ['qpid'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        lines = Lines(proc.stdout)
        exports = {}
        while len(exports) < 4:
            line = lines.next()
            self.assertTrue(line.startswith('export '), line)
            name, value = line[len('export '):].strip().split('=', 1)
            exports[name] = value
        url = exports['RPC_TRANSPORT_URL']
        port = int(url.rsplit(':', 1)[1].strip('/'))
        self.assertTrue(ports.accepts_connections('127.0.0.1', port))
        self.assertEqual('qpidd', exports['AMQP1_BACKEND'])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(60))
        proc.stdout.close()
        proc.stderr.close()
        self.assertFalse(ports.accepts_connections('127.0.0.1', port))

    def test_sigint_stops_serving(self):
        proc = subprocess.Popen(RUN + ['router'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        self.assertTrue(Lines(proc.stdout).next().startswith('export '))
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(60))
        self.assertLess(time.monotonic() - start, 30)
        proc.stdout.close()
        proc.stderr.close()


class TestRunRealDaemons(testtools.TestCase):
    """``run --daemons --require-real`` starts the real qdrouterd and qpidd
    (CI's bundle; skipped where absent)."""

    def test_qpid_dual_real_daemons(self):
        for name in ('qdrouterd', 'qpidd'):
            if not realqpid.find(name):
                self.skipTest(realqpid.absent_reason(name))
        result = run('qpid-dual', '--daemons', '--require-real', '--user',
                     'stackqpid', '--', sys.executable, '-c', SHOW_ENV, '0')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertRegex(result.stderr, r'RPC: amqp://stackqpid:\*\*\*@'
                         r'127\.0\.0\.1:\d+/ \(qdrouterd pid \d+\)')
        self.assertRegex(result.stderr, r'notifications: amqp://\S+ '
                         r'\(qpidd pid \d+\)')
        env = dict(line.split('=', 1) for line in result.stdout.split())
        port = int(env['RPC_TRANSPORT_URL'].rsplit(':', 1)[1].strip('/'))
        # stopped with the command
        self.assertFalse(ports.accepts_connections('127.0.0.1', port))


class TestRunRabbitMQ(testtools.TestCase):
    """``run rabbitmq`` and ``run qpid-hybrid --notify-driver amqp``: the
    URLs lead to a RabbitMQ 4 (the fake, or with --daemons the real node,
    skipped where absent)."""

    def products(self, *args):
        result = run(*args, '--', sys.executable, '-c', SHOW_PRODUCTS)
        self.assertEqual(0, result.returncode, result.stderr)
        return result, dict(line.split(' ', 1)
                            for line in result.stdout.splitlines())

    def test_rabbitmq_fake(self):
        result, seen = self.products('rabbitmq')
        self.assertEqual({'RPC_TRANSPORT_URL': 'RabbitMQ 4.0.5',
                          'NOTIFY_TRANSPORT_URL': 'RabbitMQ 4.0.5',
                          'AMQP1_BACKEND': 'rabbitmq'}, seen)
        self.assertRegex(result.stderr, r'RPC: amqp://amqp1fx:\*\*\*@'
                         r'127\.0\.0\.1:\d+/ \(in-process FakeRabbitMQ\)')

    def test_hybrid_notifications_over_amqp(self):
        result, seen = self.products('qpid-hybrid', '--notify-driver',
                                     'amqp')
        self.assertEqual('qpid-dispatch-router 0.1.0',
                         seen['RPC_TRANSPORT_URL'])
        self.assertEqual('RabbitMQ 4.0.5', seen['NOTIFY_TRANSPORT_URL'])
        self.assertIn('starting qpid-hybrid (notifications over amqp://)',
                      result.stderr)

    def test_notify_driver_of_another_mode(self):
        result = run('rabbitmq', '--notify-driver', 'amqp', '--', 'true')
        self.assertEqual(2, result.returncode)
        self.assertIn('--notify-driver applies to qpid-hybrid only',
                      result.stderr)

    def test_rabbitmq_daemons(self):
        from amqp1_fixtures.daemons import rabbitmq4
        if not rabbitmq4.find_rabbitmq4_server():
            self.skipTest(rabbitmq4.absent_reason())
        result, seen = self.products('rabbitmq', '--daemons')
        self.assertTrue(seen['RPC_TRANSPORT_URL'].startswith('RabbitMQ 4.'))
        self.assertRegex(result.stderr, r'RPC: amqp://amqp1fx:\*\*\*@'
                         r'127\.0\.0\.1:\d+/ \(rabbitmq4 pid \d+\)')
