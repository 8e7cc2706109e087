"""amqp1_fixtures.daemons.watchdog with tiny Python processes: what a watchdog
stops when its owner dies, and what it leaves alone."""

import json
import os
import signal
import subprocess
import sys
import time

import fixtures
import psutil
import testtools

from amqp1_fixtures.daemons import watchdog

# The guarded "daemon": a group leader with a forked member and a process
# that left the group with setsid() (as a daemonizing epmd does); prints
# the pids of all three.
LEADER = r'''
import os, signal, subprocess, sys
if sys.argv[1] == 'noterm':
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
member = os.fork()
if member == 0:
    signal.pause()
escaped = subprocess.Popen([sys.executable, '-c',
                            'import os, signal; os.setsid(); signal.pause()'])
print(os.getpid(), member, escaped.pid, flush=True)
signal.pause()
'''

# The owner: a guard, then the daemon in a group of its own; prints the
# pids as JSON and waits to be killed.  argv: mode, directory, grace.
OWNER = r'''
import json, os, signal, subprocess, sys
from amqp1_fixtures.daemons import watchdog
mode, work, grace = sys.argv[1], sys.argv[2], float(sys.argv[3])
guard = watchdog.Guard(grace=grace, remove=work)
leader = subprocess.Popen([sys.executable, '-c', sys.argv[4], mode],
                          env=dict(os.environ, **guard.environ),
                          start_new_session=True, stdout=subprocess.PIPE,
                          text=True)
if mode != 'late':
    guard.watch_group(leader.pid)
pids = [int(w) for w in leader.stdout.readline().split()]
if mode == 'paused':
    os.killpg(leader.pid, signal.SIGSTOP)
print(json.dumps({'leader': leader.pid, 'guard': guard.pid,
                  'marked': pids}), flush=True)
signal.pause()
'''


def alive(pid, created):
    try:
        proc = psutil.Process(pid)
        return (proc.create_time() == created
                and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids, timeout):
    """Seconds until every (pid, create time) is dead; fails after
    ``timeout``."""
    start = time.monotonic()
    while any(alive(*p) for p in pids):
        if time.monotonic() - start > timeout:
            raise AssertionError('still alive after %s s: %s' % (
                timeout, [p for p in pids if alive(*p)]))
        time.sleep(0.02)
    return time.monotonic() - start


def wait_ignoring(pid, sig, timeout=10):
    """Wait until process ``pid`` ignores ``sig`` (it has started)."""
    deadline = time.monotonic() + timeout
    while True:
        with open('/proc/%d/status' % pid) as f:
            fields = dict(line.split(':\t', 1) for line in f)
        if int(fields['SigIgn'], 16) & (1 << (sig - 1)):
            return
        if time.monotonic() > deadline:
            raise AssertionError('%d does not ignore %s' % (pid, sig))
        time.sleep(0.01)


def kill(pid, created):
    if alive(pid, created):
        os.kill(pid, signal.SIGKILL)


def created(pid):
    return pid, psutil.Process(pid).create_time()


class TestWatchdog(testtools.TestCase):

    def owner(self, mode='ok', grace=2.0):
        work = self.useFixture(fixtures.TempDir()).path
        proc = subprocess.Popen(
            [sys.executable, '-c', OWNER, mode, work, str(grace), LEADER],
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.addCleanup(proc.wait)
        self.addCleanup(self._kill, proc)
        info = json.loads(proc.stdout.readline())
        for pid in info['marked']:
            # A failed test leaks nothing.
            self.addCleanup(kill, *created(pid))
        return proc, info, work

    def _kill(self, proc):
        if proc.poll() is None:
            proc.kill()

    def assertNothingLeft(self, info, work, timeout=10):
        pids = [created(p) for p in info['marked']]
        self.assertEqual(3, len(pids), info)
        wait_gone(pids, timeout)
        wait_gone([created(info['guard'])], timeout)
        self.assertFalse(os.path.exists(work))

    def test_owner_sigkill_stops_group_and_marked(self):
        proc, info, work = self.owner()
        # The watchdog is in a session of its own, out of the owner's and
        # the group's reach.
        self.assertEqual(info['guard'], os.getsid(info['guard']))
        self.assertNotEqual(os.getpgid(info['leader']),
                            os.getpgid(proc.pid))
        proc.kill()
        proc.wait()
        self.assertNothingLeft(info, work)

    def test_death_before_watch_is_covered_by_the_mark(self):
        proc, info, work = self.owner('late')
        proc.kill()
        proc.wait()
        self.assertNothingLeft(info, work)

    def test_paused_group_is_stopped(self):
        proc, info, work = self.owner('paused')
        proc.kill()
        proc.wait()
        self.assertNothingLeft(info, work)

    def test_sigkill_after_grace(self):
        proc, info, work = self.owner('noterm', grace=0.3)
        proc.kill()
        proc.wait()
        self.assertNothingLeft(info, work)

    def test_sigint_and_sighup_are_ignored_sigterm_acts(self):
        proc, info, work = self.owner()
        wait_ignoring(info['guard'], signal.SIGHUP)
        for sig in (signal.SIGINT, signal.SIGHUP):
            os.kill(info['guard'], sig)
        self.assertTrue(alive(*created(info['guard'])))
        self.assertTrue(alive(*created(info['leader'])))
        os.kill(info['guard'], signal.SIGTERM)
        self.assertNothingLeft(info, work)

    def test_release_leaves_everything(self):
        work = self.useFixture(fixtures.TempDir()).path
        guard = watchdog.Guard(remove=work)
        sleeper = subprocess.Popen(
            [sys.executable, '-c', 'import signal; signal.pause()'],
            env=dict(os.environ, **guard.environ), start_new_session=True)
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        guard.watch_group(sleeper.pid)
        self.assertEqual(0, guard.release())
        self.assertIsNone(sleeper.poll())
        self.assertTrue(os.path.isdir(work))
        self.assertEqual(0, guard.release())  # idempotent

    def test_recycled_group_id_is_not_hit(self):
        # A group whose leader's start time differs and that has no member
        # carrying the mark is somebody else's.
        sleeper = subprocess.Popen(
            [sys.executable, '-c', 'import signal; signal.pause()'],
            start_new_session=True)
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        start = watchdog.start_time(sleeper.pid)
        groups, victims = watchdog.find_victims(
            [('group', sleeper.pid, start - 1)], 'AMQP1_FIXTURES_GUARD_x')
        self.assertEqual((set(), {}), (groups, victims))
        groups, victims = watchdog.find_victims(
            [('group', sleeper.pid, start)], 'AMQP1_FIXTURES_GUARD_x')
        self.assertEqual({sleeper.pid}, groups)
        self.assertEqual({sleeper.pid: start}, victims)

    def test_fork_child_lets_go(self):
        # A child forked without exec must not keep the watchdog from
        # seeing its owner's death.
        guard = watchdog.Guard()
        self.addCleanup(guard.release)
        pid = os.fork()
        if pid == 0:
            # Closed, and a release there is no release.
            os._exit(0 if guard._fd is None and guard.release() is None
                     else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(0, os.waitstatus_to_exitcode(status))
        self.assertIsNotNone(guard._fd)
