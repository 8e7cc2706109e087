"""tools/zuul-upstream-names.py on a small git repository of its own."""

import importlib.util
import os
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir))
TOOL = os.path.join(ROOT, 'tools', 'zuul-upstream-names.py')


def _tool():
    spec = importlib.util.spec_from_file_location('zuul_upstream_names',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git(repo, *args):
    subprocess.run(['git', '-C', str(repo)] + list(args), check=True,
                   capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME='t',
                            GIT_AUTHOR_EMAIL='t@example.org',
                            GIT_COMMITTER_NAME='t',
                            GIT_COMMITTER_EMAIL='t@example.org'))


def test_records_names_and_commit(tmp_path):
    repo = tmp_path / 'repo'
    (repo / 'zuul.d').mkdir(parents=True)
    (repo / 'zuul.d' / 'jobs.yaml').write_text(
        '- job:\n    name: base-tox\n    nodeset: ubuntu-noble\n'
        '    vars:\n      tox_envlist: py3\n'
        '- nodeset:\n    name: two-nodes\n    nodes: []\n'
        '- secret:\n    name: s\n    data:\n'
        '      key: !encrypted/pkcs1-oaep [abc]\n')
    (repo / 'tox.ini').write_text('[tox]\n[testenv:smoke]\n[testenv:full]\n')
    (repo / 'notes.yaml').write_text('- job:\n    name: not-zuul-config\n')
    _git(repo, 'init', '-q')
    _git(repo, 'add', '.')
    _git(repo, 'commit', '-q', '-m', 'x')
    output = tmp_path / 'names.yaml'
    assert _tool().main(['--output', str(output),
                         'example/repo=%s' % repo]) == 0
    text = output.read_text()
    assert text.startswith('# Names of other projects')
    record = yaml.safe_load(text)['sources'][0]
    commit = subprocess.run(['git', '-C', str(repo), 'rev-parse', 'HEAD'],
                            check=True, capture_output=True,
                            text=True).stdout.strip()
    assert record['repo'] == 'example/repo'
    assert record['commit'] == commit
    assert record['files'] == ['zuul.d/jobs.yaml']
    assert record['jobs'] == ['base-tox']
    assert record['nodesets'] == ['two-nodes']
    assert record['nodesets_named_not_defined'] == ['ubuntu-noble']
    assert record['tox_envlist'] == {'base-tox': 'py3'}
    assert record['tox_envs'] == ['full', 'smoke']
