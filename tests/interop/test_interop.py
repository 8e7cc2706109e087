"""oslo.messaging 14.9.x and 18.x talking AMQP 1.0 to each other.

Each test runs two real processes, one per generation (``peer.py`` under
that generation's venv python, see ``venvs.py``), through one backend run
by this process: the fakes, the stand-in daemons, or the real qdrouterd /
qpidd when installed.  A server or listener of one generation is started
first (the test waits for its readiness line), then a client or notifier
of the other generation; the test checks what each side printed.
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid

import pytest

from amqp1_fixtures import service
from tests.interop import conftest

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peer.py')

#: seconds a peer may take to print an expected line (two interpreters
#: start, import oslo.messaging and connect on a shared 2-core machine)
TIMEOUT = 60.0

#: id -> (backend kind, daemons, impl)
BACKENDS = {
    'FakeRouter': ('router', False, None),
    'FakeBroker': ('broker', False, None),
    'router-standin': ('router', True, 'standin'),
    'broker-standin': ('broker', True, 'standin'),
    'qdrouterd': ('router', True, 'qdrouterd'),
    'qpidd': ('broker', True, 'qpidd'),
}

#: id -> (generation of the server/listener, of the client/sender)
DIRECTIONS = {
    '14-client-18-server': ('om18', 'om14'),
    '18-client-14-server': ('om14', 'om18'),
}

VERSION_PREFIX = {'om14': '14.', 'om18': '18.'}


def _check_version(generation, version):
    # An interpreter given in the environment may be of any generation
    # (e.g. 14.9 on both sides, to check the harness itself).
    if not os.environ.get(conftest.PYTHON_ENV[generation]):
        assert version.startswith(VERSION_PREFIX[generation])


class Peer:
    """A ``peer.py`` process whose JSON stdout lines are read as events.

    :param python: the generation's interpreter.
    :param args: the role and its arguments.
    """

    def __init__(self, python, *args):
        # stdin is a pipe: closing it tells a server to stop.
        self.proc = subprocess.Popen(
            [python, '-W', 'ignore', PEER] + [str(a) for a in args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        self._stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({'event': 'garbage', 'line': line})
        self.events.put({'event': 'exit'})

    def _read_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-40]

    def expect(self, event, timeout=TIMEOUT):
        """The next event named ``event`` (a name, or a set of names);
        fail on exit or timeout.  Events of other names are dropped."""
        names = {event} if isinstance(event, str) else set(event)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                got = self.events.get(timeout=max(left, 0))
            except queue.Empty:
                pytest.fail('no %r from %s within %.0f s; stderr:\n%s' % (
                    event, self.proc.args[3:5], timeout, self.stderr()))
            if got['event'] in names:
                return got
            if got['event'] == 'exit':
                pytest.fail('%s exited with %s before %r; stderr:\n%s' % (
                    self.proc.args[3:5], self.proc.wait(), event,
                    self.stderr()))

    def stderr(self):
        """The last lines of the peer's stderr."""
        return ''.join(self._stderr)

    def stop(self):
        """Close stdin, wait; kill if it does not exit within 20 s."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    """A running backend (its fixture); skipped if not installed."""
    kind, daemons, impl = BACKENDS[request.param]
    kwargs = {'impl': impl} if impl else {}
    fixture = service.make_backend(kind, daemons, **kwargs)
    if daemons and fixture.impl is None:
        pytest.skip('%s is not installed' % impl)
    fixture.setUp()
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def peers():
    """Start peers with ``peers(python, *args)``; all stopped at the end.
    """
    started = []

    def start(python, *args):
        peer = Peer(python, *args)
        started.append(peer)
        return peer
    yield start
    for peer in reversed(started):
        peer.stop()


def _name(prefix):
    # Unique per test: tests may share a backend (a real daemon).
    return '%s-%s' % (prefix, uuid.uuid4().hex[:12])


@pytest.mark.parametrize('direction', sorted(DIRECTIONS))
def test_rpc(backend, direction, generations, peers):
    server_gen, client_gen = DIRECTIONS[direction]
    url = backend.transport_url
    topic, name = _name('interop'), _name('server')
    server = peers(generations[server_gen], 'rpc-server', url, topic, name)
    ready = server.expect('ready')
    _check_version(server_gen, ready['oslo.messaging'])

    client = peers(generations[client_gen], 'rpc-client', url, topic, name)
    result = client.expect('result')
    _check_version(client_gen, result['oslo.messaging'])
    results = result['results']

    reply = {'server': name, 'oslo.messaging': ready['oslo.messaging']}
    assert results['call'] == {'ok': True, 'value': dict(
        reply, value='to the topic')}
    assert results['direct_call'] == {'ok': True, 'value': dict(
        reply, value=['direct', 1, 2.5, None])}
    # A builtin exception is rebuilt by the caller as ValueError_Remote.
    failure = results['failure']
    assert not failure['ok'] and failure['error'].startswith('ValueError')
    assert failure['text'] == 'boom'
    # Longer than its call monitor timeout: only heartbeats kept it alive.
    assert results['monitored_call'] == {'ok': True, 'value': 'slept 3'}
    assert results['cast'] == {'ok': True, 'value': None}
    assert results['fanout'] == {'ok': True, 'value': None}
    assert results['absent_server']['error'] == 'MessagingTimeout'
    assert client.stop() == 0

    # the server's executor runs the cast and the fanout (sent on two
    # links) in either order
    first = server.expect({'cast', 'fanout'})
    second = server.expect({'cast', 'fanout'} - {first['event']})
    received = {first['value'], second['value']}
    assert received == {'a cast', 'a fanout'}


@pytest.mark.parametrize('direction', sorted(DIRECTIONS))
def test_notifications(backend, direction, generations, peers):
    listener_gen, sender_gen = DIRECTIONS[direction]
    url = backend.transport_url
    topic = _name('notifications')
    count = 5
    listener = peers(generations[listener_gen], 'notify-listener', url,
                     topic)
    _check_version(listener_gen, listener.expect('ready')['oslo.messaging'])
    sender = peers(generations[sender_gen], 'notify-sender', url, topic,
                   count)
    result = sender.expect('result')
    _check_version(sender_gen, result['oslo.messaging'])
    assert result['sent'] == 3 * count
    assert sender.stop() == 0

    got = [listener.expect('notification') for _ in range(3 * count)]
    by_priority = {}
    for note in got:
        assert note['publisher_id'] == 'interop.' + result['oslo.messaging']
        assert note['event_type'] == 'interop.' + note['priority']
        assert note['payload']['from'] == result['oslo.messaging']
        by_priority.setdefault(note['priority'], []).append(
            note['payload']['n'])
    # Each priority is its own address: order holds within one.
    assert by_priority == {p: list(range(count))
                           for p in ('info', 'warn', 'error')}


if __name__ == '__main__':
    sys.exit(pytest.main([__file__] + sys.argv[1:]))
