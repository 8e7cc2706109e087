"""oslo.messaging 14.x (its own ``amqp://`` driver) between services on
different routers of a mesh: RPC call, direct call, anycast and fanout,
and notifications.  The same scenarios run with 18.x and driver/ in
tests/driver/functional/test_mesh_oslo.py; both assert what the real
qdrouterd 1.19 mesh did (see tests/functional/mesh_oslo.py)."""

from tests.functional import mesh_oslo
from tests.functional.mesh_oslo import mesh  # noqa: F401 (the fixture)
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


globals().update(mesh_oslo.tests_for(KIT))
