"""Checks of this project's Zuul configuration that need no Zuul.

Zuul itself would only find out in a tenant (a parent job or nodeset
that does not exist, a playbook that is missing) or not at all (a
``devstack_localrc`` variable the plugin never reads is silently written
into local.conf).  :class:`Checker` checks, for every job and project
stanza of the file:

* parents, nodesets and the jobs a project runs exist: defined in the
  file, or recorded from upstream in ``upstream-names.yaml``;
* job names carry the project's prefix and every job says what it does;
* every playbook exists and is a YAML list of plays;
* ``devstack_plugins`` enables a required project under its short name,
  at its canonical URL;
* every ``devstack_localrc`` variable is one the plugin reads, with a
  value it accepts, and every ``devstack_services`` entry a service the
  plugin knows (:class:`~tests.zuul.plugin_vocabulary.PluginVocabulary`);
* every ``amqp1_*`` variable is read by the job's playbooks, and
  ``amqp1_mode`` is a mode ``amqp1-fixtures run`` accepts;
* every tox environment a project's job runs exists: in this checkout's
  ``tox.ini`` (or the ``zuul_work_dir`` one), or tempest's for a job
  that runs tempest.

Each problem names the file and line.  Zuul's own schema is applied by
:func:`tests.zuul.zuul_config.zuul_errors`.
"""

import collections
import os
import re

import yaml

from tests.zuul import plugin_vocabulary
from tests.zuul import upstream as upstream_mod
from tests.zuul import zuul_config

#: every job this project defines starts with it (OpenStack's convention)
JOB_PREFIX = 'devstack-plugin-amqp1-'
#: the job attributes that name playbooks
PLAYBOOK_ATTRS = ('pre-run', 'run', 'post-run', 'cleanup-run')
#: keys of a project stanza that are not pipelines
PROJECT_KEYS = frozenset(('name', 'description', 'templates', 'merge-mode',
                          'default-branch', 'vars', 'queue', 'branches'))
#: where Zuul puts a project's checkout, as job variables spell it
_SRC_DIR = re.compile(r'^\{\{\s*zuul\.project\.src_dir\s*\}\}/?(.*)$')
_AMQP1_VAR = re.compile(r'\bamqp1_[a-z0-9_]+\b')
_BOOLEAN = (True, False)


class Problem(collections.namedtuple(
        'Problem', 'where kind subject message')):
    """One finding: ``where`` is ``file:line``, ``kind`` a category
    (``parent``, ``nodeset``, ``job``, ``name``, ``description``,
    ``playbook``, ``plugin``, ``setting``, ``service``, ``variable``,
    ``mode``, ``tox-env``), ``subject`` what it is about."""

    def __str__(self):
        return '%s: %s' % (self.where, self.message)


