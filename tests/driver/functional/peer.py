"""Peer-side actions the fakes have no public call for (test helpers).

They run on the fake's engine thread, through its command queue, and touch
only proton objects the engine owns.
"""


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
        for conn in list(fake._conns):
            for link in list(conn.links):
                if link.is_sender != driver_receivers:
                    continue
                terminus = (link.remote_source if link.is_sender
                            else link.remote_target)
                address = terminus.address or ''
                if address.startswith(prefix):
                    fake._close_link(link, 'amqp:internal-error',
                                     'closed by the test')
                    closed += 1
            fake._dirty.add(conn)
        return closed
    return fake._call(run)
