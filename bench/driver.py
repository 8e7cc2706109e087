"""Benchmark the oslo.messaging drivers side by side.

Usage::

    python bench/driver.py [--messages N] [--executors threading,eventlet]
        [--python14 PY] [--python18 PY] [--before-python PY] [--repeat N]
        [--no-rabbit] [--no-rabbitmq4] [--json FILE]

Measures, in one run, with the threading executor and under eventlet:
sequential RPC call round trips/s, calls/s from 10 threads with their
p50/p99 latency, casts/s, notifications sent-and-received/s and the RSS
growth over 1,000 more calls, for

* this repository's driver (``driver/``) on oslo.messaging 18.x, through
  FakeRouter (RPC) and FakeBroker (notifications);
* oslo.messaging 14.9.x's in-tree AMQP 1.0 driver through the same fakes;
* oslo.messaging 18.x's rabbit driver on a private RabbitMQ node;
* with ``--before-python``, another build of this repository's driver
  (e.g. the main branch's, to show what a change bought), through the
  same fakes;
* this repository's driver and oslo.messaging 18.x's rabbit driver on
  the same private RabbitMQ 4 node (``amqp://`` beside ``rabbit://``;
  RabbitMQ4Daemon, left out with the reason where there is none), in a
  table of their own with the ratio amqp:// / rabbit://.

Each driver generation runs in its own venv (``tests/interop/venvs.py``
builds them, as for the interop tests, unless ``--python14`` /
``--python18`` name interpreters) and each measurement in a fresh process
(``bench/driver_client.py``, RPC server and client in that process); each
fake runs in a process of its own (``bench/backend.py``).  Prints a table
per executor with the ratio of the new driver to the 14.9.x one (and to
the build before, if measured) and the targets below (:data:`RATIO_TARGETS`,
:data:`RSS_TARGET_MIB`), and writes every figure to
``bench/driver-results.json``.  Exits non-zero unless every target passed.
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time

import bench

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
CLIENT_SCRIPT = os.path.join(HERE, 'driver_client.py')
DEFAULT_JSON = os.path.join(HERE, 'driver-results.json')

#: the columns: the new driver, the same driver before a change, the
#: baseline, the rabbit driver; the new driver and the rabbit driver on
#: RabbitMQ 4
NEW, BEFORE, OLD, RABBIT = 'new', 'before', 'old', 'rabbit'
NEW_R4, RABBIT_R4 = 'new-rabbitmq4', 'rabbit-rabbitmq4'
TITLES = {NEW: 'amqp1-driver (18.x)', BEFORE: 'amqp1-driver before',
          OLD: 'amqp 14.9.x', RABBIT: 'rabbit (18.x)',
          NEW_R4: 'amqp:// on RabbitMQ 4', RABBIT_R4: 'rabbit:// on '
          'RabbitMQ 4'}
#: the targets: ratio of the new driver to the 14.9.x one (10-thread
#: calls at least twice as fast, sequential calls 1.5 times, casts and
#: notifications no slower)
RATIO_TARGETS = {'sequential': 1.5, 'threaded': 2.0, 'casts': 1.0,
                 'notifications': 1.0}
#: the targets on RabbitMQ 4: ratio of amqp:// to rabbit:// on one node
RABBITMQ4_TARGETS = {'sequential': 1.5, 'threaded': 1.5}
RSS_TARGET_MIB = 20.0
THREADS = 10
RSS_CALLS = 1000
#: seconds one driver's whole measurement may take
RUN_TIMEOUT = 900


def _load_venvs():
    path = os.path.join(TOP, 'tests', 'interop', 'venvs.py')
    spec = importlib.util.spec_from_file_location('amqp1_venvs', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pythons(args, log):
    """``{'om14': python, 'om18': python}``, building the venvs needed."""
    out = {'om14': args.python14, 'om18': args.python18}
    missing = [name for name, py in out.items() if not py]
    if missing:
        venvs = _load_venvs()
        root = os.environ.get('AMQP1_INTEROP_VENV_DIR') or os.path.join(
            TOP, '.tox', 'interop-venvs')
        for name in missing:
            log('building or reusing the %s venv under %s' % (name, root))
            try:
                out[name] = venvs.build(name, root)
            except venvs.VenvError as exc:
                log('no %s venv: %s' % (name, str(exc).split('\n')[0]))
    return out


def measure(python, settings, log):
    """One driver's figures from ``driver_client.py`` under ``python``."""
    log('measuring %s (%s, %s)' % (settings['label'], settings['executor'],
                                   python))
    try:
        proc = subprocess.run(
            [python, '-W', 'ignore', CLIENT_SCRIPT],
            input=json.dumps(settings), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {'ok': False, 'error': 'no result within %d s' % RUN_TIMEOUT}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    return {'ok': False, 'error': 'exit status %d: %s' % (
        proc.returncode, proc.stderr.strip().splitlines()[-1:]
        if proc.stderr.strip() else 'no output')}


def run(args, log):
    """Every measurement; returns the results."""
    py = pythons(args, log)
    columns = {NEW: py['om18'], BEFORE: args.before_python, OLD: py['om14'],
               RABBIT: None if args.no_rabbit else py['om18'],
               NEW_R4: None, RABBIT_R4: None}
    results = {'settings': {'messages': args.messages, 'threads': THREADS,
                            'repeat': args.repeat,
                            'rss_calls': RSS_CALLS},
               'env': environment(py), 'runs': {}}
    router = bench.Backend('router').start()
    broker = bench.Backend('broker').start()
    rabbit = rabbit4 = None
    try:
        amqp = {'rpc_url': 'amqp://%s:%d/' % (router.host, router.port),
                'notify_url': 'amqp://%s:%d/' % (broker.host, broker.port)}
        urls = {NEW: amqp, BEFORE: amqp, OLD: amqp}
        if columns[RABBIT]:
            from amqp1_fixtures import RabbitMQDaemon
            log('starting a private RabbitMQ node')
            rabbit = RabbitMQDaemon()
            rabbit.setUp()
            urls[RABBIT] = {'rpc_url': rabbit.transport_url,
                            'notify_url': rabbit.transport_url}
        rabbit4 = _rabbitmq4(args, py, log)
        if rabbit4 is not None:
            columns[NEW_R4] = columns[RABBIT_R4] = py['om18']
            for column, url in ((NEW_R4, rabbit4.transport_url),
                                (RABBIT_R4, rabbit4.rabbit_url)):
                urls[column] = {'rpc_url': url, 'notify_url': url}
            results['rabbitmq4'] = rabbit4.version
        for executor in args.executors:
            every = {column: [] for column in columns}
            for _ in range(args.repeat):
                # The baseline, the driver before, the new driver, then
                # rabbit: the compared runs are next to each other in time.
                for column in (OLD, BEFORE, NEW, RABBIT, NEW_R4, RABBIT_R4):
                    if not columns[column]:
                        continue
                    settings = dict(urls[column], executor=executor,
                                    messages=args.messages,
                                    threads=THREADS, rss_calls=RSS_CALLS,
                                    timeout=60, label=TITLES[column])
                    figures = measure(columns[column], settings, log)
                    if not figures.get('ok'):
                        log('%s failed: %s' % (TITLES[column],
                                               figures.get('error')))
                    every[column].append(figures)
            runs = results['runs'][executor] = {
                column: best(every[column]) for column in columns}
            results.setdefault('checks', {})[executor] = checks(runs)
    finally:
        if rabbit4 is not None:
            rabbit4.cleanUp()
        if rabbit is not None:
            rabbit.cleanUp()
        router.stop()
        broker.stop()
    return results


def _rabbitmq4(args, py, log):
    """A private RabbitMQ 4 node, started; None (and why, logged) when
    left out."""
    if args.no_rabbitmq4 or not py['om18']:
        return None
    from amqp1_fixtures.daemons import rabbitmq4
    if not rabbitmq4.find_rabbitmq4_server():
        log('no RabbitMQ 4 columns: %s' % rabbitmq4.absent_reason())
        return None
    log('starting a private RabbitMQ 4 node')
    node = rabbitmq4.RabbitMQ4Daemon()
    node.setUp()
    return node


def best(runs):
    """The best of repeated runs of one driver: per measurement the
    fastest run (other load on a small machine only slows a run down),
    and the largest RSS growth; ``None`` if it never ran, the first
    failure if any run failed."""
    if not runs:
        return None
    failed = [r for r in runs if not r.get('ok')]
    if failed:
        return failed[0]
    out = dict(runs[0], runs=len(runs))
    for key in ('sequential', 'threaded', 'casts', 'notifications'):
        out[key] = max((r[key] for r in runs), key=lambda f: f['per_s'])
        out[key]['all_per_s'] = [r[key]['per_s'] for r in runs]
    out['rss'] = max((r['rss'] for r in runs), key=lambda f: f['growth'])
    return out


def environment(py):
    """What the figures were measured on."""
    versions = {}
    for name, python in py.items():
        if python:
            versions[name] = subprocess.run(
                [python, '-c', 'from importlib import metadata as m; '
                 'print(m.version("oslo.messaging"))'],
                stdout=subprocess.PIPE, text=True).stdout.strip()
    return {'cpus': os.cpu_count(), 'python': platform.python_version(),
            'platform': platform.platform(), 'loadavg': os.getloadavg(),
            'oslo.messaging': versions}


def _value(figures, key, field='per_s'):
    if not figures or not figures.get('ok'):
        return None
    return (figures.get(key) or {}).get(field)


def checks(runs):
    """The targets for one executor: ``{metric: check}``."""
    out = {}
    for key, target in RATIO_TARGETS.items():
        new, old = _value(runs.get(NEW), key), _value(runs.get(OLD), key)
        ratio = new / old if new and old else None
        out[key] = {'target': '>= %gx' % target, 'value': ratio,
                    'pass': ratio is not None and ratio >= target}
    growth = _value(runs.get(NEW), 'rss', 'growth')
    out['rss'] = {'target': '< %g MiB' % RSS_TARGET_MIB, 'value': growth,
                  'pass': growth is not None and
                  growth < RSS_TARGET_MIB * 1048576}
    if runs.get(NEW_R4) is not None:
        for key, target in RABBITMQ4_TARGETS.items():
            new = _value(runs.get(NEW_R4), key)
            rabbit = _value(runs.get(RABBIT_R4), key)
            ratio = new / rabbit if new and rabbit else None
            out['rabbitmq4-' + key] = {
                'target': '>= %gx' % target, 'value': ratio,
                'pass': ratio is not None and ratio >= target}
    return out


ROWS = [
    ('sequential', 'per_s', 'sequential call round trips (calls/s)',
     'sequential', '{:,.0f}'),
    ('threaded', 'per_s', '%d-thread calls (calls/s)' % THREADS,
     'threaded', '{:,.0f}'),
    ('threaded', 'p50_ms', '%d-thread call latency p50 (ms)' % THREADS,
     None, '{:.1f}'),
    ('threaded', 'p99_ms', '%d-thread call latency p99 (ms)' % THREADS,
     None, '{:.1f}'),
    ('casts', 'per_s', 'casts, sent until all received (casts/s)',
     'casts', '{:,.0f}'),
    ('notifications', 'per_s', 'notifications sent-and-received (/s)',
     'notifications', '{:,.0f}'),
    ('rss', 'growth', 'RSS growth over %s more calls (MiB)'
     % '{:,}'.format(RSS_CALLS), 'rss', None),
]


def _cell(figures, key, field, fmt):
    if figures is None:
        return 'not run'
    if not figures.get('ok'):
        return 'FAILED'
    value = (figures.get(key) or {}).get(field)
    if value is None:
        return '-'
    if fmt is None:
        return '%.1f' % (value / 1048576.0)
    return fmt.format(value)


def _ratio(runs, a, b, key, field):
    x, y = _value(runs.get(a), key, field), _value(runs.get(b), key, field)
    return '%.2fx' % (x / y) if x and y else ''


def format_table(results, executor):
    """The side-by-side table of one executor."""
    runs = results['runs'][executor]
    by_metric = results['checks'][executor]
    before = runs.get(BEFORE) is not None
    columns = (NEW, BEFORE, OLD, RABBIT) if before else (NEW, OLD, RABBIT)
    header = ['%s executor' % executor] + [TITLES[c] for c in columns] + [
        'ratio', 'target', 'result']
    if before:
        header.append('vs before')
    lines = [header]
    for key, field, label, check, fmt in ROWS:
        cells = [label] + [_cell(runs.get(c), key, field, fmt)
                           for c in columns]
        c = by_metric.get(check) if check else None
        cells += [_ratio(runs, NEW, OLD, key, field),
                  c['target'] if c else '',
                  ('PASS' if c['pass'] else 'not met') if c else '']
        if before:
            cells.append(_ratio(runs, NEW, BEFORE, key, field))
        lines.append(cells)
    return bench.aligned(lines)


def format_rabbitmq4_table(results, executor):
    """amqp:// beside rabbit:// on the RabbitMQ 4 node, for one
    executor."""
    runs = results['runs'][executor]
    by_metric = results['checks'][executor]
    lines = [['%s executor, RabbitMQ %s' % (executor, results.get(
        'rabbitmq4')), TITLES[NEW_R4], TITLES[RABBIT_R4], 'ratio',
        'target', 'result']]
    for key, field, label, _, fmt in ROWS:
        if key == 'rss':
            continue
        c = by_metric.get('rabbitmq4-' + key) if field == 'per_s' else None
        lines.append([label] + [_cell(runs.get(col), key, field, fmt)
                                for col in (NEW_R4, RABBIT_R4)] + [
            _ratio(runs, NEW_R4, RABBIT_R4, key, field),
            c['target'] if c else '',
            ('PASS' if c['pass'] else 'not met') if c else ''])
    return bench.aligned(lines)


def format_report(results):
    """Environment, one table per executor, failures."""
    env = results['env']
    s = results['settings']
    lines = [
        'Environment: %s CPUs, Python %s, oslo.messaging %s, load average '
        '%s' % (env['cpus'], env['python'], ', '.join(
            '%s=%s' % kv for kv in sorted(env['oslo.messaging'].items())),
            ' '.join('%.2f' % x for x in env['loadavg'])),
        env['platform'],
        '%d messages per measurement, best of %d runs; RPC server and '
        'client in one process per driver and executor; amqp drivers '
        'through FakeRouter (RPC) and FakeBroker (notifications), each in '
        'its own process; rabbit on a private RabbitMQ node%s.  Ratio = '
        'amqp1-driver / amqp 14.9.x%s.' % (
            s['messages'], s['repeat'],
            '; amqp:// and rabbit:// on one private RabbitMQ %s node '
            '(ratio amqp:// / rabbit://)' % results['rabbitmq4']
            if results.get('rabbitmq4') else '',
            '; vs before = amqp1-driver / amqp1-driver before'
            if any(r.get(BEFORE) for r in results['runs'].values())
            else ''),
    ]
    for executor in results['runs']:
        lines += ['', format_table(results, executor)]
        if results['runs'][executor].get(NEW_R4) is not None:
            lines += ['', format_rabbitmq4_table(results, executor)]
    for executor, runs in results['runs'].items():
        for column, figures in runs.items():
            if figures is not None and not figures.get('ok'):
                lines.append('%s %s: %s' % (TITLES[column], executor,
                                            figures.get('error')))
    return '\n'.join(lines)


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--messages', type=int, default=500,
                        help='calls, casts and notifications per '
                        'measurement (default: %(default)s)')
    parser.add_argument('--executors', default='threading,eventlet',
                        type=lambda v: v.split(','),
                        help='comma-separated (default: %(default)s)')
    parser.add_argument('--python14', metavar='PY',
                        help='interpreter with oslo.messaging 14.9.x')
    parser.add_argument('--python18', metavar='PY',
                        help='interpreter with oslo.messaging 18.x and '
                        'the amqp1-driver')
    parser.add_argument('--before-python', metavar='PY',
                        help='interpreter with oslo.messaging 18.x and '
                        'another build of the amqp1-driver (e.g. the main '
                        'branch\'s) to measure beside this one')
    parser.add_argument('--repeat', type=int, default=2,
                        help='runs per driver and executor; the best '
                        'counts (default: %(default)s)')
    parser.add_argument('--no-rabbit', action='store_true',
                        help='skip the rabbit driver')
    parser.add_argument('--no-rabbitmq4', action='store_true',
                        help='skip the RabbitMQ 4 columns')
    parser.add_argument('--json', default=DEFAULT_JSON, metavar='FILE',
                        help='write the figures there (default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; exit status 0 if every target passed."""
    args = parse_args(argv)
    started = time.monotonic()
    log = bench.stderr_log(started)
    results = run(args, log)
    results['seconds'] = time.monotonic() - started
    bench.publish(results, format_report(results), args.json)
    failed = [c for per in results['checks'].values()
              for c in per.values() if not c['pass']]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
