"""Tests of bench/driver.py: one real measurement on a few messages.

They keep the driver benchmark from rotting: ``driver_client.py`` runs for
real under this interpreter (oslo.messaging 14.x's own driver here)
through FakeRouter and FakeBroker processes, and the tests assert that
every call, cast and notification was counted, never how fast.
"""

import importlib.util
import os
import sys

import testtools

BENCH_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                         'bench')

HAVE_OSLO_AMQP = all(importlib.util.find_spec(name) is not None
                     for name in ('oslo_messaging', 'pyngus'))


def _load(name):
    # driver.py imports its sibling bench.py as "bench".
    if BENCH_DIR not in sys.path:
        sys.path.insert(0, BENCH_DIR)
    spec = importlib.util.spec_from_file_location(
        'amqp1_bench_' + name, os.path.join(BENCH_DIR, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


driver_bench = _load('driver')


@testtools.skipUnless(HAVE_OSLO_AMQP, 'needs oslo.messaging and pyngus')
class TestMeasure(testtools.TestCase):

    def _measure(self, executor):
        router = driver_bench.bench.Backend('router').start()
        self.addCleanup(router.stop)
        broker = driver_bench.bench.Backend('broker').start()
        self.addCleanup(broker.stop)
        settings = {
            'rpc_url': 'amqp://127.0.0.1:%d/' % router.port,
            'notify_url': 'amqp://127.0.0.1:%d/' % broker.port,
            'executor': executor, 'messages': 12, 'threads': 3,
            'rss_calls': 10, 'timeout': 30, 'label': 'test'}
        return driver_bench.measure(sys.executable, settings,
                                    lambda text: None)

    def test_threading(self):
        figures = self._measure('threading')
        self.assertTrue(figures['ok'], figures.get('error'))
        self.assertEqual(12, figures['sequential']['calls'])
        self.assertEqual(12, figures['threaded']['calls'])
        self.assertEqual(3, figures['threaded']['threads'])
        self.assertEqual(12, figures['casts']['casts'])
        self.assertEqual(12, figures['notifications']['notifications'])
        self.assertEqual(10, figures['rss']['calls'])
        self.assertLessEqual(figures['threaded']['p50_ms'],
                             figures['threaded']['p99_ms'])

    def test_eventlet(self):
        figures = self._measure('eventlet')
        self.assertTrue(figures['ok'], figures.get('error'))
        self.assertEqual('eventlet', figures['executor'])
        self.assertEqual(12, figures['casts']['casts'])


class TestTable(testtools.TestCase):

    def _run(self, per_s, growth=1048576):
        figures = {'ok': True, 'rss': {'growth': growth}}
        for key in ('sequential', 'threaded', 'casts', 'notifications'):
            figures[key] = {'per_s': per_s,
                            'p50_ms': 1.0, 'p99_ms': 2.0}
        return figures

    def test_best_of_runs_and_targets(self):
        old = driver_bench.best([self._run(100.0), self._run(90.0)])
        self.assertEqual(100.0, old['sequential']['per_s'])
        new = driver_bench.best([self._run(160.0, growth=2),
                                 self._run(210.0, growth=5)])
        checks = driver_bench.checks({'new': new, 'old': old})
        self.assertTrue(checks['sequential']['pass'])      # 2.1x >= 1.5x
        self.assertTrue(checks['threaded']['pass'])        # 2.1x >= 2x
        self.assertTrue(checks['rss']['pass'])
        self.assertEqual(5, new['rss']['growth'])
        new = driver_bench.best([self._run(190.0)])
        checks = driver_bench.checks({'new': new, 'old': old})
        self.assertTrue(checks['sequential']['pass'])
        self.assertFalse(checks['threaded']['pass'])       # 1.9x < 2x

    def test_a_failed_run_is_reported_not_counted(self):
        failed = {'ok': False, 'error': 'RuntimeError: lost'}
        runs = {'new': driver_bench.best([self._run(300.0), failed]),
                'old': driver_bench.best([self._run(100.0)]),
                'rabbit': None}
        checks = driver_bench.checks(runs)
        self.assertFalse(any(c['pass'] for c in checks.values()))
        results = {'runs': {'threading': runs},
                   'checks': {'threading': checks}}
        table = driver_bench.format_table(results, 'threading')
        self.assertIn('FAILED', table)
        self.assertIn('not run', table)
        self.assertIn('not met', table)

    def test_before_column_and_its_ratio(self):
        runs = {'new': driver_bench.best([self._run(300.0)]),
                'before': driver_bench.best([self._run(200.0)]),
                'old': driver_bench.best([self._run(100.0)]),
                'rabbit': None}
        results = {'runs': {'threading': runs},
                   'checks': {'threading': driver_bench.checks(runs)}}
        table = driver_bench.format_table(results, 'threading')
        header = table.splitlines()[0]
        self.assertIn('amqp1-driver before', header)
        self.assertIn('vs before', header)
        row = [line for line in table.splitlines()
               if line.startswith('sequential')][0]
        self.assertIn('3.00x', row)   # new / 14.9
        self.assertIn('1.50x', row)   # new / before

    def test_rabbitmq4_table_and_targets(self):
        runs = {'new': driver_bench.best([self._run(300.0)]),
                'old': driver_bench.best([self._run(100.0)]),
                'rabbit': None,
                'new-rabbitmq4': driver_bench.best([self._run(160.0)]),
                'rabbit-rabbitmq4': driver_bench.best([self._run(100.0)])}
        checks = driver_bench.checks(runs)
        self.assertTrue(checks['rabbitmq4-sequential']['pass'])  # 1.6x
        self.assertEqual('>= 1.5x', checks['rabbitmq4-threaded']['target'])
        results = {'runs': {'threading': runs}, 'rabbitmq4': '4.0.5',
                   'checks': {'threading': checks}}
        table = driver_bench.format_rabbitmq4_table(results, 'threading')
        self.assertIn('RabbitMQ 4.0.5', table.splitlines()[0])
        row = [line for line in table.splitlines()
               if line.startswith('sequential')][0]
        self.assertIn('1.60x', row)
        self.assertIn('PASS', row)
        report = driver_bench.format_report(dict(
            results, settings={'messages': 5, 'repeat': 1},
            env={'cpus': 2, 'python': '3', 'platform': 'p',
                 'loadavg': (0, 0, 0), 'oslo.messaging': {}}))
        self.assertIn("amqp:// on RabbitMQ 4", report)
        runs['new-rabbitmq4'] = None
        self.assertNotIn('rabbitmq4-sequential', driver_bench.checks(runs))
