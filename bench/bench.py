"""Benchmark FakeRouter and FakeBroker against oslo.messaging's FakeBroker.

Usage::

    python bench/bench.py [--json FILE] [--quick] [--profile] [--repeat N]

Measures side by side, in one run:

* start-until-accepting latency: median over repeated cycles of
  constructing a server, starting it (``setUp()`` for our fixtures,
  ``start()`` for oslo's) and completing a TCP connect to its port;
* end-to-end throughput of unsettled 100-byte messages from a sender
  process to a receiver process through the server, with two client
  implementations (see ``bench/clients.py``), best of ``--repeat`` runs;
* for the brokers, stored-then-drained: messages sent with no consumer,
  the RSS growth per stored message, then the drain rate;
* RSS of the server process, and CPU per message;
* many concurrent connections, each with a receiver on its own address
  and a sender to it, all routing one message.

Backends: our ``FakeRouter`` and ``FakeBroker``, the ``FakeBroker`` of
oslo.messaging's own AMQP 1.0 driver tests (the baseline; it routes on the
message's ``to``, so every message carries one), and real ``qdrouterd`` /
``qpidd`` when on ``PATH``.  Every server runs in a process of its own
(``bench/backend.py``, or the real daemon), so each has its own
interpreter, CPU time and RSS; the benchmark process never imports oslo's
test package, which monkey-patches with eventlet.

Prints the environment and two tables (router, broker) with the ratio to
oslo's FakeBroker, the target and PASS/FAIL, and writes every figure to a
JSON file (default ``bench/results.json``).  ``--quick`` is a smoke test
(2,000 messages, 5 latency samples, 100 connections).  ``--profile``
also runs our fakes under cProfile and prints their top functions.
"""

import argparse
import collections
import importlib.metadata
import json
import os
import platform
import pstats
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND_SCRIPT = os.path.join(HERE, 'backend.py')
CLIENTS_SCRIPT = os.path.join(HERE, 'clients.py')
DEFAULT_JSON = os.path.join(HERE, 'results.json')

#: a queue on the brokers, a ``closest`` address on the router, and
#: unicast ("exclusive" is its legacy server prefix) for oslo's FakeBroker
ADDRESS = 'exclusive/bench'
HOST = '127.0.0.1'

#: the targets: ratios to oslo's FakeBroker in the same run
THROUGHPUT_TARGET = 3.0
LATENCY_TARGET = 1.5
#: stretch goals: the real daemons with reactor clients on a 2-core
#: machine, used when the daemon is not installed here
REFERENCE_MSG_PER_S = {'qdrouterd': 6700, 'qpidd': 9400}

#: backend kinds: ours, the baseline, the real daemons
OURS = {'router': 'FakeRouter', 'broker': 'FakeBroker'}
BASELINE = 'oslo'
REAL = {'router': 'qdrouterd', 'broker': 'qpidd'}
TITLES = {'router': 'FakeRouter', 'broker': 'FakeBroker',
          'oslo': 'oslo FakeBroker', 'qdrouterd': 'qdrouterd',
          'qpidd': 'qpidd'}
IMPLS = ('raw', 'reactor')

#: messages a probe sends to a server that may not store them
STORE_PROBE = 200


#: ``repeat``: throughput runs per backend and client kind, the best
#: counts (other work on a small machine only ever slows a run down);
#: ``baseline_connections_timeout``: oslo's FakeBroker opens connections
#: slowly, so its connections test gets less time than ours
Settings = collections.namedtuple(
    'Settings', 'messages latency_samples connections size credit timeout '
    'repeat baseline_connections_timeout')

FULL = Settings(messages=20000, latency_samples=20, connections=1000,
                size=100, credit=500, timeout=120.0, repeat=2,
                baseline_connections_timeout=15.0)
QUICK = Settings(messages=2000, latency_samples=5, connections=100,
                 size=100, credit=500, timeout=60.0, repeat=1,
                 baseline_connections_timeout=10.0)


class BenchError(Exception):
    """A backend or client did not behave; the message says how."""


