"""Checks of the built guide that Sphinx's own warnings do not make
(run by ``tox -e docs`` after ``sphinx-build``).

* The option reference lists every option of driver/'s
  ``oslo.config.opts`` entry point, and nothing else: it is generated, so
  a new option appears by itself, and a page that lost the directive
  fails here.
* The fixtures and CLI references are not empty.
"""

import pathlib
import re
import sys
from importlib import metadata

HTML = pathlib.Path(__file__).resolve().parents[2] / 'doc/build/html'


def entry_point_options(name='oslo.messaging.amqp1'):
    """``{group.option}`` of an ``oslo.config.opts`` entry point."""
    [ep] = [ep for ep in metadata.entry_points(group='oslo.config.opts')
            if ep.name == name]
    return {'%s.%s' % (group, opt.name)
            for group, opts in ep.load()() for opt in opts}


def main():
    """Return 0 when the built pages hold what they should."""
    failures = []
    page = (HTML / 'reference/driver-options.html').read_text()
    shown = set(re.findall(r'id="(oslo_messaging_amqp\.\w+)"', page))
    wanted = entry_point_options()
    if shown != wanted:
        failures.append('driver-options.html: missing %s, extra %s'
                        % (sorted(wanted - shown), sorted(shown - wanted)))
    for name, needle in (('reference/fixtures.html',
                          'amqp1_fixtures.Amqp1Service.configure'),
                         ('reference/cli.html', 'amqp1-fixtures run')):
        if needle not in (HTML / name).read_text():
            failures.append('%s: no %r' % (name, needle))
    for failure in failures:
        print('check_built: %s' % failure, file=sys.stderr)
    if not failures:
        print('check_built: %d driver options (the entry point\'s), '
              'fixtures and CLI references present' % len(shown))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
