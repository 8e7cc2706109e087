"""Tests of amqp1_fixtures.router.routing: the router's decisions,
without I/O."""

import testtools

from amqp1_fixtures.router import routing


class FakeLink:
    """What Route needs of a consumer or producer link."""

    def __init__(self, name, credit=0, backlog=0, unsettled=0):
        self.name = name
        self.credit = credit
        self.backlog = [None] * backlog
        self.unsettled = unsettled

    def __repr__(self):
        return self.name


class TestPrefixMatches(testtools.TestCase):

    def test_token_boundaries(self):
        self.assertTrue(routing.prefix_matches('unicast', 'unicast'))
        self.assertTrue(routing.prefix_matches('unicast', 'unicast.x.y'))
        self.assertTrue(routing.prefix_matches('unicast', 'unicast/x'))
        self.assertFalse(routing.prefix_matches('unicast', 'unicastle'))
        self.assertFalse(routing.prefix_matches('unicast', 'xunicast'))
        self.assertFalse(routing.prefix_matches('unicast.x', 'unicast'))

    def test_prefix_ending_with_a_separator(self):
        self.assertTrue(routing.prefix_matches('a/', 'a/b'))
        self.assertTrue(routing.prefix_matches('a.', 'a.b'))
        self.assertFalse(routing.prefix_matches('a/', 'a'))


class TestAddressTable(testtools.TestCase):

    def test_defaults_cover_oslo_messaging_addresses(self):
        table = routing.AddressTable()
        for address, expected in (
                ('exclusive.topic.server', routing.CLOSEST),
                ('unicast.topic', routing.CLOSEST),
                ('broadcast.topic.fanout', routing.MULTICAST),
                ('openstack.org/om/rpc/multicast/nova/t', routing.MULTICAST),
                ('openstack.org/om/rpc/unicast/nova/t/s', routing.CLOSEST),
                ('openstack.org/om/rpc/anycast/nova/t', routing.BALANCED),
                ('openstack.org/om/notify/multicast/n', routing.MULTICAST),
                ('openstack.org/om/notify/unicast/n', routing.CLOSEST),
                ('openstack.org/om/notify/anycast/n', routing.BALANCED),
                ('something.else', routing.BALANCED)):
            self.assertEqual(expected, table.distribution(address), address)

    def test_longest_prefix_wins_whatever_the_order(self):
        table = routing.AddressTable([('a', routing.CLOSEST),
                                      ('a/b/c', routing.BALANCED),
                                      ('a/b', routing.MULTICAST)])
        self.assertEqual(routing.BALANCED, table.distribution('a/b/c/d'))
        self.assertEqual(routing.MULTICAST, table.distribution('a/b/x'))
        self.assertEqual(routing.CLOSEST, table.distribution('a/x'))
        self.assertEqual(routing.BALANCED, table.distribution('ab'))

    def test_default_distribution(self):
        table = routing.AddressTable([], default=routing.MULTICAST)
        self.assertEqual(routing.MULTICAST, table.distribution('x'))

    def test_unknown_distribution(self):
        error = self.assertRaises(ValueError, routing.AddressTable,
                                  [('p', 'roundrobin')])
        self.assertIn('roundrobin', str(error))

    def test_answers_stay_right_past_the_cache_limit(self):
        table = routing.AddressTable([('m', routing.MULTICAST)])
        for i in range(10050):
            table.distribution('x.%d' % i)
        self.assertEqual(routing.MULTICAST, table.distribution('m.1'))
        self.assertEqual(routing.BALANCED, table.distribution('x.1'))
        self.assertLessEqual(len(table._cache), 10001)


class TestUpstreamCredit(testtools.TestCase):

    def route(self, distribution, *consumers):
        route = routing.Route('addr', distribution)
        for consumer in consumers:
            route.add_consumer(consumer)
        return route

    def test_no_consumer_no_credit(self):
        for distribution in routing.DISTRIBUTIONS:
            self.assertEqual(0, self.route(distribution).upstream_credit())

    def test_anycast_sums_available_credit(self):
        route = self.route(routing.BALANCED, FakeLink('a', credit=5),
                           FakeLink('b', credit=3, backlog=1),
                           FakeLink('c', credit=0, backlog=2))
        # c's backlog exceeds its credit; it must not eat the others'.
        self.assertEqual(7, route.upstream_credit())

    def test_multicast_takes_the_smallest(self):
        route = self.route(routing.MULTICAST, FakeLink('a', credit=5),
                           FakeLink('b', credit=3, backlog=1))
        self.assertEqual(2, route.upstream_credit())
        route.add_consumer(FakeLink('c', credit=0, backlog=1))
        self.assertEqual(0, route.upstream_credit())

    def test_remove_consumer(self):
        a = FakeLink('a', credit=5)
        route = self.route(routing.CLOSEST, a)
        route.remove_consumer(a)
        route.remove_consumer(a)
        self.assertEqual(0, route.upstream_credit())
        self.assertEqual([], route.choose())


