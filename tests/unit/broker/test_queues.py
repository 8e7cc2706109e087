"""Tests of amqp1_fixtures.broker.queues: the broker's nodes, without I/O."""

import testtools

from amqp1_fixtures.broker import queues


class FakeConsumer:

    def __init__(self, name, credit):
        self.name = name
        self.credit = credit

    def __repr__(self):
        return self.name


class TestNodePolicy(testtools.TestCase):

    def test_defaults(self):
        policy = queues.NodePolicy()
        for address, kind in (
                ('exclusive.topic.server', queues.QUEUE),
                ('unicast.notifications.info', queues.QUEUE),
                ('broadcast.topic.fanout', queues.TOPIC),
                ('openstack.org/om/rpc/unicast/t/s', queues.QUEUE),
                ('openstack.org/om/rpc/anycast/t', queues.QUEUE),
                ('openstack.org/om/notify/unicast/n', queues.QUEUE),
                ('openstack.org/om/notify/anycast/n', queues.QUEUE),
                ('openstack.org/om/rpc/multicast/t', queues.TOPIC),
                ('openstack.org/om/notify/multicast/n', queues.TOPIC),
                ('nowhere', None),
                ('openstack.org/om/other', None)):
            self.assertEqual(kind, policy.kind(address), address)

    def test_patterns_are_regular_expressions(self):
        policy = queues.NodePolicy([r'q\d+$'], ['t(opic)?\\.'])
        self.assertEqual(queues.QUEUE, policy.kind('q42'))
        self.assertIsNone(policy.kind('q42x'))
        self.assertEqual(queues.TOPIC, policy.kind('topic.a'))
        self.assertEqual(queues.TOPIC, policy.kind('t.a'))

    def test_queue_wins_over_topic(self):
        policy = queues.NodePolicy(['both'], ['both'])
        self.assertEqual(queues.QUEUE, policy.kind('both.x'))

    def test_empty_policy_has_no_nodes(self):
        self.assertIsNone(queues.NodePolicy([], []).kind('unicast'))

    def test_invalid_pattern(self):
        error = self.assertRaises(ValueError, queues.NodePolicy, ['(oops'])
        self.assertIn('(oops', str(error))

    def test_patterns_match_anywhere_as_in_qpidd(self):
        # qpidd (qpid::sys::regex on POSIX) uses an unanchored regexec()
        policy = queues.NodePolicy(['unicast'], ['broadcast'])
        self.assertEqual(queues.QUEUE, policy.kind('x.unicast.y'))
        self.assertEqual(queues.TOPIC, policy.kind('x.broadcast'))


class TestQueue(testtools.TestCase):

    def test_fifo(self):
        q = queues.Queue('q')
        for i in range(3):
            q.put(queues.StoredMessage(b'%d' % i))
        self.assertEqual(3, len(q))
        self.assertEqual([b'0', b'1', b'2'], [m.data for m in q.messages])

    def test_max_depth_counts_messages_out_with_consumers(self):
        q = queues.Queue('q', max_depth=2)
        q.put(queues.StoredMessage(b'a'))
        q.messages.popleft()
        q.acquired += 1
        q.put(queues.StoredMessage(b'b'))
        error = self.assertRaises(queues.QueueFull, q.put,
                                  queues.StoredMessage(b'c'))
        self.assertIn('q', str(error))
        q.acquired -= 1
        q.put(queues.StoredMessage(b'c'))
        self.assertEqual(2, len(q))

    def test_unbounded(self):
        q = queues.Queue('q')
        for i in range(1000):
            q.put(queues.StoredMessage(b'x'))
        self.assertEqual(1000, len(q))

    def test_put_back_goes_to_the_head_in_order(self):
        q = queues.Queue('q')
        q.put(queues.StoredMessage(b'c'))
        q.put_back([queues.StoredMessage(b'a'), queues.StoredMessage(b'b')])
        self.assertEqual([b'a', b'b', b'c'], [m.data for m in q.messages])

    def test_put_back_ignores_the_depth_limit(self):
        # A returned message was already counted as acquired.
        q = queues.Queue('q', max_depth=1)
        q.put(queues.StoredMessage(b'b'))
        q.put_back([queues.StoredMessage(b'a')])
        self.assertEqual(2, len(q))

    def test_next_consumer_round_robin(self):
        q = queues.Queue('q')
        q.consumers.extend([FakeConsumer('a', 5), FakeConsumer('b', 5)])
        picks = [q.next_consumer().name for _ in range(4)]
        self.assertEqual(2, picks.count('a'))
        self.assertNotEqual(picks[0], picks[1])
        self.assertNotEqual(picks[1], picks[2])

    def test_next_consumer_skips_those_without_credit(self):
        q = queues.Queue('q')
        q.consumers.extend([FakeConsumer('a', 0), FakeConsumer('b', 1),
                            FakeConsumer('c', 0)])
        self.assertEqual(['b'] * 3,
                         [q.next_consumer().name for _ in range(3)])

    def test_no_consumer_with_credit(self):
        q = queues.Queue('q')
        self.assertIsNone(q.next_consumer())
        q.consumers.append(FakeConsumer('a', 0))
        self.assertIsNone(q.next_consumer())


class TestStoredMessage(testtools.TestCase):

    def test_defaults(self):
        message = queues.StoredMessage(b'data')
        self.assertEqual((b'data', 0, None), (
            message.data, message.delivery_count, message.ident))


class TestRedeliveryAllowed(testtools.TestCase):

    def test_no_limit(self):
        message = queues.StoredMessage(b'', delivery_count=10 ** 6)
        self.assertTrue(queues.redelivery_allowed(message, None))

    def test_limit_counts_failed_deliveries(self):
        allowed = [queues.redelivery_allowed(
            queues.StoredMessage(b'', delivery_count=n), 2)
            for n in range(4)]
        self.assertEqual([True, True, True, False], allowed)

    def test_zero_limit(self):
        self.assertTrue(queues.redelivery_allowed(
            queues.StoredMessage(b''), 0))
        self.assertFalse(queues.redelivery_allowed(
            queues.StoredMessage(b'', delivery_count=1), 0))
