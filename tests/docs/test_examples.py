"""Every Python and shell example of README.rst and doc/source/ runs as
written (issue 17: "every Python example in README.rst is executed by a
test in CI"; issue 21: "every code example in the guide that is Python or
shell is executed in CI").

``tox -e examples`` runs them under the newest oslo.messaging 18.x with
driver/, ``tox -e all`` under 14.x; an example for one generation only
says so with ``.. example: requires ...`` and is skipped by the other.
How blocks are found and run: :mod:`tests.docs.examples`.
"""

import pytest

from tests.docs import blocks
from tests.docs import examples

ALL = examples.read_all()
EXAMPLES = [b for b in ALL if examples.is_example(b)]


@pytest.mark.parametrize('block', EXAMPLES, ids=lambda b: b.where)
def test_example(block, tmp_path):
    if 'skip' in block.markers:
        pytest.skip(block.markers['skip'])
    if 'requires' in block.markers:
        why = examples.unmet_requirement(block.markers['requires'])
        if why:
            pytest.skip(why)
    text = examples.with_previous(block, ALL)
    timeout = block.markers.get('timeout', examples.DEFAULT_TIMEOUT)
    if examples.kind(block) == 'python':
        runner = examples.python_runner(text)
        path = tmp_path / 'test_example.py'
        path.write_text(text)
        status, out = examples.run(examples.python_argv(runner, path),
                                   tmp_path, timeout)
    else:
        runner = 'shell'
        script = (blocks.console_commands(text) if block.language ==
                  'console' else text)
        checkout = examples.checkout_copy(tmp_path / 'checkout')
        script = examples.substitute_placeholders(script, checkout)
        status, out = examples.run(['bash', '-e', '-o', 'pipefail', '-c',
                                    script], checkout, timeout)
    where = '%s (%s)' % (block.where, runner)
    assert status is not None, '%s timed out after %d s:\n%s' % (
        where, timeout, out[-4000:])
    assert status == 0, '%s exited %d:\n%s' % (where, status, out[-4000:])
    if runner in ('testtools', 'pytest'):
        assert examples.ran_tests(runner, out) >= 1, (
            '%s ran no test:\n%s' % (where, out[-4000:]))


def test_every_literal_block_says_its_language():
    # A bare "::" block would escape test_example whatever it holds.
    bare = [b.where for b in ALL if b.language is None]
    assert bare == [], 'use ".. code-block:: LANG" at %s' % ', '.join(bare)


def test_the_readme_and_the_guide_have_examples():
    readme = [b for b in EXAMPLES if b.path == 'README.rst']
    guide = [b for b in EXAMPLES if b.path.startswith('doc/')]
    assert {examples.kind(b) for b in readme} == {'python', 'shell'}
    assert {examples.kind(b) for b in guide} == {'python', 'shell'}
    # every skip names its reason (blocks.parse_markers insists)
    assert all(b.markers['skip'] for b in EXAMPLES if 'skip' in b.markers)


def test_hidden_directories_are_not_the_guide(tmp_path):
    # A tutorial run with tox inside doc/source leaves site-packages full
    # of other projects' README.rst files; they are not examples of ours.
    (tmp_path / 'README.rst').write_text('Top.\n')
    page = tmp_path / 'doc' / 'source' / 'user' / 'page.rst'
    page.parent.mkdir(parents=True)
    page.write_text('Page.\n')
    hidden = tmp_path / 'doc' / 'source' / 'user' / '.tox' / 'x' / 'README.rst'
    hidden.parent.mkdir(parents=True)
    hidden.write_text('Not ours.\n')
    assert examples.sources(tmp_path) == [tmp_path / 'README.rst', page]