class TestChoose(testtools.TestCase):

    def route(self, distribution, *consumers):
        route = routing.Route('addr', distribution)
        for consumer in consumers:
            route.add_consumer(consumer)
        return route

    def test_multicast_chooses_everybody(self):
        consumers = [FakeLink(n, credit=c) for n, c in (('a', 1), ('b', 0))]
        self.assertEqual(consumers,
                         self.route(routing.MULTICAST, *consumers).choose())

    def test_balanced_prefers_fewest_unsettled(self):
        a = FakeLink('a', credit=5, unsettled=2)
        b = FakeLink('b', credit=5, unsettled=1)
        c = FakeLink('c', credit=5, unsettled=1, backlog=1)
        self.assertEqual([b], self.route(routing.BALANCED, a, b, c).choose())

    def test_balanced_skips_consumers_without_credit(self):
        a = FakeLink('a', credit=0)
        b = FakeLink('b', credit=1, unsettled=7)
        self.assertEqual([b], self.route(routing.BALANCED, a, b).choose())

    def test_balanced_spreads_as_unsettled_grow(self):
        a, b = FakeLink('a', credit=9), FakeLink('b', credit=9)
        route = self.route(routing.BALANCED, a, b)
        chosen = []
        for _ in range(4):
            consumer = route.choose()[0]
            consumer.unsettled += 1
            chosen.append(consumer.name)
        self.assertEqual(['a', 'a', 'b', 'b'], sorted(chosen))
        self.assertNotEqual(chosen[0], chosen[1])

    def test_balanced_spreads_ties(self):
        # oslo.messaging calls one at a time: every choice is a tie (no
        # unsettled deliveries anywhere); qdrouterd still spreads them.
        a, b = FakeLink('a', credit=9), FakeLink('b', credit=9)
        route = self.route(routing.BALANCED, a, b)
        chosen = [route.choose()[0].name for _ in range(4)]
        self.assertEqual(['a', 'a', 'b', 'b'], sorted(chosen))

    def test_closest_round_robin_over_ready_consumers(self):
        consumers = [FakeLink(n, credit=9) for n in 'abc']
        consumers.append(FakeLink('d', credit=0))
        route = self.route(routing.CLOSEST, *consumers)
        chosen = [route.choose()[0].name for _ in range(6)]
        self.assertEqual(['a', 'a', 'b', 'b', 'c', 'c'], sorted(chosen))

    def test_without_credit_anywhere_someone_is_still_chosen(self):
        # The message waits on a consumer instead of being lost.
        for distribution in (routing.CLOSEST, routing.BALANCED):
            a = FakeLink('a', credit=0, backlog=3)
            b = FakeLink('b', credit=0)
            chosen = self.route(distribution, a, b).choose()
            self.assertEqual(1, len(chosen))
        self.assertEqual([b], self.route(routing.BALANCED, a, b).choose())


class TestProducerGrants(testtools.TestCase):

    def test_no_consumer_credit_no_producer_credit(self):
        p = FakeLink('p')
        self.assertEqual([], routing.producer_grants(0, [p], 10))
        self.assertEqual([], routing.producer_grants(5, [], 10))

    def test_each_producer_up_to_the_consumers_credit(self):
        a, b = FakeLink('a', credit=0), FakeLink('b', credit=1)
        self.assertEqual([(a, 3), (b, 2)],
                         routing.producer_grants(3, [a, b], 10))

    def test_never_beyond_the_window(self):
        a, b = FakeLink('a', credit=8), FakeLink('b', credit=10)
        self.assertEqual([(a, 2)], routing.producer_grants(100, [a, b], 10))

    def test_second_producer_not_starved_by_the_first(self):
        # Two RPC servers replying to one client's reply address: the
        # first holding all the credit must not leave the second without.
        first, second = FakeLink('first', credit=200), FakeLink('second')
        self.assertEqual([(second, 200)],
                         routing.producer_grants(200, [first, second], 250))