# ---------------------------------------------------------------------------
# processes


def _python(script, *args):
    # -W ignore: oslo's test package warns that eventlet is deprecated.
    return [sys.executable, '-W', 'ignore', script] + [str(a) for a in args]


def proc_memory(pid):
    """RSS and peak RSS (VmHWM) of a process, in bytes."""
    values = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            key, _, rest = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                values[key] = int(rest.split()[0]) * 1024
    return values.get('VmRSS'), values.get('VmHWM')


def proc_cpu(pid):
    """User plus system CPU seconds a process used so far."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _readline(proc, timeout):
    """Read one line of ``proc``'s stdout, waiting at most ``timeout``."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise BenchError('no output from %s within %.0f s'
                         % (' '.join(proc.args[3:6]), timeout))
    return proc.stdout.readline().strip()


def _result(proc, timeout, line=None):
    """Wait for a client and return the JSON figures it printed last."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return {'complete': False, 'errors': ['killed after %.0f s'
                                              % timeout]}
    lines = ([line] if line else []) + out.splitlines()
    for text in reversed(lines):
        if text.startswith('{'):
            return json.loads(text)
    return {'complete': False,
            'errors': ['exit status %s, no result' % proc.returncode]}


def _client(impl, timeout, role, *args):
    return subprocess.Popen(
        _python(CLIENTS_SCRIPT, '--impl', impl, '--timeout', timeout, role,
                *args),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


class Backend:
    """One of our fakes or oslo's FakeBroker in a process of its own.

    :param kind: ``router``, ``broker`` or ``oslo``.
    :param profile: write the engine thread's cProfile stats there.
    """

    def __init__(self, kind, profile=None):
        self.kind = kind
        self.profile = profile
        self.host = HOST
        self.port = None
        self.proc = None
        self._log = None

    @property
    def pid(self):
        """The server process's pid."""
        return self.proc.pid

    def start(self, timeout=60.0):
        """Start the server; return once it accepts connections."""
        args = [self.kind] + (['--profile', self.profile]
                              if self.profile else [])
        self._log = tempfile.TemporaryFile('w+')
        self.proc = subprocess.Popen(
            _python(BACKEND_SCRIPT, *args), stdout=subprocess.PIPE,
            stderr=self._log, text=True)
        try:
            line = _readline(self.proc, timeout)
        except BenchError:
            self.stop()
            raise
        if not line.startswith('port '):
            self._log.seek(0)
            tail = self._log.read()[-2000:]
            self.stop()
            raise BenchError('%s backend failed to start: %s' % (
                self.kind, tail or line))
        self.port = int(line.split()[1])
        return self

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class RealDaemon:
    """A real qdrouterd or qpidd, through the project's daemon fixtures.

    :param name: ``qdrouterd`` or ``qpidd``.
    """

    def __init__(self, name):
        self.kind = name
        self.host = HOST
        self.port = None
        self.fixture = None
        #: how the daemon died before it was stopped, or None
        self.stop_error = None

    @staticmethod
    def fixture_class(name):
        """RouterDaemon for qdrouterd, BrokerDaemon for qpidd."""
        from amqp1_fixtures.daemons import qpid as daemons
        return daemons.RouterDaemon if name == 'qdrouterd' \
            else daemons.BrokerDaemon

    @property
    def pid(self):
        """The daemon's pid."""
        return self.fixture.pid

    def start(self):
        """Start the daemon; return once it accepts connections."""
        self.fixture = self.fixture_class(self.kind)(impl=self.kind)
        self.fixture.setUp()
        self.port = self.fixture.port
        return self

    def stop(self):
        """Stop the daemon.

        A daemon that died during the measurements (its fixture reports
        that on cleanUp) is recorded in :attr:`stop_error`, not raised,
        so the run goes on and reports the figures measured so far, the
        failed ones saying why, beside it.
        """
        if self.fixture is None:
            return
        from amqp1_fixtures import exceptions
        try:
            self.fixture.cleanUp()
        except exceptions.DaemonExited as exc:
            self.stop_error = str(exc).splitlines()[0]
        finally:
            self.fixture = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def make_backend(kind, profile=None):
    """A :class:`Backend` or :class:`RealDaemon` for ``kind``."""
    if kind in REAL.values():
        return RealDaemon(kind)
    return Backend(kind, profile)


