"""Unit tests of amqp1_fixtures.router.mesh_routing: the routing decisions of a
router in a mesh, with tables and no sockets.

Where a row says "measured", the expectation is what qdrouterd 1.19 did
in tests/functional/router/test_mesh_behaviour.py; the small simulator below
plays each router's decisions hop by hop, as the fake mesh will.
"""

import testtools

from amqp1_fixtures.router.mesh_routing import ACCEPTED
from amqp1_fixtures.router.mesh_routing import AddressTable
from amqp1_fixtures.router.mesh_routing import Choice
from amqp1_fixtures.router.mesh_routing import Distributor
from amqp1_fixtures.router.mesh_routing import dynamic_address
from amqp1_fixtures.router.mesh_routing import forwarded_outcome
from amqp1_fixtures.router.mesh_routing import has_destination
from amqp1_fixtures.router.mesh_routing import LINK_CAPACITY
from amqp1_fixtures.router.mesh_routing import LinkStateTable
from amqp1_fixtures.router.mesh_routing import LocalLink
from amqp1_fixtures.router.mesh_routing import lost_outcome
from amqp1_fixtures.router.mesh_routing import MODIFIED
from amqp1_fixtures.router.mesh_routing import multicast_outcome
from amqp1_fixtures.router.mesh_routing import Outcome
from amqp1_fixtures.router.mesh_routing import REJECTED
from amqp1_fixtures.router.mesh_routing import RELEASED
from amqp1_fixtures.router.mesh_routing import route_scoped
from amqp1_fixtures.router.mesh_routing import router_of

LINE = [('B', 'A', 1), ('C', 'B', 1)]
TRIANGLE = [('B', 'A', 1), ('C', 'B', 1), ('C', 'A', 1)]
COSTLY = [('B', 'A', 1), ('C', 'B', 1), ('C', 'A', 5)]
#: A - B - D and A - C - D, equal costs: two cheapest paths from A to D
SQUARE = [('A', 'B', 1), ('B', 'D', 1), ('A', 'C', 1), ('C', 'D', 1)]
TOPOLOGIES = {'line': LINE, 'triangle': TRIANGLE, 'costly': COSTLY,
              'square': SQUARE}


def table(me, links):
    """``me``'s LinkStateTable knowing every link, heard of in order."""
    result = LinkStateTable(me)
    for a, b, cost in links:
        result.set_link(a, b, cost)
    return result


def names(links):
    found = []
    for a, b, _ in links:
        for name in (a, b):
            if name not in found:
                found.append(name)
    return found


class Mesh:
    """Every router's tables and distributor, for playing messages
    through hop by hop; the consumers hold what they get (never settle)
    unless told to settle at once."""

    def __init__(self, links, consumers, settle=False):
        self.routers = names(links)
        # Each router hears of the others in the order the links connect
        # them: the mesh's first router (A) first.
        self.tables = {r: table(r, links) for r in self.routers}
        self.dist = {r: Distributor() for r in self.routers}
        self.consumers = dict(consumers)  # router -> number of links
        self.held = {(r, i): 0 for r, n in consumers.items()
                     for i in range(n)}
        self.got = {r: [] for r in consumers}
        self.settle = settle

    def local(self, router):
        return [LocalLink((router, i), self.held[router, i])
                for i in range(self.consumers.get(router, 0))]

    def remote(self, router):
        return {r for r in self.consumers if r != router}

    def deliver(self, router, key, body):
        self.got[router].append(body)
        if not self.settle:
            self.held[key] += 1

    def balanced(self, producer, body):
        at = producer
        hops = []
        while True:
            choice = self.dist[at].balanced(
                'addr', self.local(at), self.remote(at),
                self.tables[at].routes(), origin=producer)
            if choice is None:
                return None
            if choice.local is not None:
                self.deliver(at, choice.local, body)
                for hop_from, hop in hops:
                    if self.settle:
                        self.dist[hop_from].settled('addr', hop)
                return at
            self.dist[at].sent('addr', choice.next_hop)
            hops.append((at, choice.next_hop))
            at = choice.next_hop

    def closest(self, producer, body):
        at = producer
        while True:
            choice = self.dist[at].closest(
                'addr', self.local(at), self.remote(at),
                self.tables[at].routes())
            if choice is None:
                return None
            if choice.local is not None:
                self.deliver(at, choice.local, body)
                return choice.local
            at = choice.next_hop

    def multicast(self, producer, body):
        """Every copy: a list of the consumer links (router, index) it
        reached, from ``producer``, following each router's choices."""
        reached = []
        pending = [(producer, (producer,))]
        while pending:
            at, trace = pending.pop(0)
            for choice in self.dist[at].multicast(
                    self.local(at), self.remote(at),
                    self.tables[at].routes(), trace=trace):
                if choice.local is not None:
                    reached.append(choice.local)
                else:
                    pending.append((choice.next_hop,
                                    trace + (choice.next_hop,)))
        return reached


