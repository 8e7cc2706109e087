"""oslo.messaging 18.x with this repository's driver between services on
different routers of a mesh: the scenarios of
tests/functional/test_mesh_oslo.py (14.x's driver), with the same
expectations (tests/functional/mesh_oslo.py)."""

import pytest

from tests.driver.functional import base
from tests.functional import meshes
from tests.functional import mesh_oslo

KIT = mesh_oslo.Kit(
    make_conf=base.make_conf,
    server=lambda conf, url, topic, name: base.RpcServer(
        conf, url, topic, name),
    client=lambda conf, url, topic: base.RpcClient(
        conf, url, topic, timeout=mesh_oslo.TIMEOUT),
    listener=base.NotifyListener,
    notifier=base.Notifier,
    notify=lambda notifier, event_type, payload: notifier.notifier.info(
        {}, event_type, payload),
    events=lambda listener: _payloads(listener.endpoint.events))


class _payloads:
    """The payloads of an 18.x listener's ``(priority, event_type,
    payload)`` queue, as a queue."""

    def __init__(self, events):
        self.events = events

    def get_nowait(self):
        return self.events.get_nowait()[2]


@pytest.fixture(scope='module')
def mesh(request):
    started = meshes.start(request.param)
    yield started
    meshes.stop(started, request)


@pytest.mark.parametrize('mesh', meshes.rows(), indirect=True)
def test_call_to_a_server_on_another_router(mesh, record_property):
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
    got = mesh_oslo.notifications(KIT, mesh, listeners_on='BC')
    record_property('got', got)
    assert sorted(got['B'] + got['C']) == list(range(10))
