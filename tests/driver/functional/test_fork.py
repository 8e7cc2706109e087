"""A forked child must not use its parent's connection."""

import multiprocessing
import os

from amqp1_fixtures import FakeRouter
from tests import messaging


def _child_call(client, pipe):
    try:
        io = client.transport._driver._io
        parent_pid = io.pid if io is not None else None
        result = client.call(5)['value']
        new_pid = client.transport._driver._io.pid
        pipe.send((result, parent_pid, new_pid, os.getpid()))
    except Exception as exc:
        pipe.send(repr(exc))
    finally:
        pipe.close()
        os._exit(0)


class ForkTest(messaging.TestCase):

    def test_child_opens_its_own_connection(self):
        router = self.useFixture(FakeRouter())
        self.server(router.transport_url)
        client = self.client(router.transport_url)
        self.assertEqual(1, client.call(1)['value'])
        parent_io = client.transport._driver._io
        ctx = multiprocessing.get_context('fork')
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_child_call, args=(client, theirs))
        proc.start()
        self.assertTrue(mine.poll(30), 'no answer from the child')
        answer = mine.recv()
        proc.join(30)
        self.assertIsInstance(answer, tuple, answer)
        result, parent_pid, new_pid, child_pid = answer
        self.assertEqual(5, result)
        self.assertEqual(os.getpid(), parent_pid)
        self.assertEqual(child_pid, new_pid)
        # the parent's connection is untouched
        self.assertIs(parent_io, client.transport._driver._io)
        self.assertEqual(2, client.call(2)['value'])
