"""An OpenStack service's view of the DevStack plugin's messaging setup.

Used by ``tests/shell/e2e_standin.t``: reads a service config file written
from what the plugin's ``iniset_rpc_backend`` set (``[DEFAULT]
transport_url``, ``[oslo_messaging_notifications] transport_url``,
``[oslo_messaging_amqp]`` TLS options), then makes one RPC call through an
RPC server and sends one notification to a listener, the way nova does.
Prints one line per check; exits 0 when both worked::

    python e2e_client.py --config-file nova.conf [--timeout SECONDS] \\
        [--server-config-file other-node/nova.conf]

With ``--server-config-file`` the RPC server and the notification
listener are another node's services, on that node's transport URLs (the
call then crosses from one node's router to the other's); the rest of
their configuration is the client's.
"""

import argparse
import configparser
import sys
import threading
import uuid

from oslo_config import cfg
import oslo_messaging


class EchoEndpoint(object):
    """RPC endpoint returning what it is given."""

    def echo(self, ctxt, value):
        """Return ``value``."""
        return value


class NotificationEndpoint(object):
    """Notification endpoint recording the payloads of ``info`` events."""

    def __init__(self):
        self.payloads = []
        self.received = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        """Record ``payload``."""
        self.payloads.append(payload)
        self.received.set()


def other_node_urls(path):
    """``(rpc, notification)`` transport URLs of another node's config."""
    parser = configparser.RawConfigParser()
    parser.read(path)
    return (parser.get('DEFAULT', 'transport_url'),
            parser.get('oslo_messaging_notifications', 'transport_url'))


def check_rpc(conf, topic, timeout, server_url=None):
    """Serve ``echo`` on ``topic`` (through ``server_url`` when given)
    and call it; return the reply."""
    transport = oslo_messaging.get_rpc_transport(conf)
    server_transport = transport
    if server_url is not None:
        server_transport = oslo_messaging.get_rpc_transport(
            conf, url=server_url)
    target = oslo_messaging.Target(topic=topic, server='e2e-server')
    server = oslo_messaging.get_rpc_server(
        server_transport, target, [EchoEndpoint()], executor='threading')
    server.start()
    try:
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic), timeout=timeout)
        return client.call({}, 'echo', value='ping')
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
        if server_transport is not transport:
            server_transport.cleanup()


def check_notification(conf, topic, timeout, listener_url=None):
    """Send an ``info`` notification on ``topic`` (to a listener through
    ``listener_url`` when given); return the payloads."""
    transport = oslo_messaging.get_notification_transport(conf)
    listener_transport = transport
    if listener_url is not None:
        listener_transport = oslo_messaging.get_notification_transport(
            conf, url=listener_url)
    endpoint = NotificationEndpoint()
    listener = oslo_messaging.get_notification_listener(
        listener_transport, [oslo_messaging.Target(topic=topic)], [endpoint],
        executor='threading')
    listener.start()
    try:
        notifier = oslo_messaging.Notifier(
            transport, publisher_id='e2e', driver='messagingv2',
            topics=[topic])
        notifier.info({}, 'e2e.event', {'value': 'pong'})
        endpoint.received.wait(timeout)
        return endpoint.payloads
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
        if listener_transport is not transport:
            listener_transport.cleanup()


def main(argv=None):
    """Run both checks; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--timeout', type=float, default=30)
    parser.add_argument('--server-config-file',
                        help="another node's config, for the server and "
                        'the listener')
    args = parser.parse_args(argv)

    # the global CONF, as services use: oslo.messaging registers some of
    # its options (oslo_messaging_metrics) there only
    conf = cfg.CONF
    conf(['--config-file', args.config_file], project='e2e')
    # a one-shot client: do not keep the process alive for the metrics
    # sender thread's default 10 s linger
    conf.set_override('metrics_thread_stop_timeout', 0,
                      group='oslo_messaging_metrics')
    server_urls = (None, None)
    if args.server_config_file:
        # (one ConfigOpts: oslo.messaging >= 18.3 registers its
        # [oslo_messaging_tracing] options on cfg.CONF only, and an RPC
        # server on another ConfigOpts fails in its executor thread with
        # NoSuchOptError, silently: no reply, whatever the driver; 14.x
        # has no tracing)
        server_urls = other_node_urls(args.server_config_file)
    topic = 'e2e-%s' % uuid.uuid4().hex[:8]
    status = 0

    reply = check_rpc(conf, topic, args.timeout, server_urls[0])
    if reply == 'ping':
        print('rpc: call answered')
    else:
        print('rpc: unexpected reply %r' % (reply,))
        status = 1

    payloads = check_notification(conf, topic, args.timeout, server_urls[1])
    if payloads == [{'value': 'pong'}]:
        print('notification: received')
    else:
        print('notification: received %r' % (payloads,))
        status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
