"""Unit tests of amqp1_fixtures.router.mesh's pure parts: the links of a
mesh and the order its routers start in (no daemon, no socket)."""

import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.router.mesh import parse_links
from amqp1_fixtures.router.mesh import RouterMesh
from amqp1_fixtures.router.mesh import start_order


class TestParseLinks(testtools.TestCase):

    def test_names_in_order_of_first_mention_and_default_cost(self):
        self.assertEqual(
            (['B', 'A', 'C'], [('B', 'A', 1), ('C', 'B', 3)]),
            parse_links([('B', 'A'), ('C', 'B', 3)]))

    def test_refusals(self):
        for links, text in (
                ([], 'at least one link'),
                ([('A',)], 'a link is (from, to)'),
                ([('A', 'A', 1)], 'from A to itself'),
                ([('A', 'B'), ('B', 'A', 2)], 'two links between B and A'),
                ([('A', 'B', 0)], 'integer >= 1, not 0'),
                ([('A', 'B', 1.5)], 'integer >= 1'),
                ([('A', 'Router B')], "white space, not 'Router B'"),
                ([('A', '')], 'non-empty'),
                ([('A', 7)], 'not 7')):
            err = self.assertRaises(exceptions.ConfigError, parse_links,
                                    links)
            self.assertIn(text, str(err))
            self.assertEqual('links', err.option)


class TestStartOrder(testtools.TestCase):

    def order(self, links):
        return start_order(*parse_links(links))

    def test_each_router_after_those_it_connects_to(self):
        self.assertEqual(['A', 'B', 'C'],
                         self.order([('B', 'A'), ('C', 'B')]))
        self.assertEqual(['A', 'B', 'C'],
                         self.order([('C', 'B'), ('B', 'A'), ('C', 'A')]))
        # a star whose centre connects out to everyone
        self.assertEqual(['B', 'C', 'D', 'A'],
                         self.order([('A', 'B'), ('A', 'C'), ('A', 'D')]))

    def test_a_cycle_is_broken_where_fewest_connectors_wait(self):
        # A -> B -> C -> A: whoever starts first has a refused connector
        # (qdrouterd retries it 5 s later); the first named is chosen.
        self.assertEqual(['A', 'C', 'B'],
                         self.order([('A', 'B'), ('B', 'C'), ('C', 'A')]))
        self.assertEqual(['A', 'B', 'C', 'D'],
                         self.order([('A', 'D'), ('B', 'A'), ('C', 'B'),
                                     ('D', 'C'), ('D', 'B')]))


class TestConstruction(testtools.TestCase):

    def test_fake_mesh_by_default(self):
        mesh = RouterMesh([('B', 'A')])
        self.assertFalse(mesh.daemons)
        self.assertEqual({}, mesh.routers)

    def test_stand_in_mesh(self):
        mesh = RouterMesh([('B', 'A')], daemons=True, impl='standin')
        self.assertTrue(mesh.daemons)

    def test_bad_links_are_reported_before_anything_else(self):
        self.assertRaises(exceptions.ConfigError, RouterMesh,
                          [('A', 'A')], daemons=True)
