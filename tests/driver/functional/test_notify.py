"""Notifications through FakeBroker with oslo.messaging 18.x."""

import oslo_messaging

from amqp1_fixtures import FakeBroker
from tests import messaging


class NotifyTest(messaging.TestCase):

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(FakeBroker())
        self.url = self.broker.transport_url

    def listener(self, **kwargs):
        return self.useFixture(messaging.NotifyListener(
            self.conf, self.url, self.topic, **kwargs))

    def notifier(self):
        return self.useFixture(messaging.Notifier(
            self.conf, self.url, self.topic)).notifier

    def test_priorities(self):
        listener = self.listener()
        notifier = self.notifier()
        notifier.info({}, 'compute.start', {'n': 1})
        notifier.error({}, 'compute.fail', {'n': 2})
        got = [listener.endpoint.events.get(timeout=10) for _ in range(2)]
        self.assertEqual([('error', 'compute.fail', {'n': 2}),
                          ('info', 'compute.start', {'n': 1})], sorted(got))

    def test_stored_until_listener_comes(self):
        notifier = self.notifier()
        notifier.info({}, 'early', 'before')
        self.broker.wait_for(lambda: self.broker.queues().get(
            'unicast.openstack.%s.info' % self.topic))
        listener = self.listener()
        self.assertEqual(('info', 'early', 'before'),
                         listener.endpoint.events.get(timeout=10))

    def test_requeue_redelivers(self):
        listener = self.listener(
            endpoint=messaging.NotifyEndpoint(requeue_first=True))
        self.notifier().info({}, 'again', 'payload')
        events = listener.endpoint.events
        self.assertEqual(('info', 'again', 'payload'), events.get(timeout=10))
        # released by requeue(): the broker delivers it a second time
        self.assertEqual(('info', 'again', 'payload'), events.get(timeout=10))

    def test_batch(self):
        listener = self.listener(endpoint=messaging.BatchEndpoint(),
                                 batch=(10, 1))
        notifier = self.notifier()
        for i in range(25):
            notifier.info({}, 'batch', i)
        batches = [listener.endpoint.batches.get(timeout=10)
                   for _ in range(3)]
        self.assertEqual([10, 10, 5], [len(b) for b in batches])
        self.assertEqual(list(range(25)), sorted(sum(batches, [])))

    def test_pool_not_implemented(self):
        transport = self.useFixture(messaging.Transport(
            self.conf, self.url, notification=True)).transport
        listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=self.topic)],
            [messaging.NotifyEndpoint()], executor='threading', pool='p1')
        self.assertRaises(NotImplementedError, listener.start)

    def test_rejected_notification_fails(self):
        transport = self.useFixture(messaging.Transport(
            self.conf, self.url, notification=True)).transport
        self.broker.inject('reject', address='unicast', count=1)
        target = oslo_messaging.Target(topic='%s.info' % self.topic)
        self.assertRaises(oslo_messaging.MessageDeliveryFailure,
                          transport._send_notification, target, {},
                          {'x': 1}, 2.0)
