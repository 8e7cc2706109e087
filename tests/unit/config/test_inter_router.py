"""Unit tests of the inter-router entities of qdrouterd.conf
(amqp1_fixtures.config.inter_router, and their parsing and rendering by
amqp1_fixtures.config.qdrouterd_conf): no sockets, temp dirs only."""

import os

import fixtures

from amqp1_fixtures import exceptions
from amqp1_fixtures.config.inter_router import check_cost
from amqp1_fixtures.config.inter_router import InterRouterConnector
from amqp1_fixtures.config.inter_router import InterRouterListener
from amqp1_fixtures.config.qdrouterd_conf import parse_qdrouterd_conf
from amqp1_fixtures.config.qdrouterd_conf import render_qdrouterd_conf
from amqp1_fixtures.config.sasl_config import write_credentials
from amqp1_fixtures.tls import TlsConfig
from tests.unit.config.config_case import ConfigTestCase

INTERIOR = """\
    router {
        mode: interior
        id: B
    }
    listener {
        port: 5672
    }
    """


class TestParseInterRouter(ConfigTestCase):

    def conf(self, text):
        return self.write('qdrouterd.conf', text)

    def check(self, text, line, option, message):
        path = self.conf(text)
        return self.assertConfigError(
            lambda: parse_qdrouterd_conf(path), path, line, option,
            message)

    def test_interior_router_with_listener_and_connectors(self):
        path = self.conf(INTERIOR + """\
            listener {
                name: mesh
                host: 127.0.0.1
                port: 5673
                role: inter-router
                cost: 3
                idleTimeoutSeconds: 8
            }
            connector {
                name: to-a
                host: 127.0.0.1
                port: 6001
                role: inter-router
            }
            connector {
                port: 6002
                role: inter-router
                cost: 10
            }
            """)
        settings = parse_qdrouterd_conf(path)
        self.assertEqual(('interior', 'B'), (settings.mode,
                                             settings.router_id))
        self.assertEqual(5672, settings.port)
        self.assertEqual([InterRouterListener(
            host='127.0.0.1', port=5673, cost=3, idle_timeout=8.0,
            name='mesh')], settings.inter_router_listeners)
        self.assertEqual([
            InterRouterConnector('127.0.0.1', 6001, cost=1, name='to-a'),
            InterRouterConnector('127.0.0.1', 6002, cost=10)],
            settings.connectors)
        # each entity knows its role line, for later errors
        self.assertEqual((path, 12), settings.inter_router_listeners[0].at)
        self.assertEqual((path, 20), settings.connectors[0].at)

    def test_connector_security(self):
        self.useFixture(fixtures.EnvironmentVariable('MESHPW', 's3cret'))
        for name in ('ca.pem', 'c.pem', 'k.pem'):
            self.write(name, 'x')
        path = self.conf(INTERIOR + """\
            sslProfile {
                name: to-a-tls
                caCertFile: %s
                certFile: %s
                privateKeyFile: %s
            }
            connector {
                host: a.example.org
                port: 5671
                role: inter-router
                sslProfile: to-a-tls
                verify-host-name: no
                saslMechanisms: plain
                saslUsername: mesh
                saslPassword: env:MESHPW
            }
            """ % (self.path('ca.pem'), self.path('c.pem'),
                   self.path('k.pem')))
        settings = parse_qdrouterd_conf(path)
        connector = settings.connectors[0]
        self.assertEqual(
            ('a.example.org', 5671, ['PLAIN'], 'mesh', 's3cret', False),
            (connector.host, connector.port, connector.sasl_mechanisms,
             connector.sasl_username, connector.sasl_password,
             connector.verify_hostname))
        self.assertEqual(TlsConfig(self.path('c.pem'), self.path('k.pem'),
                                   ca_file=self.path('ca.pem')),
                         connector.tls)
        self.assertNotIn('s3cret', repr(settings))
        settings.check_files()
        os.unlink(self.path('ca.pem'))
        self.assertConfigError(settings.check_files, path, 10, 'caCertFile',
                               'no such file')

    def test_authenticating_inter_router_listener(self):
        creds = write_credentials(self.path('users'), {'mesh': 'pw'})
        self.write('sasl2/qdrouterd.conf',
                   'sasldb_path: %s\nmech_list: PLAIN\n' % creds)
        path = self.conf("""\
            router {
                mode: interior
                saslConfigDir: %s
            }
            listener {
                port: 5672
            }
            listener {
                port: 5673
                role: inter-router
                authenticatePeer: yes
                saslMechanisms: PLAIN
            }
            """ % self.path('sasl2'))
        settings = parse_qdrouterd_conf(path)
        # the client listener stays anonymous; neighbours must log in
        self.assertIsNone(settings.users)
        self.assertEqual(['PLAIN'],
                         settings.inter_router_listeners[0].sasl_mechanisms)
        self.assertEqual({'mesh': 'pw'}, settings.mesh_users)

    def test_interior_router_is_served_with_its_mesh(self):
        path = self.conf(INTERIOR + """\
            connector {
                port: 6001
                role: inter-router
                cost: 3
            }
            """)
        kwargs = parse_qdrouterd_conf(path).kwargs()
        self.assertEqual('interior', kwargs['mode'])
        self.assertEqual([(6001, 3)], [(c.port, c.cost)
                                       for c in kwargs['connectors']])
        self.assertEqual([], kwargs['inter_router_listeners'])
        # and the FakeRouter takes them
        from amqp1_fixtures import FakeRouter
        router = FakeRouter(**kwargs)
        self.assertEqual('interior', router.mode)
        self.assertEqual(router.router_id, router.container_id)
        path = self.conf(INTERIOR)
        self.assertEqual('interior', parse_qdrouterd_conf(path).kwargs()[
            'mode'])

    def test_standalone_router_refuses_inter_router_entities(self):
        # qdrouterd 1.19 exits: "role='standalone' not allowed to connect
        # to or accept connections from other routers"
        self.check('listener {\n  port: 1\n}\nlistener {\n  port: 2\n'
                   '  role: inter-router\n}\n', 6, 'role',
                   'needs mode: interior')
        self.check('router {\n  mode: standalone\n}\nlistener {\n}\n'
                   'connector {\n  role: inter-router\n}\n', 7, 'role',
                   'needs mode: interior')

    def test_what_the_stand_in_will_not_implement(self):
        self.check('router {\n  mode: edge\n}\n', 2, 'mode',
                   "mode 'edge' is not supported by the stand-in")
        self.check(INTERIOR + 'listener {\n  role: edge\n}\n', 9, 'role',
                   "role 'edge' is not supported")
        self.check(INTERIOR + 'connector {\n  role: route-container\n}\n',
                   9, 'role', "role 'route-container' is not supported")
        self.check(INTERIOR + 'connector {\n  port: 1\n}\n', 8, 'role',
                   'role normal (the default) is not supported')
        for section in ('linkRoute', 'autoLink', 'exchange', 'binding'):
            self.check(INTERIOR + '%s {\n}\n' % section, 8, section,
                       'section is not supported by the stand-in')
        for option in ('linkCapacity: 10', 'stripAnnotations: no',
                       'allowRedirect: no', 'maxFrameSize: 512'):
            self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                       '  %s\n}\n' % option, 10, option.split(':')[0],
                       'option the stand-in does not support')

    def test_bad_inter_router_values(self):
        for cost in ('0', '-3', 'high'):
            # qdrouterd starts with cost 0 or -3; the book's minimum is 1
            self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                       '  cost: %s\n}\n' % cost, 10, 'cost',
                       'integer >= 1')
        self.check('listener {\n  cost: 2\n}\n', 2, 'cost',
                   'inter-router listeners only')
        self.check(INTERIOR + 'listener {\n  role: inter-router\n'
                   '  port: 5672\n}\n', 10, 'port',
                   '127.0.0.1:5672 is already the port of the client '
                   'listener')
        self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                   '  sslProfile: none\n}\n', 10, 'sslProfile',
                   "no sslProfile named 'none'")
        self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                   '  verifyHostname: no\n}\n', 10, 'verifyHostname',
                   'needs an sslProfile')
        self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                   '  saslPassword: x\n}\n', 10, 'saslPassword',
                   'without saslUsername')
        self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                   '  saslUsername: u\n  saslPassword: env:NO_SUCH_VAR_X\n'
                   '}\n', 11, 'saslPassword', 'NO_SUCH_VAR_X is not set')
        self.check(INTERIOR + 'sslProfile {\n  name: p\n  certFile: /c\n}\n'
                   'connector {\n  role: inter-router\n  sslProfile: p\n}\n',
                   8, 'privateKeyFile', 'has certFile but no privateKeyFile')
        self.check(INTERIOR + 'connector {\n  name: x\n  role: inter-router'
                   '\n}\nconnector {\n  name: x\n  role: inter-router\n}\n',
                   13, 'name', "connector 'x' declared twice")
        self.check(INTERIOR + 'listener {\n  role: inter-router\n'
                   '  port: 6000\n  initialHandshakeTimeoutSeconds: 5\n}\n',
                   11, 'initialHandshakeTimeoutSeconds',
                   'client listener only')
        self.check(INTERIOR + 'connector {\n  role: inter-router\n'
                   '  addr: 10.0.0.1\n}\n', 10, 'addr', 'renamed host')


