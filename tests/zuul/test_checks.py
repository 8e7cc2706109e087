"""The checks catch what they are for: each test breaks one thing in a
copy of .zuul.yaml (or of a playbook) and expects that one problem, at
its line."""

import os
import shutil

import pytest

from tests.zuul import checks
from tests.zuul import zuul_config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir))
#: what the checks read besides .zuul.yaml
COPIED = ('devstack', 'playbooks', 'tox.ini',
          os.path.join('tests', 'zuul', 'consumer', 'tox.ini'))


@pytest.fixture
def checkout(tmp_path):
    """A copy of what the checks read, to break."""
    for relative in COPIED:
        source = os.path.join(ROOT, relative)
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    shutil.copy(os.path.join(ROOT, '.zuul.yaml'), tmp_path / '.zuul.yaml')
    return tmp_path


def _break(path, old, new):
    """Replace the first ``old`` in ``path``; return its line number."""
    text = path.read_text()
    assert old in text, old
    line = text[:text.index(old)].count('\n') + 1
    path.write_text(text.replace(old, new, 1))
    return line


def _problems(root, kind):
    return [p for p in checks.Checker(str(root)).run() if p.kind == kind]


# (what breaks, old text, new text, problem kind, subject, words of message)
CASES = [
    ('parent', 'parent: devstack-tempest\n',
     'parent: devstack-tempset\n', 'parent', 'devstack-tempset',
     'parent job devstack-tempset is defined neither here nor in '
     'openstack/devstack@'),
    ('nodeset', 'nodeset: openstack-two-node-noble',
     'nodeset: openstack-two-node-nobel', 'nodeset',
     'openstack-two-node-nobel', 'nodeset openstack-two-node-nobel'),
    ('localrc variable', 'AMQP1_SERVICE: qpid-dual\n',
     'AMQP1_SERVCE: qpid-dual\n', 'setting', 'AMQP1_SERVCE=qpid-dual',
     'AMQP1_SERVCE is not a setting the plugin reads'),
    ('mode', 'AMQP1_SERVICE: qpid\n', 'AMQP1_SERVICE: qpid-triple\n',
     'setting', 'AMQP1_SERVICE=qpid-triple',
     'is not one of the values the plugin accepts: qpid, qpid-dual'),
    ('daemons', 'AMQP1_USERNAME: stackamqp\n',
     'AMQP1_DAEMONS: packaged\n        AMQP1_USERNAME: stackamqp\n',
     'setting', 'AMQP1_DAEMONS=packaged', 'auto, distro, standin'),
    ('service', 'amqp1-router: false', 'amqp1-routr: false', 'service',
     'amqp1-routr', 'amqp1-routr is not a service the plugin knows'),
    ('playbook', 'run: playbooks/fixtures-tox/run.yaml',
     'run: playbooks/fixtures-tox/runn.yaml', 'playbook',
     'playbooks/fixtures-tox/runn.yaml', 'does not exist'),
    ('variable', 'amqp1_daemons: false', 'amqp1_deamons: false',
     'variable', 'amqp1_deamons', 'read by none of the job\'s playbooks'),
    ('fixtures mode', 'amqp1_mode: qpid-dual', 'amqp1_mode: qpid-duel',
     'mode', 'amqp1_mode=qpid-duel', 'not a mode of amqp1-fixtures run'),
    ('plugin name', '        devstack-plugin-amqp1: https',
     '        amqp1: https', 'plugin', 'amqp1',
     'not the short name of a required project'),
    ('plugin URL', 'https://opendev.org/openstack/devstack-plugin-amqp1 ',
     'https://example.org/devstack-plugin-amqp1 ', 'plugin',
     'devstack-plugin-amqp1', "is not the project's"),
    ('tox env', 'tox_envlist: shell', 'tox_envlist: shel', 'tox-env',
     'shel', 'runs tox environment shel, which tox.ini does not define'),
    ('tempest env', 'tox_envlist: smoke', 'tox_envlist: smok', 'tox-env',
     'smok', "which tempest's tox.ini does not define"),
    ('pipeline job', '        - openstack-tox-pep8\n',
     '        - openstack-tox-pep9\n', 'job', 'openstack-tox-pep9',
     'job openstack-tox-pep9 is defined neither here nor in'),
    ('job name', 'name: devstack-plugin-amqp1-tox-tlsless',
     'name: tox-tlsless', 'name', 'tox-tlsless',
     'does not start with devstack-plugin-amqp1-'),
]


