"""Tests of devstack/tools/driver_check.py, the plugin's check of the amqp
driver the services' python would load.

Each case builds a site directory with the distributions the check should
find (real ``*.dist-info`` metadata and importable modules) and runs the
tool as the plugin does, with ``python -S`` so that only that directory
(not this environment's oslo.messaging) is visible.
"""

import os
import subprocess
import sys

import fixtures
import testtools

from tests.unit.devstack import tools

CHECK = tools.path('driver_check.py')


class Site(fixtures.Fixture):
    """A site directory of fake distributions (owns its files)."""

    def _setUp(self):
        self.path = self.useFixture(fixtures.TempDir()).path

    def write(self, relative, text):
        full = os.path.join(self.path, relative)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)

    def dist(self, name, version, module, entry_points=None,
             module_text=''):
        """A distribution ``name`` providing package ``module``.

        :param entry_points: ``{group: {name: target}}``.
        """
        info = '%s-%s.dist-info' % (name.replace('-', '_').replace('.', '_'),
                                    version)
        self.write(os.path.join(info, 'METADATA'),
                   'Metadata-Version: 2.1\nName: %s\nVersion: %s\n'
                   % (name, version))
        lines = []
        for group, eps in (entry_points or {}).items():
            lines.append('[%s]' % group)
            lines += ['%s = %s' % item for item in eps.items()]
        self.write(os.path.join(info, 'entry_points.txt'),
                   '\n'.join(lines) + '\n')
        self.write(os.path.join(module, '__init__.py'), module_text)

    def oslo_messaging(self, version, own_driver):
        eps = {'rabbit': 'oslo_messaging._drivers.impl_rabbit:RabbitDriver'}
        if own_driver:
            eps['amqp'] = 'oslo_messaging._drivers.impl_amqp1:ProtonDriver'
            self.write('oslo_messaging/_drivers/impl_amqp1.py',
                       'ProtonDriver = object\n')
        self.write('oslo_messaging/_drivers/__init__.py', '')
        self.dist('oslo.messaging', version, 'oslo_messaging',
                  {'oslo.messaging.drivers': eps})

    def amqp1_driver(self, module_text='AMQP1Driver = object\n'):
        self.dist('amqp1-driver', '0.1.0', 'amqp1_driver',
                  {'oslo.messaging.drivers':
                   {'amqp': 'amqp1_driver.driver:AMQP1Driver'}})
        self.write('amqp1_driver/driver.py', module_text)

    def proton(self, tls=True):
        self.write('proton/__init__.py',
                   'class SSL:\n    @staticmethod\n    def present():\n'
                   '        return %r\n' % tls)

    def pyngus(self):
        self.write('pyngus/__init__.py', '')

    def check(self, *args):
        """Run the tool with this site only; return its last line."""
        env = dict(os.environ, PYTHONPATH=self.path)
        out = subprocess.run([sys.executable, '-S', CHECK] + list(args),
                             env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=60, check=True).stdout
        return out.splitlines()[-1]


class TestVerdicts(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.site = self.useFixture(Site())

    def test_absent_without_oslo_messaging(self):
        self.assertEqual('absent - -', self.site.check())

    def test_oslo_messaging_14_with_its_own_driver(self):
        self.site.oslo_messaging('14.9.3', own_driver=True)
        self.site.proton()
        self.site.pyngus()
        self.assertEqual('ok 14.9.3 oslo.messaging', self.site.check())

    def test_own_driver_without_pyngus_is_broken(self):
        self.site.oslo_messaging('14.9.3', own_driver=True)
        self.site.proton()
        self.assertEqual("broken 14.9.3 oslo.messaging No module named "
                         "'pyngus'", self.site.check())

    def test_oslo_messaging_18_with_amqp1_driver(self):
        self.site.oslo_messaging('18.2.0', own_driver=False)
        self.site.amqp1_driver()
        self.site.proton()
        self.assertEqual('ok 18.2.0 amqp1-driver', self.site.check())

    def test_no_provider(self):
        self.site.oslo_messaging('18.2.0', own_driver=False)
        self.assertEqual('none 18.2.0 -', self.site.check())

    def test_two_providers(self):
        self.site.oslo_messaging('14.9.3', own_driver=True)
        self.site.amqp1_driver()
        self.assertEqual('twice 14.9.3 amqp1-driver,oslo.messaging',
                         self.site.check())

    def test_driver_that_fails_to_import_is_broken_with_the_reason(self):
        self.site.oslo_messaging('18.2.0', own_driver=False)
        self.site.amqp1_driver(module_text='import missing_library\n')
        self.site.proton()
        self.assertEqual("broken 18.2.0 amqp1-driver No module named "
                         "'missing_library'", self.site.check())

    def test_tls_asked_for_and_proton_without_it(self):
        self.site.oslo_messaging('18.2.0', own_driver=False)
        self.site.amqp1_driver()
        self.site.proton(tls=False)
        self.assertEqual('notls 18.2.0 amqp1-driver',
                         self.site.check('--tls'))
        self.assertEqual('ok 18.2.0 amqp1-driver', self.site.check())

    def test_tls_asked_for_and_present(self):
        self.site.oslo_messaging('18.2.0', own_driver=False)
        self.site.amqp1_driver()
        self.site.proton(tls=True)
        self.assertEqual('ok 18.2.0 amqp1-driver', self.site.check('--tls'))


class FakeEntryPoint:

    def __init__(self, group, name):
        self.group = group
        self.name = name


class FakeDist:

    def __init__(self, name, *entry_points):
        self.metadata = {'Name': name}
        self.entry_points = [FakeEntryPoint(*ep) for ep in entry_points]


class TestProviders(testtools.TestCase):

    def test_only_amqp_entry_points_of_the_drivers_group(self):
        check = tools.load('driver_check.py')
        found = check.providers([
            FakeDist('oslo.messaging', ('oslo.messaging.drivers', 'rabbit'),
                     ('oslo.messaging.drivers', 'amqp')),
            FakeDist('other', ('console_scripts', 'amqp')),
            FakeDist('amqp1-driver', ('oslo.messaging.drivers', 'amqp')),
        ])
        self.assertEqual(['amqp1-driver', 'oslo.messaging'], sorted(found))
        self.assertEqual('amqp', found['amqp1-driver'].name)

    def test_a_distribution_found_twice_counts_once(self):
        # the same distribution seen on two sys.path entries (a venv and
        # the system) is one provider: the check counts distributions
        check = tools.load('driver_check.py')
        dist = FakeDist('amqp1-driver', ('oslo.messaging.drivers', 'amqp'))
        self.assertEqual(['amqp1-driver'],
                         list(check.providers([dist, dist])))
