"""Amqp1Service in each AMQP1_SERVICE mode with the real oslo.messaging:
an RPC call and a notification through the URLs the service publishes."""

import queue
import time

import oslo_messaging
import testtools

from amqp1_fixtures.daemons import rabbitmq
from amqp1_fixtures import service
from tests import messaging
from tests import realqpid


class ServiceRoundTrip:
    """Mixin: ``mode`` and ``daemons`` say which service to test."""

    mode = None
    daemons = False
    #: with ``daemons``: only the real qdrouterd/qpidd (skip if absent)
    require_real = False
    users = None

    def setUp(self):
        super().setUp()
        if (service.LAYOUT[self.mode][1] == 'rabbitmq'
                and not rabbitmq.find_rabbitmq_server()):
            self.skipTest('rabbitmq-server is not installed')
        if self.require_real:
            for kind in service.LAYOUT[self.mode]:
                name = {'router': 'qdrouterd', 'broker': 'qpidd'}.get(kind)
                if name and not realqpid.find(name):
                    self.skipTest(realqpid.absent_reason(name))
        self.service = self.useFixture(service.Amqp1Service(
            self.mode, daemons=self.daemons, require_real=self.require_real,
            users=self.users))
        if self.require_real:
            for backend in (self.service.rpc_backend,
                            self.service.notify_backend):
                self.assertIn(getattr(backend, 'impl', 'rabbitmq'),
                              ('qdrouterd', 'qpidd', 'rabbitmq'))
        self.conf = messaging.make_conf()
        # The helper under test: no URL is passed to oslo.messaging below.
        self.service.configure(self.conf, default_reply_timeout=10)

    def test_backends_and_round_trip(self):
        self.check_backends()
        self.check_round_trip()

    def check_round_trip(self):
        topic = messaging.unique()
        rpc_transport = oslo_messaging.get_rpc_transport(self.conf)
        self.addCleanup(rpc_transport.cleanup)
        self.assertEqual(self.service.rpc_url,
                         self.conf.transport_url)
        self.useFixture(messaging.RpcServer(self.conf, None, topic))
        client = oslo_messaging.get_rpc_client(
            rpc_transport, oslo_messaging.Target(topic=topic), timeout=20)
        self.assertEqual({'server': 'server', 'value': 7},
                         client.call({}, 'echo', value=7))

        listener = self.useFixture(messaging.NotifyListener(self.conf, None,
                                                            topic))
        notifier = self.useFixture(messaging.Notifier(self.conf, None,
                                                      topic))
        # A listener's subscription may still be in flight when it
        # returns (RabbitMQ drops what no queue takes), so notify until
        # one arrives.
        deadline = time.monotonic() + 30
        while True:
            notifier.info('svc.test', {'mode': self.mode})
            try:
                event = listener.get(timeout=1)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise
        self.assertEqual(('svc.test', {'mode': self.mode}), event)

    def check_backends(self):
        rpc_kind, notify_kind = service.LAYOUT[self.mode]
        self.assertIs(getattr(self.service, rpc_kind),
                      self.service.rpc_backend)
        self.assertIs(getattr(self.service, notify_kind),
                      self.service.notify_backend)
        scheme = 'rabbit' if notify_kind == 'rabbitmq' else 'amqp'
        self.assertTrue(self.service.notify_url.startswith(scheme + '://'))
        self.assertTrue(self.service.rpc_url.startswith('amqp://'))
        if self.mode == 'qpid':
            self.assertEqual(self.service.rpc_url, self.service.notify_url)
        else:
            self.assertNotEqual(self.service.rpc_url,
                                self.service.notify_url)


class TestQpidFakes(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid'


class TestQpidDualFakes(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid-dual'
    users = {'stackqpid': 'secret:qpid'}


class TestQpidHybridFakes(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid-hybrid'


class TestQpidRealDaemons(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid'
    daemons = require_real = True
    users = {'stackqpid': 'secret:qpid'}


class TestQpidDualRealDaemons(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid-dual'
    daemons = require_real = True
    users = {'stackqpid': 'secret:qpid'}


class TestQpidHybridRealDaemons(ServiceRoundTrip, testtools.TestCase):
    mode = 'qpid-hybrid'
    daemons = require_real = True


class TestExternalOverFakes(testtools.TestCase):

    def test_external_mode_uses_given_urls(self):
        backing = self.useFixture(service.Amqp1Service('qpid-dual'))
        svc = self.useFixture(service.Amqp1Service(
            'external', environ=backing.environ_vars()))
        self.assertEqual(backing.rpc_url, svc.rpc_url)
        self.assertEqual(backing.notify_url, svc.notify_url)
        conf = svc.configure(messaging.make_conf())
        topic = messaging.unique()
        self.useFixture(messaging.RpcServer(conf, None, topic))
        client = self.useFixture(messaging.RpcClient(conf, None, topic))
        self.assertEqual(1, client.call(1)['value'])
