"""The pytest plugin, exercised by inner pytest runs (pytester)."""

import pytest

from amqp1_fixtures.daemons import rabbitmq
from tests import realqpid

pytest_plugins = ['pytester']


def run(pytester, *args):
    return pytester.runpytest('-p', 'no:cacheprovider', *args)


def test_default_fixtures_are_fakes(pytester):
    pytester.makepyfile('''
        from amqp1_fixtures.daemons import ports

        def test_router(amqp1_router):
            assert type(amqp1_router).__name__ == 'FakeRouter'
            assert ports.accepts_connections('127.0.0.1', amqp1_router.port)

        def test_broker(amqp1_broker, amqp1_broker_session):
            assert type(amqp1_broker).__name__ == 'FakeBroker'
            assert amqp1_broker.port != amqp1_broker_session.port

        def test_modes(amqp1_qpid, amqp1_qpid_dual):
            assert amqp1_qpid.rpc_url == amqp1_qpid.notify_url
            assert amqp1_qpid_dual.rpc_backend is amqp1_qpid_dual.router
    ''')
    run(pytester).assert_outcomes(passed=3)


def test_precedence_argument_option_ini(pytester):
    pytester.makeini('''
        [pytest]
        amqp1_mode = qpid-dual
    ''')
    pytester.makepyfile('''
        from amqp1_fixtures import pytest_plugin as amqp1

        broker_service = amqp1.service('broker')

        def test_mode(amqp1_service, broker_service):
            print('MODE=%s/%s' % (amqp1_service.mode, broker_service.mode))
    ''')
    result = run(pytester, '-s')
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(['*MODE=qpid-dual/broker*'])
    result = run(pytester, '-s', '--amqp1-mode', 'router')
    result.stdout.fnmatch_lines(['*MODE=router/broker*'])


def test_parametrized_service(pytester):
    pytester.makepyfile('''
        import pytest

        @pytest.mark.parametrize('amqp1_service', ['qpid', 'qpid-dual'],
                                 indirect=True)
        def test_call(amqp1_service):
            assert amqp1_service.mode in ('qpid', 'qpid-dual')
            assert amqp1_service.rpc_url.startswith('amqp://')
    ''')
    run(pytester).assert_outcomes(passed=2)


def test_bad_mode_is_an_error(pytester):
    pytester.makepyfile('''
        def test_x(amqp1_service):
            pass
    ''')
    result = run(pytester, '--amqp1-mode', 'rabbit')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(['*valid modes: qpid, qpid-dual*'])


def hide_real_daemons(monkeypatch):
    """The stand-in's own tests: no real daemon findable."""
    env = realqpid.without_real_daemons()
    for var in realqpid.ENV.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('PATH', env['PATH'])


def test_daemons_option_and_failure_report(pytester, monkeypatch):
    pytester.makepyfile('''
        def test_fails(amqp1_router):
            assert amqp1_router.impl == 'standin'
            assert False, 'on purpose'
    ''')
    hide_real_daemons(monkeypatch)
    result = run(pytester, '--amqp1-daemons')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        '*on purpose*',
        '*amqp1 router-standin-log*',
        '*listening on 127.0.0.1:*',
        '*amqp1 router-standin-qdrouterd.conf*',
    ])


def test_require_real_skips(pytester, monkeypatch):
    hide_real_daemons(monkeypatch)
    pytester.makeini('''
        [pytest]
        amqp1_daemons = true
        amqp1_require_real = yes
    ''')
    pytester.makepyfile('''
        def test_x(amqp1_router):
            pass
    ''')
    result = run(pytester, '-rs')
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(['*qdrouterd is not installed*'])


def test_rabbitmq_server_that_does_not_exist_is_an_error(pytester,
                                                         monkeypatch):
    """A path the user gave is not an absent RabbitMQ: an error naming
    the option (or ini key), not a skip."""
    pytester.makepyfile('''
        def test_x(amqp1_rabbitmq_session):
            pass
    ''')
    result = run(pytester, '--amqp1-rabbitmq-server', '/nonexistent/rabbit')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*option '--amqp1-rabbitmq-server': rabbitmq-server "
        "/nonexistent/rabbit does not exist*"])
    pytester.makeini('''
        [pytest]
        amqp1_rabbitmq_server = /nonexistent/ini-rabbit
    ''')
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*option 'amqp1_rabbitmq_server (ini)': rabbitmq-server "
        "/nonexistent/ini-rabbit does not exist*"])
    monkeypatch.setenv('AMQP1_RABBITMQ_SERVER', '/nonexistent/env-rabbit')
    pytester.makeini('[pytest]\n')
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*option 'AMQP1_RABBITMQ_SERVER': rabbitmq-server "
        "/nonexistent/env-rabbit does not exist*"])


@pytest.mark.skipif(not rabbitmq.find_rabbitmq_server(),
                    reason='rabbitmq-server is not installed')