def installed(kind):
    """True if ``kind`` can run here (the real daemons need PATH)."""
    if kind in REAL.values():
        return shutil.which(kind) is not None
    return True


# ---------------------------------------------------------------------------
# measurements


def _median_ms(values):
    return statistics.median(values) * 1000.0 if values else None


def measure_latency(kind, samples):
    """Median start-until-accepting and stop times of ``kind``, in ms.

    Our fakes and oslo's FakeBroker are timed in a fresh process of their
    own (``backend.py --latency``); a real daemon from ``Popen`` through
    its readiness probe.
    """
    if kind in REAL.values():
        import socket
        cls = RealDaemon.fixture_class(kind)
        starts, stops = [], []
        for _ in range(samples):
            t0 = time.perf_counter()
            fixture = cls(impl=kind)
            fixture.setUp()
            socket.create_connection((HOST, fixture.port), 10).close()
            t1 = time.perf_counter()
            fixture.cleanUp()
            starts.append(t1 - t0)
            stops.append(time.perf_counter() - t1)
        times = {'start': starts, 'stop': stops}
    else:
        proc = subprocess.run(
            _python(BACKEND_SCRIPT, kind, '--latency', samples),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=120 + samples * 5)
        if proc.returncode:
            raise BenchError('latency of %s failed: %s'
                             % (kind, proc.stderr[-2000:]))
        times = json.loads(proc.stdout.strip().splitlines()[-1])
    return {'samples': len(times['start']),
            'start_ms': _median_ms(times['start']),
            'stop_ms': _median_ms(times['stop']),
            'start_min_ms': min(times['start']) * 1000.0,
            'start_max_ms': max(times['start']) * 1000.0}


def measure_throughput(server, count, impl='raw', size=100, credit=500,
                       timeout=120.0, address=ADDRESS):
    """Send ``count`` unsettled messages through a running ``server``.

    The receiver attaches first (a router gives the sender credit only
    for attached receivers); the time runs from the sender's first
    message until the receiver has all and the sender all outcomes.
    The clients give up after ``timeout`` seconds.

    :returns: a dict of figures; ``ok`` is False unless every message
        was accepted and received.
    """
    pid = server.pid
    rss_before, _ = proc_memory(pid)
    cpu_before = proc_cpu(pid)
    receiver = _client(impl, timeout, 'receive', server.host, server.port,
                       address, count, '--credit', credit)
    try:
        line = _readline(receiver, 30)
    except BenchError:
        receiver.kill()
        raise
    if line != 'ready':
        return _failed(_result(receiver, 5, line), {})
    sender = _client(impl, timeout, 'send', server.host, server.port,
                     address, count, '--size', size)
    sent = _result(sender, timeout + 15)
    received = _result(receiver, timeout + 15)
    cpu = proc_cpu(pid) - cpu_before
    rss_after, rss_peak = proc_memory(pid)
    result = {'impl': impl, 'messages': count,
              'accepted': sent.get('outcomes', {}).get('accepted', 0),
              'outcomes': sent.get('outcomes'),
              'received': received.get('received', 0),
              'rss_before': rss_before, 'rss_after': rss_after,
              'rss_peak': rss_peak}
    if not (sent.get('complete') and received.get('complete') and
            result['accepted'] == count and result['received'] == count):
        return _failed(received, sent, result)
    seconds = max(sent['t_last'], received['t_last']) - sent['t_first']
    result.update(ok=True, seconds=seconds, msg_per_s=count / seconds,
                  cpu_us_per_msg=cpu / count * 1e6,
                  cpu_share=cpu / seconds)
    return result


