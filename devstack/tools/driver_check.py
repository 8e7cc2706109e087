"""Which oslo.messaging "amqp" driver the services' python would load.

Run by devstack/lib/amqp1 (``_amqp1_check_driver``) with the services'
python, as DevStack runs ``$PYTHON $TOP_DIR/tools/update_clouds_yaml.py``::

    $PYTHON devstack/tools/driver_check.py [--tls]

It prints one verdict line (warnings of the imported modules may come
before it) and exits 0 whatever the verdict; the plugin decides what to
do with it.  The line is ``STATUS VERSION DISTS [DETAIL]``: the status,
oslo.messaging's version and the distributions that provide the
``amqp`` entry point of ``oslo.messaging.drivers`` (comma separated;
``-`` for none):

========== ================================================================
``ok``     exactly one provider, and its driver and client libraries load
``absent`` oslo.messaging is not installed
``none``   no provider (oslo.messaging 15.0 removed its own)
``twice``  two or more providers: stevedore refuses to choose
``broken`` the driver, proton or (for oslo.messaging's own) pyngus fails
           to import; DETAIL says why
``notls``  ``--tls`` and a python-qpid-proton built without TLS
========== ================================================================

Only the standard library is imported before the driver itself, so the
check works in any python DevStack may use.
"""

import argparse
import sys
from importlib import metadata

#: the entry point group and name oslo.messaging loads drivers from
GROUP = 'oslo.messaging.drivers'
NAME = 'amqp'


def providers(distributions=None):
    """``{distribution name: entry point}`` of every ``amqp`` driver.

    :param distributions: the installed distributions (default: those
        :func:`importlib.metadata.distributions` finds).
    """
    if distributions is None:
        distributions = metadata.distributions()
    found = {}
    for dist in distributions:
        for ep in dist.entry_points:
            if ep.group == GROUP and ep.name == NAME:
                found.setdefault(dist.metadata['Name'], ep)
    return found


def _load(name, ep):
    """Import the driver and its client libraries; raise what they raise."""
    ep.load()
    import proton  # noqa: F401
    if name == 'oslo.messaging':
        import pyngus  # noqa: F401
    return proton


def verdict(tls=False):
    """The verdict line for this python.

    :param tls: the services are told to use TLS (AMQP1_SSL): proton must
        have been built with it.
    """
    try:
        version = metadata.distribution('oslo.messaging').version
    except metadata.PackageNotFoundError:
        return 'absent - -'
    found = providers()
    if len(found) != 1:
        return '%s %s %s' % ('none' if not found else 'twice', version,
                             ','.join(sorted(found)) or '-')
    (name, ep), = found.items()
    try:
        proton = _load(name, ep)
    except Exception as exc:
        # Anything an import raises is the verdict, not a crash: the
        # plugin turns it into advice naming the libraries to install.
        return 'broken %s %s %s' % (version, name, exc)
    if tls and not proton.SSL.present():
        return 'notls %s %s' % (version, name)
    return 'ok %s %s' % (version, name)


def main(argv=None):
    """Print the verdict; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tls', action='store_true',
                        help='the services will use TLS (AMQP1_SSL=True)')
    args = parser.parse_args(argv)
    print(verdict(tls=args.tls))
    return 0


if __name__ == '__main__':
    sys.exit(main())
