"""One oslo.messaging peer of an interop test, run by a venv's python.

Only oslo.messaging and oslo.config are imported, so the same script runs
under oslo.messaging 14.9.x (its in-tree AMQP 1.0 driver) and 18.x (this
repository's driver).  Every line it prints on stdout is one JSON object;
the orchestrating test reads them as events.

Roles::

    peer.py rpc-server URL TOPIC SERVER
        serves TOPIC as SERVER; prints {"event": "ready"} once listening,
        then one {"event": "cast"|"fanout", ...} per cast received;
        stops on SIGTERM or a closed stdin.
    peer.py rpc-client URL TOPIC SERVER
        calls, casts and fanouts to that server; prints one
        {"event": "result", ...} with what came back, then exits.
    peer.py notify-listener URL TOPIC
        prints {"event": "ready"}, then one {"event": "notification"}
        per notification; stops on SIGTERM or a closed stdin.
    peer.py notify-sender URL TOPIC COUNT
        sends COUNT notifications at each of the priorities info, warn
        and error; prints {"event": "result", ...}, then exits.
"""

import argparse
import json
import signal
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging

#: RPC call timeout, seconds: well inside the test's own deadline
CALL_TIMEOUT = 20
#: sleep of the slow call, longer than the client's call monitor timeout,
#: so only the server's heartbeats keep the call alive
SLOW_SECONDS = 3
CALL_MONITOR_TIMEOUT = 2


def _emit(**event):
    # One line per event, flushed: the test waits on these lines.
    sys.stdout.write(json.dumps(event, sort_keys=True) + '\n')
    sys.stdout.flush()


def _version():
    from importlib import metadata
    return metadata.version('oslo.messaging')


def _conf():
    # The global ConfigOpts, as in a service: oslo.messaging registers
    # some groups ([oslo_messaging_metrics]) only there.
    cfg.CONF([], project='amqp1-interop')
    return cfg.CONF


def _wait_for_stop():
    # Ends on SIGTERM or when the test closes our stdin.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()),
                     daemon=True).start()
    while not stop.wait(1):
        pass


class Endpoint:
    """The RPC methods the client of the other generation calls."""

    def __init__(self, server):
        self.server = server

    def echo(self, ctxt, value):
        return {'value': value, 'server': self.server,
                'oslo.messaging': _version()}

    def fail(self, ctxt, text):
        raise ValueError(text)

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return 'slept %s' % seconds

    def record(self, ctxt, kind, value):
        _emit(event=kind, value=value, server=self.server)


def rpc_server(args):
    """Serve ``args.topic`` as ``args.server`` until told to stop."""
    transport = oslo_messaging.get_rpc_transport(_conf(), url=args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    server = oslo_messaging.get_rpc_server(
        transport, target, [Endpoint(args.server)], executor='threading')
    server.start()
    _emit(event='ready', **{'oslo.messaging': _version()})
    try:
        _wait_for_stop()
    finally:
        server.stop()
        server.wait()
        transport.cleanup()


def _outcome(func, *args, **kwargs):
    # A call's result or the type and text of what it raised.
    try:
        return {'ok': True, 'value': func(*args, **kwargs)}
    except Exception as exc:
        return {'ok': False, 'error': type(exc).__name__,
                'text': str(exc).split('\n')[0]}


def rpc_client(args):
    """Call, cast and fanout to the server of the other generation."""
    transport = oslo_messaging.get_rpc_transport(_conf(), url=args.url)
    target = oslo_messaging.Target(topic=args.topic)
    client = oslo_messaging.get_rpc_client(transport, target,
                                           timeout=CALL_TIMEOUT)
    direct = client.prepare(server=args.server)
    results = {
        'call': _outcome(client.call, {}, 'echo', value='to the topic'),
        'direct_call': _outcome(direct.call, {}, 'echo',
                                value=['direct', 1, 2.5, None]),
        'failure': _outcome(client.call, {}, 'fail', text='boom'),
        'monitored_call': _outcome(
            client.prepare(call_monitor_timeout=CALL_MONITOR_TIMEOUT,
                           timeout=CALL_TIMEOUT).call,
            {}, 'slow', seconds=SLOW_SECONDS),
        'cast': _outcome(client.cast, {}, 'record', kind='cast',
                         value='a cast'),
        'fanout': _outcome(client.prepare(fanout=True).cast, {}, 'record',
                           kind='fanout', value='a fanout'),
        'absent_server': _outcome(
            client.prepare(server='nobody-%s' % args.server,
                           timeout=2).call, {}, 'echo', value='lost'),
    }
    _emit(event='result', results=results,
          **{'oslo.messaging': _version()})
    transport.cleanup()


class NotificationEndpoint:
    """Prints every notification it is given, at any priority."""

    def _record(self, priority, ctxt, publisher_id, event_type, payload,
                metadata):
        _emit(event='notification', priority=priority,
              publisher_id=publisher_id, event_type=event_type,
              payload=payload)

    def __getattr__(self, priority):
        if priority not in ('audit', 'debug', 'info', 'warn', 'error',
                            'critical', 'sample'):
            raise AttributeError(priority)
        return lambda *a: self._record(priority, *a)


def notify_listener(args):
    """Listen to ``args.topic`` until told to stop."""
    transport = oslo_messaging.get_notification_transport(_conf(),
                                                          url=args.url)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=args.topic)],
        [NotificationEndpoint()], executor='threading')
    listener.start()
    _emit(event='ready', **{'oslo.messaging': _version()})
    try:
        _wait_for_stop()
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()


def notify_sender(args):
    """Send ``args.count`` notifications per priority."""
    transport = oslo_messaging.get_notification_transport(_conf(),
                                                          url=args.url)
    notifier = oslo_messaging.Notifier(
        transport, publisher_id='interop.%s' % _version(),
        driver='messaging', topics=[args.topic])
    sent = 0
    for i in range(args.count):
        for priority in ('info', 'warn', 'error'):
            getattr(notifier, priority)({}, 'interop.%s' % priority,
                                        {'n': i, 'from': _version()})
            sent += 1
    _emit(event='result', sent=sent, **{'oslo.messaging': _version()})
    transport.cleanup()


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    roles = parser.add_subparsers(dest='role', required=True)
    for name in ('rpc-server', 'rpc-client'):
        role = roles.add_parser(name)
        role.add_argument('url')
        role.add_argument('topic')
        role.add_argument('server')
    role = roles.add_parser('notify-listener')
    role.add_argument('url')
    role.add_argument('topic')
    role = roles.add_parser('notify-sender')
    role.add_argument('url')
    role.add_argument('topic')
    role.add_argument('count', type=int)
    return parser.parse_args(argv)


def main(argv=None):
    """Run one role."""
    args = parse_args(argv)
    {'rpc-server': rpc_server, 'rpc-client': rpc_client,
     'notify-listener': notify_listener,
     'notify-sender': notify_sender}[args.role](args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
