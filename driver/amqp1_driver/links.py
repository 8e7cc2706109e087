"""Link names and the credit rule, as the 14.x driver had them."""

import uuid


def link_name(kind, address):
    """Link names as the 14.x driver made them (kind: sender/receiver)."""
    return 'openstack.org/om/%s/[%s]/%s' % (kind, address, uuid.uuid4().hex)


def refill(credit, maximum):
    """Credit to add to a receiver: top up to ``maximum`` once at half.

    The 14.x rule: nothing until the credit falls to ``(maximum+1)//2``.
    """
    if credit <= (maximum + 1) // 2:
        return maximum - credit
    return 0
