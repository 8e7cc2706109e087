"""The package-manager lines of the README and the guide install what
bindep.txt's ``compile`` profile lists (tools/test-setup.sh installs that
list in CI; the lines themselves are not run: they change the machine).
"""

import re

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