class TestRoutes(testtools.TestCase):

    def routes(self, me, links):
        return table(me, links).routes()

    def test_costs_and_next_hops(self):
        # (topology, router) -> {dest: (cost, next hop)}
        for topology, me, expected in (
                ('line', 'A', {'B': (1, 'B'), 'C': (2, 'B')}),
                ('line', 'B', {'A': (1, 'A'), 'C': (1, 'C')}),
                ('line', 'C', {'B': (1, 'B'), 'A': (2, 'B')}),
                ('triangle', 'A', {'B': (1, 'B'), 'C': (1, 'C')}),
                ('costly', 'A', {'B': (1, 'B'), 'C': (2, 'B')}),
                ('costly', 'C', {'B': (1, 'B'), 'A': (2, 'B')}),
                # Equal paths: the one through the router settled first
                # (cost, then id) wins, as in qdrouterd's path engine.
                ('square', 'A', {'B': (1, 'B'), 'C': (1, 'C'),
                                 'D': (2, 'B')}),
                ('square', 'D', {'B': (1, 'B'), 'C': (1, 'C'),
                                 'A': (2, 'B')})):
            routes = self.routes(me, TOPOLOGIES[topology])
            got = {d: (routes.cost[d], routes.next_hop[d])
                   for d in routes.cost}
            self.assertEqual(expected, got, '%s from %s' % (topology, me))

    def test_valid_origins(self):
        # As qdrouterd logged them ("Computed valid origins").
        self.assertEqual({'A': ['C'], 'C': ['A']},
                         self.routes('B', LINE).valid_origins)
        self.assertEqual({'B': [], 'C': []},
                         self.routes('A', LINE).valid_origins)
        self.assertEqual({'A': [], 'C': []},
                         self.routes('B', TRIANGLE).valid_origins)
        self.assertEqual({'A': ['C'], 'C': ['A']},
                         self.routes('B', COSTLY).valid_origins)

    def test_recomputed_when_links_and_routers_go(self):
        links = table('A', COSTLY)
        self.assertEqual('B', links.routes().next_hop['C'])
        links.remove_router('B')
        routes = links.routes()
        self.assertEqual({'C': 5}, routes.cost)
        self.assertEqual('C', routes.next_hop['C'])
        self.assertFalse(routes.reachable('B'))
        self.assertTrue(routes.reachable('A'))
        links.set_link('B', 'A', 1)
        links.set_link('B', 'C', 1)
        self.assertEqual({'B': 1, 'C': 2}, links.routes().cost)
        links = table('A', LINE)
        links.remove_link('A', 'B')
        self.assertEqual({}, links.routes().cost)

    def test_link_state_advertisement_replaces_an_origins_links(self):
        links = table('A', TRIANGLE)
        links.replace_links('C', {'B': 3})
        self.assertEqual({'B': 3}, links.neighbours('C'))
        self.assertEqual({'B': 1, 'C': 4}, links.routes().cost)

    def test_order_is_the_order_routers_were_heard_of(self):
        routes = self.routes('C', LINE)
        self.assertEqual({'C': 0, 'B': 1, 'A': 2}, routes.order)

    def test_bad_links(self):
        links = LinkStateTable('A')
        self.assertRaises(ValueError, links.set_link, 'A', 'A', 1)
        for cost in (0, -1, 1.5, True):
            self.assertRaises(ValueError, links.set_link, 'A', 'B', cost)


class TestAddresses(testtools.TestCase):

    def test_router_scoped_addresses(self):
        self.assertEqual('A', router_of('amqp:/_topo/0/A/temp.xyz'))
        self.assertEqual('Router.B', router_of('_topo/0/Router.B/temp.1'))
        for address in ('unicast.x', None, '', 'amqp:/_topo/0/A',
                        'amqp:/_topo/0//temp.x'):
            self.assertIsNone(router_of(address))
        self.assertEqual('amqp:/_topo/0/C/temp.abc',
                         dynamic_address('C', 'abc'))

    def test_route_scoped(self):
        routes = table('A', LINE).routes()
        self.assertEqual(Choice(next_hop='B', router='C'),
                         route_scoped('amqp:/_topo/0/C/temp.x', routes))
        self.assertEqual(Choice(router='A'),
                         route_scoped('amqp:/_topo/0/A/temp.x', routes))
        self.assertIsNone(route_scoped('amqp:/_topo/0/Z/temp.x', routes))
        self.assertRaises(ValueError, route_scoped, 'unicast.x', routes)

    def test_address_table(self):
        addresses = AddressTable()
        addresses.replace('B', {'x', 'y'})
        addresses.update('C', added=['x'])
        self.assertEqual({'B', 'C'}, addresses.routers_for('x'))
        addresses.update('B', removed=['x'])
        self.assertEqual({'C'}, addresses.routers_for('x'))
        addresses.forget('C')
        self.assertEqual(set(), addresses.routers_for('x'))
        self.assertEqual({'y'}, addresses.addresses_of('B'))

    def test_credit_needs_a_destination(self):
        routes = table('A', LINE).routes()
        link = [LocalLink('l')]
        for address, local, routers, expected in (
                ('x', [], set(), False),
                ('x', link, set(), True),       # even with no credit
                ('x', [], {'C'}, True),
                ('x', [], {'Z'}, False),        # not reachable
                ('amqp:/_topo/0/C/temp.1', [], set(), True),
                ('amqp:/_topo/0/Z/temp.1', [], set(), False),
                ('amqp:/_topo/0/A/temp.1', [], set(), False),
                ('amqp:/_topo/0/A/temp.1', link, set(), True)):
            self.assertEqual(expected, has_destination(
                address, local, routers, routes), (address, local, routers))


