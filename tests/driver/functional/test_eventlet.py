"""The driver in a process monkey-patched by eventlet (a subprocess)."""

import json
import os
import subprocess
import sys

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests import messaging

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class EventletTest(messaging.TestCase):

    def _run(self, executor):
        router = self.useFixture(FakeRouter())
        broker = self.useFixture(FakeBroker())
        env = dict(os.environ, PYTHONPATH=ROOT)
        proc = subprocess.run(
            [sys.executable, '-W', 'ignore', '-m',
             'tests.driver.functional.eventlet_peer', router.transport_url,
             broker.transport_url, executor],
            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
        self.assertEqual(0, proc.returncode, proc.stderr[-3000:])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(1, out['call'])
        self.assertEqual(list(range(20)), out['concurrent'])
        self.assertEqual(3, out['monitored'])
        self.assertTrue(out.get('timeout'))
        self.assertEqual('green', out['notification'])
        self.assertEqual([], out['driver_threads'])

    def test_eventlet_executor(self):
        self._run('eventlet')

    def test_threading_executor_patched(self):
        self._run('threading')
