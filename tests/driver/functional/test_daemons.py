"""The new driver through daemon processes with SASL PLAIN users: the
stand-ins (``impl='standin'``) and the real qdrouterd 1.19 / qpidd 1.40
(CI's bundle, found by tests.realqpid; those classes skip where absent).
RPC call/cast/fanout and a monitored call through each, notifications
through the broker and the router, a wrong password against the routers.
"""

import queue
import threading
import time

import oslo_messaging

from amqp1_driver import exceptions
from amqp1_fixtures.daemons import qpid as daemons
from tests import messaging
from tests import realqpid

USERS = {'stackqpid': 'secretqpid'}
#: the call-monitor timeout of the monitored calls: heartbeats come every
#: half of it (oslo sends none below a 1 s interval)
MONITOR = 2


class _Cases:
    daemon = None          # RouterDaemon or BrokerDaemon
    options = {}           # impl= or require_real=

    def setUp(self):
        super().setUp()
        bus = self.daemon(users=USERS, **self.options)
        if bus.impl is None:
            self.skipTest(realqpid.absent_reason(bus.real_name))
        self.bus = self.useFixture(bus)
        self.url = self.bus.transport_url

    def test_rpc(self):
        s1 = self.server(self.url, 's1')
        s2 = self.server(self.url, 's2')
        client = self.client(self.url)
        self.assertEqual(1, client.call(1)['value'])
        self.assertEqual('s2', client.call(2, server='s2')['server'])
        client.cast(3, server='s1')
        self.assertIn(('cast', 3), self._until(s1, ('cast', 3)))
        client.cast(4, fanout=True)
        for server in (s1, s2):
            self.assertNotIn(('cast', 3), self._until(server, ('cast', 4)))
        error = self.assertRaises(
            ValueError, client.client.prepare().call, {}, 'fail',
            text='boom')
        self.assertIn('boom', str(error))

    @staticmethod
    def _until(server, item):
        """What ``server`` handled, up to ``item`` (10 s each)."""
        got = [server.endpoint.calls.get(timeout=10)]
        while got[-1] != item:
            got.append(server.endpoint.calls.get(timeout=10))
        return got

    def test_monitored_call(self):
        key = messaging.unique('ev')
        event = messaging.EVENTS[key] = threading.Event()
        self.addCleanup(messaging.EVENTS.pop, key)
        self.addCleanup(event.set)
        self.server(self.url)
        client = self.client(self.url)
        outcome = queue.Queue()

        def call():
            try:
                outcome.put(client.client.prepare(
                    timeout=60, call_monitor_timeout=MONITOR).call(
                        {}, 'wait_for', key=key))
            except Exception as exc:  # noqa: B902 - the test checks it
                outcome.put(exc)
        threading.Thread(target=call, daemon=True).start()
        # nothing may come back for over twice the monitor timeout: the
        # server's heartbeats through the daemon keep the call alive
        self.assertRaises(queue.Empty, outcome.get, timeout=2 * MONITOR + 1)
        event.set()
        self.assertEqual(key, outcome.get(timeout=10))

    def test_monitored_call_without_server_times_out(self):
        client = self.client(self.url)
        start = time.monotonic()
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          client.client.prepare(
                              timeout=60, call_monitor_timeout=MONITOR,
                              server='nobody').call,
                          {}, 'echo', value=1)
        self.assertLess(time.monotonic() - start, 15)

    def test_notifications(self):
        listener = self.useFixture(messaging.NotifyListener(
            self.conf, self.url, self.topic))
        notifier = self.useFixture(messaging.Notifier(
            self.conf, self.url, self.topic)).notifier
        notifier.info({}, 'ev.info', {'n': 1})
        notifier.error({}, 'ev.error', {'n': 2})
        got = sorted(listener.endpoint.events.get(timeout=10)
                     for _ in range(2))
        self.assertEqual([('error', 'ev.error', {'n': 2}),
                          ('info', 'ev.info', {'n': 1})], got)


class _WrongPassword:

    def test_wrong_password(self):
        url = self.bus.url(user='stackqpid', password='wrong')
        client = self.client(url)
        start = time.monotonic()
        error = self.assertRaises(exceptions.AuthenticationFailure,
                                  client.call, 1, timeout=20)
        self.assertLess(time.monotonic() - start, 20)
        self.assertIn('127.0.0.1:%d' % self.bus.port, str(error))
        self.assertIn("'stackqpid'", str(error))
        self.assertNotIn('wrong', str(error))


class StandinRouterTest(_Cases, _WrongPassword, messaging.TestCase):
    daemon = daemons.RouterDaemon
    options = {'impl': 'standin'}


class StandinBrokerTest(_Cases, messaging.TestCase):
    daemon = daemons.BrokerDaemon
    options = {'impl': 'standin'}


class RealRouterTest(_Cases, _WrongPassword, messaging.TestCase):
    daemon = daemons.RouterDaemon
    options = {'require_real': True}

    def test_is_real(self):
        self.assertEqual('qdrouterd', self.bus.impl)


class RealBrokerTest(_Cases, messaging.TestCase):
    daemon = daemons.BrokerDaemon
    options = {'require_real': True}

    def test_is_real(self):
        self.assertEqual('qpidd', self.bus.impl)
