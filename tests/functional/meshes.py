"""The meshes the mesh tests run on: implementations, topologies, test
rows and starting/stopping (used by test_mesh_behaviour.py,
test_mesh_oslo.py and tests/driver/functional/test_mesh_oslo.py)."""

import time

import pytest

from amqp1_fixtures.router.mesh import RouterMesh
from tests import realqpid

#: the implementations of a mesh: in-process FakeRouters, stand-in
#: daemons (``amqp1-fixtures serve router`` reading qdrouterd.conf) and
#: the real qdrouterd
IMPLS = ('fake', 'standin', 'qdrouterd')

#: three routers A, B, C; each link is (connector side, listener side,
#: cost)
TOPOLOGIES = {
    # A - B - C
    'line': [('B', 'A', 1), ('C', 'B', 1)],
    # every pair connected, cost 1
    'triangle': [('B', 'A', 1), ('C', 'B', 1), ('C', 'A', 1)],
    # the triangle with a costly A - C edge: A reaches C through B (2 < 5)
    'costly': [('B', 'A', 1), ('C', 'B', 1), ('C', 'A', 5)],
}

#: topologies in which B is on A's cheapest path to C
THROUGH_B = ('line', 'costly')


def make(impl, links):
    """An unstarted mesh of ``impl``; skips where it is absent."""
    if impl == 'fake':
        return RouterMesh(links)
    if impl == 'standin':
        return RouterMesh(links, daemons=True, impl='standin')
    if impl == 'qdrouterd':
        if not realqpid.find('qdrouterd'):
            pytest.skip(realqpid.absent_reason('qdrouterd'))
        return RouterMesh(links, daemons=True, impl='qdrouterd',
                          require_real=True)
    raise AssertionError('unknown implementation %r' % impl)


def rows(topologies=tuple(TOPOLOGIES), differences=None, scenario=None):
    """One ``(impl, topology)`` parameter per implementation and
    topology, id ``impl-topology``; the rows of implementations other
    than qdrouterd are strict xfails where ``differences`` (scenario ->
    reason) lists the scenario."""
    reason = (differences or {}).get(scenario)
    params = []
    for impl in IMPLS:
        for topology in topologies:
            marks = ()
            if reason and impl != 'qdrouterd':
                marks = pytest.mark.xfail(strict=True, reason=reason)
            params.append(pytest.param((impl, topology), marks=marks,
                                       id='%s-%s' % (impl, topology)))
    return params


def start(param):
    """Start the mesh a row names; it gets ``topology`` and
    ``started_after`` (seconds setUp took)."""
    impl, topology = param
    mesh = make(impl, TOPOLOGIES[topology])
    began = time.monotonic()
    mesh.setUp()
    mesh.topology = topology
    mesh.started_after = time.monotonic() - began
    return mesh


def stop(mesh, request):
    """Clean the mesh up, printing its routers' log tails first if the
    test failed (pytest shows them with the failure; see
    tests/conftest.py)."""
    if getattr(request.node, 'failed', False) and mesh.daemons:
        for name, router in sorted(mesh.routers.items()):
            print('--- router %s (%s) log tail ---\n%s'
                  % (name, router.log_path, router.log_tail(40)))
    mesh.cleanUp()
