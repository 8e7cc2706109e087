"""Tests of amqp1_fixtures.engine.loop: selector, wake-up, commands and timers.

The clock is a number the test sets, so timers are checked without
waiting for them.
"""

import selectors
import socket
import threading

import fixtures
import testtools

from amqp1_fixtures.engine import loop as loop_mod


class Clock:

    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


class LoopTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.loop = loop_mod.Loop(self.clock)
        self.loop.open()
        self.addCleanup(self.loop.close)


class TestTimers(LoopTestCase):

    def test_due_timers_run_in_order(self):
        ran = []
        self.loop.later(2.0, ran.append, 'second')
        self.loop.later(1.0, ran.append, 'first')
        self.loop.later(1.0, ran.append, 'first, scheduled later')
        self.assertEqual(1.0, self.loop.timeout(5.0))
        self.loop.run_timers()
        self.assertEqual([], ran)
        self.clock.now += 1.5
        self.loop.run_timers()
        self.assertEqual(['first', 'first, scheduled later'], ran)
        self.assertEqual(0.5, self.loop.timeout(5.0))
        self.clock.now += 10
        self.loop.run_timers()
        self.assertEqual(['first', 'first, scheduled later', 'second'], ran)
        self.assertEqual(5.0, self.loop.timeout(5.0))

    def test_overdue_timer_means_no_wait(self):
        self.loop.later(1.0, lambda: None)
        self.clock.now += 3
        self.assertEqual(0.0, self.loop.timeout(1.0))

    def test_failing_timer_is_logged_and_the_others_run(self):
        log = self.useFixture(fixtures.FakeLogger(name='amqp1_fixtures'))
        ran = []
        self.loop.later(0, lambda: 1 / 0)
        self.loop.later(0, ran.append, 'after')
        self.loop.run_timers()
        self.assertEqual(['after'], ran)
        self.assertIn('ZeroDivisionError', log.output)

    def test_close_forgets_timers(self):
        self.loop.later(1.0, lambda: None)
        self.loop.close()
        self.assertEqual(7.0, self.loop.timeout(7.0))


class TestCommands(LoopTestCase):

    def test_posted_command_runs_at_the_next_poll(self):
        ran = []
        thread = threading.Thread(target=self.loop.post,
                                  args=(lambda: ran.append('done'),))
        thread.start()
        thread.join()
        self.assertEqual([], ran)
        # The wake-up makes poll return at once, not after 5 s.
        self.assertEqual([], self.loop.poll(5.0))
        self.assertEqual(['done'], ran)

    def test_post_after_close_is_not_an_error(self):
        self.loop.close()
        self.loop.post(lambda: None)


class TestSockets(LoopTestCase):

    def test_ready_sockets_are_reported_with_their_handler(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        handler = object()
        self.loop.watch(ours, 0, selectors.EVENT_READ, handler)
        self.assertEqual([], self.loop.poll(0))
        theirs.send(b'x')
        self.assertEqual([(handler, selectors.EVENT_READ)],
                         self.loop.poll(1.0))
        self.loop.watch(ours, selectors.EVENT_READ,
                        selectors.EVENT_READ | selectors.EVENT_WRITE, handler)
        self.assertEqual(
            [(handler, selectors.EVENT_READ | selectors.EVENT_WRITE)],
            self.loop.poll(1.0))
        self.loop.watch(ours, selectors.EVENT_READ | selectors.EVENT_WRITE,
                        0, handler)
        self.assertEqual([], self.loop.poll(0))

    def test_unwatch_of_an_unwatched_socket_raises(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        self.assertRaises(KeyError, self.loop.unwatch, ours)
