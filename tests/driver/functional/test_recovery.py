"""Link-level recovery and re-sends while the connection stays up or
comes back: what the 14.x TestLinkRecovery and TestMessageRetransmit
checked, over real TCP to the fakes."""

import threading

import oslo_messaging

from amqp1_fixtures import FakeRouter
from tests.driver.functional import base
from tests.driver.functional import peer

RPC = 'openstack.org/om/rpc'
ANYCAST = RPC + '/anycast'


def in_thread(func, *args, **kwargs):
    """Run ``func`` in a thread; return (done Event, outcome list)."""
    done = threading.Event()
    outcome = []

    def run():
        try:
            outcome.append(func(*args, **kwargs))
        except Exception as exc:  # noqa: B902 - the test inspects it
            outcome.append(exc)
        done.set()
    threading.Thread(target=run, daemon=True).start()
    return done, outcome


class ResendAcrossReconnectTest(base.TestCase):

    def test_released_call_resent_after_reconnect(self):
        # released, then the connection drops during link_retry_delay:
        # the re-send must still happen on the next connection
        self.conf = base.make_conf(link_retry_delay=3)
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        self.server(url)
        client = self.client(url, timeout=20)
        fault = router.inject('release', address=ANYCAST, count=1)
        done, outcome = in_thread(client.call, 5)
        router.wait_for(lambda: fault.matched >= 1)
        router.kill()
        router.start()
        self.assertTrue(done.wait(25))
        self.assertEqual({'server': 'server', 'value': 5}, outcome[0])

    def test_pending_cast_resent_after_link_loss_and_reconnect(self):
        # the peer closes a sender link with a message still queued on it
        # (no credit); the connection is then lost before
        # link_retry_delay ends: the message goes out on the new one
        self.conf = base.make_conf(link_retry_delay=3,
                                   default_send_timeout=20)
        router = self.useFixture(FakeRouter())
        url = router.transport_url
        server = self.server(url)
        client = self.client(url)
        fault = router.inject('withhold-credit', address=ANYCAST)
        done, outcome = in_thread(client.cast, 6)
        router.wait_for(lambda: peer.close_links(router, ANYCAST, False))
        fault.remove()
        router.kill()
        router.start()
        self.assertTrue(done.wait(25))
        self.assertEqual([None], outcome)
        self.assertEqual(('cast', 6),
                         server.endpoint.calls.get(timeout=10))
