"""Fuzzing FakeRouter and FakeBroker with mutated real conversations.

Why hypothesis rather than atheris: the engine runs on its own thread and
is reached over sockets, so atheris's coverage feedback (which follows the
thread that calls the target) would guide little, while atheris needs a
libFuzzer build and runs outside pytest.  Hypothesis is a plain wheel, runs
inside the test suite with a bounded, reproducible example count, and
shrinks a failure to a short byte stream that names the bug.

The seeds are the bytes real proton clients wrote in conversations with a
fake (:mod:`tests.functional.conversations`): SASL ANONYMOUS and PLAIN,
a sender, a receiver that settles.  Each example mutates a batch of them
at the frame level (drop, repeat, swap, truncate, splice two
conversations) and at the byte level (flip, insert, overwrite a frame
size), sends each over its own socket in random-sized chunks, and then a
legitimate client must still connect, send and receive; nothing may be
logged at ERROR level (that is an internal error: a bug of ours, not the
peer's) and the engine thread must be alive.

``AMQP1_FUZZ_EXAMPLES`` sets the examples per fake (default 60, a short
run for CI); ``tox -e fuzz`` runs a long one.
"""

import logging
import os
import socket
import struct

import fixtures
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import testtools

from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests.functional import conversations as cv
from tests.functional.proton_clients import unique

EXAMPLES = int(os.environ.get('AMQP1_FUZZ_EXAMPLES', '60'))
USERS = {'fuzz': 'secret'}
ADDRESS = 'exclusive.fuzz'

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    # Reproducible in CI; a long run (tox -e fuzz) explores afresh.
    derandomize=EXAMPLES <= 200,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.function_scoped_fixture])


def _record_seeds():
    """Record the conversations the mutations start from."""
    seeds = []
    with FakeBroker(users=USERS, sasl_mechanisms=['PLAIN', 'ANONYMOUS'],
                    handshake_timeout=5) as broker:
        seeds.append(cv.record(broker.port, ADDRESS, b'anonymous'))
        seeds.append(cv.record(broker.port, ADDRESS, b'plain' * 200,
                               user='fuzz', password='secret'))
        consumer = cv.RawClient(broker.port)
        try:
            [(delivery, _)] = consumer.receive(ADDRESS)
            consumer.accept(delivery)
            consumer.close_cleanly()
        finally:
            consumer.close()
        seeds.append(bytes(consumer.sent))
    return [cv.split_frames(seed) for seed in seeds]


_SEEDS = []


def seeds():
    if not _SEEDS:
        _SEEDS.extend(_record_seeds())
    return _SEEDS


@st.composite
def mutated(draw):
    """One mutated conversation: a byte string."""
    pool = seeds()
    frames = list(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(['drop', 'repeat', 'swap', 'splice',
                                   'flip', 'insert', 'size', 'truncate']))
        i = draw(st.integers(0, len(frames) - 1))
        frame = frames[i]
        if op == 'drop' and len(frames) > 1:
            del frames[i]
        elif op == 'repeat':
            frames.insert(i, frame)
        elif op == 'swap':
            j = draw(st.integers(0, len(frames) - 1))
            frames[i], frames[j] = frames[j], frames[i]
        elif op == 'splice':
            other = draw(st.sampled_from(pool))
            frames[i:] = other[draw(st.integers(0, len(other) - 1)):]
        elif op == 'flip' and frame:
            pos = draw(st.integers(0, len(frame) - 1))
            value = draw(st.integers(0, 255))
            frames[i] = frame[:pos] + bytes([value]) + frame[pos + 1:]
        elif op == 'insert':
            pos = draw(st.integers(0, len(frame)))
            junk = draw(st.binary(min_size=1, max_size=64))
            frames[i] = frame[:pos] + junk + frame[pos:]
        elif op == 'size' and len(frame) >= 8 and \
                not frame.startswith(b'AMQP'):
            size = draw(st.sampled_from([0, 7, 8, 9, 511, 4097, 65536,
                                         2 ** 31, 2 ** 32 - 1]))
            frames[i] = struct.pack('>I', size) + frame[4:]
        elif op == 'truncate':
            frames[i] = frame[:draw(st.integers(0, len(frame)))]
            del frames[i + 1:]
    return b''.join(frames)


class _Errors(logging.Handler):
    """Keeps the ERROR records of the fakes (internal errors)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


class FuzzTestCase(testtools.TestCase):

    fake_class = None

    def setUp(self):
        super().setUp()
        # Keep the peers' errors (WARNING) out of the test's output.
        self.useFixture(fixtures.FakeLogger(name='amqp1_fixtures',
                                            level=logging.WARNING))
        self.errors = _Errors()
        logger = logging.getLogger('amqp1_fixtures')
        logger.addHandler(self.errors)
        self.addCleanup(logger.removeHandler, self.errors)
        self.fake = self.useFixture(self.fake_class(
            users=USERS, sasl_mechanisms=['PLAIN', 'ANONYMOUS'],
            handshake_timeout=2, idle_timeout=2))
        self.legit_runs = 0

    def send_batch(self, streams, chunks):
        socks = []
        try:
            for stream in streams:
                sock = socket.create_connection(
                    ('127.0.0.1', self.fake.port), timeout=cv.TIMEOUT)
                socks.append(sock)
                pos = 0
                try:
                    while pos < len(stream):
                        sock.sendall(stream[pos:pos + chunks])
                        pos += chunks
                except OSError:
                    # The fake closed on bad input already: as it should.
                    pass
            for sock in socks:
                # Read what the fake answers, briefly: a mutation may have
                # left a conversation that waits (the handshake and idle
                # timeouts end those).
                sock.settimeout(0.05)
                try:
                    while sock.recv(65536):
                        pass
                except (socket.timeout, OSError):
                    pass
        finally:
            for sock in socks:
                sock.close()

    def assert_legitimate_client_served(self):
        address = unique('exclusive.legit')
        consumer = cv.RawClient(self.fake.port, 'fuzz', 'secret')
        producer = cv.RawClient(self.fake.port)
        try:
            consumer.listen(address)
            delivery, body = cv.hand_over(producer, consumer, address)
            self.assertEqual(delivery.ACCEPTED, delivery.remote_state)
            self.assertEqual('ok', body)
        finally:
            consumer.close()
            producer.close()
        self.assertTrue(self.fake.running, self.fake.failure)
        self.assertEqual([], self.errors.records)

    def run_fuzz(self):
        @FUZZ_SETTINGS
        @given(st.lists(mutated(), min_size=1, max_size=6),
               st.sampled_from([1, 7, 64, 1 << 20]))
        def batch(streams, chunks):
            self.send_batch(streams, chunks)
            self.assert_legitimate_client_served()

        batch()
        # Every hostile connection ends: none is held.
        self.fake.wait_for(lambda: self.fake.stats.connections == 0,
                           timeout=15, message='hostile connections held')
        self.assertTrue(self.fake.running)


class RouterFuzzTest(FuzzTestCase):

    fake_class = FakeRouter

    def test_mutated_conversations(self):
        self.run_fuzz()


class BrokerFuzzTest(FuzzTestCase):

    fake_class = FakeBroker

    def test_mutated_conversations(self):
        self.run_fuzz()