def best_run(runs):
    """The fastest complete run of ``runs`` (else the first), with every
    run's rate in ``runs`` and the memory figures of the last run."""
    ok = [r for r in runs if r.get('ok')]
    best = dict(max(ok, key=lambda r: r['msg_per_s']) if ok else runs[0])
    best['runs'] = [r.get('msg_per_s') for r in runs]
    for key in ('rss_after', 'rss_peak'):
        best[key] = runs[-1].get(key)
    if len(ok) < len(runs):
        best['ok'] = False
        best.setdefault('reason', next(
            r.get('reason') for r in runs if not r.get('ok')))
    return best


def _failed(received, sent, result=None):
    result = dict(result or {})
    errors = (sent.get('errors') or []) + (received.get('errors') or [])
    result.update(ok=False, msg_per_s=None, errors=errors[:6],
                  reason='sent %s (outcomes %s), received %s%s' % (
                      sent.get('sent'), sent.get('outcomes'),
                      received.get('received'),
                      ': %s' % '; '.join(errors[:3]) if errors else ''))
    return result


def measure_stored(server, count, size=100, credit=500, timeout=120.0):
    """Send ``count`` messages with no consumer, then drain them.

    :returns: store and drain rates, RSS growth per stored message; if
        the server did not accept them all (it stores nothing), ``ok`` is
        False and ``reason`` says what happened to them.
    """
    pid = server.pid
    rss_before, _ = proc_memory(pid)
    sent = _result(_client('raw', timeout, 'send', server.host,
                           server.port, ADDRESS, count, '--size', size),
                   timeout + 15)
    rss_stored, _ = proc_memory(pid)
    outcomes = sent.get('outcomes') or {}
    accepted = outcomes.get('accepted', 0)
    if not sent.get('complete') or accepted != count:
        answered = ', '.join('%d %s' % (v, k) for k, v in outcomes.items()
                             if v and k != 'accepted') or 'nothing'
        return {'ok': False, 'messages': count, 'outcomes': outcomes,
                'reason': 'with no consumer it answered %s to %d messages'
                ' (%d accepted): it keeps nothing for absent consumers'
                % (answered, count, accepted) if sent.get('complete')
                else 'sender: %s' % '; '.join(sent.get('errors') or
                                              ['incomplete'])}
    drained = _result(_client('raw', timeout, 'receive', server.host,
                              server.port, ADDRESS, count, '--credit',
                              credit), timeout + 15)
    rss_after, rss_peak = proc_memory(pid)
    if not drained.get('complete'):
        return _failed(drained, sent, {'messages': count})
    store_s = sent['t_last'] - sent['t_first']
    drain_s = drained['t_last'] - drained['t_attached']
    return {'ok': True, 'messages': count, 'store_seconds': store_s,
            'drain_seconds': drain_s, 'store_msg_per_s': count / store_s,
            'drain_msg_per_s': count / drain_s,
            'msg_per_s': count / (store_s + drain_s),
            'rss_before': rss_before, 'rss_stored': rss_stored,
            'rss_after': rss_after, 'rss_peak': rss_peak,
            'bytes_per_message': (rss_stored - rss_before) / count}


def measure_connections(server, count, timeout=60.0):
    """Open ``count`` connections, each with a receiver on its own
    address and a sender to it, and route one message on each.

    :returns: open and route times, how many arrived, the server's RSS
        with every connection open; ``ok`` if all were routed.
    """
    proc = subprocess.Popen(
        _python(CLIENTS_SCRIPT, '--timeout', timeout, 'connections',
                server.host, server.port, count),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = _readline(proc, timeout + 30)
    except BenchError:
        proc.kill()
        proc.communicate()
        return {'ok': False, 'count': count, 'reason': 'no answer'}
    rss = proc_memory(server.pid)[0] if line == 'ready' else None
    figures = _result(proc, timeout + 30,
                      line if line != 'ready' else None)
    figures.update(ok=bool(figures.get('complete')), rss_connected=rss)
    if not figures['ok']:
        figures['reason'] = '%s of %d attached, %s routed%s' % (
            figures.get('attached'), count, figures.get('received'),
            ' after %.0f s' % figures['setup_seconds']
            if figures.get('setup_seconds', 0) >= timeout - 1 else '')
    return figures


def profile_throughput(kind, settings, top=15):
    """Run a raw-client throughput test of our ``kind`` under cProfile.

    :returns: (figures, the top functions by own time as text).
    """
    import io
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'engine.prof')
        with Backend(kind, profile=path) as server:
            figures = measure_throughput(
                server, settings.messages, 'raw', settings.size,
                settings.credit, settings.timeout)
        out = io.StringIO()
        stats = pstats.Stats(path, stream=out)
        stats.strip_dirs().sort_stats('tottime').print_stats(top)
    text = out.getvalue()
    text = text[text.find('   ncalls'):].rstrip()
    return figures, text


