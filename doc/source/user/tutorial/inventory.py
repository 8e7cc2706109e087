"""The service under test: a small inventory over oslo.messaging.

It has what a real OpenStack service has: an RPC server (a topic, a
server name, an endpoint whose methods are called and cast), a remote
exception a caller is meant to catch, a fanout to every server, and
notifications sent when something changes.
"""

import queue
import threading

import oslo_messaging


class OutOfStock(Exception):
    """take() asked for more than there is."""


class InventoryEndpoint:
    """The RPC methods, and what the server did, for tests to wait on."""

    def __init__(self, notifier):
        self.notifier = notifier
        self.items = {}
        self.lock = threading.Lock()
        #: (method, name) of each request handled, in order
        self.handled = queue.Queue()

    def add(self, ctxt, name, count):
        with self.lock:
            total = self.items[name] = self.items.get(name, 0) + count
        self.notifier.info(ctxt, 'inventory.item.added',
                           {'name': name, 'count': total})
        self.handled.put(('add', name))
        return total

    def count(self, ctxt, name):
        with self.lock:
            return self.items.get(name, 0)

    @oslo_messaging.expected_exceptions(OutOfStock)
    def take(self, ctxt, name, count):
        with self.lock:
            have = self.items.get(name, 0)
            if count > have:
                raise OutOfStock('%d %s wanted, %d left' % (count, name,
                                                            have))
            self.items[name] = have - count
            return have - count

    def forget(self, ctxt, name):
        with self.lock:
            self.items.pop(name, None)
        self.handled.put(('forget', name))


class InventoryService:
    """One server of the service: RPC on ``topic``; notifications on the
    topics of ``[oslo_messaging_notifications] topics`` (oslo's default:
    ``notifications``); both over ``conf``'s transport URLs."""

    def __init__(self, conf, topic, server='inventory-1'):
        self.conf = conf
        self.target = oslo_messaging.Target(topic=topic, server=server)
        self.endpoint = None
        self._transports = []

    def start(self):
        rpc = oslo_messaging.get_rpc_transport(self.conf)
        notify = oslo_messaging.get_notification_transport(self.conf)
        self._transports = [rpc, notify]
        notifier = oslo_messaging.Notifier(
            notify, publisher_id='inventory.' + self.target.server,
            driver='messaging')
        self.endpoint = InventoryEndpoint(notifier)
        # threading: 14.x's default is "blocking" (start() would not
        # return); 18.x has nothing else and warns the argument is no
        # longer needed.
        self._server = oslo_messaging.get_rpc_server(
            rpc, self.target, [self.endpoint], executor='threading')
        self._server.start()

    def stop(self):
        self._server.stop()
        self._server.wait()
        for transport in self._transports:
            transport.cleanup()


class InventoryClient:
    """What other services call."""

    def __init__(self, transport, topic, timeout=30):
        self._client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic), timeout=timeout)

    def add(self, name, count):
        return self._client.call({}, 'add', name=name, count=count)

    def add_later(self, name, count):
        self._client.cast({}, 'add', name=name, count=count)

    def count(self, name, server=None, timeout=None):
        return self._client.prepare(server=server, timeout=timeout).call(
            {}, 'count', name=name)

    def take(self, name, count):
        return self._client.call({}, 'take', name=name, count=count)

    def forget_everywhere(self, name):
        self._client.prepare(fanout=True).cast({}, 'forget', name=name)
