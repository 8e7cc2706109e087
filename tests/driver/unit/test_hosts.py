"""amqp1_driver.hosts: failover order and the reconnect schedule, on a
fake clock (the whole schedule runs in milliseconds)."""

import types

import testtools

from amqp1_driver import hosts
from amqp1_driver import loop
from tests.driver.unit import pair


def three(**kwargs):
    return hosts.Hosts([hosts.Host('h%d' % i, 5672 + i) for i in range(3)],
                       **kwargs)


class NextDelayTest(testtools.TestCase):

    def test_defaults_double_up_to_max(self):
        delays = [1]
        for _ in range(7):
            delays.append(hosts.next_delay(delays[-1], 1, 2, 30))
        self.assertEqual([1, 2, 4, 8, 16, 30, 30, 30], delays)

    def test_zero_backoff_does_not_spin(self):
        self.assertEqual(1, hosts.next_delay(1, 1, 0, 30))


class OrderTest(testtools.TestCase):

    def test_round_robin_from_the_first(self):
        h = three(first=1)
        self.assertEqual(['h1', 'h2', 'h0', 'h1'],
                         [h.next().hostname for _ in range(4)])
        self.assertEqual('h1', h.current.hostname)

    def test_first_is_random(self):
        firsts = {three().next().hostname for _ in range(200)}
        self.assertEqual({'h0', 'h1', 'h2'}, firsts)

    def test_default_host(self):
        h = hosts.Hosts([])
        self.assertEqual('localhost:5672', str(h.next()))

    def test_from_url(self):
        url = types.SimpleNamespace(hosts=[
            types.SimpleNamespace(hostname='a', port=None, username='u',
                                  password='p'),
            types.SimpleNamespace(hostname=None, port=5673, username=None,
                                  password=None)])
        group = types.SimpleNamespace(connection_retry_interval=1,
                                      connection_retry_backoff=2,
                                      connection_retry_interval_max=30)
        h = hosts.Hosts.from_url(url, group)
        self.assertEqual(2, len(h))
        got = sorted((str(x), x.username, x.password)
                     for x in (h.next(), h.next()))
        self.assertEqual([('a:5672', 'u', 'p'),
                          ('localhost:5673', None, None)], got)


class ScheduleTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = pair.FakeClock(100.0)

    def test_backoff_and_cap(self):
        h = three(interval=1, backoff=2, maximum=5, clock=self.clock)
        due = []
        for _ in range(6):
            h.next()
            due.append(h.failed('refused') - self.clock.now)
        self.assertEqual([1, 2, 4, 5, 5, 5], due)
        self.assertEqual('refused', h.last_error)

    def test_reset_once_connected(self):
        h = three(interval=2, backoff=3, maximum=60, clock=self.clock)
        for _ in range(3):
            h.failed('x')
        self.assertEqual(54, h.delay)
        h.connected()
        self.assertIsNone(h.last_error)
        self.assertEqual(self.clock.now + 2, h.failed('lost'))

    def test_attempts_on_the_loop(self):
        # what the I/O thread does: every attempt fails at once and the
        # next is scheduled with call_at(hosts.failed(...)); the clock is
        # moved from timer to timer, so 5 attempts take milliseconds
        h = three(interval=1, backoff=2, maximum=2, clock=self.clock,
                  first=2)
        lp = loop.Loop(lambda task: task(), clock=self.clock)
        self.addCleanup(lp.close)
        attempts = []

        def attempt():
            host = h.next()
            attempts.append((self.clock.now - 100.0, host.hostname))
            lp.call_at(h.failed('cannot connect to %s' % host), attempt)

        attempt()
        while len(attempts) < 5:
            self.clock.now = lp.next_due()
            lp.run_timers()
        # 1 s, then x2 = 2 s, then capped at 2 s, round robin from h2
        self.assertEqual([(0.0, 'h2'), (1.0, 'h0'), (3.0, 'h1'),
                          (5.0, 'h2'), (7.0, 'h0')], attempts)
        self.assertEqual('cannot connect to h0:5672', h.last_error)