@pytest.mark.parametrize('old, new, kind, subject, words',
                         [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_broken_copy(checkout, old, new, kind, subject, words):
    line = _break(checkout / '.zuul.yaml', old, new)
    found = [p for p in _problems(checkout, kind) if p.subject == subject]
    assert found, [str(p) for p in checks.Checker(str(checkout)).run()]
    # a job's problem is reported where it is; a tox environment's where
    # the project runs the job, which may be elsewhere
    if kind != 'tox-env':
        assert found[0].where == '.zuul.yaml:%d' % line
    assert words in found[0].message


def test_intact_copy_has_only_pending_problems(checkout):
    from tests.zuul import test_zuul_yaml

    problems = checks.Checker(str(checkout)).run()
    assert [str(p) for p in problems
            if (p.kind, p.subject) not in test_zuul_yaml.PENDING] == []


def test_unknown_attribute_is_zuul_syntax_error(checkout):
    line = _break(checkout / '.zuul.yaml', '    description: |',
                  '    desciption: |')
    errors = zuul_config.zuul_errors(str(checkout / '.zuul.yaml'))
    assert len(errors) == 1
    assert "extra keys not allowed @ data['desciption']" in errors[0]
    # the job's stanza (its "name:" line, above) has lost its description
    problems = _problems(checkout, 'description')
    assert [p.subject for p in problems] == [
        'devstack-plugin-amqp1-tempest-base']
    assert 0 < int(problems[0].where.split(':')[1]) < line


def test_bad_variable_name_is_zuul_syntax_error(checkout):
    _break(checkout / '.zuul.yaml', 'amqp1_daemons: false',
           'amqp1-daemons: false')
    errors = zuul_config.zuul_errors(str(checkout / '.zuul.yaml'))
    assert len(errors) == 1
    assert "Invalid Ansible variable name 'amqp1-daemons'" in errors[0]


def test_playbook_not_plays(checkout):
    path = checkout / 'playbooks' / 'fixtures-tox' / 'pre.yaml'
    path.write_text('tasks:\n  - command: true\n')
    problems = _problems(checkout, 'playbook')
    assert len(problems) == 1
    assert 'is not a list of plays' in problems[0].message


def test_playbook_not_yaml(checkout):
    path = checkout / 'playbooks' / 'fixtures-tox' / 'run.yaml'
    path.write_text('- hosts: all\n  tasks: [\n')
    problems = _problems(checkout, 'playbook')
    assert len(problems) == 1
    assert 'playbooks/fixtures-tox/run.yaml is not YAML' in (
        problems[0].message)


def test_plugin_setting_removed(checkout):
    """The vocabulary follows the plugin: a setting it stops reading is
    flagged where a job still sets it."""
    settings = checkout / 'devstack' / 'settings'
    text = settings.read_text()
    settings.write_text(text.replace(
        'AMQP1_USERNAME=${AMQP1_USERNAME:-}', 'AMQP1_USER=${AMQP1_USER:-}'))
    lib = checkout / 'devstack' / 'lib' / 'amqp1'
    lib.write_text(lib.read_text().replace('AMQP1_USERNAME', 'AMQP1_USER'))
    subjects = {p.subject for p in _problems(checkout, 'setting')}
    assert 'AMQP1_USERNAME=stackamqp' in subjects
