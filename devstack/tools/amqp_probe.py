"""Open one AMQP 1.0 connection, as a service would, and say what answered.

Run by devstack/lib/amqp1 with a python that has python-qpid-proton (the
stand-ins' venv, or the services' python once the plugin installed the
driver) to tell that a daemon it started -- or the RabbitMQ DevStack
started -- really serves AMQP 1.0 with the credentials the services get::

    printf '%s' "$password" | \
        $PYTHON devstack/tools/amqp_probe.py HOST PORT [--user USER] \
            [--ca CA_FILE] [--timeout SECONDS]

With ``--reach HUB_HOST HUB_PORT`` it checks a router's place in a mesh
instead: a receiver on a probe address of its own at HOST:PORT (this
node's router), a sender to that address at HUB_HOST:HUB_PORT (the hub's
client listener, the same credentials and CA), and one message that must
arrive.  A router grants a sender credit only once it knows a consumer
for the address somewhere in the mesh, so the message arrives once this
router's inter-router connection to the hub is up and the routes are
computed; it prints ``reached HOST:PORT from HUB_HOST:HUB_PORT``, or why
not within the timeout.

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
import uuid

from proton import Message
from proton import SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container
from proton.utils import BlockingConnection

#: first segment of a mesh probe's address: no prefix of oslo.messaging's
#: address table, so routers give it their default (balanced) distribution
PROBE_PREFIX = 'devstack-amqp1/mesh-probe'


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


class _Reach(MessagingHandler):
    """One message from the hub's listener to a consumer on this router.

    Owns the two connections, the probe's links and its outcome
    (``error``: None once the message arrived).
    """

    def __init__(self, local_url, hub_url, options, timeout):
        super().__init__(auto_accept=False)
        self.local_url = local_url
        self.hub_url = hub_url
        self.options = options
        self.timeout = timeout
        self.address = '%s/%s' % (PROBE_PREFIX, uuid.uuid4().hex)
        self.error = 'no answer within %ss' % timeout
        self.connections = []
        self.sender = None
        self.sent = False
        self.timer = None

    def on_start(self, event):
        self.timer = event.container.schedule(self.timeout, self)
        local = event.container.connect(self.local_url, reconnect=False,
                                        **self.options)
        self.connections.append(local)
        event.container.create_receiver(local, self.address)

    def on_link_opened(self, event):
        # (proton hands events new wrappers: the links' roles, not their
        # identity, tell them apart; the probe has one of each)
        if event.link.is_receiver and self.sender is None:
            # the consumer exists: now the hub may learn of it
            hub = event.container.connect(self.hub_url, reconnect=False,
                                          **self.options)
            self.connections.append(hub)
            self.sender = event.container.create_sender(hub, self.address)

    def on_sendable(self, event):
        if event.link.is_sender and not self.sent:
            self.sent = True
            self.sender.send(Message(body='devstack-amqp1 mesh probe'))

    def on_message(self, event):
        self.accept(event.delivery)
        self.error = None
        self._finish()

    def on_timer_task(self, event):
        if self.sender is None:
            self.error = 'no consumer at %s within %ss' % (
                self.local_url, self.timeout)
        elif not self.sent:
            self.error = ('the hub gave no credit within %ss: it knows no '
                          'route to this router yet' % self.timeout)
        self._finish()

    def on_transport_error(self, event):
        cond = event.transport.condition
        self.error = 'TransportError: %s' % (
            '%s: %s' % (cond.name, cond.description) if cond else 'closed')
        self._finish()

    def on_link_error(self, event):
        cond = event.link.remote_condition
        self.error = 'LinkDetached: %s: %s' % (cond.name, cond.description)
        self._finish()

    def on_connection_error(self, event):
        cond = event.connection.remote_condition
        self.error = 'ConnectionException: %s: %s' % (
            cond.name, cond.description)
        self._finish()

    def _finish(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for conn in self.connections:
            conn.close()
        self.connections = []


def reach(host, port, hub_host, hub_port, user=None, password='',
          ca_file=None, timeout=5.0):
    """Send one message from the hub's listener to a consumer here.

    :returns: None once it arrived, else why not (a one-line string).
    """
    tls = bool(ca_file)
    handler = _Reach(url_of(host, port, tls), url_of(hub_host, hub_port, tls),
                     connection_options(user, password, ca_file), timeout)
    Container(handler).run()
    return handler.error


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
    parser.add_argument('--reach', nargs=2, metavar=('HUB_HOST', 'HUB_PORT'),
                        help="the hub router's client listener: check that "
                             'a message from it reaches this router')
    args = parser.parse_args(argv)
    password = ''
    if args.user:
        password = (stdin or sys.stdin).read()
    if args.reach:
        hub_host, hub_port = args.reach[0], int(args.reach[1])
        error = reach(args.host, args.port, hub_host, hub_port,
                      args.user or None, password, args.ca or None,
                      args.timeout)
        if error:
            print(error)
            return 1
        print('reached %s:%s from %s:%s' % (
            args.host, args.port, hub_host, hub_port))
        return 0
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
