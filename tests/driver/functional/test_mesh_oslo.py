"""oslo.messaging 18.x with this repository's driver between services on
different routers of a mesh: the scenarios of
tests/functional/router/test_mesh_oslo.py (14.x's driver), with the same
expectations (tests/functional/mesh_oslo.py)."""

from tests.driver.functional import base
from tests.functional import mesh_oslo
from tests.functional.mesh_oslo import mesh  # noqa: F401 (the fixture)

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


globals().update(mesh_oslo.tests_for(KIT))
