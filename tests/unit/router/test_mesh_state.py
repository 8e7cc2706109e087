"""Unit tests of amqp1_fixtures.router.mesh_state: what one router of a
mesh knows of the others, from advertisements (no sockets)."""

import testtools

from amqp1_fixtures.router.mesh_state import MeshState
from amqp1_fixtures.router.mesh_wire import Advert
from amqp1_fixtures.router.mesh_wire import Peer

INSTANCES = {'A': 100, 'B': 200, 'C': 300}


def advert(origin, seq, neighbours, addresses=(), instance=None):
    """``origin``'s advertisement; ``neighbours``: name -> cost."""
    return Advert(origin, instance or INSTANCES[origin], seq,
                  {n: (cost, INSTANCES[n]) for n, cost in neighbours.items()},
                  frozenset(addresses))


class TestMeshState(testtools.TestCase):

    def line(self):
        """A's view of A - B - C, everybody's advertisements received."""
        state = MeshState('A', INSTANCES['A'])
        state.neighbour_up(Peer('B', INSTANCES['B'], 1), 1)
        self.assertTrue(state.receive(advert('B', 1, {'A': 1, 'C': 1})))
        self.assertTrue(state.receive(advert('C', 1, {'B': 1}, ['c/1'])))
        return state

    def test_routes_need_both_ends(self):
        state = MeshState('A', INSTANCES['A'])
        state.neighbour_up(Peer('B', INSTANCES['B'], 1), 1)
        # B has not said it is connected to A yet.
        self.assertEqual({}, state.routes().cost)
        state.receive(advert('B', 1, {'A': 1, 'C': 1}))
        self.assertEqual({'B': 1}, state.routes().cost)
        state.receive(advert('C', 1, {'B': 1}))
        self.assertEqual({'B': 1, 'C': 2}, state.routes().cost)
        self.assertEqual('B', state.routes().next_hop['C'])

    def test_a_link_is_as_costly_as_its_costlier_end(self):
        state = MeshState('A', INSTANCES['A'])
        state.neighbour_up(Peer('B', INSTANCES['B'], 1), 1)
        state.receive(advert('B', 1, {'A': 4}))
        self.assertEqual({'B': 4}, state.routes().cost)

    def test_addresses_of_reachable_routers(self):
        state = self.line()
        self.assertEqual({'C'}, set(state.routers_for('c/1')))
        self.assertTrue(state.reachable_with('c/1'))
        self.assertEqual({'c/1'}, state.addresses())
        # C loses B: C is unreachable, its addresses with it.
        state.receive(advert('B', 2, {'A': 1}))
        self.assertEqual({'B': 1}, state.routes().cost)
        self.assertFalse(state.reachable_with('c/1'))
        self.assertEqual(set(), state.addresses())

    def test_only_newer_advertisements_are_taken(self):
        state = self.line()
        self.assertFalse(state.receive(advert('C', 1, {'B': 1})))
        self.assertFalse(state.receive(advert('C', 0, {})))
        self.assertTrue(state.receive(advert('C', 2, {'B': 1}, ['c/2'])))
        self.assertEqual((), state.routers_for('c/1'))
        self.assertEqual({'C'}, set(state.routers_for('c/2')))

    def test_a_restarted_router_replaces_its_old_self(self):
        state = self.line()
        # C restarted (a later instance), and says it has no consumer; B
        # still names the old instance: no link until B says otherwise.
        self.assertTrue(state.receive(advert('C', 1, {'B': 1},
                                             instance=301)))
        self.assertEqual({'B': 1}, state.routes().cost)
        self.assertFalse(state.reachable_with('c/1'))
        INSTANCES['C'] = 301
        self.addCleanup(INSTANCES.__setitem__, 'C', 300)
        state.receive(advert('B', 2, {'A': 1, 'C': 1}))
        self.assertEqual({'B': 1, 'C': 2}, state.routes().cost)
        # An old instance's advertisement, late: ignored.
        self.assertFalse(state.receive(advert('C', 9, {'B': 1}, ['c/1'],
                                              instance=300)))

    def test_its_own_old_advertisement_is_never_taken(self):
        state = self.line()
        self.assertFalse(state.receive(advert('A', 99, {}, instance=50)))
        self.assertEqual('A', state.adverts()[0].origin)

    def test_own_advertisement(self):
        state = MeshState('A', 100)
        first = state.own
        self.assertIsNone(state.addresses_changed(removed=['x']))
        second = state.addresses_changed(added=['x', 'y'])
        self.assertEqual(frozenset(['x', 'y']), second.addresses)
        self.assertGreater(second.version, first.version)
        self.assertIsNone(state.addresses_changed(added=['x']))
        third = state.neighbour_up(Peer('B', 200, 2), 3)
        self.assertEqual({'B': (3, 200)}, third.neighbours)
        self.assertEqual({'B': (3, 200)}, state.neighbours())
        self.assertIsNone(state.neighbour_down('C'))
        self.assertEqual({}, state.neighbour_down('B').neighbours)
        self.assertEqual([state.own], state.adverts())
