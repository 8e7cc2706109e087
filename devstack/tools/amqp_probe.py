"""Open one AMQP 1.0 connection, as a service would, and say what answered.

Run by devstack/lib/amqp1 with a python that has python-qpid-proton (the
stand-ins' venv, or the services' python once the plugin installed the
driver) to tell that a daemon it started -- or the RabbitMQ DevStack
started -- really serves AMQP 1.0 with the credentials the services get::

    printf '%s' "$password" | \
        $PYTHON devstack/tools/amqp_probe.py HOST PORT [--user USER] \
            [--ca CA_FILE] [--timeout SECONDS]

The password is read from standard input, never from the command line.
With ``--user`` the connection authenticates with SASL PLAIN, without it
anonymously; with ``--ca`` it is TLS, the peer's certificate verified
against that CA and the host name (as proton checks it: the
certificate's DNS names and common name, not its IP addresses; DevStack's
make_cert lists the common name among the DNS names).  On success it prints the
``product`` and ``version`` properties of the peer's Open
(``RabbitMQ 4.0.5``; ``unknown`` for one the peer leaves out) and exits
0; otherwise it prints why (``ConnectionException: ...``) and exits 1.
"""

import argparse
import sys

from proton import SSLDomain
from proton.utils import BlockingConnection


def url_of(host, port, tls=False):
    """The URL proton connects to; an IPv6 address gets brackets."""
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return '%s://%s:%s' % ('amqps' if tls else 'amqp', host, port)


def connection_options(user=None, password='', ca_file=None):
    """Keyword arguments of :class:`BlockingConnection`.

    :param user: SASL PLAIN user; None connects anonymously.
    :param password: its password.
    :param ca_file: CA to verify the peer against (TLS); None for plain.
    """
    options = {}
    if ca_file:
        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_trusted_ca_db(ca_file)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
        options['ssl_domain'] = domain
    if user:
        options.update(user=user, password=password, allowed_mechs='PLAIN')
    return options


def peer_identity(properties):
    """``'<product> <version>'`` from an Open's connection properties."""
    props = {str(k): v for k, v in (properties or {}).items()}
    return '%s %s' % (props.get('product') or 'unknown',
                      props.get('version') or 'unknown')


def probe(host, port, user=None, password='', ca_file=None, timeout=5.0):
    """Open and close one connection; return :func:`peer_identity`.

    :raises Exception: whatever proton raises when the connection fails
        (refused, SASL failure, TLS failure, timeout).
    """
    conn = BlockingConnection(url_of(host, port, tls=bool(ca_file)),
                              timeout=timeout,
                              **connection_options(user, password, ca_file))
    try:
        return peer_identity(conn.conn.remote_properties)
    finally:
        conn.close()


def main(argv=None, stdin=None):
    """Probe; print the peer or the failure; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('host')
    parser.add_argument('port', type=int)
    parser.add_argument('--user', default='',
                        help='SASL PLAIN user (password on stdin)')
    parser.add_argument('--ca', default='',
                        help='CA file: connect with TLS and verify the peer')
    parser.add_argument('--timeout', type=float, default=5.0)
    args = parser.parse_args(argv)
    password = ''
    if args.user:
        password = (stdin or sys.stdin).read()
    try:
        print(probe(args.host, args.port, args.user or None, password,
                    args.ca or None, args.timeout))
    except Exception as exc:
        # The plugin shows this line in its error message: proton's
        # exceptions (ConnectionException, Timeout, SSLException ...)
        # have no common base worth naming.
        print('%s: %s' % (type(exc).__name__, exc))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