# ---------------------------------------------------------------------------
# the run


def environment():
    """What the figures depend on: CPUs, versions, load."""
    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None
    return {
        'cpus': os.cpu_count(),
        'python': platform.python_version(),
        'proton': version('python-qpid-proton'),
        'oslo.messaging': version('oslo.messaging'),
        'pyngus': version('pyngus'),
        'platform': platform.platform(),
        'loadavg': os.getloadavg(),
        'qdrouterd': shutil.which('qdrouterd'),
        'qpidd': shutil.which('qpidd'),
    }


def measure_backend(kind, settings, log):
    """Every figure of one backend, as a dict."""
    figures = {'kind': kind, 'installed': installed(kind)}
    if not figures['installed']:
        return figures
    figures['latency'] = measure_latency(kind, settings.latency_samples)
    log('%s: latency %.2f ms' % (kind, figures['latency']['start_ms']))
    with make_backend(kind) as server:
        figures['rss_idle'] = proc_memory(server.pid)[0]
        for impl in IMPLS:
            runs = []
            for i in range(settings.repeat):
                # An address per run: oslo's FakeBroker may still route
                # to a link of the previous run's receiver.
                runs.append(measure_throughput(
                    server, settings.messages, impl, settings.size,
                    settings.credit, settings.timeout,
                    '%s-%s-%d' % (ADDRESS, impl, i)))
                log('%s: %s clients %s' % (kind, impl,
                                           _fmt_rate(runs[-1])))
            figures['throughput_%s' % impl] = best_run(runs)
    if getattr(server, 'stop_error', None):
        figures['stop_error'] = server.stop_error
        log('%s: %s' % (kind, server.stop_error))
    if kind != 'router' and kind != 'qdrouterd':
        count = settings.messages if kind != BASELINE else min(
            STORE_PROBE, settings.messages)
        with make_backend(kind) as server:
            figures['stored'] = measure_stored(
                server, count, settings.size, settings.credit,
                settings.timeout)
        log('%s: stored-then-drained %s'
            % (kind, _fmt_rate(figures['stored'])))
    timeout = settings.timeout if kind != BASELINE \
        else settings.baseline_connections_timeout
    with make_backend(kind) as server:
        figures['connections'] = measure_connections(
            server, settings.connections, timeout)
    log('%s: %d connections %s' % (
        kind, settings.connections,
        'ok' if figures['connections']['ok']
        else figures['connections'].get('reason')))
    return figures


def run(settings, profile=False, log=None):
    """Measure every backend; return the results as a dict."""
    log = log or (lambda text: None)
    results = {'env': environment(), 'settings': settings._asdict(),
               'address': ADDRESS, 'backends': {}}
    for kind in ('router', 'broker', BASELINE, 'qdrouterd', 'qpidd'):
        results['backends'][kind] = measure_backend(kind, settings, log)
    if profile:
        results['profiles'] = {}
        for kind in ('router', 'broker'):
            figures, text = profile_throughput(kind, settings)
            results['profiles'][kind] = {'throughput': figures,
                                         'top': text}
    results['checks'] = checks(results)
    return results


# ---------------------------------------------------------------------------
# targets and tables


def _get(results, kind, *path):
    value = results['backends'].get(kind) or {}
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _ratio(ours, base):
    if ours is None or not base:
        return None
    return ours / base


