"""oslo.messaging 14.x (its own ``amqp://`` driver) between services on
different routers of a mesh: RPC call, direct call, anycast and fanout,
and notifications.  The same scenarios run with 18.x and driver/ in
tests/driver/functional/test_mesh_oslo.py; both assert what the real
qdrouterd 1.19 mesh did (see tests/functional/mesh_oslo.py)."""

import pytest

from tests.functional import meshes
from tests.functional import mesh_oslo
from tests.functional import messaging

KIT = mesh_oslo.Kit(
    make_conf=messaging.make_conf,
    server=lambda conf, url, topic, name: messaging.RpcServer(
        conf, url, topic, name),
    client=lambda conf, url, topic: messaging.RpcClient(
        conf, url, topic, timeout=mesh_oslo.TIMEOUT),
    listener=messaging.Listener,
    notifier=messaging.Notifier,
    notify=lambda notifier, event_type, payload: notifier.info(
        event_type, payload),
    events=lambda listener: _payloads(listener.endpoint.events))


class _payloads:
    """The payloads of a 14.x listener's ``(event_type, payload)`` queue,
    as a queue."""

    def __init__(self, events):
        self.events = events

    def get_nowait(self):
        return self.events.get_nowait()[1]


@pytest.fixture(scope='module')
def mesh(request):
    started = meshes.start(request.param)
    yield started
    meshes.stop(started, request)


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_call_to_a_server_on_another_router(mesh, record_property):
    """Measured on qdrouterd 1.19: the first call, made right after the
    server started, took 0.2-1.0 s (the server's address reaching A)."""
    answer, took = mesh_oslo.rpc_call(KIT, mesh)
    record_property('first_call_s', round(took, 3))
    assert answer == {'server': 's-C', 'value': 1}


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_direct_calls(mesh):
    assert mesh_oslo.direct_calls(KIT, mesh) == {'s-B': 's-B',
                                                 's-C': 's-C'}


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_anycast_calls(mesh, record_property):
    answers = mesh_oslo.anycast_calls(KIT, mesh)
    record_property('answers', answers)
    mesh_oslo.check_anycast(mesh.topology, answers)


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_fanout(mesh):
    assert mesh_oslo.fanout(KIT, mesh) == \
        mesh_oslo.FANOUT_COPIES[mesh.topology]


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_notifications(mesh):
    assert mesh_oslo.notifications(KIT, mesh) == {'C': list(range(10))}


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_notifications_to_listeners_on_two_routers(mesh, record_property):
    """Each notification reaches one of the listeners, once (measured:
    all 10 went to B's, balanced at low load)."""
    got = mesh_oslo.notifications(KIT, mesh, listeners_on='BC')
    record_property('got', got)
    assert sorted(got['B'] + got['C']) == list(range(10))
