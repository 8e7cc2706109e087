"""Tests of devstack/tools/module_origin.py, with which the plugin tells
whether the stand-ins' venv runs its checkout."""

import os
import subprocess
import sys

import fixtures
import testtools

from tests.unit.devstack import tools

TOOL = tools.path('module_origin.py')


def run(module, pythonpath):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, '-S', TOOL, module], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


class TestModuleOrigin(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = os.path.realpath(
            self.useFixture(fixtures.TempDir()).path)

    def test_a_package_is_found_at_its_init_without_running_it(self):
        os.makedirs(os.path.join(self.dir, 'pkg'))
        marker = os.path.join(self.dir, 'ran')
        with open(os.path.join(self.dir, 'pkg', '__init__.py'), 'w') as f:
            f.write('open(%r, "w").close()\n' % marker)
        result = run('pkg', self.dir)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(os.path.join(self.dir, 'pkg', '__init__.py'),
                         result.stdout.strip())
        self.assertFalse(os.path.exists(marker))

    def test_the_real_path_through_a_symlink(self):
        real = os.path.join(self.dir, 'real')
        os.makedirs(os.path.join(real, 'pkg'))
        open(os.path.join(real, 'pkg', '__init__.py'), 'w').close()
        link = os.path.join(self.dir, 'link')
        os.symlink(real, link)
        result = run('pkg', link)
        self.assertEqual(os.path.join(real, 'pkg', '__init__.py'),
                         result.stdout.strip())

    def test_a_missing_module_exits_1_saying_so(self):
        result = run('no_such_module_here', self.dir)
        self.assertEqual(1, result.returncode)
        self.assertEqual('', result.stdout)
        self.assertIn('no_such_module_here is not importable here',
                      result.stderr)

    def test_the_checkout_of_this_environment(self):
        # what the plugin asks of a venv that runs this checkout
        env = dict(os.environ)
        result = subprocess.run([sys.executable, TOOL, 'amqp1_fixtures'],
                                env=env, stdout=subprocess.PIPE, text=True,
                                timeout=60)
        self.assertTrue(result.stdout.strip().startswith(
            os.path.join(os.path.realpath(tools.ROOT), 'fixtures') + os.sep),
            result.stdout)