def _line_of(problem):
    line = problem.where.rsplit(':', 1)[-1]
    return int(line) if line.isdigit() else 0


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _merge(base, override):
    """Zuul's variable inheritance: dicts merge deeply, the rest replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _project_name(entry):
    """``openstack/x`` of a required-projects entry (str or dict)."""
    name = entry['name'] if isinstance(entry, dict) else entry
    parts = name.split('/')
    # opendev.org/openstack/x -> openstack/x; openstack/x stays
    return '/'.join(parts[-2:])


class Checker(object):
    """Checks one Zuul configuration file of a checkout.

    Owns what it reads once: the file (``config``), the plugin's
    vocabulary, the upstream names, the modes ``amqp1-fixtures run``
    accepts, and the playbook texts it has read (a cache).
    """

    def __init__(self, root, config_path=None, upstream=None,
                 vocabulary=None, fixture_modes=None, providers=(),
                 job_prefix=JOB_PREFIX, check_tox_envs=True):
        """:param root: the checkout (playbooks, tox.ini and the plugin).
        :param config_path: the Zuul file (default ``root/.zuul.yaml``).
        :param upstream: an :class:`~tests.zuul.upstream.UpstreamNames`.
        :param vocabulary: a plugin vocabulary (default: parsed from root).
        :param fixture_modes: the modes of ``amqp1-fixtures run`` (default:
            ``amqp1_fixtures.service.MODES``).
        :param providers: other :class:`~tests.zuul.zuul_config.ZuulConfig`
            whose jobs this file may use (a consumer's file: this
            project's ``.zuul.yaml``), their playbooks under ``root``.
        :param job_prefix: the prefix every job defined here must have, or
            None.
        :param check_tox_envs: whether the tox environments a project runs
            must be in ``root``'s tox.ini (False for a consumer's file).
        """
        self.root = root
        config_path = config_path or os.path.join(root, '.zuul.yaml')
        display = os.path.relpath(config_path, root)
        if display.startswith(os.pardir):
            display = config_path
        self.config = zuul_config.load(config_path, display)
        self.jobs = {}
        for provider in providers:
            self.jobs.update(provider.jobs)
        self.jobs.update(self.config.jobs)
        self.job_prefix = job_prefix
        self.check_tox_envs = check_tox_envs
        self.upstream = upstream or upstream_mod.UpstreamNames.load()
        self.vocabulary = (
            vocabulary or
            plugin_vocabulary.PluginVocabulary.from_checkout(root))
        if fixture_modes is None:
            from amqp1_fixtures import service
            fixture_modes = service.MODES
        self.fixture_modes = tuple(fixture_modes)
        self._playbooks = {}

    # -- the job graph -----------------------------------------------------

    def _chain(self, name):
        """``(local bodies from name up, first upstream ancestor)``."""
        bodies, seen = [], set()
        while name in self.jobs and name not in seen:
            seen.add(name)
            body = self.jobs[name][0]
            bodies.append(body)
            name = body.get('parent')
        return bodies, name

    def _chain_vars(self, name, attr='vars'):
        merged = {}
        for body in reversed(self._chain(name)[0]):
            merged = _merge(merged, body.get(attr) or {})
        return merged

    def _chain_playbook_text(self, name):
        texts = []
        for body in self._chain(name)[0]:
            for attr in PLAYBOOK_ATTRS:
                for entry in _as_list(body.get(attr)):
                    path = entry['name'] if isinstance(entry, dict) else entry
                    texts.append(self._playbook_text(path) or '')
        return '\n'.join(texts)

    def _playbook_text(self, path):
        if path not in self._playbooks:
            full = os.path.join(self.root, path)
            text = None
            if os.path.isfile(full):
                with open(full) as stream:
                    text = stream.read()
            self._playbooks[path] = text
        return self._playbooks[path]

    def _job_known(self, name):
        return name in self.jobs or name in self.upstream.jobs

    # -- checks ------------------------------------------------------------

    def run(self):
        """All problems found, in file order (a list of :class:`Problem`)."""
        problems = []
        for name, variants in self.config.jobs.items():
            for body in variants:
                problems.extend(self._check_job(name, body))
        for project in self.config.projects:
            problems.extend(self._check_project(project))
        return sorted(problems, key=_line_of)

    def _problem(self, item, kind, subject, message):
        return Problem(self.config.where(item), kind, subject, message)

    def _check_job(self, name, body):
        where = body
        if self.job_prefix and not name.startswith(self.job_prefix):
            yield self._problem(where, 'name', name,
                                'job %s: its name does not start with %s'
                                % (name, self.job_prefix))
        if not str(body.get('description') or '').strip():
            yield self._problem(where, 'description', name,
                                'job %s has no description' % name)
        parent = body.get('parent')
        if parent is not None and not self._job_known(parent):
            yield self._problem(
                self._key(body, 'parent'), 'parent', parent,
                'job %s: parent job %s is defined neither here nor in %s'
                % (name, parent, ', '.join(self.upstream.sources)))
        nodeset = body.get('nodeset')
        if isinstance(nodeset, str) and not (
                nodeset in self.config.nodesets or
                nodeset in self.upstream.nodesets):
            yield self._problem(
                self._key(body, 'nodeset'), 'nodeset', nodeset,
                'job %s: nodeset %s is defined neither here nor in %s'
                % (name, nodeset, ', '.join(self.upstream.sources)))
        for attr in PLAYBOOK_ATTRS:
            for entry in _as_list(body.get(attr)):
                path = entry['name'] if isinstance(entry, dict) else entry
                problem = self._playbook_problem(path)
                if problem:
                    yield self._problem(self._key(body, attr), 'playbook',
                                        path, 'job %s: %s' % (name, problem))
        yield from self._check_plugins(name, body)
        for scope, variables in self._scoped_vars(body):
            yield from self._check_vars(name, scope, variables)

    @staticmethod
    def _key(mapping, key):
        """The key object of ``mapping`` (it has the line), or mapping."""
        for candidate in mapping:
            if candidate == key:
                return candidate
        return mapping

    @staticmethod
    def _scoped_vars(body):
        yield 'vars', body.get('vars') or {}
        for attr in ('group-vars', 'host-vars'):
            for group, variables in (body.get(attr) or {}).items():
                yield '%s %s' % (attr, group), variables or {}

    def _playbook_problem(self, path):
        text = self._playbook_text(path)
        if text is None:
            return 'playbook %s does not exist' % path
        try:
            plays = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            return 'playbook %s is not YAML: %s' % (path, exc)
        if not isinstance(plays, list) or not plays:
            return 'playbook %s is not a list of plays' % path
        for play in plays:
            if not isinstance(play, dict) or not (
                    'hosts' in play or 'import_playbook' in play):
                return ('playbook %s: a play without "hosts" (or '
                        '"import_playbook")' % path)
        return None

    def _check_plugins(self, name, body):
        plugins = (body.get('vars') or {}).get('devstack_plugins') or {}
        if not plugins:
            return
        required = set()
        for chain_body in self._chain(name)[0]:
            for entry in _as_list(chain_body.get('required-projects')):
                required.add(_project_name(entry))
        by_short = {project.split('/')[-1]: project for project in required}
        for plugin, value in plugins.items():
            project = by_short.get(plugin)
            if project is None:
                yield self._problem(
                    plugin, 'plugin', plugin,
                    'job %s: devstack_plugins enables %s, which is not the '
                    'short name of a required project (DevStack looks for '
                    'the plugin at $DEST/%s; Zuul puts required projects at '
                    '$DEST/<short name>): %s'
                    % (name, plugin, plugin,
                       ', '.join(sorted(required)) or 'none'))
                continue
            url = str(value).split()[0] if value else ''
            expected = 'https://opendev.org/%s' % project
            if url != expected:
                yield self._problem(
                    plugin, 'plugin', plugin,
                    'job %s: devstack_plugins %s: URL %s is not the '
                    'project\'s, %s' % (name, plugin, url, expected))

    def _check_vars(self, name, scope, variables):
        localrc = variables.get('devstack_localrc') or {}
        for key, value in localrc.items():
            problem = self.vocabulary.problem_with_setting(key, value)
            if problem:
                yield self._problem(
                    key, 'setting', '%s=%s' % (key, value),
                    'job %s: %s devstack_localrc: %s' % (name, scope, problem))
        services = variables.get('devstack_services') or {}
        for key, value in services.items():
            if key not in self.vocabulary.services:
                yield self._problem(
                    key, 'service', key,
                    'job %s: %s devstack_services: %s is not a service the '
                    'plugin knows (%s)' % (
                        name, scope, key,
                        ', '.join(sorted(self.vocabulary.services))))
            elif value not in _BOOLEAN:
                yield self._problem(
                    key, 'service', key,
                    'job %s: %s devstack_services: %s: %r is not true or '
                    'false' % (name, scope, key, value))
        amqp1_vars = [key for key in variables if _AMQP1_VAR.fullmatch(key)]
        if amqp1_vars:
            read = set()
            for line in self._chain_playbook_text(name).splitlines():
                if not line.lstrip().startswith('#'):
                    read.update(_AMQP1_VAR.findall(line))
            for key in amqp1_vars:
                if key not in read:
                    yield self._problem(
                        key, 'variable', key,
                        'job %s: %s %s is read by none of the job\'s '
                        'playbooks' % (name, scope, key))
        if 'amqp1_mode' in variables and (
                variables['amqp1_mode'] not in self.fixture_modes):
            key = self._key(variables, 'amqp1_mode')
            yield self._problem(
                key, 'mode', 'amqp1_mode=%s' % variables['amqp1_mode'],
                'job %s: %s amqp1_mode: %s is not a mode of amqp1-fixtures '
                'run (%s)' % (name, scope, variables['amqp1_mode'],
                              ', '.join(self.fixture_modes)))
        if 'amqp1_daemons' in variables and (
                variables['amqp1_daemons'] not in _BOOLEAN):
            yield self._problem(
                self._key(variables, 'amqp1_daemons'), 'variable',
                'amqp1_daemons', 'job %s: %s amqp1_daemons: %r is not true '
                'or false' % (name, scope, variables['amqp1_daemons']))

    # -- project stanzas -----------------------------------------------------

    def _check_project(self, project):
        for pipeline, content in project.items():
            if pipeline in PROJECT_KEYS or not isinstance(content, dict):
                continue
            for entry in _as_list(content.get('jobs')):
                if isinstance(entry, dict):
                    job, attrs = next(iter(entry.items()))
                    attrs = attrs or {}
                else:
                    job, attrs = entry, {}
                item = job
                if not self._job_known(job):
                    yield self._problem(
                        item, 'job', job,
                        'project %s: job %s is defined neither here nor in '
                        '%s' % (pipeline, job,
                                ', '.join(self.upstream.sources)))
                    continue
                for scope, variables in self._scoped_vars(attrs):
                    yield from self._check_vars(job, scope, variables)
                if self.check_tox_envs:
                    yield from self._check_tox_env(pipeline, job, attrs,
                                                   item)

    def _check_tox_env(self, pipeline, job, attrs, item):
        variables = _merge(self._chain_vars(job), attrs.get('vars') or {})
        upstream_root = self._chain(job)[1]
        envlist = variables.get('tox_envlist')
        if envlist is None:
            envlist = self.upstream.tox_envlist.get(upstream_root)
        if not isinstance(envlist, str):
            return
        if self.upstream.runs_tempest(upstream_root):
            envs, where = self.upstream.tempest_envs, 'tempest\'s tox.ini'
        else:
            work_dir = self.root
            match = _SRC_DIR.match(str(variables.get('zuul_work_dir', '')))
            if match:
                work_dir = os.path.join(self.root, match.group(1))
            ini = os.path.join(work_dir, 'tox.ini')
            envs = upstream_mod.tox_envs(ini)
            where = os.path.relpath(ini, self.root)
        for env in envlist.split(','):
            env = env.strip()
            if env and env not in envs and not upstream_mod.is_implicit_env(
                    env):
                yield self._problem(
                    item, 'tox-env', env,
                    'project %s: job %s runs tox environment %s, which %s '
                    'does not define' % (pipeline, job, env, where))
