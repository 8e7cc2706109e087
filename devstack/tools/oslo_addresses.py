"""oslo.messaging's AMQP 1.0 address prefixes as qdrouterd.conf or
qpidd.conf lines, for the plugin's config files.

The table exists once, in ``fixtures/amqp1_fixtures/config/addresses.py``
(FakeRouter, FakeBroker, the stand-ins and the fixtures' renderers read
it).  This tool prints it the way ``amqp1-fixtures addresses
qdrouterd|qpidd`` does, but without the amqp1_fixtures package: the
plugin writes the config files of the distribution's daemons too, where
no stand-in venv exists, so the table's module is loaded from this
checkout by its path (it imports only the standard library)::

    $PYTHON devstack/tools/oslo_addresses.py qdrouterd   # address sections
    $PYTHON devstack/tools/oslo_addresses.py qpidd       # pattern lines
"""

import argparse
import importlib.util
import os
import sys

#: the table's module, relative to this checkout
TABLE = os.path.join('fixtures', 'amqp1_fixtures', 'config', 'addresses.py')


def checkout():
    """The checkout this tool is in (``devstack/tools/..``)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def load_table(root=None):
    """The table's module, loaded from ``root`` (default :func:`checkout`)
    without importing the amqp1_fixtures package."""
    path = os.path.join(root or checkout(), TABLE)
    spec = importlib.util.spec_from_file_location('amqp1_oslo_addresses',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lines(daemon, table=None):
    """The config lines of ``daemon`` (``qdrouterd`` or ``qpidd``)."""
    table = table or load_table()
    if daemon == 'qdrouterd':
        return table.qdrouterd_address_sections()
    return table.qpidd_pattern_lines()


def main(argv=None):
    """Print the lines; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('daemon', choices=('qdrouterd', 'qpidd'))
    args = parser.parse_args(argv)
    sys.stdout.write('\n'.join(lines(args.daemon)).rstrip('\n') + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