class TestRenderInterRouter(ConfigTestCase):

    def test_round_trip(self):
        path = self.path('qdrouterd.conf')
        listeners = [InterRouterListener(port=6000, cost=2),
                     InterRouterListener(port=6001, name='second')]
        connectors = [InterRouterConnector('127.0.0.1', 7000),
                      InterRouterConnector('127.0.0.1', 7001, cost=5,
                                           name='far')]
        render_qdrouterd_conf(path, port=5672, router_id='C',
                              inter_router_listeners=listeners,
                              connectors=connectors)
        settings = parse_qdrouterd_conf(path)
        self.assertEqual(('interior', 'C'), (settings.mode,
                                             settings.router_id))
        self.assertEqual(listeners, settings.inter_router_listeners)
        # connectors get a name (qdrouterd names connections after it)
        self.assertEqual(['inter-router-0', 'far'],
                         [c.name for c in settings.connectors])
        self.assertEqual([(7000, 1), (7001, 5)],
                         [(c.port, c.cost) for c in settings.connectors])

    def test_standalone_without_inter_router_entities(self):
        path = render_qdrouterd_conf(self.path('qdrouterd.conf'))
        self.assertEqual('standalone', parse_qdrouterd_conf(path).mode)
        path = render_qdrouterd_conf(self.path('lone.conf'), mode='interior')
        self.assertEqual('interior', parse_qdrouterd_conf(path).mode)

    def test_secrets_go_to_private_files(self):
        certs = {n: self.write(n, 'x') for n in ('ca.pem', 'c.pem', 'k.pem')}
        path = self.path('qdrouterd.conf')
        tls = TlsConfig(certs['c.pem'], certs['k.pem'], password='keypw',
                        ca_file=certs['ca.pem'])
        render_qdrouterd_conf(
            path, users={'mesh': 'pw'},
            inter_router_listeners=[InterRouterListener(
                port=6000, sasl_mechanisms=['PLAIN'], tls=tls)],
            connectors=[InterRouterConnector(
                'localhost', 7000, sasl_mechanisms=['PLAIN'],
                sasl_username='mesh', sasl_password='connpw',
                tls=TlsConfig(None, None, ca_file=certs['ca.pem']),
                verify_hostname=False)])
        with open(path) as f:
            text = f.read()
        self.assertNotIn('connpw', text)
        self.assertNotIn('keypw', text)
        self.assertIn('saslPassword: file:%s.inter-router-0.password' % path,
                      text)
        self.assertEqual(0o600, self.mode(path + '.inter-router-0.password'))
        settings = parse_qdrouterd_conf(path)
        listener = settings.inter_router_listeners[0]
        connector = settings.connectors[0]
        self.assertEqual((['PLAIN'], tls), (listener.sasl_mechanisms,
                                            listener.tls))
        self.assertEqual(('mesh', 'connpw', False, certs['ca.pem']),
                         (connector.sasl_username, connector.sasl_password,
                          connector.verify_hostname, connector.tls.ca_file))
        self.assertEqual({'mesh': 'pw'}, settings.mesh_users)

    def test_verify_client_offers_external(self):
        certs = {n: self.write(n, 'x') for n in ('ca.pem', 'c.pem', 'k.pem')}
        tls = TlsConfig(certs['c.pem'], certs['k.pem'],
                        ca_file=certs['ca.pem'], verify_client=True)
        path = render_qdrouterd_conf(
            self.path('qdrouterd.conf'),
            inter_router_listeners=[InterRouterListener(port=6000, tls=tls)])
        with open(path) as f:
            self.assertIn('saslMechanisms: EXTERNAL', f.read())
        listener = parse_qdrouterd_conf(path).inter_router_listeners[0]
        self.assertEqual((None, tls), (listener.sasl_mechanisms,
                                       listener.tls))

    def test_render_refusals(self):
        path = self.path('qdrouterd.conf')
        for listeners, connectors, users, text in (
                ([InterRouterListener(port=0)], [], None, 'needs a port'),
                ([InterRouterListener(port=1, cost=0)], [], None,
                 'integer >= 1, not 0'),
                ([], [InterRouterConnector('h', 1, cost=-1)], None,
                 'integer >= 1, not -1'),
                ([InterRouterListener(port=1, sasl_mechanisms=['PLAIN'])],
                 [], None, "needs the router's users"),
                ([InterRouterListener(host='0.0.0.0', port=1)], [], None,
                 'refusing to write an unauthenticated listener'),
                ([], [InterRouterConnector('h', 1, sasl_username='u',
                                           sasl_password='a\nb')],
                 None, 'line break')):
            err = self.assertRaises(
                exceptions.ConfigError, render_qdrouterd_conf, path,
                users=users, inter_router_listeners=listeners,
                connectors=connectors)
            self.assertIn(text, str(err))
        self.assertFalse(os.path.exists(path))

    def test_check_cost(self):
        self.assertEqual(7, check_cost(7))
        for bad in (0, -1, 1.5, True, '2'):
            self.assertRaises(exceptions.ConfigError, check_cost, bad)
