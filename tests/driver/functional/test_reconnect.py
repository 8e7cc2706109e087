"""The reconnect schedule seen from the peers' side: plain TCP listeners
that accept and hang up at once record which host each attempt went to
and when.  The schedule itself (backoff, cap, reset) is checked on a fake
clock in tests/driver/unit/test_hosts.py; here the driver's I/O thread
really follows it: first host random, then round robin, the attempts
``connection_retry_interval`` apart (a lower bound only)."""

import selectors
import socket
import threading
import time

from tests import messaging


class HangUp:
    """Listeners that record (monotonic time, index) per connection."""

    def __init__(self, count):
        self.socks = []
        self.sel = selectors.DefaultSelector()
        for i in range(count):
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            s.listen(8)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, i)
            self.socks.append(s)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.attempts = []
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.2):
                try:
                    conn, _ = key.fileobj.accept()
                except OSError:
                    continue
                conn.close()
                with self.cond:
                    self.attempts.append((time.monotonic(), key.data))
                    self.cond.notify_all()

    def wait(self, n, timeout):
        with self.cond:
            self.cond.wait_for(lambda: len(self.attempts) >= n, timeout)
            return list(self.attempts)

    def close(self):
        self.stopping = True
        self.thread.join(10)
        for s in self.socks:
            s.close()
        self.sel.close()


class ReconnectScheduleTest(messaging.TestCase):

    def test_round_robin_at_the_interval(self):
        self.conf = messaging.make_conf(connection_retry_interval=1,
                                        connection_retry_backoff=1,
                                        connection_retry_interval_max=1)
        peers = HangUp(3)
        self.addCleanup(peers.close)
        url = 'amqp://%s/' % ','.join('127.0.0.1:%d' % p
                                      for p in peers.ports)
        transport = self.useFixture(
            messaging.Transport(self.conf, url)).transport
        transport._driver._io_thread()  # connect now, without a send
        attempts = peers.wait(4, timeout=30)[:4]
        self.assertEqual(4, len(attempts))
        order = [i for _, i in attempts]
        first = order[0]
        self.assertEqual([(first + k) % 3 for k in range(4)], order)
        gaps = [b[0] - a[0] for a, b in zip(attempts, attempts[1:])]
        for gap in gaps:
            self.assertGreater(gap, 0.9, gaps)

    def test_first_host_is_random(self):
        # over a few transports, more than one host is tried first
        peers = HangUp(2)
        self.addCleanup(peers.close)
        url = 'amqp://%s/' % ','.join('127.0.0.1:%d' % p
                                      for p in peers.ports)
        firsts = set()
        for n in range(1, 31):
            transport = messaging.Transport(self.conf, url)
            transport.setUp()
            transport.transport._driver._io_thread()
            got = peers.wait(len(peers.attempts) + 1, timeout=10)
            transport.cleanUp()
            firsts.add(got[-1][1])
            if len(firsts) == 2:
                break
        self.assertEqual({0, 1}, firsts)
