"""The install lines of README.rst (and driver/README.rst and the docs)
work as written: from a checkout and from the git URL form, in a fresh
venv; none claims a distribution is on PyPI; ``amqp1-fixtures --version``
reads the installed distribution's metadata.

The lines run with ``--no-deps`` added: what is checked is that pip
accepts the line and builds and installs the right distribution from the
right directory (the dependencies are the tox environments' business).
"""

import configparser
import glob
import os
import re
import shlex
import subprocess
import sys

import fixtures
import testtools

from tests import realqpid

TOP = realqpid.TOP
#: the placeholder the docs use for the repository's URL
URL = '<URL of this repository>'
#: lines a reader copies from a checkout (run with cwd = the checkout)
CHECKOUT_LINES = ('pip install ./ ./driver', "pip install './[oslo]'",
                  'pip install ./driver')
#: lines that let pip clone the repository (URL substituted)
GIT_LINES = (
    "pip install 'amqp1-fixtures @ git+%s@main'" % URL,
    "pip install 'amqp1-driver @ git+%s@main#subdirectory=driver'" % URL)
#: "pip install amqp1-fixtures" and the like: from an index, which has
#: neither distribution
PYPI_CLAIM = re.compile(
    r"pip install\s+['\"]?amqp1-(?:fixtures|driver)(?!\s*@)\b")


def doc_texts():
    """path -> text of every page a reader installs from."""
    paths = [os.path.join(TOP, 'README.rst'),
             os.path.join(TOP, 'driver', 'README.rst')]
    paths += glob.glob(os.path.join(TOP, 'doc', 'source', '**', '*.rst'),
                       recursive=True)
    texts = {}
    for path in paths:
        with open(path, encoding='utf-8') as f:
            texts[os.path.relpath(path, TOP)] = f.read()
    return texts


def setup_cfg_version(path):
    parser = configparser.ConfigParser()
    parser.read(path)
    return parser['metadata']['version']


class TestInstallLines(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.texts = doc_texts()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def assertDocumented(self, line):
        where = [path for path, text in self.texts.items() if line in text]
        self.assertNotEqual([], where, 'no page shows %r' % line)

    def test_no_page_claims_pypi(self):
        claims = ['%s: %s' % (path, match.group(0))
                  for path, text in self.texts.items()
                  for match in PYPI_CLAIM.finditer(text)]
        self.assertEqual([], claims)

    def venv(self):
        venv = os.path.join(self.tmp, 'venv')
        # The current pip, as a reader has: the one ensurepip bundles
        # (23.2 with Python 3.11) refuses git+file:///... requirements.
        subprocess.run([sys.executable, '-m', 'venv', '--upgrade-deps',
                        venv], check=True, timeout=300,
                       stdout=subprocess.DEVNULL)
        return os.path.join(venv, 'bin', 'python')

    def pip(self, python, line, cwd, url=None):
        """Run a documented ``pip install`` line with ``python``."""
        argv = shlex.split(line.replace(URL, url) if url else line)
        self.assertEqual(['pip', 'install'], argv[:2], line)
        argv = [python, '-m', 'pip', 'install', '--no-deps', '-q',
                '--disable-pip-version-check'] + argv[2:]
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                              timeout=600)
        self.assertEqual(0, proc.returncode, '%s\n%s%s' % (
            line, proc.stdout, proc.stderr))

    def installed(self, python, name):
        """(version, direct_url.json) of distribution ``name``."""
        out = subprocess.run(
            [python, '-c', 'import sys; from importlib import metadata as m;'
             ' d = m.distribution(sys.argv[1]);'
             ' print(d.version); print(d.read_text("direct_url.json"))',
             name], capture_output=True, text=True, check=True).stdout
        version, _, direct_url = out.partition('\n')
        return version, direct_url

    def test_checkout_and_git_url_lines(self):
        # One venv for both (creating one costs seconds): the checkout's
        # lines, then, uninstalled, the git URL's.
        python = self.venv()
        self.check_checkout_lines(python)
        subprocess.run([python, '-m', 'pip', 'uninstall', '-q', '-y',
                        'amqp1-fixtures', 'amqp1-driver'], check=True)
        self.check_git_url_lines(python)

    def check_checkout_lines(self, python):
        for line in CHECKOUT_LINES:
            self.assertDocumented(line)
            self.pip(python, line, cwd=TOP)
        self.assertEqual(setup_cfg_version(os.path.join(TOP, 'setup.cfg')),
                         self.installed(python, 'amqp1-fixtures')[0])
        self.assertEqual(
            setup_cfg_version(os.path.join(TOP, 'driver', 'setup.cfg')),
            self.installed(python, 'amqp1-driver')[0])

    def check_git_url_lines(self, python):
        # What pip clones: this checkout's committed HEAD, as "main".
        repo = os.path.join(self.tmp, 'repo.git')
        head = subprocess.run(['git', '-C', TOP, 'rev-parse', 'HEAD'],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
        subprocess.run(['git', 'clone', '-q', '--bare', TOP, repo],
                       check=True, timeout=300)
        subprocess.run(['git', '--git-dir', repo, 'update-ref',
                        'refs/heads/main', head], check=True)
        for line in GIT_LINES:
            self.assertDocumented(line)
            self.pip(python, line, cwd=self.tmp, url='file://' + repo)
        _, fixtures_url = self.installed(python, 'amqp1-fixtures')
        _, driver_url = self.installed(python, 'amqp1-driver')
        self.assertIn('"commit_id": "%s"' % head, fixtures_url)
        self.assertIn('"subdirectory": "driver"', driver_url)


class TestVersion(testtools.TestCase):

    def test_version_is_the_installed_distributions(self):
        script = os.path.join(os.path.dirname(sys.executable),
                              'amqp1-fixtures')
        proc = subprocess.run([script, '--version'], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        from importlib import metadata
        self.assertEqual('amqp1-fixtures %s\n'
                         % metadata.version('amqp1-fixtures'), proc.stdout)
        self.assertEqual(
            'amqp1-fixtures %s\n'
            % setup_cfg_version(os.path.join(TOP, 'setup.cfg')),
            proc.stdout)
