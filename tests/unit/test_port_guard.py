"""Tests of tools/port-guard.py, the CI guard that keeps the ports of a
developer's RabbitMQ busy while the whole suite runs."""

import os
import signal
import socket
import subprocess
import sys

import testtools

from amqp1_fixtures.daemons import ports

GUARD = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                     'tools', 'port-guard.py')

# Generous: the machine may be busy with parallel test workers.
TIMEOUT = 30

# Run under the guard: which of the port's addresses a daemon could bind.
PROBE = r'''
import socket, sys
port = int(sys.argv[1])
for family, host in ((socket.AF_INET, '127.0.0.1'),
                     (socket.AF_INET, '0.0.0.0'),
                     (socket.AF_INET6, '::1')):
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        print(host, 'free')
    except OSError as exc:
        print(host, 'busy' if exc.errno == 98 else exc)
    s.close()
'''


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
    except OSError:
        return False
    return True


class TestPortGuard(testtools.TestCase):

    def reserved(self):
        # The guard binds it while this test holds the reservation, so no
        # parallel test can be given it meanwhile.
        r = ports.reserve_port()
        self.addCleanup(r.release)
        return r.port

    def guard(self, port, *command, **kwargs):
        return subprocess.run(
            [sys.executable, GUARD, '--ports', str(port), '--'] +
            list(command), capture_output=True, text=True, timeout=TIMEOUT,
            stdin=subprocess.DEVNULL, **kwargs)

    def test_port_busy_on_every_address_while_the_command_runs(self):
        port = self.reserved()
        result = self.guard(port, sys.executable, '-c', PROBE, str(port))
        self.assertEqual(0, result.returncode, result.stderr)
        busy = ['127.0.0.1 busy', '0.0.0.0 busy']
        if _has_ipv6_loopback():
            busy.append('::1 busy')
        self.assertEqual(busy, result.stdout.splitlines()[:len(busy)])
        self.assertIn('port-guard: holding %d ([::])' % port, result.stderr)
        # and free again once the guard is gone
        self.assertTrue(ports.can_bind('127.0.0.1', port))

    def test_exit_status_of_the_command(self):
        port = self.reserved()
        result = self.guard(port, 'sh', '-c', 'exit 7')
        self.assertEqual(7, result.returncode)

    def test_connections_are_closed_and_reported(self):
        port = self.reserved()
        result = self.guard(
            port, sys.executable, '-c',
            'import socket, sys\n'
            's = socket.create_connection(("127.0.0.1", %d), 10)\n'
            's.settimeout(10)\n'
            'print(repr(s.recv(8)))\n' % port)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual("b''\n", result.stdout)
        self.assertIn('1 connection(s) reached the held ports (something '
                      'in the run expected a daemon there): %d from '
                      '127.0.0.1' % port, result.stderr)

    def test_port_another_process_holds(self):
        port = self.reserved()
        other = socket.socket()
        self.addCleanup(other.close)
        other.bind(('127.0.0.1', port))
        other.listen()
        result = self.guard(port, 'true')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('and another process)', result.stderr)

    def test_signal_is_passed_to_the_command(self):
        port = self.reserved()
        proc = subprocess.Popen(
            [sys.executable, GUARD, '--ports', str(port), '--',
             sys.executable, '-c',
             'import signal\nprint("ready", flush=True)\nsignal.pause()\n'],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(proc.stdout.close)
        self.assertEqual('ready\n', proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(128 + signal.SIGTERM, proc.wait(TIMEOUT))
        self.assertTrue(ports.can_bind('127.0.0.1', port))

    def test_no_command(self):
        result = self.guard(self.reserved())
        self.assertEqual(2, result.returncode)
        self.assertIn('no command given', result.stderr)