def checks(results):
    """The targets (:data:`THROUGHPUT_TARGET`, :data:`LATENCY_TARGET`),
    each with its value and PASS/FAIL."""
    out = []
    n = results['settings']['connections']
    for role in ('router', 'broker'):
        ours = role
        for impl in IMPLS:
            ratio = _ratio(_get(results, ours, 'throughput_' + impl,
                                'msg_per_s'),
                           _get(results, BASELINE, 'throughput_' + impl,
                                'msg_per_s'))
            out.append({'role': role, 'metric': 'throughput_' + impl,
                        'target': '>= %gx' % THROUGHPUT_TARGET,
                        'value': ratio,
                        'pass': ratio is not None and
                        ratio >= THROUGHPUT_TARGET})
        if role == 'router':
            ratio = _ratio(_get(results, ours, 'latency', 'start_ms'),
                           _get(results, BASELINE, 'latency', 'start_ms'))
            out.append({'role': role, 'metric': 'latency',
                        'target': '<= %gx' % LATENCY_TARGET,
                        'value': ratio,
                        'pass': ratio is not None and
                        ratio <= LATENCY_TARGET})
        out.append({'role': role, 'metric': 'connections',
                    'target': 'all %d routed' % n,
                    'value': _get(results, ours, 'connections', 'received'),
                    'pass': bool(_get(results, ours, 'connections', 'ok'))})
        real = REAL[role]
        measured = _get(results, real, 'throughput_reactor', 'msg_per_s')
        reference = measured or REFERENCE_MSG_PER_S[real]
        ratio = _ratio(_get(results, ours, 'throughput_reactor',
                            'msg_per_s'), reference)
        out.append({'role': role, 'metric': 'stretch',
                    'target': '>= %s (%s %s)' % (
                        _fmt_int(reference), real,
                        'this run' if measured else 'reference'),
                    'value': ratio, 'stretch': True,
                    'pass': ratio is not None and ratio >= 1.0})
    return out


def _fmt_int(value):
    return '{:,.0f}'.format(value)


def _fmt_rate(figures):
    if not figures:
        return 'n/a'
    if figures.get('ok'):
        return '%s msg/s' % _fmt_int(figures['msg_per_s'])
    return 'FAILED: %s' % figures.get('reason')


def _mib(value):
    return '%.1f' % (value / 1048576.0) if value is not None else '-'


def _cell(results, kind, row):
    """The text of one table cell."""
    backend = results['backends'].get(kind) or {}
    if not backend.get('installed', True):
        return 'not installed'
    value = row['get'](backend)
    if value is None:
        return row.get('missing', '-')
    return row['fmt'](value)


