"""RouterMesh as a fixture, with the real qdrouterd (skipped where it is
absent): what it starts, renders and leaves behind, kill and restart on
the same ports, and convergence waits that fail with a reason."""

import os

import fixtures
import testtools

from amqp1_fixtures import exceptions
from amqp1_fixtures.router.mesh import RouterMesh
from amqp1_fixtures.daemons import ports
from amqp1_fixtures.config import qdrouterd_conf
from amqp1_fixtures.daemons.rabbitmq import DaemonNotInstalled
from tests import realqpid

LINE = [('B', 'A', 1), ('C', 'B', 2)]


class RealMeshTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if not realqpid.find('qdrouterd'):
            self.skipTest(realqpid.absent_reason('qdrouterd'))


class TestRouterMesh(RealMeshTestCase):

    def test_routers_configs_and_cleanup(self):
        mesh = RouterMesh(LINE, daemons=True, require_real=True)
        mesh.setUp()
        try:
            self.assertEqual(['B', 'A', 'C'], mesh.names)
            self.assertEqual(['B', 'A', 'C'], mesh.running())
            self.assertGreater(mesh.converged_after, 0)
            a, b, c = (mesh.routers[n] for n in 'ABC')
            self.assertEqual('amqp://127.0.0.1:%d/' % a.port,
                             a.transport_url)
            # C is connected to by nobody: no inter-router listener.
            self.assertIsNone(c.mesh_port)
            settings = {n: qdrouterd_conf.parse_qdrouterd_conf(
                r.config_path) for n, r in mesh.routers.items()}
            self.assertEqual({'interior'},
                             {s.mode for s in settings.values()})
            self.assertEqual('B', settings['B'].router_id)
            self.assertEqual(
                [(b.mesh_port, 2, 'to-B')],
                [(x.port, x.cost, x.name) for x in settings['C'].connectors])
            self.assertEqual([a.mesh_port], [
                x.port for x in settings['A'].inter_router_listeners])
            details = mesh.getDetails()
            self.assertIn('qdrouterd-A-log', details)
            self.assertIn('qdrouterd-C-qdrouterd.conf', details)
            dirs = [r.workdir for r in mesh.routers.values()]
            used = [r.port for r in mesh.routers.values()] + [
                a.mesh_port, b.mesh_port]
        finally:
            mesh.cleanUp()
        self.assertEqual([], mesh.running())
        self.assertFalse(any(os.path.exists(d) for d in dirs))
        self.assertTrue(all(ports.can_bind('127.0.0.1', p, reuse_addr=True)
                            for p in used))

    def test_kill_and_restart_on_the_same_ports(self):
        mesh = self.useFixture(RouterMesh(LINE, daemons=True,
                                          require_real=True))
        before = {n: (r.port, r.mesh_port) for n, r in mesh.routers.items()}
        pid = mesh.routers['B'].pid
        self.assertEqual(-9, mesh.kill('B'))
        self.assertEqual(['A', 'C'], sorted(mesh.running()))
        # A and C have no way to each other now.
        err = self.assertRaises(exceptions.WaitTimeout,
                                mesh.wait_converged, timeout=2)
        self.assertIn('A->C', str(err))
        self.assertIn('C->A', str(err))
        mesh.restart('B')
        self.assertNotEqual(pid, mesh.routers['B'].pid)
        self.assertEqual(before, {n: (r.port, r.mesh_port)
                                  for n, r in mesh.routers.items()})
        self.assertEqual(['B', 'A', 'C'], mesh.running())
        self.assertRaises(exceptions.AlreadyRunning, mesh.restart, 'B')

    def test_wait_converged_on_some_routers(self):
        mesh = self.useFixture(RouterMesh([('B', 'A')], daemons=True,
                                          require_real=True))
        self.assertEqual(0.0, mesh.wait_converged(names=['A']))
        self.assertGreater(mesh.wait_converged(names=['A', 'B']), 0)


class TestWithoutTheRealDaemon(testtools.TestCase):

    def test_require_real_skips_at_construction(self):
        env = realqpid.without_real_daemons()
        self.useFixture(fixtures.EnvironmentVariable('PATH', env['PATH']))
        self.useFixture(fixtures.EnvironmentVariable('AMQP1_QDROUTERD'))
        err = self.assertRaises(DaemonNotInstalled, RouterMesh, LINE,
                                daemons=True, require_real=True)
        self.assertIn('AMQP1_QDROUTERD', str(err))
        # Without require_real: the stand-in.
        self.assertEqual('standin', RouterMesh(LINE, daemons=True).impl)
