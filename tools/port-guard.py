#!/usr/bin/env python3
"""Run a command while the messaging ports of a developer's machine are busy.

A developer machine or a DevStack node usually runs a RabbitMQ: it holds
5672 (AMQP), 25672 (Erlang distribution), 4369 (epmd), often 15672
(management) and 5671 (AMQP over TLS), on every address, IPv4 and IPv6.
An earlier DevStack of this plugin may still hold 45672 (qdrouterd) or
5673.  A test that needs one of these ports free passes in a clean CI
machine and fails on that developer's machine; run under this guard, it
fails in CI instead.

Usage::

    tools/port-guard.py [--ports 5672,5671,...] -- COMMAND [ARG...]

For each port the guard listens where RabbitMQ does: one dual-stack socket
on ``[::]`` (IPv4 and IPv6, every address), or ``0.0.0.0`` without IPv6.
Where another process already holds the port (a real RabbitMQ, say), it
holds what is left of 127.0.0.1 and ::1 and says so: the port is busy
either way.  Connections are accepted and closed at once, and listed on
stderr at the end: something in the run expected a daemon there.

The command runs as a child; SIGINT, SIGTERM and SIGHUP are passed on to
it; the guard waits for it, closes its listeners and exits with the
command's status, so nothing of the guard outlives the run, failed or not.
Standard library only: CI runs it before any venv exists.
"""

import argparse
import errno
import selectors
import signal
import socket
import subprocess
import sys
import threading

#: what a RabbitMQ node and an earlier stack of this plugin hold
DEFAULT_PORTS = (5672, 5671, 45672, 5673, 15672, 25672, 4369)

PROG = 'port-guard'


def _say(message):
    print('%s: %s' % (PROG, message), file=sys.stderr, flush=True)


def _listen(family, host, port, v6only=None):
    """Return a listening socket on ``(host, port)``.

    :raises OSError: the address cannot be bound (EADDRINUSE when taken).
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As RabbitMQ (Erlang's reuseaddr): only TIME_WAIT is shared.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only is not None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                            1 if v6only else 0)
        sock.bind((host, port))
        sock.listen(64)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _try(family, host, port, v6only=None):
    """Return a listener, or ``None`` when the address is taken or absent."""
    try:
        return _listen(family, host, port, v6only)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL,
                         errno.EAFNOSUPPORT):
            return None
        raise


class Guard:
    """The listeners held on the guarded ports, and the connections seen.

    :param ports: the ports to hold.
    :ivar held: ``(port, address)`` of each listener the guard holds.
    :ivar taken: the ports another process held already (wholly or partly).
    :ivar connections: ``(port, peer)`` of each accepted connection.
    """

    def __init__(self, ports):
        self.ports = ports
        self.held = []
        self.taken = []
        self.connections = []
        self._socks = []
        self._sel = selectors.DefaultSelector()
        self._stop_r, self._stop_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=PROG)

    def start(self):
        """Bind every port, then accept connections on a thread."""
        for port in self.ports:
            self._hold(port)
        self._sel.register(self._stop_r, selectors.EVENT_READ, None)
        self._thread.start()

    def _hold(self, port):
        sock = _try(socket.AF_INET6, '::', port, v6only=False)
        if sock is not None:
            self._add(port, '[::]', sock)
            return
        sock = _try(socket.AF_INET, '0.0.0.0', port)
        if sock is not None:
            # No IPv6 here, or something holds [::] with IPV6_V6ONLY.
            self._add(port, '0.0.0.0', sock)
            sock = _try(socket.AF_INET6, '::1', port, v6only=True)
            if sock is not None:
                self._add(port, '[::1]', sock)
            elif socket.has_ipv6:
                self.taken.append(port)
            return
        # Something else listens on (part of) it: keep what is left of
        # loopback, where the tests' daemons listen.
        self.taken.append(port)
        for family, host, v6only, shown in (
                (socket.AF_INET, '127.0.0.1', None, '127.0.0.1'),
                (socket.AF_INET6, '::1', True, '[::1]')):
            sock = _try(family, host, port, v6only)
            if sock is not None:
                self._add(port, shown, sock)

    def _add(self, port, shown, sock):
        self._socks.append(sock)
        self.held.append((port, shown))
        self._sel.register(sock, selectors.EVENT_READ, port)

    def _serve(self):
        while True:
            for key, _ in self._sel.select():
                if key.data is None:
                    return
                try:
                    conn, peer = key.fileobj.accept()
                except OSError:
                    continue
                conn.close()
                self.connections.append((key.data, peer))

    def stop(self):
        """Stop accepting and close every listener."""
        self._stop_w.send(b'x')
        if self._thread.is_alive():
            self._thread.join(5)
        for sock in self._socks:
            self._sel.unregister(sock)
            sock.close()
        self._socks = []
        self._sel.close()
        self._stop_r.close()
        self._stop_w.close()


def _parse_ports(text):
    try:
        ports = [int(p) for p in text.split(',') if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('not a list of ports: %r' % text)
    if not ports or any(not 0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError('ports are 1..65535: %r' % text)
    return ports


def _describe(guard):
    by_port = {}
    for port, shown in guard.held:
        by_port.setdefault(port, []).append(shown)
    parts = []
    for port in guard.ports:
        where = ' '.join(by_port.get(port, []))
        if port in guard.taken:
            where += '%sand another process' % (' ' if where else '')
        parts.append('%d (%s)' % (port, where))
    return ', '.join(parts)


def main(argv=None):
    """Hold the ports, run the command, return its exit status."""
    parser = argparse.ArgumentParser(
        prog=PROG, description='Run COMMAND while the ports a RabbitMQ '
        '(or an earlier DevStack) holds are busy.')
    parser.add_argument('--ports', type=_parse_ports,
                        default=list(DEFAULT_PORTS),
                        help='comma-separated ports (default: %s)'
                        % ','.join(str(p) for p in DEFAULT_PORTS))
    parser.add_argument('command', nargs=argparse.REMAINDER,
                        help='-- COMMAND [ARG...]')
    args = parser.parse_args(argv)
    command = args.command
    if command[:1] == ['--']:
        command = command[1:]
    if not command:
        parser.error('no command given')

    guard = Guard(args.ports)
    try:
        guard.start()
    except OSError as exc:
        guard.stop()
        _say('cannot listen: %s' % exc)
        return 2
    _say('holding %s while: %s' % (_describe(guard), ' '.join(command)))
    children = []
    pending = []

    def forward(signum, frame):
        # A signal before the child exists is passed on once it does.
        if children:
            children[0].send_signal(signum)
        else:
            pending.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        children.append(subprocess.Popen(command))
    except OSError as exc:
        guard.stop()
        _say('cannot run %s: %s' % (command[0], exc))
        return 127
    for signum in pending:
        children[0].send_signal(signum)
    status = children[0].wait()
    guard.stop()
    if guard.connections:
        seen = ['%d from %s' % (port, peer[0].replace('::ffff:', ''))
                for port, peer in guard.connections[:10]]
        _say('%d connection(s) reached the held ports (something in the '
             'run expected a daemon there): %s%s' % (
                 len(guard.connections), ', '.join(seen),
                 ', ...' if len(guard.connections) > 10 else ''))
    return status if status >= 0 else 128 - status


if __name__ == '__main__':
    sys.exit(main())
