"""Host one in-process server under test in a process of its own.

Usage::

    python bench/backend.py KIND [--profile FILE]
    python bench/backend.py KIND --latency SAMPLES

KIND is ``router`` (:class:`amqp1_fixtures.FakeRouter`), ``broker``
(:class:`amqp1_fixtures.FakeBroker`) or ``oslo`` (the FakeBroker of
oslo.messaging's own AMQP 1.0 driver tests), each with its default
settings on loopback and port 0.  Once accepting it prints ``port N`` on
stdout; it stops on SIGTERM.  Each server runs in a process of its own, as
a real daemon would: its own interpreter (and GIL), its own RSS.

``--latency SAMPLES`` instead times SAMPLES start-until-accepting cycles
in this fresh process and prints them as JSON.  ``--profile FILE`` runs
the engine thread of our fakes under cProfile and writes the statistics
to FILE on exit.
"""

import argparse
import cProfile
import json
import os
import signal
import socket
import sys
import time

KINDS = ('router', 'broker', 'oslo')


def oslo_fake_broker(host='127.0.0.1'):
    """Build oslo.messaging's test FakeBroker (not started).

    It takes the ``oslo_messaging_amqp`` option group, so the AMQP 1.0
    driver's options are registered on a private ``ConfigOpts``.
    """
    from oslo_config import cfg
    from oslo_messaging._drivers.amqp1_driver import opts
    from oslo_messaging.tests.drivers import test_amqp_driver

    conf = cfg.ConfigOpts()
    conf.register_opts(opts.amqp1_opts, group='oslo_messaging_amqp')
    conf([], project='bench')
    return test_amqp_driver.FakeBroker(conf.oslo_messaging_amqp,
                                       sock_addr=host)


def _profile_engine_thread(path):
    # The engine loop runs in a thread cProfile would not see from here:
    # wrap the thread's target instead of touching the fakes' code.
    from amqp1_fixtures.engine import engine

    run = engine.Engine._run

    def profiled_run(self):
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            run(self)
        finally:
            profiler.disable()
            profiler.dump_stats(path)

    engine.Engine._run = profiled_run


def _new_server(kind):
    """Return ``(server, start, stop)`` for a backend of ``kind``."""
    if kind == 'oslo':
        server = oslo_fake_broker()
        return server, server.start, server.stop
    import amqp1_fixtures

    cls = amqp1_fixtures.FakeRouter if kind == 'router' \
        else amqp1_fixtures.FakeBroker
    server = cls()
    return server, server.setUp, server.cleanUp


def _connect(port, timeout=10.0):
    """Connect to ``port`` on loopback, retrying while it is refused."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout).close()
            return
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.0001)


def latency(kind, samples):
    """Time ``samples`` start-until-accepting cycles of ``kind``.

    One cycle: construct the server, start it (``setUp`` for our
    fixtures, ``start()`` for oslo's), connect to its port; then stop it,
    timed separately.  One untimed cycle first warms up the imports.

    :returns: dict with the ``start`` and ``stop`` times in seconds.
    """
    starts, stops = [], []
    for i in range(samples + 1):
        t0 = time.perf_counter()
        server, start, stop = _new_server(kind)
        start()
        _connect(server.port)
        t1 = time.perf_counter()
        stop()
        t2 = time.perf_counter()
        if i:
            starts.append(t1 - t0)
            stops.append(t2 - t1)
    return {'start': starts, 'stop': stops}


def _wait_for_sigterm():
    # A polling sleep rather than a blocking wait: oslo's test package
    # monkey-patches the process with eventlet, and its FakeBroker is a
    # green thread that a blocking call would starve.  Exit too if the
    # benchmark that started us is gone.
    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    parent = os.getppid()
    while not stop and os.getppid() == parent:
        time.sleep(0.1)


def serve(kind, profile=None):
    """Start the ``kind`` backend, print its port, stop on SIGTERM."""
    from clients import raise_nofile_limit

    raise_nofile_limit()
    if profile and kind != 'oslo':
        _profile_engine_thread(profile)
    server, start, stop = _new_server(kind)
    start()
    sys.stdout.write('port %d\n' % server.port)
    sys.stdout.flush()
    try:
        _wait_for_sigterm()
    finally:
        stop()
    return 0


def main(argv=None):
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('kind', choices=KINDS)
    parser.add_argument('--profile', metavar='FILE')
    parser.add_argument('--latency', type=int, metavar='SAMPLES',
                        help='time SAMPLES start/stop cycles, print JSON')
    args = parser.parse_args(argv)
    if args.latency:
        print(json.dumps(latency(args.kind, args.latency)))
        return 0
    return serve(args.kind, args.profile)


if __name__ == '__main__':
    sys.exit(main())