class TestClosest(testtools.TestCase):

    def test_local_consumer_wins(self):
        for links in TOPOLOGIES.values():
            mesh = Mesh(links, {'A': 1, 'B': 1, 'C': 1})
            for i in range(5):
                mesh.closest('A', i)
            self.assertEqual([0, 1, 2, 3, 4], mesh.got['A'])

    def test_lowest_cost_wins_hop_by_hop(self):
        # measured: line and costly, consumers on B and C: all to B
        for links in (LINE, COSTLY):
            mesh = Mesh(links, {'B': 1, 'C': 1})
            for i in range(6):
                mesh.closest('A', i)
            self.assertEqual({'B': list(range(6)), 'C': []}, mesh.got)

    def test_equal_costs_take_turns(self):
        # measured: triangle, one each in turn
        mesh = Mesh(TRIANGLE, {'B': 1, 'C': 1})
        for i in range(6):
            mesh.closest('A', i)
        self.assertEqual({'B': [0, 2, 4], 'C': [1, 3, 5]}, mesh.got)

    def test_one_routers_consumers_take_turns(self):
        mesh = Mesh(LINE, {'C': 2})
        self.assertEqual([('C', 0), ('C', 1), ('C', 0), ('C', 1)],
                         [mesh.closest('A', i) for i in range(4)])

    def test_turns_start_again_when_the_closest_routers_change(self):
        dist = Distributor()
        routes = table('A', TRIANGLE).routes()
        first = dist.closest('x', [], {'B', 'C'}, routes)
        self.assertEqual('B', first.router)
        self.assertEqual('C', dist.closest('x', [], {'B', 'C'}, routes)
                         .router)
        self.assertEqual('C', dist.closest('x', [], {'C'}, routes).router)
        self.assertEqual('B', dist.closest('x', [], {'B', 'C'}, routes)
                         .router)

    def test_no_destination(self):
        dist = Distributor()
        routes = table('A', LINE).routes()
        self.assertIsNone(dist.closest('x', [], set(), routes))
        self.assertIsNone(dist.closest('x', [], {'Z'}, routes))

    def test_rerouted_when_a_router_goes(self):
        links = table('A', TRIANGLE)
        dist = Distributor()
        self.assertEqual('B', dist.closest('x', [], {'B', 'C'},
                                           links.routes()).router)
        links.remove_router('B')
        got = [dist.closest('x', [], {'B', 'C'}, links.routes()).router
               for _ in range(3)]
        self.assertEqual(['C'] * 3, got)


