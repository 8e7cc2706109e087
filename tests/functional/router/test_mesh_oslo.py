"""oslo.messaging 14.x (its own ``amqp://`` driver) between services on
different routers of a mesh: RPC call, direct call, anycast and fanout,
and notifications.  The same scenarios run with 18.x and driver/ in
tests/driver/functional/test_mesh_oslo.py; both assert what the real
qdrouterd 1.19 mesh did (see tests/functional/mesh_oslo.py)."""

from tests.functional import mesh_oslo
from tests.functional.mesh_oslo import mesh  # noqa: F401 (the fixture)

globals().update(mesh_oslo.tests_for(mesh_oslo.KIT))
