"""Where a python would import a module from.

Run by devstack/lib/amqp1 with the stand-ins' venv python to tell whether
that venv runs this checkout (then nothing needs installing)::

    $VENV/bin/python devstack/tools/module_origin.py amqp1_fixtures

prints the real path of the module's file (a package's
``__init__.py``) and exits 0, or exits 1 saying it is not importable.
The module is found, not imported: nothing of it runs.
"""

import argparse
import importlib.util
import os
import sys


def origin(name):
    """The real path of the file ``name`` would be imported from, or
    None when it cannot be found (or has no file)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not os.path.exists(spec.origin):
        return None
    return os.path.realpath(spec.origin)


def main(argv=None):
    """Print the origin; return 0, or 1 when there is none."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('module')
    args = parser.parse_args(argv)
    found = origin(args.module)
    if found is None:
        print('%s is not importable here' % args.module, file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == '__main__':
    sys.exit(main())
