"""Address strings of the 14.x driver, without any I/O.

Two syntaxes exist.  *Legacy* addresses (qpidd) are dot separated and do not
tell RPC from notifications::

    exclusive[.vhost].<exchange>.<topic>.<server>     one server
    broadcast[.vhost].<exchange>.<topic>.all          fanout
    unicast[.vhost].<exchange>.<topic>                any server of a group

*Routable* addresses (qdrouterd) are slash separated and carry the service
and the delivery pattern::

    openstack.org/om/rpc/unicast[/vhost]/<exchange>/<topic>/<server>
    openstack.org/om/rpc/multicast[/vhost]/<exchange>/<topic>
    openstack.org/om/rpc/anycast[/vhost]/<exchange>/<topic>
    openstack.org/om/notify/anycast[/vhost]/<exchange>/<topic>.<priority>

Empty elements are left out.  Which syntax is used follows the peer's Open
``product`` property (:func:`choose_addresser`).
"""

RPC = 'rpc'
NOTIFY = 'notify'


def _join(sep, parts):
    # The old driver drops empty and None elements (no "a..b").
    return sep.join(p for p in parts if p)


class LegacyAddresser:
    """qpidd-style addresses.

    :param default_exchange: ``[DEFAULT] control_exchange``.
    :param server_prefix: ``server_request_prefix`` option.
    :param broadcast_prefix: ``broadcast_prefix`` option.
    :param group_prefix: ``group_request_prefix`` option.
    :param vhost: virtual host to embed, or None.
    """

    routable = False

    def __init__(self, default_exchange, server_prefix='exclusive',
                 broadcast_prefix='broadcast', group_prefix='unicast',
                 vhost=None):
        self._exchange = default_exchange
        self._server = server_prefix
        self._broadcast = broadcast_prefix
        self._group = group_prefix
        self._vhost = vhost

    def _exch(self, target):
        return target.exchange or self._exchange

    def unicast(self, target, service=RPC):
        """Address of exactly the server ``target.server``."""
        return _join('.', [self._server, self._vhost, self._exch(target),
                           target.topic, target.server])

    def multicast(self, target, service=RPC):
        """Address every subscriber of the topic receives a copy from."""
        return _join('.', [self._broadcast, self._vhost, self._exch(target),
                           target.topic, 'all'])

    def anycast(self, target, service=RPC):
        """Address shared by the servers (or listeners) of a topic."""
        return _join('.', [self._group, self._vhost, self._exch(target),
                           target.topic])

    def resolve(self, target, service=RPC):
        """The address a message to ``target`` is sent to."""
        return resolve(self, target, service)


class RoutableAddresser:
    """qdrouterd-style addresses.

    :param default_exchange: ``[DEFAULT] control_exchange``; ``openstack``
        when empty.
    :param rpc_exchange: ``default_rpc_exchange`` option (wins over
        ``default_exchange``).
    :param notify_exchange: ``default_notification_exchange`` option.
    """

    routable = True

    def __init__(self, default_exchange, rpc_exchange=None,
                 rpc_prefix='openstack.org/om/rpc', notify_exchange=None,
                 notify_prefix='openstack.org/om/notify', unicast='unicast',
                 multicast='multicast', anycast='anycast', vhost=None):
        default_exchange = default_exchange or 'openstack'
        self._exchange = {RPC: rpc_exchange or default_exchange,
                          NOTIFY: notify_exchange or default_exchange}
        self._prefix = {RPC: rpc_prefix, NOTIFY: notify_prefix}
        self._tags = (unicast, multicast, anycast)
        self._vhost = vhost

    def _address(self, tag, target, service, *tail):
        return _join('/', [self._prefix[service] + '/' + tag, self._vhost,
                           target.exchange or self._exchange[service],
                           target.topic] + list(tail))

    def unicast(self, target, service=RPC):
        """Address of exactly the server ``target.server``."""
        return self._address(self._tags[0], target, service, target.server)

    def multicast(self, target, service=RPC):
        """Address every subscriber of the topic receives a copy from."""
        return self._address(self._tags[1], target, service)

    def anycast(self, target, service=RPC):
        """Address shared by the servers (or listeners) of a topic."""
        return self._address(self._tags[2], target, service)

    def resolve(self, target, service=RPC):
        """The address a message to ``target`` is sent to."""
        return resolve(self, target, service)


def resolve(addresser, target, service=RPC):
    """Pick the delivery pattern of ``target`` and build its address.

    Fanout wins over server; notifications are always anycast (their
    ``target.topic`` already ends in ``.<priority>``).
    """
    if service == NOTIFY:
        return addresser.anycast(target, NOTIFY)
    if target.fanout:
        return addresser.multicast(target, service)
    if target.server:
        return addresser.unicast(target, service)
    return addresser.anycast(target, service)


def is_legacy(mode, remote_properties):
    """The 14.x product rule: legacy addresses for qpidd or an unknown peer.

    :param mode: ``addressing_mode`` option: ``legacy``, ``dynamic`` or
        anything else (routable; the old driver did not validate it).
    :param remote_properties: the peer's Open properties (may be None).
    """
    if mode == 'legacy':
        return True
    if mode != 'dynamic':
        return False
    product = (remote_properties or {}).get('product', 'qpid-cpp')
    return product == 'qpid-cpp'


def pseudo_vhost(url_vhost, enabled):
    """The vhost element put into addresses, or None.

    :param url_vhost: ``TransportURL.virtual_host`` (None or '' when absent).
    :param enabled: the ``pseudo_vhost`` option.
    """
    return url_vhost if (enabled and url_vhost) else None


def choose_addresser(conf_group, default_exchange, remote_properties,
                     url_vhost):
    """Build the addresser the 14.x driver would use on this connection.

    :param conf_group: the ``[oslo_messaging_amqp]`` options (any object
        with their attribute names).
    :param default_exchange: ``[DEFAULT] control_exchange``.
    :param remote_properties: the peer's Open properties.
    :param url_vhost: the transport URL's virtual host.
    """
    c = conf_group
    vhost = pseudo_vhost(url_vhost, c.pseudo_vhost)
    if is_legacy(c.addressing_mode, remote_properties):
        return LegacyAddresser(default_exchange, c.server_request_prefix,
                               c.broadcast_prefix, c.group_request_prefix,
                               vhost)
    return RoutableAddresser(default_exchange, c.default_rpc_exchange,
                             c.rpc_address_prefix,
                             c.default_notification_exchange,
                             c.notify_address_prefix, c.unicast_address,
                             c.multicast_address, c.anycast_address, vhost)
