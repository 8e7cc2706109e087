"""Test-run wiring: use the real qdrouterd/qpidd where they are (see
:mod:`tests.realqpid`), end the run with a line counting the daemons
it launched, children's included, and let fixtures know whether their
test failed (``request.node.failed``), to print their daemons' logs;
and the ``clients`` fixture the behaviour tests share."""

import os
import tempfile

import pytest

from amqp1_fixtures.daemons import qpid as daemons
from tests import realqpid

_FOUND = pytest.StashKey()
_LOG = pytest.StashKey()


def pytest_configure(config):
    config.stash[_FOUND] = realqpid.export()
    if hasattr(config, 'workerinput'):
        return  # an xdist worker appends to its controller's file
    fd, path = tempfile.mkstemp(prefix='amqp1-launches.')
    os.close(fd)
    os.environ[daemons.LAUNCH_LOG_ENV] = path
    config.stash[_LOG] = path


def pytest_terminal_summary(terminalreporter, config):
    path = config.stash.get(_LOG, None)
    if path is None:
        return
    counts = daemons.count_launches(path)
    found = config.stash[_FOUND]
    where = ', '.join('%s %s' % (n, p or 'absent')
                      for n, p in sorted(found.items()))
    terminalreporter.write_line(
        'amqp1 daemon launches: %d real qdrouterd, %d real qpidd, '
        '%d stand-in (%s)' % (counts.get('qdrouterd', 0),
                              counts.get('qpidd', 0),
                              counts.get(daemons.STANDIN, 0), where))


def pytest_unconfigure(config):
    path = config.stash.get(_LOG, None)
    if path is not None:
        os.unlink(path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.failed = True


@pytest.fixture
def clients():
    """Proton client connections of the test
    (:class:`tests.functional.proton_clients.Clients`), closed after it.
    """
    # Imported on use: proton is not needed to collect every test.
    from tests.functional import proton_clients
    fixture = proton_clients.Clients()
    fixture.setUp()
    yield fixture
    fixture.cleanUp()
