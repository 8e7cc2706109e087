"""What the driver's connection looks like on the wire, without I/O.

The TLS decision, the container-id, and :func:`new_connection`, which
builds the :class:`proton.Connection` and :class:`proton.Transport` of
one attempt as 14.x's driver set them up: frame limits, Open properties,
idle timeout, frame trace, SASL only when credentials or mechanisms are
configured, and TLS.
"""

import os
import socket
import ssl as pyssl
import sys
import uuid

import proton
from proton import Collector
from proton import SSL
from proton import SSLDomain
from proton import Transport

from amqp1_driver import exceptions


def tls_requested(group):
    """True if the options ask for TLS (``ssl``, a CA or a certificate)."""
    return bool(group.ssl or group.ssl_ca_file or group.ssl_cert_file)


def require_tls_support(present=None):
    """Raise :class:`TLSUnavailable` unless proton can do TLS.

    :param present: the result of ``proton.SSL.present()``; asked when None
        (a parameter so that a TLS-less build can be simulated in tests).
    """
    if present is None:
        present = SSL.present()
    if not present:
        raise exceptions.TLSUnavailable(
            'SSL/TLS was requested ([oslo_messaging_amqp] ssl, ssl_ca_file '
            'or ssl_cert_file) but the installed python-qpid-proton was '
            'built without OpenSSL, so it cannot encrypt. Install the '
            'OpenSSL headers (Debian: apt-get install libssl-dev '
            'pkg-config) and rebuild it without pip\'s cached wheel: pip '
            'install --no-cache-dir --force-reinstall --no-deps '
            'python-qpid-proton')


def container_id():
    """A container-id like the 14.x driver's (node, program, pid, uuid)."""
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ''
    return 'openstack.org/om/container/%s/%s/%s/%s' % (
        socket.gethostname(), prog, os.getpid(), uuid.uuid4().hex)


def new_connection(group, host, container, vhost, tls):
    """The proton objects of one connection attempt.

    :param group: the ``[oslo_messaging_amqp]`` option values.
    :param host: the :class:`~amqp1_driver.hosts.Host` to connect to.
    :param container: the container-id.
    :param vhost: the URL's virtual host, or None/''.
    :param tls: True to wrap the transport in TLS.
    :returns: ``(connection, transport, collector, sasl)``, the
        connection collecting its events into ``collector``, bound to the
        transport and opened; ``sasl`` is None without a SASL layer.
    """
    g = group
    conn = proton.Connection()
    conn.container = container
    if not g.pseudo_vhost and vhost:
        conn.hostname = vhost
    prog = sys.argv[0] if sys.argv else ''
    conn.properties = {proton.symbol('process'): prog,
                       proton.symbol('pid'): os.getpid(),
                       proton.symbol('node'): socket.gethostname()}
    mechs = (g.sasl_mechanisms or '').upper().split()
    transport = Transport(Transport.CLIENT)
    transport.max_frame_size = 0x8000
    transport.channel_max = 0x7fff
    if g.idle_timeout:
        transport.idle_timeout = float(g.idle_timeout)
    if g.trace:
        transport.trace(Transport.TRACE_FRM)
    if tls:
        _setup_tls(g, transport, host.hostname, vhost)
    sasl = None
    user = host.username
    if user or mechs:
        # 14.x (pyngus) only spoke SASL when credentials or mechanisms
        # were configured; otherwise the bare AMQP header is sent.
        if user:
            if g.sasl_default_realm and '@' not in user:
                user = '%s@%s' % (user, g.sasl_default_realm)
            conn.user = user
            conn.password = host.password or ''
        sasl = transport.sasl()
        sasl.allow_insecure_mechs = True
        if mechs:
            sasl.allowed_mechs(' '.join(mechs))
        if g.sasl_config_dir:
            sasl.config_path(g.sasl_config_dir)
        if g.sasl_config_name:
            sasl.config_name(g.sasl_config_name)
    collector = Collector()
    conn.collect(collector)
    transport.bind(conn)
    conn.open()
    return conn, transport, collector, sasl


def _setup_tls(g, transport, hostname, vhost):
    domain = SSLDomain(SSLDomain.MODE_CLIENT)
    ca = g.ssl_ca_file
    if not ca and g.ssl:
        ca = pyssl.get_default_verify_paths().cafile
    peer = hostname
    if g.ssl_verify_vhost:
        peer = vhost or None
    if ca:
        domain.set_trusted_ca_db(ca)
        mode = (SSLDomain.VERIFY_PEER_NAME if peer
                else SSLDomain.VERIFY_PEER)
        domain.set_peer_authentication(mode, ca)
    else:
        domain.set_peer_authentication(SSLDomain.ANONYMOUS_PEER)
    if g.ssl_cert_file:
        domain.set_credentials(g.ssl_cert_file, g.ssl_key_file or None,
                               g.ssl_key_password)
    tls = SSL(transport, domain)
    if peer:
        tls.peer_hostname = peer