def test_hybrid_reuses_the_session_rabbitmq(pytester):
    pytester.makepyfile('''
        seen = set()

        def test_one(amqp1_qpid_hybrid):
            seen.add(amqp1_qpid_hybrid.rabbitmq.node_name)
            assert amqp1_qpid_hybrid.notify_url.startswith('rabbit://')

        def test_two(amqp1_qpid_hybrid, amqp1_rabbitmq_session):
            seen.add(amqp1_qpid_hybrid.rabbitmq.node_name)
            assert amqp1_qpid_hybrid.rabbitmq is amqp1_rabbitmq_session
            assert len(seen) == 1
    ''')
    run(pytester).assert_outcomes(passed=2)


@pytest.mark.parametrize('real', ['qdrouterd', 'qpidd'])
def test_real_daemons(pytester, real):
    """--amqp1-daemons --amqp1-require-real: the real daemons (CI)."""
    if not realqpid.find(real):
        pytest.skip(realqpid.absent_reason(real))
    kind = 'router' if real == 'qdrouterd' else 'broker'
    pytester.makepyfile('''
        from amqp1_fixtures.daemons import ports

        def test_backend(amqp1_{kind}):
            assert amqp1_{kind}.impl == '{real}'
            assert ports.accepts_connections('127.0.0.1',
                                             amqp1_{kind}.port)
    '''.format(kind=kind, real=real))
    run(pytester, '--amqp1-daemons',
        '--amqp1-require-real').assert_outcomes(passed=1)


def test_mesh_fixtures(pytester):
    pytester.makepyfile('''
        from amqp1_fixtures import pytest_plugin as amqp1

        line = amqp1.mesh(links=[('B', 'A', 1), ('C', 'B', 1)])

        def test_default(amqp1_mesh):
            assert amqp1_mesh.impl == 'fake'
            assert sorted(amqp1_mesh.routers) == ['A', 'B', 'C']
            assert amqp1_mesh.routers['B'].mesh()['routes']['A']

        def test_line(line):
            assert line.routers['A'].mesh()['routes']['C'] == {
                'cost': 2, 'next_hop': 'B'}
    ''')
    run(pytester).assert_outcomes(passed=2)


def test_routers_setting_meshes_every_service(pytester):
    pytester.makepyfile('''
        def test_dual(amqp1_qpid_dual, amqp1_mesh):
            svc = amqp1_qpid_dual
            assert sorted(svc.router_urls) == ['A', 'B']
            env = svc.environ_vars()
            assert env['RPC_TRANSPORT_URL'] == svc.router.spread_url
            assert env['RPC_TRANSPORT_URL_B'] == svc.router_urls['B']
            assert sorted(amqp1_mesh.routers) == ['A', 'B']

        def test_broker_only(amqp1_qpid):
            assert amqp1_qpid.router_urls == {}
    ''')
    run(pytester, '--amqp1-routers', '2').assert_outcomes(passed=2)
    # Only the fixtures with a router read the setting.
    result = run(pytester, '--amqp1-routers', '0')
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(['*a number from 1 to 26*'])


def test_rabbitmq_mode_and_hybrid_over_amqp_with_fakes(pytester):
    pytester.makepyfile('''
        def test_rabbitmq(amqp1_rabbitmq_mode):
            assert type(amqp1_rabbitmq_mode.rabbitmq).__name__ == \\
                'FakeRabbitMQ'
            assert amqp1_rabbitmq_mode.rpc_url == \\
                amqp1_rabbitmq_mode.notify_url

        def test_hybrid(amqp1_qpid_hybrid):
            assert amqp1_qpid_hybrid.notify_driver == 'amqp'
            assert amqp1_qpid_hybrid.notify_url.startswith('amqp://')
            assert type(amqp1_qpid_hybrid.notify_backend).__name__ == \\
                'FakeRabbitMQ'
    ''')
    run(pytester, '--amqp1-notify-driver', 'amqp').assert_outcomes(passed=2)


def test_rabbitmq_mode_daemons_share_the_session_node(pytester):
    from amqp1_fixtures.daemons import rabbitmq4
    if not rabbitmq4.find_rabbitmq4_server():
        pytest.skip(rabbitmq4.absent_reason())
    pytester.makepyfile('''
        def test_one(amqp1_rabbitmq_mode, amqp1_rabbitmq4_session):
            assert amqp1_rabbitmq_mode.rabbitmq is amqp1_rabbitmq4_session
            assert amqp1_rabbitmq_mode.rpc_url.startswith('amqp://')

        def test_two(amqp1_service, amqp1_rabbitmq4_session):
            assert amqp1_service.mode == 'rabbitmq'
            assert amqp1_service.rabbitmq is amqp1_rabbitmq4_session
    ''')
    run(pytester, '--amqp1-daemons', '--amqp1-mode',
        'rabbitmq').assert_outcomes(passed=2)
