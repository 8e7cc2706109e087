"""What the mesh behaviour tests do with proton clients, beyond
tests.functional.proton_clients: links with names of their own, waits for
an address to be known across the mesh, and timing.

Two links of one connection must not share a name (AMQP 1.0 2.6.1), and
proton names a link after its container and address unless told
otherwise, so every link here gets a random name: two receivers on one
connection for the same address under one name make qdrouterd release or
hold every message routed to them.
"""

import time

from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import unique


def receiver(client, address=None, credit=100, **kwargs):
    """A receiving link named for itself (see the module docstring)."""
    return client.receiver(address, credit=credit,
                           name=unique('receiver'), **kwargs)


def sender(client, address, **kwargs):
    """A sending link named for itself."""
    return client.sender(address, name=unique('sender'), **kwargs)


class Stopwatch:
    """Seconds since it was made (or last :meth:`restart`)."""

    def __init__(self):
        self.start = time.monotonic()

    def restart(self):
        self.start = time.monotonic()

    def __call__(self):
        return time.monotonic() - self.start


def total(receivers):
    """Messages the ``receivers`` got so far, all together."""
    return sum(len(r.received) for r in receivers)


def settle_all(receivers, state, replenish=False):
    """Settle every unsettled message of ``receivers`` with ``state``;
    with ``replenish``, grant one credit back for each."""
    for r in receivers:
        for item in r.unsettled():
            r.settle(item, state)
            if replenish:
                r.flow(1)


def send_one(clients, snd, receivers, body, timeout=30.0):
    """Send one message and wait for its outcome; ``receivers`` settle
    whatever they get ACCEPTED (and grant the credit back).

    :returns: ``(outcome, receivers that got it)``.
    """
    before = [len(r.received) for r in receivers]
    delivery = snd.send(body)
    clients.wait(lambda: delivery.remote_state or any(
        r.unsettled() for r in receivers), timeout=timeout,
        what='%r to arrive somewhere' % (body,))
    settle_all(receivers, ACCEPTED, replenish=True)
    clients.wait(lambda: delivery.remote_state, timeout=timeout,
                 what='the outcome of %r' % (body,))
    got = [r for r, n in zip(receivers, before) if len(r.received) > n]
    return delivery.remote_state, got


def send_until(clients, snd, receivers, target, timeout=30.0, body='probe'):
    """Send one message at a time to ``snd``'s address (waiting for each
    outcome) until one reaches ``target`` (one of ``receivers``), which
    then settles it ACCEPTED like every other receiver does.

    It is how a test learns that the producer's router knows a consumer:
    credit only says that it knows *some* consumer.

    :returns: ``(seconds, outcomes)``: how long it took, and the outcome
        of every message sent, in order (the last one is the one that
        reached ``target``).
    :raises ClientTimeout: ``target`` got nothing in ``timeout`` seconds.
    """
    watch = Stopwatch()
    outcomes = []
    deadline = time.monotonic() + timeout
    while True:
        clients.wait(lambda: snd.credit > 0, what='credit',
                     timeout=max(0.1, deadline - time.monotonic()))
        outcome, got = send_one(clients, snd, receivers, body,
                                max(0.1, deadline - time.monotonic()))
        outcomes.append(outcome)
        if target in got:
            return watch(), outcomes


def wait_known(clients, connections, at, routers, timeout=30.0):
    """Return once router ``at`` knows every consumer attached so far on
    ``routers``.

    A fence: on each of ``routers`` a receiver for a fresh closest
    address, and at ``at`` a sender to it, which gets credit once ``at``
    knows that consumer.  A router announces its consumers to the mesh in
    the order they attach, so ``at`` then knows the earlier ones too.

    :param connections: router name -> :class:`Client` connected to it.
    :returns: seconds it took.
    """
    watch = Stopwatch()
    fences = []
    for name in routers:
        address = unique('exclusive/fence')
        fences.append((receiver(connections[name], address, credit=1),
                       sender(connections[at], address)))
    clients.wait(lambda: all(s.credit > 0 for _, s in fences),
                 timeout=timeout, what='%s to know consumers on %s'
                 % (at, ', '.join(routers)))
    for r, s in fences:
        s.close()
        r.close()
    return watch()