def _rows(role, settings):
    n = settings['connections']
    samples = settings['latency_samples']
    msgs = settings['messages']
    best = ', best of %d' % settings['repeat'] \
        if settings.get('repeat', 1) > 1 else ''

    def rate(key):
        return lambda b: (b.get(key) or {}).get('msg_per_s') if (
            b.get(key) or {}).get('ok') else (
            'failed' if b.get(key) else None)

    def num(fmt):
        return lambda v: v if isinstance(v, str) else fmt(v)

    rows = [
        {'label': 'start until accepting, median of %d (ms)' % samples,
         'get': lambda b: (b.get('latency') or {}).get('start_ms'),
         'fmt': num(lambda v: '%.2f' % v), 'check': 'latency'},
        {'label': 'stop, median (ms)',
         'get': lambda b: (b.get('latency') or {}).get('stop_ms'),
         'fmt': num(lambda v: '%.2f' % v)},
        {'label': 'throughput, %s unsettled, raw clients%s (msg/s)'
         % (_fmt_int(msgs), best),
         'get': rate('throughput_raw'), 'fmt': num(_fmt_int),
         'check': 'throughput_raw'},
        {'label': 'throughput, reactor clients%s (msg/s)' % best,
         'get': rate('throughput_reactor'), 'fmt': num(_fmt_int),
         'check': 'throughput_reactor'},
        {'label': 'server CPU per message, raw clients (us)',
         'get': lambda b: (b.get('throughput_raw') or {}).get(
             'cpu_us_per_msg'),
         'fmt': num(lambda v: '%.0f' % v)},
    ]
    if role == 'broker':
        rows += [
            {'label': 'stored-then-drained: store (msg/s)',
             'get': lambda b: _stored(b, 'store_msg_per_s'),
             'fmt': num(_fmt_int)},
            {'label': 'stored-then-drained: drain (msg/s)',
             'get': lambda b: _stored(b, 'drain_msg_per_s'),
             'fmt': num(_fmt_int)},
            {'label': 'stored-then-drained: overall (msg/s)',
             'get': lambda b: _stored(b, 'msg_per_s'),
             'fmt': num(_fmt_int)},
            {'label': 'RSS per stored %d-byte message (bytes)'
             % settings['size'],
             'get': lambda b: _stored(b, 'bytes_per_message'),
             'fmt': num(_fmt_int)},
        ]
    rows += [
        {'label': 'RSS idle (MiB)', 'get': lambda b: b.get('rss_idle'),
         'fmt': _mib},
        {'label': 'RSS after the throughput runs (MiB)',
         'get': lambda b: (b.get('throughput_reactor') or {}).get(
             'rss_after'), 'fmt': _mib},
        {'label': 'RSS peak (MiB)',
         'get': lambda b: (b.get('throughput_reactor') or {}).get(
             'rss_peak'), 'fmt': _mib},
        {'label': '%d connections: routed' % n,
         'get': lambda b: _conns(b, n), 'fmt': str,
         'check': 'connections'},
        {'label': '%d connections: open / route (s)' % n,
         'get': lambda b: _conn_times(b), 'fmt': str},
        {'label': 'RSS with %d connections (MiB)' % n,
         'get': lambda b: (b.get('connections') or {}).get('rss_connected'),
         'fmt': _mib},
    ]
    return rows


def _stored(backend, key):
    stored = backend.get('stored')
    if stored is None:
        return None
    if not stored.get('ok'):
        return 'n/a'
    return stored.get(key)


def _conns(backend, n):
    c = backend.get('connections')
    if c is None:
        return None
    if c.get('ok'):
        return '%d/%d' % (c.get('received', 0), n)
    return 'FAIL %s/%d' % (c.get('received') or 0, n)


def _conn_times(backend):
    c = backend.get('connections')
    if not c or c.get('setup_seconds') is None:
        return None
    if not c.get('ok'):
        return '> %.0f / -' % c['setup_seconds']
    return '%.1f / %.2f' % (c['setup_seconds'], c['route_seconds'])


def aligned(lines):
    """``lines`` (a header row, then rows of strings) as aligned text.

    The first column is left-aligned, the others right-aligned, and a
    rule of dashes goes under the header; bench/driver.py prints its
    tables with this too.
    """
    widths = [max(len(line[i]) for line in lines)
              for i in range(len(lines[0]))]
    out = []
    for i, line in enumerate(lines):
        out.append('  '.join(
            cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j])
            for j, cell in enumerate(line)).rstrip())
        if i == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def format_table(results, role):
    """The side-by-side table of ``role`` (``router`` or ``broker``)."""
    ours, real = role, REAL[role]
    kinds = (ours, BASELINE, real)
    by_metric = {c['metric']: c for c in results.get('checks', [])
                 if c['role'] == role}
    header = ['%s metric' % role] + [TITLES[k] for k in kinds] + [
        'ratio', 'target', 'result']
    lines = [header]
    for row in _rows(role, results['settings']):
        cells = [row['label']] + [_cell(results, k, row) for k in kinds]
        ratio = ''
        ours_v = row['get'](results['backends'].get(ours) or {})
        base_v = row['get'](results['backends'].get(BASELINE) or {})
        if isinstance(ours_v, (int, float)) and \
                isinstance(base_v, (int, float)) and base_v:
            ratio = '%.2fx' % (ours_v / base_v)
        check = by_metric.get(row.get('check'))
        target = check['target'] if check else ''
        result = ('PASS' if check['pass'] else 'FAIL') if check else ''
        lines.append(cells + [ratio, target, result])
    stretch = by_metric.get('stretch')
    if stretch:
        lines.append(['stretch: reactor-client throughput vs %s' % real,
                      '', '', '', '%.2fx' % stretch['value']
                      if stretch['value'] is not None else '-',
                      stretch['target'],
                      'met' if stretch['pass'] else 'not met'])
    return aligned(lines)


