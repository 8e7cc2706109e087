"""The upstream Zuul names .zuul.yaml may use: ``upstream-names.yaml``.

That file is written by ``tools/zuul-upstream-names.py`` from
openstack/devstack, openstack/openstack-zuul-jobs and openstack/tempest at
the commits it records; this module only reads it.
"""

import configparser
import os
import re

import yaml

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'upstream-names.yaml')

#: the repository whose jobs run tempest's own tox environments
TEMPEST_REPO = 'openstack/tempest'


class UpstreamNames(object):
    """Job and nodeset names of the recorded repositories.

    Owns: ``jobs`` (name -> ``repo@commit`` that defines it), ``nodesets``
    (likewise; nodesets only named by those repositories' jobs, defined in
    a config project, map to ``named by repo@commit``), ``tox_envlist``
    (job -> the tox environment its definition sets), ``tempest_envs``
    (tempest's tox environments) and ``sources`` (``repo@commit`` list).
    """

    def __init__(self, records):
        self.jobs = {}
        self.nodesets = {}
        self.tox_envlist = {}
        self.tempest_envs = frozenset()
        self.tempest_jobs = frozenset()
        self.sources = []
        for record in records:
            origin = '%s@%s' % (record['repo'], record['commit'][:12])
            self.sources.append(origin)
            for name in record.get('jobs', ()):
                self.jobs.setdefault(name, origin)
            for name in record.get('nodesets', ()):
                self.nodesets[name] = origin
            for name in record.get('nodesets_named_not_defined', ()):
                self.nodesets.setdefault(name, 'named by ' + origin)
            for job, envlist in (record.get('tox_envlist') or {}).items():
                self.tox_envlist.setdefault(job, envlist)
            if record['repo'] == TEMPEST_REPO:
                self.tempest_envs = frozenset(record.get('tox_envs', ()))
                self.tempest_jobs = frozenset(record.get('jobs', ()))

    @classmethod
    def load(cls, path=PATH):
        """Read the record at ``path``."""
        with open(path) as stream:
            return cls(yaml.safe_load(stream)['sources'])

    def runs_tempest(self, job):
        """Whether upstream ``job`` runs tempest's tox environments."""
        return job in self.tempest_jobs


def tox_envs(ini_path):
    """The environments ``tox.ini`` at ``ini_path`` defines (a set)."""
    parser = configparser.RawConfigParser(strict=False)
    parser.read(ini_path)
    envs = set()
    for section in parser.sections():
        if section.startswith('testenv:'):
            envs.add(section.split(':', 1)[1])
    if parser.has_option('tox', 'envlist'):
        envs.update(e.strip() for e in
                    re.split(r'[,\s]+', parser.get('tox', 'envlist'))
                    if e.strip())
    return envs


def is_implicit_env(name):
    """Whether tox creates ``name`` without a section (``py311``, ...)."""
    return re.fullmatch(r'py(py)?3?\d*', name) is not None
