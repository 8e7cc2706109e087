"""Does a config file the DevStack plugin wrote mean what the fixtures'
renderer writes for the same inputs?

The plugin renders qdrouterd.conf and qpidd.conf in shell (it must, for
the distribution's daemons, where no amqp1_fixtures exists);
:func:`~amqp1_fixtures.config.render_qdrouterd_conf` and
:func:`~amqp1_fixtures.config.render_qpidd_conf` render them in Python
for the fixtures.  This tool keeps the two one source: it renders the
inputs it is given with the Python renderer into a temporary directory,
parses both files with the stand-ins' parsers and compares the
settings, field by field.  Run by the TAP tests on the files a sandboxed
stack.sh wrote::

    printf '%s' "$password" | python3 conf_match.py router FILE \\
        --host H --port P [--user U] [--log-file L] [--cert C --key K] \\
        [--router-id ID] [--inter-router-port P | --connect HOST:PORT \\
        [--connector-ca CA]]
    printf '%s' "$password" | python3 conf_match.py broker FILE \\
        --host H --port P [--user U] [--log-file L] [--data-dir D]

It prints one line per field that differs (``users`` without their
values) and exits 1, or prints nothing and exits 0.  The fields that
name where a file lives rather than what the daemon does (the file
itself, the credentials file) are not compared.
"""

import argparse
import dataclasses
import logging
import sys
import tempfile

from amqp1_fixtures import config
from amqp1_fixtures.config import inter_router
from amqp1_fixtures.tls import TlsConfig

#: fields that say where the files are, not what the daemon does
IGNORED = frozenset(('path', 'credentials_file'))

#: the plugin's router id (without AMQP1_ROUTER_MESH)
ROUTER_ID = 'devstack.amqp1'

#: the name of the plugin's connector to the mesh's hub
HUB_CONNECTOR = 'amqp1-mesh-hub'


def differences(plugin, renderer):
    """``[line]``: one per compared field of two settings that differs.

    :param plugin: the settings parsed from the plugin's file.
    :param renderer: those parsed from the renderer's.
    """
    lines = []
    for field in dataclasses.fields(plugin):
        if not field.compare or field.name in IGNORED:
            continue
        mine = getattr(plugin, field.name)
        theirs = getattr(renderer, field.name)
        if mine == theirs:
            continue
        if field.name == 'users':
            # never a password in a test's output
            lines.append('users: plugin %s, renderer %s'
                         % (sorted(mine or ()), sorted(theirs or ())))
        else:
            lines.append('%s: plugin %r, renderer %r'
                         % (field.name, mine, theirs))
    return lines


def mesh_entities(args, users, tls):
    """``(listeners, connectors)`` of a router of the plugin's mesh: the
    hub listens with the client listener's SASL and TLS, another router
    connects to the hub as the services' user."""
    mechs = ['PLAIN'] if users else None
    if args.inter_router_port:
        return [inter_router.InterRouterListener(
            host=args.host, port=args.inter_router_port,
            sasl_mechanisms=mechs, tls=tls)], []
    if not args.connect:
        return [], []
    host, port = args.connect.rsplit(':', 1)
    connector_tls = None
    if args.connector_ca:
        connector_tls = TlsConfig(cert_file=None, key_file=None,
                                  ca_file=args.connector_ca)
    user, password = next(iter(users.items())) if users else (None, None)
    return [], [inter_router.InterRouterConnector(
        host=host, port=int(port), name=HUB_CONNECTOR,
        sasl_mechanisms=mechs, sasl_username=user, sasl_password=password,
        tls=connector_tls)]


def render(args, users, directory):
    """Render ``args.daemon``'s file with the Python renderer; return the
    parsed settings."""
    path = '%s/%s.conf' % (directory, args.daemon)
    if args.daemon == 'router':
        tls = None
        if args.cert:
            tls = TlsConfig(cert_file=args.cert, key_file=args.key)
        listeners, connectors = mesh_entities(args, users, tls)
        config.render_qdrouterd_conf(
            path, host=args.host, port=args.port, users=users, tls=tls,
            router_id=args.router_id, log_file=args.log_file,
            log_level=logging.INFO, inter_router_listeners=listeners,
            connectors=connectors)
        return config.parse_qdrouterd_conf(path)
    config.render_qpidd_conf(
        path, host=args.host, port=args.port, users=users,
        log_file=args.log_file, log_level=logging.INFO,
        data_dir=args.data_dir)
    return config.parse_qpidd_conf(path)


def parse(daemon, path):
    """The settings of the plugin's file."""
    if daemon == 'router':
        return config.parse_qdrouterd_conf(path)
    return config.parse_qpidd_conf(path)


def main(argv=None, stdin=None):
    """Compare; print the differences; return 0 when there are none."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('daemon', choices=('router', 'broker'))
    parser.add_argument('file', help="the plugin's config file")
    parser.add_argument('--host', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--user', help='SASL user (password on stdin)')
    parser.add_argument('--log-file')
    parser.add_argument('--data-dir')
    parser.add_argument('--cert')
    parser.add_argument('--key')
    parser.add_argument('--router-id', default=ROUTER_ID)
    mesh = parser.add_mutually_exclusive_group()
    mesh.add_argument('--inter-router-port', type=int,
                      help="the mesh's hub: its inter-router listener")
    mesh.add_argument('--connect', metavar='HOST:PORT',
                      help="another router: its connector to the hub's")
    parser.add_argument('--connector-ca',
                        help="the CA the connector verifies the hub with")
    args = parser.parse_args(argv)
    users = None
    if args.user:
        users = {args.user: (stdin or sys.stdin).read()}
    with tempfile.TemporaryDirectory() as directory:
        found = differences(parse(args.daemon, args.file),
                            render(args, users, directory))
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
