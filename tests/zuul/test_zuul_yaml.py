"""This project's .zuul.yaml, checked without a Zuul.

Zuul's own configuration parser, then :mod:`tests.zuul.checks` (parents,
nodesets, playbooks, the plugin's settings and services, tox
environments) against the upstream names recorded with their commits.
"""

import os
import re

import pytest

from tests.zuul import checks
from tests.zuul import plugin_vocabulary
from tests.zuul import upstream
from tests.zuul import zuul_config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir))
ZUUL_YAML = os.path.join(ROOT, '.zuul.yaml')

#: names .zuul.yaml uses that another branch adds; while this checkout
#: lacks them the checks report them and test_pending skips, naming them.
#: Merged, the checks pass on them and the entries can go.
PENDING = {}


@pytest.fixture(scope='module')
def problems():
    return checks.Checker(ROOT).run()


def test_zuul_parses_it():
    assert zuul_config.zuul_errors(ZUUL_YAML) == []


def test_checks_pass(problems):
    found = [str(p) for p in problems
             if (p.kind, p.subject) not in PENDING]
    assert found == []


def test_pending(problems):
    pending = sorted({PENDING[(p.kind, p.subject)] for p in problems
                      if (p.kind, p.subject) in PENDING})
    if pending:
        pytest.skip('waiting for another branch: %s' % '; '.join(pending))


def test_every_mode_has_devstack_jobs():
    """One single-node and one multi-node DevStack job per mode that
    deploys a bus (not "external", which needs one that exists)."""
    config = zuul_config.load(ZUUL_YAML)
    vocabulary = plugin_vocabulary.PluginVocabulary.from_checkout(ROOT)
    modes = set(vocabulary.choices['AMQP1_SERVICE']) - {'external'}
    modes.add('rabbitmq')
    found = {}
    for name, (body, *_rest) in config.jobs.items():
        localrc = (body.get('vars') or {}).get('devstack_localrc') or {}
        if 'AMQP1_SERVICE' in localrc and name.endswith(
                '-' + localrc['AMQP1_SERVICE']):
            found[localrc['AMQP1_SERVICE']] = name
    assert sorted(found) == sorted(modes)
    for mode, name in found.items():
        assert name + '-multinode' in config.jobs
        subnode = config.jobs[name][0]['group-vars']['subnode']
        assert subnode['devstack_localrc']['AMQP1_SERVICE'] == mode


def test_upstream_names_say_where_they_come_from():
    names = upstream.UpstreamNames.load()
    repos = {s.split('@')[0] for s in names.sources}
    assert repos == {'openstack/devstack', 'openstack/openstack-zuul-jobs',
                     'openstack/tempest'}
    with open(upstream.PATH) as stream:
        commits = re.findall(r'^  commit: ([0-9a-f]+)$', stream.read(), re.M)
    assert len(commits) == 3
    assert all(len(commit) == 40 for commit in commits)
