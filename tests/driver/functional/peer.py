"""Peer-side actions the fakes have no public call for (test helpers).

They run on the fake's engine thread, through its command queue, and touch
only proton objects the engine owns.
"""

from proton import Endpoint

from amqp1_fixtures.engine import deliveries


def _open(link):
    # closed by us but not yet answered: still in the engine's set
    return not link.state & Endpoint.LOCAL_CLOSED


def _matching(conn, prefix, driver_receivers):
    for link in list(conn.links):
        if link.is_sender != driver_receivers or not _open(link):
            continue
        terminus = (link.remote_source if link.is_sender
                    else link.remote_target)
        if (terminus.address or '').startswith(prefix):
            yield link


def link_names(fake, prefix, driver_receivers=True):
    """The names of the driver's links attached to ``prefix`` addresses.

    :param driver_receivers: as for :func:`close_links`.
    """
    def run():
        return sorted(link.name for conn in list(fake._connections())
                      for link in _matching(conn, prefix, driver_receivers))
    return fake._call(run)


def close_links(fake, prefix, driver_receivers=True):
    """Close (detach with an error) the links of ``prefix`` from the fake.

    :param fake: a running FakeRouter or FakeBroker.
    :param prefix: close links whose address starts with this.
    :param driver_receivers: True for the driver's receiver links (the
        fake's senders), False for the driver's sender links.
    :returns: how many links were closed.
    """
    def run():
        closed = 0
        for conn in list(fake._connections()):
            for link in _matching(conn, prefix, driver_receivers):
                deliveries.close_link(link, 'amqp:internal-error',
                                      'closed by the test')
                closed += 1
        return closed
    return fake._call(run)


def close_named(fake, fragment, container=None):
    """Close the links whose name contains ``fragment`` (e.g. the reply
    link, whose source address the peer chose); returns how many.

    :param container: only on the connection of this container-id.
    """
    def run():
        closed = 0
        for conn in list(fake._connections()):
            if container is not None and (
                    conn.pn is None or conn.pn.remote_container != container):
                continue
            for link in list(conn.links):
                if fragment in link.name and _open(link):
                    deliveries.close_link(link, 'amqp:internal-error',
                                          'closed by the test')
                    closed += 1
        return closed
    return fake._call(run)
