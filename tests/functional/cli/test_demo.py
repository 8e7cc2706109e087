"""The README's first command runs ``amqp1-fixtures demo``; keep it true."""

import subprocess
import sys

import testtools


class DemoTest(testtools.TestCase):

    def test_demo_succeeds(self):
        proc = subprocess.run(
            [sys.executable, '-m', 'amqp1_fixtures.cli', 'demo'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertRegex(proc.stdout, r'oslo\.messaging \d+\.\d+.*, amqp '
                                      r'driver \S+Driver\n')
        self.assertIn("echo() -> 'HELLO OVER AMQP 1.0'", proc.stdout)
        self.assertIn('late listener received demo.created', proc.stdout)
        self.assertIn('demo OK', proc.stdout)
