"""amqp1_driver.loop: tasks, timers on a fake clock, the wake-up."""

import socket

import testtools

from amqp1_driver import loop
from tests.driver.unit import pair


class LoopTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock(50.0)
        self.ran = []
        self.loop = loop.Loop(self.ran.append, clock=self.clock)
        self.addCleanup(self.loop.close)

    def test_tasks_in_order_and_wakeup(self):
        self.assertIsNone(self.loop.timeout())
        self.loop.submit('a')
        self.loop.submit('b')
        self.assertEqual(0, self.loop.timeout())
        # the wake-up byte makes select return at once
        self.loop.run_once()
        self.assertEqual(['a', 'b'], self.ran)
        self.assertIsNone(self.loop.timeout())

    def test_timers_by_the_clock(self):
        calls = []
        self.loop.call_later(2, calls.append, 'two')
        self.loop.call_later(1, calls.append, 'one')
        self.loop.call_at(50.5, calls.append, 'half')
        self.assertEqual(0.5, self.loop.timeout())
        self.clock.advance(1)
        self.loop.run_timers()
        self.assertEqual(['half', 'one'], calls)
        self.assertEqual(51.0, self.clock.now)
        self.assertEqual(52.0, self.loop.next_due())
        self.clock.advance(5)
        self.assertEqual(0, self.loop.timeout())
        self.loop.run_timers()
        self.assertEqual(['half', 'one', 'two'], calls)
        self.assertIsNone(self.loop.next_due())

    def test_cancel(self):
        calls = []
        timer = self.loop.call_later(1, calls.append, 'x')
        later = self.loop.call_later(3, calls.append, 'y')
        self.loop.cancel(timer)
        self.loop.cancel(timer)
        self.loop.cancel(None)
        self.assertEqual(53.0, self.loop.next_due())
        self.clock.advance(10)
        self.loop.run_timers()
        self.assertEqual(['y'], calls)
        self.assertFalse(later.cancelled)

    def test_many_cancelled_timers_are_dropped(self):
        timers = [self.loop.call_later(i, lambda: None) for i in range(200)]
        for timer in timers[:150]:
            self.loop.cancel(timer)
        self.assertLess(len(self.loop._timers), 200)
        self.assertEqual(50.0 + 150, self.loop.next_due())

    def test_watch_calls_back_with_the_mask(self):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        seen = []
        self.loop.watch(a, loop.selectors.EVENT_READ, seen.append)
        b.send(b'x')
        self.loop.run_once()
        self.assertEqual([loop.selectors.EVENT_READ], seen)
        self.loop.watch(a, 0, seen.append)
        self.loop.unwatch(a)  # twice is harmless
        self.loop.submit('t')
        self.loop.run_once()
        self.assertEqual(1, len(seen))

    def test_deferred_task_waits_for_the_next_turn(self):
        self.loop.defer('lazy')
        # no wake-up: select waits up to max_wait (here 0: nothing ready)
        self.assertEqual(0, self.loop.timeout())
        self.loop.run_once(max_wait=0)
        self.assertEqual(['lazy'], self.ran)

    def test_max_wait_bounds_the_wait(self):
        self.loop.call_later(30, lambda: None)
        start = loop.time.monotonic()
        self.loop.run_once(max_wait=0.01)
        self.assertLess(loop.time.monotonic() - start, 5)

    def test_holds_what_has_not_run(self):
        self.loop.submit('a')
        self.assertTrue(self.loop.holds('a'))
        self.loop.run_tasks()
        self.assertFalse(self.loop.holds('a'))

    def test_drain_and_close(self):
        self.loop.submit('a')
        self.assertEqual(['a'], self.loop.drain_tasks())
        self.loop.close()
        self.assertEqual((-1, -1), self.loop.wakeup_fds())
        self.assertRaises(OSError, self.loop.submit, 'b')
        self.assertRaises(OSError, self.loop.defer, 'c')
