"""doc/source/reference/environment.rst lists every environment variable
the code reads: the fixtures, the driver, the benchmarks, the tools and
the test suite (the DevStack plugin's settings are documented with it)."""

import glob
import os
import re

import testtools

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOC = os.path.join(TOP, 'doc', 'source', 'reference', 'environment.rst')

#: Python: a literal name handed to os.environ / os.getenv, or any
#: AMQP1_* name (constants such as rabbitmq.EXECUTABLE_ENV)
PY_READS = (re.compile(r"environ(?:\.get\(|\[)\s*'([A-Z][A-Z0-9_]*)'"),
            re.compile(r"getenv\(\s*'([A-Z][A-Z0-9_]*)'"),
            re.compile(r"\b(AMQP1_[A-Z0-9_]*[A-Z0-9])"))
#: Python: a module constant naming variables (``EXTERNAL_RPC_ENV =
#: ('AMQP1_RPC_TRANSPORT_URL', ...)``, ``PYTHON_ENV = {...}``)
PY_ENV_CONSTANT = re.compile(
    r"^[A-Z_]*ENV[A-Z_]*\s*=\s*(\(.*?\)|\{.*?\}|'[^']*')",
    re.MULTILINE | re.DOTALL)
PY_NAME = re.compile(r"'([A-Z][A-Z0-9_]*)'")
#: shell: ${NAME:-default}, a variable read with a fallback
SH_READS = re.compile(r'\$\{([A-Z][A-Z0-9_]*):-')
#: other programs' variables, passed through, not ours to document
NOT_OURS = {'PATH', 'PYTHONPATH', 'PYTEST_XDIST_WORKER', 'HOME'}
#: names that exist only as wrong input in tests (tests/zuul checks that a
#: misspelt or unknown DevStack setting is reported)
TEST_INPUT = {'AMQP1_SERVCE', 'AMQP1_VALID'}


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def devstack_settings():
    """The plugin's AMQP1_* names (local.conf settings)."""
    names = set()
    for path in glob.glob(os.path.join(TOP, 'devstack', '**', '*'),
                          recursive=True):
        if os.path.isfile(path):
            names.update(re.findall(r'\b(AMQP1_[A-Z0-9_]*[A-Z0-9])',
                                    _read(path)))
    return names


def names_read():
    """name -> the first file reading it."""
    found = {}
    python = []
    for part in ('fixtures', 'driver', 'bench', 'tools', 'tests'):
        python += glob.glob(os.path.join(TOP, part, '**', '*.py'),
                            recursive=True)
    for path in python:
        if os.path.samefile(path, __file__):
            continue
        text = _read(path)
        for pattern in PY_READS:
            for name in pattern.findall(text):
                found.setdefault(name, path)
        for constant in PY_ENV_CONSTANT.findall(text):
            for name in PY_NAME.findall(constant):
                found.setdefault(name, path)
    shell = glob.glob(os.path.join(TOP, 'tools', '*.sh'))
    for path in shell:
        for name in SH_READS.findall(_read(path)):
            found.setdefault(name, path)
    # the shell tests: only their own AMQP1_* knobs (the rest are
    # DevStack's variables, imitated by the stubs)
    for path in glob.glob(os.path.join(TOP, 'tests', 'shell', '*.t')):
        for name in SH_READS.findall(_read(path)):
            if name.startswith('AMQP1_') or name == 'README_RST':
                found.setdefault(name, path)
    return found


class TestEnvironmentDoc(testtools.TestCase):

    def test_every_variable_read_is_documented(self):
        doc = _read(DOC)
        devstack = devstack_settings()
        missing = sorted(
            '%s (%s)' % (name, os.path.relpath(path, TOP))
            for name, path in names_read().items()
            if name not in NOT_OURS | TEST_INPUT and name not in devstack
            and '``%s' % name not in doc)
        self.assertEqual([], missing)

    def test_scan_finds_the_known_readers(self):
        """The scan itself works: names read in each way are found."""
        found = names_read()
        for name in ('AMQP1_QDROUTERD', 'AMQP1_RABBITMQ_SERVER',
                     'AMQP1_FIXTURES_PORT_DIR', 'TRANSPORT_URL',
                     'AMQP1_OSLO_TIMEOUT', 'PROTON_REQUIREMENT',
                     'AMQP1_E2E_VENV', 'AMQP1_TLSLESS_PYTHON'):
            self.assertIn(name, found)
