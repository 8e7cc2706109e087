"""The package-manager lines of the README and the guide install what
bindep.txt's ``compile`` profile lists (tools/test-setup.sh installs that
list in CI; the lines themselves are not run: they change the machine).
"""

import re
import shutil
import subprocess

import pytest

from tests.docs import blocks
from tests.docs import examples

MANAGERS = {'apt-get': 'dpkg', 'dnf': 'rpm'}


def bindep_profile(profile, platform):
    """Package names of bindep.txt tagged ``profile`` and ``platform``."""
    names = set()
    for line in (examples.ROOT / 'bindep.txt').read_text().splitlines():
        name, _, tags = line.partition(' ')
        wanted = (re.search(r'\b%s\b' % profile, tags)
                  and 'platform:%s' % platform in tags)
        if name and not name.startswith('#') and wanted:
            names.add(name)
    return names


def install_lines(manager):
    """(where, packages) of every ``MANAGER install`` command shown."""
    found = []
    for block in examples.read_all():
        if block.language not in blocks.SHELL:
            continue
        for command in blocks.console_commands(block.text).splitlines():
            words = command.split()
            for i, word in enumerate(words[:-1]):
                if word == manager and words[i + 1] == 'install':
                    packages = set()
                    for w in words[i + 2:]:
                        if w in ('&&', ';', '|'):
                            break
                        if not w.startswith('-'):
                            packages.add(w)
                    found.append((block.where, packages))
    return found


@pytest.mark.parametrize('manager', sorted(MANAGERS))
def test_install_lines_are_the_compile_profile(manager):
    lines = install_lines(manager)
    assert lines, 'no "%s install" line in the README or the guide' % manager
    want = bindep_profile('compile', MANAGERS[manager])
    for where, packages in lines:
        assert packages == want, '%s: %s' % (where, sorted(packages ^ want))


def test_lines_work_as_root_without_prompting():
    """A container has no sudo and stale package lists: each apt-get
    install line refreshes them first and none prompts; no line hides
    behind sudo (the pages say to prefix it when not root)."""
    for block in examples.read_all():
        if block.language not in blocks.SHELL:
            continue
        for command in blocks.console_commands(block.text).splitlines():
            words = command.split()
            assert 'sudo' not in words, '%s: %s' % (block.where, command)
            for manager in MANAGERS:
                if manager not in words:
                    continue
                at = words.index(manager)
                if words[at + 1:at + 2] != ['install']:
                    continue
                assert '-y' in words[at:], '%s: %s' % (block.where, command)
                if manager == 'apt-get':
                    assert 'apt-get update &&' in command, (
                        '%s: %s' % (block.where, command))


def test_apt_packages_resolve():
    """The names resolve on this distribution (simulated: nothing is
    installed)."""
    if not shutil.which('apt-get'):
        pytest.skip('not a Debian/Ubuntu machine')
    packages = sorted(bindep_profile('compile', 'dpkg'))
    proc = subprocess.run(
        ['apt-get', 'install', '-s', '-y', '--no-install-recommends']
        + packages, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
