"""Benchmark a mesh of FakeRouters beside a mesh of real qdrouterd.

Usage::

    python bench/mesh.py [--json FILE] [--quick] [--messages N]
    python bench/mesh.py --serve KIND       (used by the benchmark itself)

Measures side by side, in one run:

* **convergence**: a mesh of three routers (a line A-B-C and a
  triangle), from nothing to converged (``RouterMesh.setUp()``: every
  router can reach a consumer on every other one, checked by sending
  through each pair) and after router B is killed and restarted on the
  same ports (``restart()`` until converged again); the median of
  several runs, for the in-process fakes, the stand-in daemons and the
  real qdrouterd 1.19.  The target: a fake mesh of three converges in
  under 0.5 s, both ways.
* **a message crossing two routers**: two routers in a line, a receiver
  on B and a sender on A (``bench/clients.py``, the raw proton client),
  unsettled 100-byte messages to a ``closest`` address; throughput, and
  the CPU the routers' processes used per message (both routers
  together), for two fakes in one process, two stand-ins (a process
  each) and two qdrouterd.

The real qdrouterd is found as the fixtures find it (``AMQP1_QDROUTERD``,
or on ``PATH``); its rows say "not installed" otherwise.  Prints the
environment (load average included) and two tables, and writes every
figure to a JSON file (default ``bench/mesh-results.json``).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (bench/bench.py: clients and measurements)

DEFAULT_JSON = os.path.join(HERE, 'mesh-results.json')
#: a ``closest`` address (oslo.messaging's legacy server prefix)
ADDRESS = 'exclusive/bench-mesh'
#: implementations of a mesh
IMPLS = ('fake', 'standin', 'qdrouterd')
TITLES = {'fake': 'FakeRouters (in process)',
          'standin': 'stand-in daemons', 'qdrouterd': 'qdrouterd 1.19'}
TOPOLOGIES = {'line': [('B', 'A', 1), ('C', 'B', 1)],
              'triangle': [('B', 'A', 1), ('C', 'B', 1), ('C', 'A', 1)]}
#: the target for a fake mesh of three, start and restart (seconds)
CONVERGE_TARGET = 0.5
#: runs per implementation and topology
SAMPLES = {'fake': 10, 'standin': 3, 'qdrouterd': 3}
QUICK_SAMPLES = {'fake': 3, 'standin': 1, 'qdrouterd': 1}


def make_mesh(impl, links):
    """An unstarted RouterMesh of ``impl``; None if it cannot run here."""
    from amqp1_fixtures.router.mesh import RouterMesh
    if impl == 'fake':
        return RouterMesh(links)
    if impl == 'standin':
        return RouterMesh(links, daemons=True, impl='standin')
    from amqp1_fixtures.daemons import qpid as daemons
    if daemons.RouterDaemon(impl='qdrouterd').impl is None:
        return None
    return RouterMesh(links, daemons=True, impl='qdrouterd')


def installed(impl):
    return impl != 'qdrouterd' or make_mesh(impl, TOPOLOGIES['line'])


# ---------------------------------------------------------------------------
# convergence


def measure_convergence(impl, links, samples):
    """Median seconds from nothing to converged (``setUp``) and from a
    restart of B to converged again."""
    starts, restarts = [], []
    for _ in range(samples):
        mesh = make_mesh(impl, links)
        began = time.monotonic()
        mesh.setUp()
        try:
            starts.append(time.monotonic() - began)
            mesh.kill('B')
            began = time.monotonic()
            mesh.restart('B')
            restarts.append(time.monotonic() - began)
        finally:
            mesh.cleanUp()
    return {'samples': samples,
            'start_s': statistics.median(starts),
            'start_max_s': max(starts),
            'restart_s': statistics.median(restarts),
            'restart_max_s': max(restarts)}


# ---------------------------------------------------------------------------
# a message crossing two routers


class MeshProcesses:
    """Two routers in a line (B connects to A), in processes: the fakes
    in one process (``--serve fake``), the stand-ins and qdrouterd as
    daemons (``--serve standin`` or ``qdrouterd`` runs their fixture).

    :ivar urls: router name -> (host, port).
    :ivar pids: the processes whose CPU counts.
    """

    def __init__(self, impl):
        self.impl = impl
        self.proc = None
        self.urls = {}
        self.pids = []

    def start(self, timeout=120):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, '--serve', self.impl],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = bench._readline(self.proc, timeout)
        if not line.startswith('{'):
            self.stop()
            raise bench.BenchError('%s mesh did not start: %r'
                                   % (self.impl, line))
        info = json.loads(line)
        self.urls = {name: tuple(url) for name, url in info['urls'].items()}
        self.pids = info['pids']
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()

    def cpu(self):
        return sum(bench.proc_cpu(pid) for pid in self.pids)


def serve(impl):
    """Run two routers in a line until SIGTERM; print their URLs and the
    pids that do their work as one JSON line."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    mesh = make_mesh(impl, [('B', 'A', 1)])
    mesh.setUp()
    try:
        pids = [os.getpid()] if impl == 'fake' else [
            r.pid for r in mesh.routers.values()]
        print(json.dumps({
            'urls': {n: [r.host, r.port] for n, r in mesh.routers.items()},
            'pids': pids}), flush=True)
        signal.pause()
    finally:
        mesh.cleanUp()


