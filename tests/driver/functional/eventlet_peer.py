"""Run RPC and notifications in a process eventlet has monkey-patched.

``python eventlet_peer.py <rpc_url> <notify_url> <executor>`` prints one
JSON line with what it observed; the test process (not patched) runs the
fakes.  Patched at import, as oslo.messaging's own functional tests are.
"""

import eventlet
eventlet.monkey_patch()

import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import oslo_messaging  # noqa: E402

from tests import messaging  # noqa: E402


class Slow(messaging.Echo):
    def slow(self, ctxt, seconds):
        # a green sleep stands in for work; the heartbeats must flow
        eventlet.sleep(seconds)
        return seconds


def main(rpc_url, notify_url, executor):
    conf = messaging.make_conf()
    out = {}
    transport = oslo_messaging.get_rpc_transport(conf, url=rpc_url)
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic='green', server='s'),
        [Slow('s')], executor=executor)
    server.start()
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic='green'), timeout=10)
    out['call'] = client.call({}, 'echo', value=1)['value']
    pool = eventlet.GreenPool()
    out['concurrent'] = sorted(pool.imap(
        lambda i: client.call({}, 'echo', value=i)['value'], range(20)))
    out['monitored'] = client.prepare(timeout=30, call_monitor_timeout=2).call(
        {}, 'slow', seconds=3)
    try:
        client.prepare(timeout=1, topic='nobody').call({}, 'echo', value=1)
    except oslo_messaging.MessagingTimeout:
        out['timeout'] = True
    ntransport = oslo_messaging.get_notification_transport(conf,
                                                           url=notify_url)
    endpoint = messaging.NotifyEndpoint()
    listener = oslo_messaging.get_notification_listener(
        ntransport, [oslo_messaging.Target(topic='green-n')], [endpoint],
        executor=executor)
    listener.start()
    notifier = oslo_messaging.Notifier(ntransport, publisher_id='g',
                                       driver='messaging', topics=['green-n'])
    notifier.info({}, 'ev', 'green')
    out['notification'] = endpoint.events.get(timeout=10)[2]
    listener.stop()
    listener.wait()
    server.stop()
    server.wait()
    transport.cleanup()
    ntransport.cleanup()
    out['driver_threads'] = [t.name for t in threading.enumerate()
                             if t.name.startswith('amqp1-driver')]
    print(json.dumps(out))


if __name__ == '__main__':
    main(*sys.argv[1:])
