"""Unit tests of amqp1_fixtures.router.mesh_wire: what routers of a mesh
say to each other, encoded and decoded by proton (no sockets)."""

from proton import Message
from proton import symbol
import testtools

from amqp1_fixtures.router import mesh_wire
from amqp1_fixtures.router.mesh_wire import Advert
from amqp1_fixtures.router.mesh_wire import MeshProtocolError
from amqp1_fixtures.router.mesh_wire import Routing

ROUTING = Routing('openstack.org/om/rpc/anycast/t', 'A', ('A', 'B'))


class TestRoutingData(testtools.TestCase):

    def round_trip(self, msg):
        data = msg.encode()
        wire = mesh_wire.annotate(data, ROUTING)
        self.assertNotEqual(data, wire)
        routing, own = mesh_wire.strip(wire)
        self.assertEqual(ROUTING, routing)
        self.assertEqual(bytes(data), own)
        got = Message()
        got.decode(wire)
        return got

    def test_a_plain_message(self):
        got = self.round_trip(Message(body='hello', address='x'))
        # A client reading the forwarded bytes sees the routing data as
        # delivery annotations, and the message as it was.
        self.assertEqual('hello', got.body)
        self.assertEqual('x', got.address)
        self.assertIn(mesh_wire.ROUTING_KEY, got.instructions)

    def test_after_the_header(self):
        got = self.round_trip(Message(body=b'\x00\x01', durable=True,
                                      priority=7, ttl=5))
        self.assertTrue(got.durable)
        self.assertEqual(7, got.priority)

    def test_with_delivery_annotations_of_its_own(self):
        msg = Message(body={'k': 1}, durable=True)
        msg.instructions = {symbol('x-opt-mine'): 'kept'}
        got = self.round_trip(msg)
        self.assertEqual('kept', got.instructions[symbol('x-opt-mine')])

    def test_a_message_without_routing_data_is_refused(self):
        self.assertRaises(MeshProtocolError, mesh_wire.strip,
                          Message(body='x').encode())
        msg = Message(body='x')
        msg.instructions = {symbol('x-opt-other'): 1}
        self.assertRaises(MeshProtocolError, mesh_wire.strip, msg.encode())


class TestAdverts(testtools.TestCase):

    def test_round_trip_through_a_message(self):
        advert = Advert('A', 123456789012345678, 7,
                        {'B': (1, 42), 'C': (5, 43)},
                        frozenset(['a/1', 'a/2']))
        msg = Message(body=mesh_wire.advert_body(advert))
        got = Message()
        got.decode(msg.encode())
        self.assertEqual(advert, mesh_wire.read_advert(got.body))
        self.assertEqual((123456789012345678, 7), advert.version)

    def test_not_an_advert(self):
        for body in (None, {}, {'origin': 'A'}, 'text',
                     {'origin': 'A', 'instance': 'x', 'seq': 1,
                      'neighbours': {}, 'addresses': []}):
            self.assertRaises(MeshProtocolError, mesh_wire.read_advert,
                              body)


class TestConnectionProperties(testtools.TestCase):

    def test_a_peer_of_the_mesh(self):
        props = mesh_wire.open_properties(99, 3)
        self.assertEqual(mesh_wire.Peer('B', 99, 3),
                         mesh_wire.peer_of('B', props))

    def test_refused_peers(self):
        good = mesh_wire.open_properties(99, 3)
        for container, props, text in (
                ('B', None, 'not a router of an amqp1-fixtures mesh'),
                ('B', {symbol('product'): 'qpid-dispatch-router'},
                 'not a router'),
                ('B', dict(good, **{mesh_wire.PROTOCOL: 2}), 'expected 1'),
                ('B', dict(good, **{mesh_wire.COST: 0}), 'cost 0'),
                ('B', dict(good, **{mesh_wire.INSTANCE: 'x'}),
                 "instance 'x'"),
                ('', good, "container ''")):
            err = self.assertRaises(MeshProtocolError, mesh_wire.peer_of,
                                    container, props)
            self.assertIn(text, str(err))
