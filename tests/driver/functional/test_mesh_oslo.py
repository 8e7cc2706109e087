"""oslo.messaging 18.x with this repository's driver between services on
different routers of a mesh: the scenarios of
tests/functional/router/test_mesh_oslo.py (14.x's driver), with the same
expectations (tests/functional/mesh_oslo.py)."""

from tests.functional import mesh_oslo
from tests.functional.mesh_oslo import mesh  # noqa: F401 (the fixture)

globals().update(mesh_oslo.tests_for(mesh_oslo.KIT))