def format_report(results):
    """Environment, both tables and the notes, as printable text."""
    env = results['env']
    s = results['settings']
    lines = [
        'Environment: %s CPUs, Python %s, python-qpid-proton %s, '
        'oslo.messaging %s, pyngus %s, load average %s' % (
            env['cpus'], env['python'], env['proton'],
            env['oslo.messaging'], env['pyngus'],
            ' '.join('%.2f' % x for x in env['loadavg'])),
        env['platform'],
        'Each server runs in a process of its own (our fakes and oslo\'s '
        'FakeBroker via bench/backend.py, oslo\'s under the eventlet '
        'monkey-patching its test package applies); addresses %s*, '
        '%d-byte bodies, receiver credit %d.' % (
            results['address'], s['size'], s['credit']),
        'raw clients: proton Transport on an epoll loop; reactor clients: '
        'proton.reactor MessagingHandler.  Ratio = ours / oslo FakeBroker.',
        '',
        format_table(results, 'router'),
        '',
        format_table(results, 'broker'),
    ]
    notes = []
    for kind in (BASELINE, 'broker', 'router'):
        stored = _get(results, kind, 'stored')
        if stored and not stored.get('ok'):
            notes.append('%s stored-then-drained n/a: %s' % (
                TITLES[kind], stored.get('reason')))
        for key in ('throughput_raw', 'throughput_reactor', 'connections'):
            figures = _get(results, kind, key)
            if figures and not figures.get('ok'):
                notes.append('%s %s: %s' % (TITLES[kind], key,
                                            figures.get('reason')))
    if notes:
        lines += [''] + notes
    for kind, prof in sorted((results.get('profiles') or {}).items()):
        lines += ['', 'cProfile of %s\'s engine thread (raw clients, %s; '
                  'top functions by own time):' % (
                      TITLES[kind], _fmt_rate(prof['throughput'])),
                  prof['top']]
    return '\n'.join(lines)


def stderr_log(started):
    """A ``log(text)`` that writes ``text`` to stderr after the seconds
    since ``started`` (a time.monotonic() value)."""
    def log(text):
        sys.stderr.write('[%5.1fs] %s\n'
                         % (time.monotonic() - started, text))
        sys.stderr.flush()
    return log


def publish(results, report, path):
    """Print ``report`` and where the figures go; write ``results`` there
    as JSON.  bench/driver.py ends with this too."""
    print(report)
    print('\n%.0f s; figures written to %s' % (results['seconds'], path))
    with open(path, 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write('\n')


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0])
    parser.add_argument('--json', default=DEFAULT_JSON, metavar='FILE',
                        help='write the figures there (default: %(default)s)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: %d messages, %d latency samples, '
                        '%d connections' % (QUICK.messages,
                                            QUICK.latency_samples,
                                            QUICK.connections))
    parser.add_argument('--profile', action='store_true',
                        help='also profile our fakes with cProfile')
    parser.add_argument('--messages', type=int,
                        help='messages per throughput run')
    parser.add_argument('--connections', type=int,
                        help='concurrent connections to open')
    parser.add_argument('--repeat', type=int,
                        help='throughput runs per backend; the best counts')
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; exit status 0 if every target passed."""
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.messages:
        settings = settings._replace(messages=args.messages)
    if args.connections:
        settings = settings._replace(connections=args.connections)
    if args.repeat:
        settings = settings._replace(repeat=args.repeat)
    started = time.monotonic()
    log = stderr_log(started)
    results = run(settings, profile=args.profile, log=log)
    results['seconds'] = time.monotonic() - started
    publish(results, format_report(results), args.json)
    failed = [c for c in results['checks']
              if not c['pass'] and not c.get('stretch')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
