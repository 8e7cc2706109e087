"""Measure one oslo.messaging driver from inside one process.

Run by the python of the venv holding the driver's generation
(oslo.messaging 14.9.x for its in-tree AMQP 1.0 driver, 18.x for this
repository's), by ``bench/driver.py``.  It reads its settings as one JSON
object on stdin (the transport URLs may carry a password, which must not
be on a command line)::

    {"rpc_url": ..., "notify_url": ..., "executor": "threading",
     "messages": 500, "threads": 10, "rss_calls": 1000, "timeout": 60}

With ``"executor": "eventlet"`` it monkey-patches with eventlet first,
as a service under eventlet does, and serves with the eventlet executor.
An RPC server and a notification listener run in this process, each on a
transport of its own, beside the client and notifier on theirs.  It
prints one JSON object with the figures on stdout: sequential call round
trips/s, calls/s from N threads with p50/p99 latency, casts/s (sent until
all received), notifications sent-and-received/s, and the RSS growth
over ``rss_calls`` more calls.
"""

import json
import sys

SETTINGS = json.loads(sys.stdin.read())
if SETTINGS['executor'] == 'eventlet':
    # Before anything imports threading, socket or time.
    import eventlet
    eventlet.monkey_patch()

import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

#: calls before the measured ones: links attached, caches warm
WARMUP_CALLS = 20


def rss_bytes():
    """This process's resident set size."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return None


class Counter:
    """Counts deliveries; ``wait(n)`` returns once ``n`` arrived."""

    def __init__(self):
        self.count = 0
        self.last = None
        self._cond = threading.Condition()

    def hit(self):
        with self._cond:
            self.count += 1
            self.last = time.perf_counter()
            self._cond.notify_all()

    def wait(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


class RpcEndpoint:
    """The benchmark's RPC methods."""

    def __init__(self, casts):
        self.casts = casts

    def echo(self, ctxt, value):
        return value

    def sink(self, ctxt, value):
        self.casts.hit()


class NotifyEndpoint:
    """Counts ``info`` notifications."""

    def __init__(self, received):
        self.received = received

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.hit()


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def sequential_calls(client, n):
    """``n`` calls one after the other: round trips/s."""
    t0 = time.perf_counter()
    for i in range(n):
        client.call({}, 'echo', value=i)
    seconds = time.perf_counter() - t0
    return {'calls': n, 'seconds': seconds, 'per_s': n / seconds}


def threaded_calls(client, n, threads):
    """``n`` calls shared by ``threads`` threads: calls/s and latency."""
    latencies = []
    errors = []
    lock = threading.Lock()

    def worker(count):
        mine = []
        try:
            for i in range(count):
                t = time.perf_counter()
                client.call({}, 'echo', value=i)
                mine.append(time.perf_counter() - t)
        except Exception as exc:
            errors.append(repr(exc))
        with lock:
            latencies.extend(mine)

    per_thread = [n // threads + (1 if i < n % threads else 0)
                  for i in range(threads)]
    workers = [threading.Thread(target=worker, args=(c,))
               for c in per_thread]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError('threaded calls failed: %s' % errors[0])
    return {'calls': n, 'threads': threads, 'seconds': seconds,
            'per_s': n / seconds,
            'p50_ms': statistics.median(latencies) * 1000.0,
            'p99_ms': _percentile(latencies, 0.99) * 1000.0}


def casts(client, counter, n, timeout):
    """``n`` casts, timed until the server has them all."""
    base = counter.count
    t0 = time.perf_counter()
    for i in range(n):
        client.cast({}, 'sink', value=i)
    sent = time.perf_counter() - t0
    if not counter.wait(base + n, timeout):
        raise RuntimeError('%d of %d casts received within %s s'
                           % (counter.count - base, n, timeout))
    seconds = counter.last - t0
    return {'casts': n, 'send_seconds': sent, 'seconds': seconds,
            'per_s': n / seconds}


def notifications(notifier, counter, n, timeout):
    """``n`` notifications, timed until the listener has them all."""
    t0 = time.perf_counter()
    for i in range(n):
        notifier.info({}, 'bench.info', {'n': i})
    sent = time.perf_counter() - t0
    if not counter.wait(n, timeout):
        raise RuntimeError('%d of %d notifications received within %s s'
                           % (counter.count, n, timeout))
    seconds = counter.last - t0
    return {'notifications': n, 'send_seconds': sent, 'seconds': seconds,
            'per_s': n / seconds}


def run(settings):
    """Every measurement; returns the figures."""
    cfg.CONF([], project='amqp1-bench')
    conf = cfg.CONF
    executor = settings['executor']
    n = settings['messages']
    timeout = settings['timeout']
    topic = 'bench-%s' % uuid.uuid4().hex[:12]
    casts_seen, notes_seen = Counter(), Counter()
    transports = []

    def rpc_transport():
        transports.append(oslo_messaging.get_rpc_transport(
            conf, url=settings['rpc_url']))
        return transports[-1]

    def notify_transport():
        transports.append(oslo_messaging.get_notification_transport(
            conf, url=settings['notify_url']))
        return transports[-1]

    server = oslo_messaging.get_rpc_server(
        rpc_transport(), oslo_messaging.Target(topic=topic, server='s1'),
        [RpcEndpoint(casts_seen)], executor=executor)
    listener = oslo_messaging.get_notification_listener(
        notify_transport(), [oslo_messaging.Target(topic=topic)],
        [NotifyEndpoint(notes_seen)], executor=executor)
    server.start()
    listener.start()
    client = oslo_messaging.get_rpc_client(
        rpc_transport(), oslo_messaging.Target(topic=topic),
        timeout=timeout)
    notifier = oslo_messaging.Notifier(
        notify_transport(), publisher_id='bench', driver='messaging',
        topics=[topic])
    figures = {'executor': executor, 'messages': n,
               'oslo.messaging': _version()}
    try:
        sequential_calls(client, WARMUP_CALLS)
        figures['sequential'] = sequential_calls(client, n)
        figures['threaded'] = threaded_calls(client, n,
                                             settings['threads'])
        figures['casts'] = casts(client, casts_seen, n, timeout)
        figures['notifications'] = notifications(notifier, notes_seen, n,
                                                 timeout)
        rss_before = rss_bytes()
        sequential_calls(client, settings['rss_calls'])
        figures['rss'] = {'calls': settings['rss_calls'],
                          'before': rss_before, 'after': rss_bytes()}
        figures['rss']['growth'] = (figures['rss']['after'] -
                                    figures['rss']['before'])
        figures['ok'] = True
    except Exception as exc:
        figures['ok'] = False
        figures['error'] = '%s: %s' % (type(exc).__name__, exc)
    finally:
        for each in (server, listener):
            each.stop()
            each.wait()
        for transport in transports:
            transport.cleanup()
    return figures


def _version():
    from importlib import metadata
    return metadata.version('oslo.messaging')


def main():
    """Measure, print the figures as one JSON line."""
    figures = run(SETTINGS)
    print(json.dumps(figures, sort_keys=True), flush=True)
    return 0 if figures['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