class TestBalanced(testtools.TestCase):

    def test_unsettled_messages_spread_as_measured(self):
        # test_mesh_behaviour.BALANCED_HELD: 12 messages, consumers on A,
        # B and C holding everything, producer on A.
        for links, expected in (
                (LINE, {'A': [0, 1, 3, 5, 7, 9, 11], 'B': [2, 4, 8],
                        'C': [6, 10]}),
                (TRIANGLE, {'A': [0, 1, 4, 7, 10], 'B': [2, 5, 8, 11],
                            'C': [3, 6, 9]}),
                (COSTLY, {'A': [0, 1, 3, 5, 7, 9, 11], 'B': [2, 4, 8],
                          'C': [6, 10]})):
            mesh = Mesh(links, {'A': 1, 'B': 1, 'C': 1})
            for i in range(12):
                mesh.balanced('A', i)
            self.assertEqual(expected, mesh.got)

    def test_low_load_stays_local_then_on_the_first_router(self):
        for links in TOPOLOGIES.values():
            mesh = Mesh(links, {'A': 1, 'B': 1, 'C': 1}, settle=True)
            self.assertEqual(['A'] * 4,
                             [mesh.balanced('A', i) for i in range(4)])
            mesh = Mesh(links, {'B': 1, 'C': 1}, settle=True)
            self.assertEqual(['B'] * 4,
                             [mesh.balanced('A', i) for i in range(4)])

    def test_local_links_take_turns_at_low_load(self):
        dist = Distributor()
        routes = table('A', LINE).routes()
        links = [LocalLink('x'), LocalLink('y')]
        self.assertEqual(['x', 'y', 'x'], [
            dist.balanced('a', links, set(), routes).local
            for _ in range(3)])

    def test_a_full_link_is_used_only_when_every_link_is(self):
        dist = Distributor()
        routes = table('A', LINE).routes()
        full = LocalLink('full', LINK_CAPACITY)
        self.assertEqual(Choice(next_hop='B', router='C'), dist.balanced(
            'a', [full], {'C'}, routes))
        for _ in range(LINK_CAPACITY):
            dist.sent('a', 'B')
        self.assertEqual(Choice(local='full'), dist.balanced(
            'a', [LocalLink('full', LINK_CAPACITY + 1)], {'C'}, routes))
        dist.settled('a', 'B')
        self.assertEqual(LINK_CAPACITY - 1, dist.outstanding('a', 'B'))
        self.assertIsNone(dist.balanced('a', [], set(), routes))

    def test_transit_only_for_valid_origins(self):
        # B in the triangle is on nobody's cheapest path: a message that
        # entered at A is not sent on from B to C.
        dist = Distributor()
        routes = table('B', TRIANGLE).routes()
        self.assertIsNone(dist.balanced('a', [], {'C'}, routes,
                                        origin='A'))
        routes = table('B', LINE).routes()
        self.assertEqual('C', dist.balanced('a', [], {'C'}, routes,
                                            origin='A').router)


class TestMulticast(testtools.TestCase):

    def copies(self, links):
        mesh = Mesh(links, {'A': 1, 'B': 1, 'C': 2})
        reached = mesh.multicast('A', 'm')
        return {key: reached.count(key) for key in sorted(set(reached))}

    def test_one_copy_per_consumer_along_one_cheapest_path(self):
        once = {('A', 0): 1, ('B', 0): 1, ('C', 0): 1, ('C', 1): 1}
        self.assertEqual(once, self.copies(LINE))
        self.assertEqual(once, self.copies(COSTLY))

    def test_two_copies_over_two_equal_paths(self):
        # measured: in the triangle B and C forward A's copy to each
        # other, and their consumers get every message twice
        self.assertEqual({('A', 0): 1, ('B', 0): 2, ('C', 0): 2,
                          ('C', 1): 2}, self.copies(TRIANGLE))

    def test_one_copy_per_next_hop(self):
        dist = Distributor()
        routes = table('A', LINE).routes()
        self.assertEqual([Choice(next_hop='B', router='B')],
                         dist.multicast([], {'B', 'C'}, routes))
        self.assertEqual([], dist.multicast([], {'B', 'C'}, routes,
                                            trace=('B',)))
        self.assertEqual([Choice(local='l')], dist.multicast(
            [LocalLink('l')], {'Z'}, routes))


class TestOutcomes(testtools.TestCase):

    def test_forwarded(self):
        condition = object()
        for given, expected in (
                (Outcome(ACCEPTED), Outcome(ACCEPTED)),
                (Outcome(REJECTED, condition), Outcome(REJECTED, condition)),
                (Outcome(RELEASED), Outcome(RELEASED)),
                (Outcome(MODIFIED), Outcome(MODIFIED, failed=True)),
                (Outcome(MODIFIED, undeliverable=True, annotations={'a': 1}),
                 Outcome(MODIFIED, failed=True, undeliverable=True,
                         annotations={'a': 1}))):
            self.assertEqual(expected, forwarded_outcome(given))
        self.assertEqual(Outcome(MODIFIED, failed=True), lost_outcome())

    def test_multicast_as_measured(self):
        # test_mesh_behaviour.MULTICAST_OUTCOMES
        a, rj, rl, m = (Outcome(ACCEPTED), Outcome(REJECTED, 'why'),
                        Outcome(RELEASED), Outcome(MODIFIED))
        for copies, expected in (
                ((a, a, a), Outcome(ACCEPTED)),
                ((a, rl, a), Outcome(ACCEPTED)),
                ((m, a, a), Outcome(ACCEPTED)),
                ((a, rj, a), Outcome(REJECTED)),
                ((rj, rl, m), Outcome(REJECTED)),
                ((m, rl, rl), Outcome(MODIFIED, failed=True)),
                ((rl, rl, rl), Outcome(RELEASED)),
                ((), Outcome(RELEASED))):
            self.assertEqual(expected, multicast_outcome(copies))
