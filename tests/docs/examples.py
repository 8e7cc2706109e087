"""Running the documentation's examples: which files, which blocks, how.

Every ``python`` and ``console``/``shell`` block of README.rst and of
doc/source/ is an example (:mod:`tests.docs.blocks` reads them); each is
run in a process of its own, in a temporary directory, with this
environment's python and its scripts first on ``PATH``:

* a Python block that defines ``TestCase`` classes runs under
  ``python -m testtools.run`` (as stestr runs a suite), one that defines
  ``test_*`` functions under pytest (the amqp1 plugin loaded as for any
  project), any other as a script; it must exit 0, and a test run must
  have run at least one test and none may fail;
* a shell block runs under ``bash -e -o pipefail`` in a fresh copy of this
  checkout (the files git tracks), a ``console`` block's ``$`` lines only.

The process group of each example is ended when it is done, so a command
it left in the background does not outlive it.
"""

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

from tests.docs import blocks

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: seconds an example may take unless its comment says "timeout N"
DEFAULT_TIMEOUT = 300


def sources(root=ROOT):
    """README.rst and every page under doc/source/, sorted.

    Hidden directories (a tutorial's .tox, say) hold other projects'
    pages, not the guide's: they are left out.
    """
    source = root / 'doc' / 'source'
    pages = sorted(page for page in source.rglob('*.rst')
                   if not any(part.startswith('.') for part in
                              page.relative_to(source).parts))
    return [root / 'README.rst'] + pages


def read_all(root=ROOT):
    """Every literal block of :func:`sources`, paths relative to root."""
    found = []
    for path in sources(root):
        found += blocks.read_blocks(path.read_text(encoding='utf-8'),
                                    str(path.relative_to(root)))
    return found


def is_example(block):
    """Whether the examples test runs ``block`` (Python or shell)."""
    return block.language in blocks.PYTHON + blocks.SHELL


def kind(block):
    """``'python'`` or ``'shell'``."""
    return 'python' if block.language in blocks.PYTHON else 'shell'


def with_previous(block, all_blocks):
    """The block's text, after those it continues (``continues``): the
    previous example of the same kind in the same file, recursively."""
    if not block.markers.get('continues'):
        return block.text
    earlier = [b for b in all_blocks
               if b.path == block.path and b.line < block.line
               and is_example(b) and kind(b) == kind(block)]
    if not earlier:
        raise blocks.MarkerError('%s: "continues" but no earlier %s example'
                                 % (block.where, kind(block)))
    return with_previous(earlier[-1], all_blocks) + block.text


def unmet_requirement(spec):
    """Why ``spec`` (``oslo.messaging>=16``) is not met here, or None."""
    from importlib import metadata

    from packaging import requirements

    req = requirements.Requirement(spec)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return 'for %s; %s is not installed here' % (spec, req.name)
    if not req.specifier.contains(version, prereleases=True):
        return 'for %s; this environment has %s' % (spec, version)
    return None


def python_runner(text):
    """How a Python example runs: ``testtools``, ``pytest`` or
    ``script``."""
    if re.search(r'^class \w+\((?:[\w.]+\.)?TestCase\):', text, re.M):
        return 'testtools'
    if re.search(r'^def test_\w+\(', text, re.M):
        return 'pytest'
    return 'script'


def checkout_copy(dest, root=ROOT):
    """Copy the files git tracks in ``root`` to ``dest``; returns dest."""
    listed = subprocess.run(['git', 'ls-files', '-z'], cwd=root,
                            check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split('\0')):
        src = root / name
        if not src.is_file():
            continue  # deleted in the work tree, not yet in git
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


#: what the guide writes for this repository, in shell examples and
#: local.conf blocks (tests/shell/readme.t substitutes the same)
URL_PLACEHOLDER = '<URL of this repository>'
PATH_PLACEHOLDER = '<this repository>'


def substitute_placeholders(script, checkout):
    """The script with this repository's placeholders made real.

    ``<this repository>`` becomes the checkout's path; ``<URL of this
    repository>`` a ``file://localhost/...`` URL of it (the pip of a new venv
    misreads ``file:///``), made a git repository (one
    commit of its files) for the occasion, so that pip's ``git+`` URLs
    work without a git host.
    """
    if URL_PLACEHOLDER in script:
        git = ['git', '-c', 'user.name=examples', '-c',
               'user.email=examples@localhost']
        for argv in (['init', '-q', '-b', 'main'], ['add', '-A'],
                     ['commit', '-q', '-m', 'checkout copy']):
            subprocess.run(git + argv, cwd=checkout, check=True,
                           capture_output=True)
        script = script.replace(URL_PLACEHOLDER,
                                'file://localhost%s' % checkout)
    return script.replace(PATH_PLACEHOLDER, str(checkout))


def environ():
    """This environment's variables, its scripts first on ``PATH``."""
    env = dict(os.environ)
    bindir = os.path.dirname(sys.executable)
    env['PATH'] = bindir + os.pathsep + env.get('PATH', '')
    env.pop('PYTHONPATH', None)
    return env


def run(argv, cwd, timeout):
    """Run an example's process in a session of its own.

    :returns: ``(exit status, output)``, stderr merged into the output.
        A time-out is status ``None``.  The whole process group is sent
        SIGKILL afterwards, so background commands end with it.
    """
    proc = subprocess.Popen(argv, cwd=cwd, env=environ(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        status = None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return status, out


def python_argv(runner, path):
    """The command that runs a Python example written to ``path``."""
    if runner == 'testtools':
        return [sys.executable, '-m', 'testtools.run', path.stem]
    if runner == 'pytest':
        return [sys.executable, '-m', 'pytest', '-q', '-p',
                'no:cacheprovider', path.name]
    return [sys.executable, path.name]


def ran_tests(runner, output):
    """How many tests a test runner's output says ran (and passed)."""
    if runner == 'testtools':
        found = re.search(r'^Ran (\d+) tests? in', output, re.M)
        return int(found.group(1)) if found and re.search(
            r'^OK\b', output, re.M) else 0
    found = re.search(r'(\d+) passed', output)
    return int(found.group(1)) if found else 0