def measure_crossing(impl, count, timeout=180.0, repeat=2):
    """Throughput and router CPU per message of ``count`` messages from a
    sender on A to a receiver on B; the best of ``repeat`` runs."""
    runs = []
    mesh = MeshProcesses(impl).start()
    try:
        for _ in range(repeat):
            runs.append(_one_crossing(mesh, count, timeout))
    finally:
        mesh.stop()
    return bench.best_run(runs)


def _one_crossing(mesh, count, timeout):
    cpu_before = mesh.cpu()
    (a_host, a_port), (b_host, b_port) = mesh.urls['A'], mesh.urls['B']
    receiver = bench._client('raw', timeout, 'receive', b_host, b_port,
                             ADDRESS, count, '--credit', 500)
    line = bench._readline(receiver, 30)
    if line != 'ready':
        return bench._failed(bench._result(receiver, 5, line), {})
    sender = bench._client('raw', timeout, 'send', a_host, a_port, ADDRESS,
                           count, '--size', 100)
    sent = bench._result(sender, timeout + 15)
    received = bench._result(receiver, timeout + 15)
    cpu = mesh.cpu() - cpu_before
    result = {'messages': count,
              'accepted': sent.get('outcomes', {}).get('accepted', 0),
              'received': received.get('received', 0)}
    if not (sent.get('complete') and received.get('complete') and
            result['accepted'] == count and result['received'] == count):
        return bench._failed(received, sent, result)
    seconds = max(sent['t_last'], received['t_last']) - sent['t_first']
    result.update(ok=True, seconds=seconds, msg_per_s=count / seconds,
                  cpu_us_per_msg=cpu / count * 1e6)
    return result


# ---------------------------------------------------------------------------
# the run


def _fmt(value, spec):
    return spec % value if value is not None else '-'


def report(env, figures):
    print('environment: %d CPUs, Python %s, proton %s, load average %s '
          '(start) %s (end)' % (
              env['cpus'], env['python'], env['proton'],
              ' '.join('%.2f' % x for x in env['loadavg']),
              ' '.join('%.2f' % x for x in figures['loadavg_end'])))
    print()
    print('convergence of three routers (median of n; max in brackets):')
    print('%-26s %-9s %3s %16s %16s' % (
        'implementation', 'topology', 'n', 'start s', 'restart s'))
    for impl in IMPLS:
        for topology in TOPOLOGIES:
            row = figures['convergence'].get(impl, {}).get(topology)
            if row is None:
                print('%-26s %-9s not installed' % (TITLES[impl], topology))
                continue
            print('%-26s %-9s %3d %7.3f (%6.3f) %7.3f (%6.3f)' % (
                TITLES[impl], topology, row['samples'], row['start_s'],
                row['start_max_s'], row['restart_s'], row['restart_max_s']))
    fake = figures['convergence']['fake']
    worst = max(max(r['start_s'], r['restart_s']) for r in fake.values())
    print('target: a fake mesh of three converges in < %.1f s: %s '
          '(worst median %.3f s)' % (
              CONVERGE_TARGET, 'PASS' if worst < CONVERGE_TARGET else 'FAIL',
              worst))
    print()
    print('a message crossing two routers (A -> B), %d unsettled 100-byte '
          'messages, best of %d:' % (figures['messages'],
                                     figures['repeat']))
    print('%-26s %12s %18s %s' % ('implementation', 'msg/s',
                                  'router CPU us/msg', 'runs msg/s'))
    for impl in IMPLS:
        row = figures['crossing'].get(impl)
        if row is None:
            print('%-26s not installed' % TITLES[impl])
            continue
        if not row.get('ok'):
            print('%-26s failed: %s' % (TITLES[impl], row.get('reason')))
            continue
        print('%-26s %12.0f %18.1f %s' % (
            TITLES[impl], row['msg_per_s'], row['cpu_us_per_msg'],
            ' '.join(_fmt(r, '%.0f') for r in row['runs'])))
    real = figures['crossing'].get('qdrouterd')
    ours = figures['crossing'].get('fake')
    if real and ours and real.get('ok') and ours.get('ok'):
        print('fakes / qdrouterd: throughput %.2fx, CPU per message %.2fx'
              % (ours['msg_per_s'] / real['msg_per_s'],
                 ours['cpu_us_per_msg'] / real['cpu_us_per_msg']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--json', default=DEFAULT_JSON)
    parser.add_argument('--quick', action='store_true',
                        help='fewer runs and messages: a smoke test')
    parser.add_argument('--messages', type=int, default=None)
    parser.add_argument('--serve', choices=IMPLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    samples = QUICK_SAMPLES if args.quick else SAMPLES
    count = args.messages or (2000 if args.quick else 20000)
    repeat = 1 if args.quick else 2
    env = bench.environment()
    figures = {'messages': count, 'repeat': repeat, 'convergence': {},
               'crossing': {}}
    for impl in IMPLS:
        if not installed(impl):
            continue
        figures['convergence'][impl] = {
            topology: measure_convergence(impl, links, samples[impl])
            for topology, links in TOPOLOGIES.items()}
        print('converged: %s' % impl, file=sys.stderr, flush=True)
    for impl in IMPLS:
        if not installed(impl):
            continue
        figures['crossing'][impl] = measure_crossing(impl, count,
                                                     repeat=repeat)
        print('crossed: %s' % impl, file=sys.stderr, flush=True)
    figures['loadavg_end'] = os.getloadavg()
    report(env, figures)
    with open(args.json, 'w') as f:
        json.dump({'environment': env, 'figures': figures}, f, indent=2,
                  default=str)
    return 0


if __name__ == '__main__':
    sys.exit(main())
