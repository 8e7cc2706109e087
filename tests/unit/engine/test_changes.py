"""Tests of amqp1_fixtures.engine.changes: waiting on the engine's progress."""

import threading

import testtools

from amqp1_fixtures.engine import changes
from amqp1_fixtures import exceptions


class TestChanges(testtools.TestCase):

    def test_predicate_true_at_once(self):
        self.assertEqual('yes', changes.Changes().wait_for(lambda: 'yes'))

    def test_predicate_reevaluated_when_notified(self):
        progress = changes.Changes()
        state = []
        calls = []

        def predicate():
            calls.append(1)
            return bool(state)

        def engine_pass():
            state.append(1)
            progress.notify()

        # Notified from another thread while the waiter sleeps.
        timer = threading.Timer(0.05, engine_pass)
        timer.start()
        self.addCleanup(timer.join)
        self.assertTrue(progress.wait_for(predicate, timeout=30))
        self.assertGreaterEqual(len(calls), 2)

    def test_timeout_names_the_condition(self):
        now = [0.0]

        def clock():
            now[0] += 5.0
            return now[0]

        progress = changes.Changes(clock)
        error = self.assertRaises(exceptions.WaitTimeout,
                                  progress.wait_for, lambda: False,
                                  timeout=1, message='never true')
        self.assertEqual('never true', str(error))
