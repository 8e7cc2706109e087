#!/usr/bin/env python3
"""Record the names .zuul.yaml may use from other projects' Zuul configs.

Usage::

    tools/zuul-upstream-names.py [--output FILE] REPO=GIT_DIR...

For each ``REPO=GIT_DIR`` (e.g. ``openstack/devstack=/src/devstack``, a
clone or bare mirror) it reads the Zuul configuration at that clone's HEAD
(``zuul.yaml``, ``.zuul.yaml``, ``zuul.d/*.yaml``, ``.zuul.d/*.yaml``) and
records, with the repository, commit and date:

* the names of the jobs and nodesets defined there;
* the nodesets its jobs name but do not define (defined in a config
  project such as opendev/base-jobs, which every OpenStack tenant has);
* each job's ``tox_envlist``, where its definition sets one;
* the tox environments of its ``tox.ini`` (tempest's: the suites a
  devstack-tempest job can run).

Names only: no job body is copied.  ``tests/zuul`` checks every parent
job, nodeset and tox environment .zuul.yaml names against this record
(default output: ``tests/zuul/upstream-names.yaml``).
"""

import argparse
import configparser
import os
import subprocess
import sys

import yaml

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                      'tests', 'zuul', 'upstream-names.yaml')
CONFIG_FILES = ('zuul.yaml', '.zuul.yaml')
CONFIG_DIRS = ('zuul.d', '.zuul.d')

HEADER = """\
# Names of other projects' Zuul jobs and nodesets that .zuul.yaml may use,
# with the commit they were read at.  Written by
# tools/zuul-upstream-names.py (names only, nothing copied); read by
# tests/zuul/upstream.py.  Refresh with:
#   tools/zuul-upstream-names.py openstack/devstack=DIR \\
#       openstack/openstack-zuul-jobs=DIR openstack/tempest=DIR
"""


class _AnyTagLoader(yaml.SafeLoader):
    """A safe loader that reads ``!encrypted/...`` and other tags as None."""


_AnyTagLoader.add_multi_constructor('!', lambda loader, suffix, node: None)


def _git(git_dir, *args):
    return subprocess.run(('git', '-C', git_dir) + args, check=True,
                          capture_output=True, text=True).stdout


def _config_paths(git_dir):
    paths = _git(git_dir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n')
    found = []
    for path in paths:
        head, _, tail = path.rpartition('/')
        if path in CONFIG_FILES or (
                head in CONFIG_DIRS and tail.endswith(('.yaml', '.yml'))):
            found.append(path)
    return sorted(found)


def _tox_envs(git_dir):
    try:
        text = _git(git_dir, 'show', 'HEAD:tox.ini')
    except subprocess.CalledProcessError:
        return []
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(text)
    return sorted(section.split(':', 1)[1] for section in parser.sections()
                  if section.startswith('testenv:'))


def read_repo(repo, git_dir):
    """The record of one repository (a dict of names)."""
    commit, date = _git(git_dir, 'log', '-1', '--format=%H %cs').split()
    jobs, nodesets, named_nodesets = set(), set(), set()
    envlists = {}
    files = _config_paths(git_dir)
    for path in files:
        text = _git(git_dir, 'show', 'HEAD:' + path)
        for item in yaml.load(text, Loader=_AnyTagLoader) or ():
            if not isinstance(item, dict) or len(item) != 1:
                continue
            kind, body = next(iter(item.items()))
            if not isinstance(body, dict) or 'name' not in body:
                continue
            if kind == 'nodeset':
                nodesets.add(body['name'])
            elif kind == 'job':
                jobs.add(body['name'])
                if isinstance(body.get('nodeset'), str):
                    named_nodesets.add(body['nodeset'])
                envlist = (body.get('vars') or {}).get('tox_envlist')
                if isinstance(envlist, str):
                    envlists.setdefault(body['name'], set()).add(envlist)
    record = {
        'repo': repo,
        'commit': commit,
        'date': date,
        'files': files,
        'jobs': sorted(jobs),
        'nodesets': sorted(nodesets),
        'nodesets_named_not_defined': sorted(named_nodesets - nodesets),
        'tox_envlist': {job: sorted(envs)[0] if len(envs) == 1
                        else sorted(envs)
                        for job, envs in sorted(envlists.items())},
    }
    tox_envs = _tox_envs(git_dir)
    if tox_envs:
        record['tox_envs'] = tox_envs
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--output', default=OUTPUT)
    parser.add_argument('repos', nargs='+', metavar='REPO=GIT_DIR')
    args = parser.parse_args(argv)
    records = []
    for spec in args.repos:
        repo, sep, git_dir = spec.partition('=')
        if not sep:
            parser.error('%r: expected REPO=GIT_DIR' % spec)
        records.append(read_repo(repo, git_dir))
    with open(args.output, 'w') as stream:
        stream.write(HEADER)
        yaml.safe_dump({'sources': records}, stream, sort_keys=False,
                       default_flow_style=False, width=76)
    return 0


if __name__ == '__main__':
    sys.exit(main())
