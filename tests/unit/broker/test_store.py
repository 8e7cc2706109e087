"""Tests of amqp1_fixtures.broker.store: the broker's sqlite message store."""

import os
import sqlite3
import stat

import fixtures
import testtools

from amqp1_fixtures.broker import store


class TestMessageStore(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.directory = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'data')

    def open(self):
        message_store = store.MessageStore(self.directory)
        self.addCleanup(_close_quietly, message_store)
        return message_store

    def test_creates_private_directory_and_file(self):
        message_store = self.open()
        self.assertEqual(os.path.join(self.directory, 'messages.sqlite'),
                         message_store.path)
        self.assertEqual(0o700, stat.S_IMODE(os.stat(self.directory).st_mode))
        self.assertEqual(0o600,
                         stat.S_IMODE(os.stat(message_store.path).st_mode))

    def test_load_in_arrival_order(self):
        message_store = self.open()
        ids = [message_store.add(queue, body) for queue, body in (
            ('q1', b'a'), ('q2', b'b'), ('q1', b'c'))]
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual(sorted(ids), ids)
        self.assertEqual([(ids[0], 'q1', b'a', 0), (ids[1], 'q2', b'b', 0),
                          (ids[2], 'q1', b'c', 0)],
                         [tuple(row[:2]) + (bytes(row[2]), row[3])
                          for row in message_store.load()])

    def test_remove_and_delivery_count(self):
        message_store = self.open()
        first = message_store.add('q', b'first')
        second = message_store.add('q', b'second')
        message_store.remove(first)
        message_store.set_delivery_count(second, 3)
        self.assertEqual([(second, 'q', b'second', 3)],
                         [(i, q, bytes(b), c)
                          for i, q, b, c in message_store.load()])

    def test_committed_changes_survive_reopening(self):
        message_store = self.open()
        ident = message_store.add('q', b'\x00\xffbinary')
        message_store.commit()
        message_store.close()
        reopened = self.open()
        self.assertEqual([(ident, 'q', b'\x00\xffbinary', 0)],
                         [(i, q, bytes(b), c) for i, q, b, c in
                          reopened.load()])

    def test_close_commits_by_default(self):
        message_store = self.open()
        message_store.add('q', b'kept')
        message_store.close()
        self.assertEqual(1, len(self.open().load()))

    def test_close_without_commit_is_a_crash(self):
        message_store = self.open()
        message_store.add('q', b'committed')
        message_store.commit()
        message_store.add('q', b'lost')
        message_store.remove(message_store.load()[0][0])
        message_store.close(commit=False)
        self.assertEqual([b'committed'],
                         [bytes(row[2]) for row in self.open().load()])

    def test_a_crashed_process_leaves_only_committed_data(self):
        # The first store is never closed, as when its process is killed;
        # another opener sees what was committed and nothing else.
        crashed = self.open()
        crashed.add('q', b'acknowledged')
        crashed.commit()
        crashed.add('q', b'in flight')
        survivor = self.open()
        self.assertEqual([b'acknowledged'],
                         [bytes(row[2]) for row in survivor.load()])

    def test_commit_without_changes_is_harmless(self):
        message_store = self.open()
        message_store.commit()
        message_store.commit()
        self.assertEqual([], message_store.load())

    def test_existing_directory(self):
        os.makedirs(self.directory)
        self.assertEqual([], self.open().load())


def _close_quietly(message_store):
    try:
        message_store.close(commit=False)
    except sqlite3.ProgrammingError:
        # The test closed it already.
        return
