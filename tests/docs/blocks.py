"""The literal blocks of a reStructuredText file, as the examples test
reads them.

Pure functions over lines, no docutils: the guide's Sphinx directives
(``toctree``, ``automodule``, ``show-options``) are unknown to plain
docutils, and what is needed is only where each block starts, its
language, its text and the ``.. example:`` comment before it.

A block is written ``.. code-block:: LANG`` (``code`` and
``sourcecode`` are read too).  A bare ``::`` block has no language
(:attr:`Block.language` is ``None``); the examples test refuses those, so
that no Python or shell example escapes it by leaving its language out.

An RST comment right before a block (blank lines between allowed) steers
how it is run; Sphinx shows nothing of it::

    .. example: skip: the command downloads from a git host;
       the reason may go on over several lines
    .. example: requires oslo.messaging>=16
    .. example: continues
    .. example: timeout 600

Several instructions may share one comment, separated by ``;``; a
``skip:`` reason is the rest of the comment.
"""

import collections
import re
import textwrap

#: languages whose blocks are run
PYTHON = ('python', 'python3', 'py', 'pycon')
SHELL = ('console', 'shell', 'bash', 'sh', 'shell-session')

_DIRECTIVE = re.compile(
    r'^(?P<indent> *)\.\. +(?:code-block|code|sourcecode)::'
    r' *(?P<lang>\S*) *$')
_MARKER = re.compile(r'^(?P<indent> *)\.\. +example: *(?P<text>.*?) *$')
_OTHER_EXPLICIT = re.compile(r'^ *\.\. ')
_OPTION = re.compile(r'^ *:[\w-]+:')
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


class Block(collections.namedtuple(
        'Block', 'path line language text markers')):
    """One literal block.

    :ivar path: the file it was read from (as given).
    :ivar line: 1-based line of its directive (or of its ``::``).
    :ivar language: the ``code-block`` language, lower case; ``None`` for
        a bare ``::`` block.
    :ivar text: its content, dedented, ending with a newline.
    :ivar markers: the instructions of its ``.. example:`` comment, see
        :func:`parse_markers`.
    """

    @property
    def where(self):
        """``path:line``, for test ids and messages."""
        return '%s:%d' % (self.path, self.line)


class MarkerError(ValueError):
    """An ``.. example:`` comment that says something unknown."""


def parse_markers(text, where='?'):
    """The instructions of one ``.. example:`` comment.

    :param text: what follows ``.. example:``.
    :param where: ``path:line`` for the error message.
    :returns: a dict with any of ``skip`` (the reason), ``requires`` (a
        requirement specifier such as ``oslo.messaging>=16``),
        ``continues`` (``True``), ``timeout`` (seconds, an int).
    :raises MarkerError: an unknown instruction, or ``skip`` without a
        reason.
    """
    markers = {}
    parts = [p.strip() for p in text.split(';')]
    while parts:
        part = parts.pop(0)
        if not part:
            continue
        word, _, rest = part.partition(' ')
        rest = rest.strip()
        if word in ('skip:', 'skip'):
            # the reason is the rest of the comment, semicolons and all
            rest = '; '.join([rest] + parts).strip('; ')
            parts = []
            if not rest:
                raise MarkerError('%s: "skip" needs a reason' % where)
            markers['skip'] = rest
        elif word == 'requires' and rest:
            markers['requires'] = rest
        elif word == 'continues' and not rest:
            markers['continues'] = True
        elif word == 'timeout' and rest.isdigit():
            markers['timeout'] = int(rest)
        else:
            raise MarkerError('%s: unknown ".. example:" instruction %r'
                              % (where, part))
    return markers


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _body(lines, start, indent):
    """The indented body after ``lines[start - 1]``: (text, next index).

    Directive options (``:name: value``) right after the directive are
    skipped; the body ends at the first non-blank line indented
    ``indent`` or less.
    """
    i = start
    while i < len(lines) and _OPTION.match(lines[i]) \
            and _indent(lines[i]) > indent:
        i += 1
    body = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and _indent(line) <= indent:
            break
        body.append(line)
        i += 1
    while body and not body[-1].strip():
        body.pop()
    return textwrap.dedent('\n'.join(body)).strip('\n') + '\n', i


def _comment_end(lines, start, indent):
    # an RST comment goes on over the lines indented deeper than its "..",
    # up to a blank line
    i = start
    while i < len(lines) and lines[i].strip() and _indent(lines[i]) > indent:
        i += 1
    return i


def read_blocks(text, path='?'):
    """Every literal block of an RST text, in order.

    :param text: the file's content.
    :param path: recorded in each :class:`Block`.
    :returns: a list of :class:`Block`.
    :raises MarkerError: see :func:`parse_markers`; also an ``.. example:``
        comment followed by something other than a code block.
    """
    lines = text.splitlines()
    blocks = []
    pending = None  # (markers, line) of the last ".. example:" comment
    i = 0
    while i < len(lines):
        line = lines[i]
        where = '%s:%d' % (path, i + 1)
        marker = _MARKER.match(line)
        directive = _DIRECTIVE.match(line)
        if marker:
            # the comment goes on over its more indented lines
            end = _comment_end(lines, i + 1, len(marker.group('indent')))
            text = ' '.join([marker.group('text')] +
                            [x.strip() for x in lines[i + 1:end]])
            pending = (parse_markers(text, where), where)
            i = end
            continue
        if directive:
            content, nxt = _body(lines, i + 1, len(directive.group('indent')))
            blocks.append(Block(path, i + 1,
                                directive.group('lang').lower() or None,
                                content, pending[0] if pending else {}))
            pending = None
            i = nxt
            continue
        if line.strip() and pending is not None:
            raise MarkerError('%s: ".. example:" comment at %s is not '
                              'followed by a code block' % (where,
                                                            pending[1]))
        if (line.rstrip().endswith('::') and not _OTHER_EXPLICIT.match(line)
                and line.strip()):
            # a paragraph ending in "::": the next indented block is
            # literal, in Sphinx's default highlight language
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _indent(lines[j]) > _indent(line):
                content, nxt = _body(lines, j, _indent(line))
                blocks.append(Block(path, i + 1, None, content, {}))
                i = nxt
                continue
        # anything else, another directive's line included ("..
        # note::"): its body is read on, as it may hold code blocks
        i += 1
    if pending is not None:
        raise MarkerError('%s: ".. example:" comment at the end of the file'
                          % pending[1])
    return blocks


def console_commands(text):
    """The commands of a ``console`` block: ``$ `` lines, with their
    ``\\``-continued lines and here-documents; the output lines are left
    out.

    :returns: the commands as one shell script, one command a line.
    """
    commands = []
    continued = False
    heredoc = None  # the word that ends a here-document being read
    for line in text.splitlines():
        if heredoc is not None:
            commands[-1] += '\n' + line
            if line == heredoc:
                heredoc = None
            continue
        if continued:
            commands[-1] += '\n' + line
        elif line.startswith('$ '):
            commands.append(line[2:])
        else:
            continue
        continued = line.endswith('\\')
        found = _HEREDOC.search(line)
        if found:
            heredoc = found.group(1)
    return '\n'.join(commands) + '\n'
