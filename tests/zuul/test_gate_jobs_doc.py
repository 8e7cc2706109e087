"""doc/source/user/gate-jobs.rst shows what is tested.

Its ``.. tested-as:`` comments name what the next code block is: a file
of this repository, which the block must equal, or the consumer's
``.zuul.yaml``, which must pass Zuul's parser and the checks of
:mod:`tests.zuul.checks` with this project's jobs as parents.
"""

import os
import re
import textwrap

import pytest

from tests.zuul import checks
from tests.zuul import test_playbooks
from tests.zuul import zuul_config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir))
PAGE = os.path.join(ROOT, 'doc', 'source', 'user', 'gate-jobs.rst')
CONSUMER_ZUUL = 'consumer .zuul.yaml'

_TESTED_AS = re.compile(r'^\.\. tested-as: (.+?)\s*$')
_CODE_BLOCK = re.compile(r'^\.\. code-block:: \S+\s*$')


def _tested_blocks():
    """``{name: text}`` of the blocks after ``.. tested-as:`` comments."""
    with open(PAGE) as stream:
        lines = stream.read().splitlines()
    found = {}
    for number, line in enumerate(lines):
        match = _TESTED_AS.match(line)
        if not match:
            continue
        start = next(i for i in range(number + 1, len(lines))
                     if _CODE_BLOCK.match(lines[i])) + 1
        end = start
        while end < len(lines) and (not lines[end].strip() or
                                    lines[end].startswith('   ')):
            end += 1
        found[match.group(1)] = textwrap.dedent(
            '\n'.join(lines[start:end])).strip('\n') + '\n'
    return found


def test_page_has_the_examples():
    assert sorted(_tested_blocks()) == sorted(
        [CONSUMER_ZUUL, 'tests/zuul/consumer/tox.ini'])


@pytest.mark.parametrize('name', ['tests/zuul/consumer/tox.ini'])
def test_file_example_is_the_file(name):
    with open(os.path.join(ROOT, name)) as stream:
        assert _tested_blocks()[name] == stream.read()


def test_consumer_zuul_yaml(tmp_path):
    path = tmp_path / '.zuul.yaml'
    path.write_text(_tested_blocks()[CONSUMER_ZUUL])
    assert zuul_config.zuul_errors(
        str(path), project='openstack/myservice', branch='master') == []
    ours = zuul_config.load(os.path.join(ROOT, '.zuul.yaml'))
    problems = checks.Checker(
        ROOT, config_path=str(path), providers=[ours],
        job_prefix='myservice-', check_tox_envs=False).run()
    assert [str(p) for p in problems] == []


def test_documented_command_is_what_the_job_runs():
    """The console example runs the mode and tox environment that this
    project's own run of the job (tests/zuul/test_playbooks.py) runs."""
    variables = test_playbooks._job_vars()
    command = 'amqp1-fixtures run %s -- tox -e %s' % (
        variables['amqp1_mode'], variables['tox_envlist'])
    with open(PAGE) as stream:
        assert '   $ %s\n' % command in stream.read()


def test_readme_points_to_the_page():
    with open(os.path.join(ROOT, 'README.rst')) as stream:
        readme = stream.read()
    section = readme.split('\nGate jobs\n=========\n', 1)
    assert len(section) == 2, 'README.rst has no "Gate jobs" section'
    assert 'doc/source/user/gate-jobs.rst' in section[1].split('\n===')[0]
