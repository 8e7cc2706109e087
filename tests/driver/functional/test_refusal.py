"""Errors that say why: an unreachable bus, a peer that refuses, a bad
option in the URL.

A call, cast or notification that cannot reach its bus names the host
and port and the last connect error; one whose peer refuses a link, ends
the session or closes the connection with an error condition fails
within a second with that condition and its description (oslo's
exception types stay: MessagingTimeout, MessageDeliveryFailure).
"""

import socket
import threading
import time

import oslo_messaging

from amqp1_driver import exceptions
from tests import messaging
from tests.driver.functional import refusing_peer

#: how fast a refusal must reach every waiter (s)
PROMPT = 1.0


class _Waiters:
    """A call, a cast and a notification started together on one URL."""

    def __init__(self, test, url, timeout):
        conf = test.conf
        topic = test.topic
        self.client = test.useFixture(messaging.RpcClient(
            conf, url, topic, timeout=timeout)).client
        self.notify = test.useFixture(messaging.Transport(
            conf, url, notification=True)).transport
        target = oslo_messaging.Target(topic='%s.info' % topic)
        self.runs = {
            'call': lambda: self.client.call({}, 'echo', value=1),
            'cast': lambda: self.client.cast({}, 'echo', value=2),
            'notification': lambda: self.notify._send_notification(
                target, {}, {'x': 1}, 2.0),
        }

    def run(self):
        """Run all three at once: ``{name: (seconds, outcome)}``."""
        results = {}
        threads = []
        for name, func in self.runs.items():
            def one(name=name, func=func):
                start = time.monotonic()
                try:
                    outcome = func()
                except Exception as exc:  # noqa: B902 - the test's to check
                    outcome = exc
                results[name] = (time.monotonic() - start, outcome)
            threads.append(threading.Thread(target=one, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return results


class UnreachableBusTest(messaging.TestCase):

    def test_errors_name_the_host_and_the_connect_error(self):
        # bound, not listening: every connection is refused
        holder = socket.socket()
        self.addCleanup(holder.close)
        holder.bind(('127.0.0.1', 0))
        port = holder.getsockname()[1]
        results = _Waiters(self, 'amqp://127.0.0.1:%d/' % port, 2).run()
        self.assertEqual({'call', 'cast', 'notification'}, set(results))
        # a call times out after its timeout (2 s); casts and
        # notifications are not acknowledged within default_send_timeout
        # and default_notify_timeout (5 s)
        want = {'call': oslo_messaging.MessagingTimeout,
                'cast': oslo_messaging.MessageDeliveryFailure,
                'notification': oslo_messaging.MessageDeliveryFailure}
        for name, (_, error) in results.items():
            self.assertIsInstance(error, want[name], name)
            text = str(error)
            self.assertIn('127.0.0.1:%d' % port, text, name)
            self.assertIn('Connection refused', text, name)


class PeerRefusalTest(messaging.TestCase):
    """Against a proton peer that says no (tests/driver/functional/
    refusing_peer.py); the callers' own timeouts are 30 s."""

    def _refused(self, mode):
        peer = self.useFixture(refusing_peer.RefusingPeer(mode))
        results = _Waiters(self, peer.url, 30).run()
        self.assertEqual({'call', 'cast', 'notification'}, set(results))
        name, description = peer.condition
        for what, (seconds, error) in results.items():
            self.assertIsInstance(error, exceptions.PeerRefused, what)
            self.assertIsInstance(error,
                                  oslo_messaging.MessageDeliveryFailure)
            self.assertEqual((name, description),
                             (error.condition, error.description))
            self.assertIn('%s: %s' % (name, description), str(error), what)
            self.assertIn('127.0.0.1:%d' % peer.port, str(error), what)
            # connecting takes milliseconds; the refusal reaches everyone
            # at once
            self.assertLess(seconds, PROMPT + 1.0, what)
        self.assertGreaterEqual(peer.refusals, 1)
        return results

    def test_session_ended_for_a_dynamic_source(self):
        # RabbitMQ 4.0: "amqp:not-implemented: Dynamic sources not
        # supported", ending the session of the reply link
        self._refused('dynamic-session')

    def test_reply_link_refused(self):
        self._refused('dynamic-link')

    def test_sender_links_refused(self):
        self._refused('sender-links')

    def test_connection_closed_with_an_error(self):
        self._refused('connection')

    def test_later_requests_fail_fast_too(self):
        peer = self.useFixture(refusing_peer.RefusingPeer('dynamic-session'))
        client = self.useFixture(messaging.RpcClient(
            self.conf, peer.url, self.topic, timeout=30))
        for _ in range(3):
            start = time.monotonic()
            self.assertRaises(exceptions.PeerRefused, client.call, 1)
            self.assertLess(time.monotonic() - start, PROMPT + 1.0)


class UrlOptionTest(messaging.TestCase):

    def test_bad_value_names_the_option_and_the_value(self):
        error = self.assertRaises(
            oslo_messaging.InvalidTransportURL,
            oslo_messaging.get_rpc_transport, self.conf,
            url='amqp://joe:secret@127.0.0.1:5672/?idle_timeout=abc')
        self.assertIn('idle_timeout', str(error))
        self.assertIn("'abc'", str(error))
        self.assertNotIn('secret', str(error))
        self.assertIsInstance(error, ValueError)

    def test_out_of_bounds_value(self):
        error = self.assertRaises(
            oslo_messaging.InvalidTransportURL,
            oslo_messaging.get_rpc_transport, self.conf,
            url='amqp://127.0.0.1:5672/?connection_retry_interval=0')
        self.assertIn('connection_retry_interval', str(error))
        self.assertIn("'0'", str(error))
