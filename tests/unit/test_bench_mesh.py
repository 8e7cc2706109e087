"""Tests of bench/mesh.py: its measurements on a few messages and one
run each, so that the benchmark does not rot (they assert that every
message was counted and the figures exist, never how fast)."""

import importlib.util
import io
import os
import sys

import fixtures
import testtools

BENCH_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                         'bench')


def _load_mesh_bench():
    sys.path.insert(0, BENCH_DIR)
    try:
        spec = importlib.util.spec_from_file_location(
            'amqp1_bench_mesh', os.path.join(BENCH_DIR, 'mesh.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(BENCH_DIR)
    return module


mesh_bench = _load_mesh_bench()


class TestMeshBench(testtools.TestCase):

    def test_convergence_of_a_fake_mesh(self):
        figures = mesh_bench.measure_convergence(
            'fake', mesh_bench.TOPOLOGIES['line'], 1)
        self.assertEqual(1, figures['samples'])
        self.assertGreater(figures['start_s'], 0)
        self.assertGreater(figures['restart_s'], 0)

    def test_crossing_two_fakes(self):
        figures = mesh_bench.measure_crossing('fake', 200, timeout=45,
                                              repeat=1)
        self.assertTrue(figures['ok'], figures.get('reason'))
        self.assertEqual(200, figures['received'])
        self.assertGreater(figures['cpu_us_per_msg'], 0)

    def test_report(self):
        row = {'samples': 1, 'start_s': 0.1, 'start_max_s': 0.1,
               'restart_s': 0.2, 'restart_max_s': 0.2}
        crossing = {'ok': True, 'msg_per_s': 1000.0, 'cpu_us_per_msg': 50.0,
                    'runs': [1000.0]}
        figures = {'messages': 10, 'repeat': 1, 'loadavg_end': (1, 1, 1),
                   'convergence': {'fake': {'line': row, 'triangle': row}},
                   'crossing': {'fake': crossing,
                                'qdrouterd': dict(crossing,
                                                  msg_per_s=2000.0)}}
        env = {'cpus': 2, 'python': '3', 'proton': '0.40',
               'loadavg': (0.5, 0.5, 0.5)}
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO()))
        del out
        mesh_bench.report(env, figures)
        text = sys.stdout.getvalue()
        self.assertIn('load average 0.50 0.50 0.50 (start) 1.00', text)
        self.assertIn('PASS (worst median 0.200 s)', text)
        self.assertIn('stand-in daemons           line      not installed',
                      text)
        self.assertIn('fakes / qdrouterd: throughput 0.50x', text)
