"""tests.docs.blocks and the parts of tests.docs.examples that need no
process: how blocks, their languages and their ``.. example:`` comments
are read."""

import pytest

from tests.docs import blocks
from tests.docs import examples

PAGE = """\
Title
=====

Text::

    bare literal

.. code-block:: python

    print('a')

    print('b')

Para.

.. example: timeout 9; skip: needs the network;
   really

.. code-block:: console
   :caption: two commands

   $ echo one \\
       two
   one two
   $ true

- item

  .. code-block:: ini

     [DEFAULT]
     x = 1

.. note::

   .. example: requires oslo.messaging>=16
   .. code-block:: python

      import x

.. toctree::
   :maxdepth: 1

   page
"""


def test_blocks_languages_lines_and_texts():
    found = blocks.read_blocks(PAGE, 'p.rst')
    assert [(b.line, b.language) for b in found] == [
        (4, None), (8, 'python'), (19, 'console'), (29, 'ini'),
        (37, 'python')]
    assert found[0].text == 'bare literal\n'
    assert found[1].text == "print('a')\n\nprint('b')\n"
    assert found[3].text == '[DEFAULT]\nx = 1\n'
    assert found[4].text == 'import x\n'
    assert found[1].where == 'p.rst:8'


def test_markers():
    found = blocks.read_blocks(PAGE, 'p.rst')
    assert found[2].markers == {'skip': 'needs the network; really',
                                'timeout': 9}
    assert found[4].markers == {'requires': 'oslo.messaging>=16'}
    assert found[1].markers == {}


def test_console_commands_leave_output_out():
    found = blocks.read_blocks(PAGE, 'p.rst')
    assert blocks.console_commands(found[2].text) == (
        'echo one \\\n    two\ntrue\n')


@pytest.mark.parametrize('text', [
    'skip', 'skip:', 'sometimes', 'timeout soon', 'continues please',
    'requires'])
def test_bad_markers(text):
    with pytest.raises(blocks.MarkerError):
        blocks.parse_markers(text, 'p.rst:1')


def test_marker_must_precede_a_block():
    with pytest.raises(blocks.MarkerError, match='not followed'):
        blocks.read_blocks('.. example: continues\n\nText.\n', 'p.rst')
    with pytest.raises(blocks.MarkerError, match='end of the file'):
        blocks.read_blocks('Text.\n\n.. example: continues\n', 'p.rst')


def test_continues_joins_the_previous_example_of_its_kind():
    page = ('.. code-block:: python\n\n   a = 1\n\n'
            '.. code-block:: console\n\n   $ true\n\n'
            '.. example: continues\n.. code-block:: python\n\n'
            '   assert a == 1\n')
    found = blocks.read_blocks(page, 'p.rst')
    assert examples.with_previous(found[2], found) == 'a = 1\nassert a == 1\n'
    with pytest.raises(blocks.MarkerError, match='no earlier'):
        examples.with_previous(found[2], found[1:])


@pytest.mark.parametrize('text,runner', [
    ('class T(testtools.TestCase):\n    pass\n', 'testtools'),
    ('class T(unittest.TestCase):\n    pass\n', 'testtools'),
    ('def test_x(amqp1_router):\n    pass\n', 'pytest'),
    ('print(1)\n', 'script'),
])
def test_python_runner(text, runner):
    assert examples.python_runner(text) == runner


def test_requirements():
    assert examples.unmet_requirement('pytest>=1') is None
    assert 'this environment has' in examples.unmet_requirement('pytest<1')
    assert 'not installed' in examples.unmet_requirement(
        'no-such-distribution-here>=1')


def test_ran_tests():
    assert examples.ran_tests('testtools', 'Ran 2 tests in 1.0s\nOK\n') == 2
    assert examples.ran_tests('testtools', 'Ran 2 tests in 1s\nFAILED\n') == 0
    assert examples.ran_tests('pytest', '3 passed, 1 skipped in 2s') == 3
    assert examples.ran_tests('pytest', 'no tests ran in 0.1s') == 0


def test_console_here_documents_are_part_of_their_command():
    text = "$ cat > f <<'PY'\nprint(1)\n$ not a command\nPY\n$ true\nout\n"
    assert blocks.console_commands(text) == (
        "cat > f <<'PY'\nprint(1)\n$ not a command\nPY\ntrue\n")
