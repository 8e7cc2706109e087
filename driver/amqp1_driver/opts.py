"""The ``[oslo_messaging_amqp]`` options, as oslo.messaging 14.x had them.

Names, types, defaults, bounds and the deprecated group ``amqp1`` are kept
so that existing service configurations keep working; the help texts are
ours.  :func:`list_opts` feeds ``oslo-config-generator`` through the
``oslo.config.opts`` namespace ``oslo.messaging.amqp1``.
"""

import copy

from oslo_config import cfg

GROUP = 'oslo_messaging_amqp'

_OLD = 'amqp1'

amqp1_opts = [
    cfg.StrOpt('container_name', deprecated_group=_OLD,
               help='AMQP container-id of this process; generated from '
                    'host name, program name and pid when unset.'),
    cfg.IntOpt('idle_timeout', default=0, deprecated_group=_OLD,
               help='Idle time-out of the connection in seconds, announced '
                    'to the peer (0 = none).'),
    cfg.BoolOpt('trace', default=False, deprecated_group=_OLD,
                help='Print the AMQP frames proton exchanges to stdout.'),
    cfg.BoolOpt('ssl', default=False,
                help='Connect with TLS, verifying the server against '
                     'ssl_ca_file or the system CA bundle.'),
    cfg.StrOpt('ssl_ca_file', default='', deprecated_group=_OLD,
               help='PEM file of the CAs the server certificate must '
                    'chain to (implies TLS).'),
    cfg.StrOpt('ssl_cert_file', default='', deprecated_group=_OLD,
               help='PEM client certificate presented to the server '
                    '(implies TLS).'),
    cfg.StrOpt('ssl_key_file', default='', deprecated_group=_OLD,
               help='PEM private key of ssl_cert_file.'),
    cfg.StrOpt('ssl_key_password', deprecated_group=_OLD, secret=True,
               help='Password of an encrypted ssl_key_file.'),
    cfg.BoolOpt('ssl_verify_vhost', default=False,
                help='Check the server certificate against the virtual '
                     'host of the URL instead of the host name.'),
    cfg.StrOpt('sasl_mechanisms', default='', deprecated_group=_OLD,
               help='Space separated SASL mechanisms allowed.'),
    cfg.StrOpt('sasl_config_dir', default='', deprecated_group=_OLD,
               help='Directory of the Cyrus SASL client configuration.'),
    cfg.StrOpt('sasl_config_name', default='', deprecated_group=_OLD,
               help='Name of the Cyrus SASL configuration file.'),
    cfg.StrOpt('sasl_default_realm', default='',
               help='Realm appended to user names without an "@".'),
    cfg.IntOpt('connection_retry_interval', default=1, min=1,
               help='Seconds before the first reconnection attempt.'),
    cfg.IntOpt('connection_retry_backoff', default=2, min=0,
               help='Factor the reconnection delay is multiplied by after '
                    'each failed attempt.'),
    cfg.IntOpt('connection_retry_interval_max', default=30, min=1,
               help='Upper bound of the reconnection delay in seconds.'),
    cfg.IntOpt('link_retry_delay', default=10, min=1,
               help='Seconds before a failed link is re-attached, and '
                    'before a released message is sent again.'),
    cfg.IntOpt('default_reply_retry', default=0, min=-1,
               help='Re-send attempts of an RPC reply (-1 = forever).'),
    cfg.IntOpt('default_reply_timeout', default=30, min=5,
               help='Seconds an RPC reply may take to be sent.'),
    cfg.IntOpt('default_send_timeout', default=30, min=5,
               help='Seconds a call or cast without a timeout may take '
                    'to be sent.'),
    cfg.IntOpt('default_notify_timeout', default=30, min=5,
               help='Seconds a notification may take to be sent.'),
    cfg.IntOpt('default_sender_link_timeout', default=600, min=1,
               help='Seconds an idle sender link is kept attached.'),
    cfg.StrOpt('addressing_mode', default='dynamic',
               help="'legacy' (qpidd style), 'routable' (qdrouterd style) "
                    "or 'dynamic' (chosen from the peer's product)."),
    cfg.BoolOpt('pseudo_vhost', default=True,
                help='Put the virtual host into the addresses instead of '
                     'the Open frame hostname.'),
    cfg.StrOpt('server_request_prefix', default='exclusive',
               deprecated_group=_OLD,
               help='Legacy prefix of messages to one server.'),
    cfg.StrOpt('broadcast_prefix', default='broadcast',
               deprecated_group=_OLD,
               help='Legacy prefix of fanout messages.'),
    cfg.StrOpt('group_request_prefix', default='unicast',
               deprecated_group=_OLD,
               help='Legacy prefix of messages to any server of a group.'),
    cfg.StrOpt('rpc_address_prefix', default='openstack.org/om/rpc',
               help='Routable prefix of RPC addresses.'),
    cfg.StrOpt('notify_address_prefix', default='openstack.org/om/notify',
               help='Routable prefix of notification addresses.'),
    cfg.StrOpt('multicast_address', default='multicast',
               help='Routable tag of fanout addresses.'),
    cfg.StrOpt('unicast_address', default='unicast',
               help='Routable tag of addresses of one server.'),
    cfg.StrOpt('anycast_address', default='anycast',
               help='Routable tag of addresses shared by a group.'),
    cfg.StrOpt('default_notification_exchange',
               help='Exchange of notifications when the target has none '
                    '(routable addressing).'),
    cfg.StrOpt('default_rpc_exchange',
               help='Exchange of RPC messages when the target has none '
                    '(routable addressing).'),
    cfg.IntOpt('reply_link_credit', default=200, min=1,
               help='Credit of the RPC reply link.'),
    cfg.IntOpt('rpc_server_credit', default=100, min=1,
               help='Credit of each RPC server link.'),
    cfg.IntOpt('notify_server_credit', default=100, min=1,
               help='Credit of each notification listener link.'),
    cfg.MultiStrOpt('pre_settled', default=['rpc-cast', 'rpc-reply'],
                    help="Message kinds sent pre-settled (not waiting for "
                         "an acknowledgement): 'rpc-call', 'rpc-reply', "
                         "'rpc-cast', 'notify'."),
]


def register(conf):
    """Register the group and its options on ``conf``; returns the group."""
    group = cfg.OptGroup(name=GROUP, title='AMQP 1.0 driver options')
    conf.register_group(group)
    conf.register_opts(amqp1_opts, group=group)
    return group


def list_opts():
    """The options for ``oslo-config-generator``: ``[(group, [opts])]``."""
    return [(GROUP, copy.deepcopy(amqp1_opts))]
