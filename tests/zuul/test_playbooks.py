"""The playbooks .zuul.yaml names, run by Ansible as a Zuul executor would.

Every playbook passes ``ansible-playbook --syntax-check``; the two of
devstack-plugin-amqp1-fixtures-tox-functional then really run on this
machine (connection ``local``) with the job's variables as .zuul.yaml
gives them for this project's own check pipeline, and Zuul's ``zuul``
variables pointing at this checkout: pre.yaml installs amqp1-fixtures
into a virtualenv, run.yaml runs the consumer example's tox environment
under ``amqp1-fixtures run qpid-dual`` (tests/zuul/consumer).  What the
parent jobs' playbooks do (zuul-jobs' bindep, test-setup, ensure-tox) is
not run: the packages are installed here already.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.zuul import checks
from tests.zuul import zuul_config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir))
JOB = 'devstack-plugin-amqp1-fixtures-tox-functional'
#: where tox sets it, the consumer's tox env and the fixtures' venv are
#: kept between runs
WORKDIR_ENV = 'AMQP1_GATE_WORKDIR'
#: seconds for the consumer example, a first run building its venvs
TIMEOUT = 900


def _ansible_playbook():
    path = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    if not os.path.exists(path):
        path = shutil.which('ansible-playbook')
    if not path:
        pytest.fail('ansible-playbook is not installed (tox -e zuul '
                    'installs ansible-core)')
    return path


def _environment(tmp_path):
    env = dict(os.environ)
    env.update({
        # ansible-core needs a UTF-8 locale; its state stays in tmp_path
        'LC_ALL': 'C.UTF-8',
        'ANSIBLE_HOME': str(tmp_path / 'ansible'),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible' / 'tmp'),
        'ANSIBLE_REMOTE_TEMP': str(tmp_path / 'ansible' / 'remote'),
        'ANSIBLE_NOCOLOR': '1',
        # the modules run with this interpreter, not one found on PATH
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
    })
    return env


def _playbooks():
    config = zuul_config.load(os.path.join(ROOT, '.zuul.yaml'))
    found = set()
    for variants in config.jobs.values():
        for body in variants:
            for attr in checks.PLAYBOOK_ATTRS:
                for entry in checks._as_list(body.get(attr)):
                    found.add(entry['name'] if isinstance(entry, dict)
                              else str(entry))
    return sorted(found)


def test_there_are_playbooks():
    assert 'playbooks/fixtures-tox/run.yaml' in _playbooks()


@pytest.mark.parametrize('playbook', _playbooks())
def test_syntax(playbook, tmp_path):
    result = subprocess.run(
        [_ansible_playbook(), '--syntax-check', '-i', 'localhost,',
         os.path.join(ROOT, playbook)],
        env=_environment(tmp_path), capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _job_vars():
    """The job's variables for this project's check pipeline entry."""
    checker = checks.Checker(ROOT)
    variables = checker._chain_vars(JOB)
    for project in checker.config.projects:
        for entry in project['check']['jobs']:
            if isinstance(entry, dict) and JOB in entry:
                variables = checks._merge(
                    variables, entry[JOB].get('vars') or {})
    return variables


def test_consumer_example_runs_through_the_playbooks(tmp_path):
    workdir = os.environ.get(WORKDIR_ENV) or str(tmp_path / 'work')
    os.makedirs(workdir, exist_ok=True)
    home = os.path.expanduser('~')
    variables = _job_vars()
    assert variables['amqp1_mode'] == 'qpid-dual'
    variables.update({
        # what Zuul gives every job: this checkout as the project under
        # test and as the required project the fixtures come from
        'zuul': {
            'project': {'src_dir': ROOT},
            'projects': {variables['amqp1_fixtures_project']: {
                'src_dir': os.path.relpath(ROOT, home)}},
        },
        # ensure-tox's fact in a Zuul job: this environment's tox
        'tox_executable': os.path.join(os.path.dirname(sys.executable),
                                       'tox'),
        # kept between runs; the parents' bindep role is zuul-jobs'
        'amqp1_fixtures_venv': os.path.join(workdir, 'fixtures-venv'),
        'amqp1_fixtures_bindep': False,
        'tox_extra_args': '-vv --workdir %s' % os.path.join(workdir, 'tox'),
    })
    extra_vars = tmp_path / 'vars.json'
    extra_vars.write_text(json.dumps(variables))
    output = []
    for playbook in ('pre.yaml', 'run.yaml'):
        result = subprocess.run(
            [_ansible_playbook(), '-v', '-i', 'localhost,', '-c', 'local',
             '-e', '@%s' % extra_vars,
             os.path.join(ROOT, 'playbooks', 'fixtures-tox', playbook)],
            env=_environment(tmp_path), capture_output=True, text=True,
            timeout=TIMEOUT)
        output.append(result.stdout + result.stderr)
        assert result.returncode == 0, output[-1]
    run_output = output[-1]
    # the documented command ran, and the consumer's two tests passed in it
    assert 'amqp1-fixtures run: starting qpid-dual' in run_output
    assert 'functional-amqp1: OK' in run_output
    assert '2 passed' in run_output
