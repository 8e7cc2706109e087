"""Fixtures of the interop tests: the two generations' interpreters."""

import os

import pytest

from tests.interop import venvs

#: environment variables naming an existing interpreter for a generation
#: (instead of building its venv), e.g. /work/venvs/om14/bin/python
PYTHON_ENV = {'om14': 'AMQP1_INTEROP_PYTHON_OM14',
              'om18': 'AMQP1_INTEROP_PYTHON_OM18'}
#: where the venvs are built and kept between runs (tox sets it); a
#: directory shared by the session's xdist workers otherwise
VENV_DIR_ENV = 'AMQP1_INTEROP_VENV_DIR'


@pytest.fixture(scope='session')
def generations(tmp_path_factory):
    """``{'om14': python, 'om18': python}``, building missing venvs."""
    root = os.environ.get(VENV_DIR_ENV) or str(
        tmp_path_factory.getbasetemp().parent / 'amqp1-interop-venvs')
    pythons = {}
    for name, env in sorted(PYTHON_ENV.items()):
        pythons[name] = os.environ.get(env) or venvs.build(name, root)
    return pythons
