"""No daemon outlives the process that started it: a child starts daemons
through each public entry point, is SIGKILLed once they are up, and
everything it started (found by descendants, environment marks, process
groups and listening ports) must be gone within 10 s, its ports free."""

import json
import os
import re
import signal
import sys
import textwrap
import time

import fixtures
import psutil
import testtools
from testtools import content

from amqp1_fixtures.daemons import qpid as daemons_mod
from amqp1_fixtures.daemons import ports
from amqp1_fixtures.daemons import rabbitmq
from amqp1_fixtures.daemons import rabbitmq4
from amqp1_fixtures import service
from tests.functional import orphans


def skip_without_rabbitmq(case):
    if not rabbitmq.find_rabbitmq_server():
        case.skipTest('rabbitmq-server is not installed')


def daemon_names(*kinds):
    """The names of the router/broker daemons a service would run: the
    real ones where installed, the stand-ins otherwise."""
    return [(daemons_mod.RouterDaemon if kind == 'router'
             else daemons_mod.BrokerDaemon)().name for kind in kinds]


class OrphanCase(testtools.TestCase):

    def start(self, argv, env=None, cwd=orphans.REPO, fifo=None):
        child = orphans.Child(argv, env=env, cwd=cwd, fifo=fifo)
        self.addCleanup(child.kill)
        return child

    def real(self, name):
        bundle, why_not = orphans.realqpid()
        if bundle is None:
            self.skipTest(why_not)
        return os.path.join(bundle, 'bin', name)

    def start_fixture(self, kind, env=None, **options):
        return self.start([sys.executable, '-c', orphans.FIXTURE_CHILD,
                           json.dumps([kind, options])], env=env)

    def kill_and_check(self, child, daemons, names, victim=None,
                       sig=signal.SIGKILL):
        """SIGKILL (or ``sig``) ``child`` or its descendant ``victim``;
        assert that the daemons reported, by ``names``, and all else the
        killed process started are gone in time and their ports free."""
        self.assertEqual(sorted(names), sorted(d['name'] for d in daemons))
        started = orphans.Started(victim or child.pid)
        # Not vacuous: what the child reported was found, and listens.
        for daemon in daemons:
            self.assertIn(daemon['pid'], started.pids, daemon)
            # Still in a group of its own (a Ctrl-C for the owner's
            # group does not reach it).
            self.assertEqual(daemon['pid'], os.getpgid(daemon['pid']))
            self.assertTrue(set(daemon['ports']) <= started.ports,
                            (daemon, started.ports))
        self.addCleanup(started.kill_survivors)
        if victim:
            os.kill(victim, sig)
        else:
            child.kill(sig)
        elapsed = started.wait_gone()
        self.addDetail('gone-after', content.text_content(
            '%.2f s, %d processes, ports %s' % (
                elapsed, len(started.procs), sorted(started.ports))))
        return started


class TestDaemonFixtures(OrphanCase):

    def test_standin_router(self):
        child = self.start_fixture('router', impl='standin')
        self.kill_and_check(child, child.ready(), ['router-standin'])

    def test_sigterm_of_a_ci_time_limit(self):
        # A CI time limit's SIGTERM: Python dies of it, no cleanup runs.
        child = self.start_fixture('router', impl='standin')
        self.kill_and_check(child, child.ready(), ['router-standin'],
                            sig=signal.SIGTERM)
        self.assertEqual(-signal.SIGTERM, child.proc.returncode)

    def test_standin_broker(self):
        child = self.start_fixture('broker', impl='standin')
        self.kill_and_check(child, child.ready(), ['broker-standin'])

    def test_real_router(self):
        # bin/qdrouterd is a shell wrapper that execs the daemon.
        child = self.start_fixture('router',
                                   executable=self.real('qdrouterd'))
        self.kill_and_check(child, child.ready(), ['qdrouterd'])

    def test_real_broker(self):
        child = self.start_fixture('broker', executable=self.real('qpidd'))
        self.kill_and_check(child, child.ready(), ['qpidd'])

    def test_rabbitmq_and_its_epmd(self):
        skip_without_rabbitmq(self)
        child = self.start_fixture('rabbitmq')
        daemons = child.ready()
        started = self.kill_and_check(child, daemons, ['rabbitmq', 'epmd'])
        # The node itself was among what was found (and is gone), not
        # only the rabbitmq-server script.
        self.assertIn('beam.smp', started.names.values())

    def test_rabbitmq4_in_its_root_and_its_epmd(self):
        # tools/rabbitmq4-setup.sh's node runs behind unshare and chroot:
        # the processes inside are still the owner's to stop.
        if not rabbitmq4.find_rabbitmq4_server():
            self.skipTest(rabbitmq4.absent_reason())
        child = self.start_fixture('rabbitmq4')
        daemons = child.ready()
        started = self.kill_and_check(child, daemons, ['rabbitmq4', 'epmd'])
        self.assertIn('beam.smp', started.names.values())
        self.assertIn('epmd', started.names.values())


class TestServiceModes(OrphanCase):

    def check_mode(self, mode, real=False):
        """``Amqp1Service(mode, daemons=True)`` with the stand-ins, or with
        the real qdrouterd/qpidd of the realqpid bundle."""
        layout = [k for k in ('router', 'broker')
                  if k in service.LAYOUT[mode]]
        if real:
            env = {'AMQP1_QDROUTERD': self.real('qdrouterd'),
                   'AMQP1_QPIDD': self.real('qpidd')}
            options = {'require_real': True}
            names = [{'router': 'qdrouterd', 'broker': 'qpidd'}[k]
                     for k in layout]
        else:
            env = None
            options = {'router_options': {'impl': 'standin'},
                       'broker_options': {'impl': 'standin'}}
            names = ['%s-standin' % k for k in layout]
        if 'rabbitmq' in service.LAYOUT[mode]:
            skip_without_rabbitmq(self)
            names += ['rabbitmq', 'epmd']
        child = self.start_fixture('service', env=env, mode=mode,
                                   daemons=True, **options)
        self.kill_and_check(child, child.ready(), names)

    def test_qpid(self):
        self.check_mode('qpid')

    def test_qpid_dual(self):
        self.check_mode('qpid-dual')

    def test_qpid_hybrid(self):
        self.check_mode('qpid-hybrid')

    def test_qpid_real(self):
        self.check_mode('qpid', real=True)

    def test_qpid_dual_real(self):
        self.check_mode('qpid-dual', real=True)


class TestRunner(OrphanCase):

    LINE = re.compile(r'^amqp1-fixtures run: (?:RPC|notifications): '
                      r'\S+:(\d+)/\S* \((\S+) pid (\d+)\)$')

    def run_mode(self, mode, command=()):
        argv = [sys.executable, '-m', 'amqp1_fixtures.cli', 'run', mode,
                '--daemons']
        child = self.start(argv + (['--'] + list(command) if command
                                   else []))
        daemons = []
        for _ in range(2):
            line = child.stderr.wait_for(self.LINE.match, 120)
            port, name, pid = self.LINE.match(line).groups()
            daemons.append({'name': name, 'pid': int(pid),
                            'ports': [int(port)]})
        return child, daemons

    def test_run_with_command(self):
        # qpid-dual only: in qpid-hybrid the runner starts the same
        # Amqp1Service as TestServiceModes.test_qpid_hybrid, whose RabbitMQ
        # node is seconds of CPU on a shared machine.
        child, daemons = self.run_mode('qpid-dual', ['sleep', '600'])
        child.stderr.wait_for(lambda x: 'running: sleep 600' in x, 60)
        sleeper = self.wait_for_child(psutil.Process(child.pid), 'sleep')
        started = self.kill_and_check(child, daemons,
                                      daemon_names('router', 'broker'))
        # COMMAND shares the runner's group and is gone too.
        self.assertIn(sleeper.pid, started.pids)
        self.assertEqual(2, len(started.ports), started.ports)

    def test_ctrl_c_still_cleans_up(self):
        # A terminal's Ctrl-C goes to the runner's whole group: COMMAND
        # exits of it, and the runner's cleanUp (not a watchdog, and not
        # the SIGINT) stops the daemons, without errors.
        child, daemons = self.run_mode('qpid-dual', ['sleep', '600'])
        child.stderr.wait_for(lambda x: 'running: sleep 600' in x, 60)
        self.wait_for_child(psutil.Process(child.pid), 'sleep')
        started = orphans.Started(child.pid)
        self.addCleanup(started.kill_survivors)
        os.killpg(child.pid, signal.SIGINT)
        self.assertEqual(130, child.proc.wait(60))
        # EOF: the watchdogs, which share the runner's stderr, are gone.
        text = child.stderr.until_eof(30)
        self.assertTrue(text.endswith('run: stopped\n'), text)
        self.assertNotIn('error', text)
        self.assertNotIn('watchdog', text)
        started.wait_gone()

    def test_serving_runner(self):
        # Without COMMAND it serves as long as it lives, and no longer.
        child, daemons = self.run_mode('qpid-dual')
        child.stderr.wait_for(lambda x: 'ready; send SIGTERM' in x, 60)
        for daemon in daemons:
            self.assertTrue(ports.accepts_connections(
                '127.0.0.1', daemon['ports'][0]))
        self.kill_and_check(child, daemons, daemon_names('router', 'broker'))

    def wait_for_child(self, parent, name, timeout=30):
        # The runner announces COMMAND just before it forks it: no line
        # tells that the fork happened, so look for the child.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in parent.children():
                if proc.name() == name:
                    return proc
            time.sleep(0.02)
        self.fail('no %s child within %s s' % (name, timeout))


INNER_TEST = '''
import signal

from tests.functional import orphans


def test_hold(amqp1_qpid_dual, amqp1_router_session, %s):
    orphans.announce(amqp1_qpid_dual, amqp1_router_session%s)
    signal.pause()
'''


class TestPytestPlugin(OrphanCase):

    def inner(self, *args, rabbit=True):
        tmp = self.useFixture(fixtures.TempDir()).path
        rabbit = rabbit and bool(rabbitmq.find_rabbitmq_server())
        with open(os.path.join(tmp, 'test_inner.py'), 'w') as f:
            f.write(textwrap.dedent(INNER_TEST % (
                ('amqp1_rabbitmq_session', ', amqp1_rabbitmq_session')
                if rabbit else ('request', ''))))
        child = self.start([sys.executable, '-m', 'pytest', '-q',
                            '-p', 'no:cacheprovider', '--amqp1-daemons']
                           + list(args) + ['test_inner.py'], cwd=tmp,
                           fifo=os.path.join(tmp, 'ready'))
        names = daemon_names('router', 'broker', 'router')
        if rabbit:
            names += ['rabbitmq', 'epmd']
        return child, names

    def test_daemon_fixtures_of_a_killed_pytest(self):
        # Function and session scope, RabbitMQ and its epmd included.
        child, names = self.inner()
        daemons = child.ready()
        self.assertEqual(child.pid, child.ready_pid)
        self.kill_and_check(child, daemons, names)

    def test_daemon_fixtures_of_a_crashed_xdist_worker(self):
        child, names = self.inner('-n', '1', rabbit=False)
        daemons = child.ready()
        worker = child.ready_pid
        self.assertIn(worker, [p.pid for p in psutil.Process(
            child.pid).children(recursive=True)])
        self.kill_and_check(child, daemons, names, victim=worker)
        # The controller saw the crash and went on to its report.
        child.stdout.wait_for(lambda x: 'crashed while running' in x, 60)
        self.assertEqual(1, child.proc.wait(60))


class TestRecycledIds(testtools.TestCase):
    """orphans.Started never takes somebody else's process for a survivor
    of the child it watched, when ids it noted have been recycled (a
    real qdrouterd of a parallel test was once SIGKILLed mid-test, and
    this was the suspect)."""

    def test_a_recycled_group_or_owner_id_is_not_ours(self):
        # A child in a session of its own, with a grandchild in its group.
        child = orphans.Child([sys.executable, '-c', textwrap.dedent('''
            import subprocess, sys, time
            subprocess.Popen(['sleep', '60'])
            print('started', flush=True)
            time.sleep(60)
            ''')])
        self.addCleanup(child.kill)
        child.stdout.wait_for(lambda x: x.startswith('started'), 30)
        started = orphans.Started(child.pid)
        self.assertEqual({child.pid}, started.groups)
        self.assertEqual(2, len(started.procs))
        os.killpg(child.pid, signal.SIGKILL)
        child.kill()
        started.wait_gone()
        # Somebody else's process, as recycled ids would make it look:
        # its group's id is one the snapshot noted, and it carries a mark
        # named after the child's pid (a watchdog of a later process that
        # got that pid).
        stranger = psutil.Popen(
            ['sleep', '60'], start_new_session=True,
            env=dict(os.environ, **{started.mark_prefix + 'feedbeef': '1'}))
        self.addCleanup(stranger.wait)
        self.addCleanup(stranger.kill)
        started.groups.add(stranger.pid)
        procs, _ = started.survivors()
        self.assertNotIn(stranger.pid, [p.pid for p in procs])
        started.kill_survivors()
        self.assertIsNone(stranger.poll())
        self.assertEqual(psutil.STATUS_SLEEPING, stranger.status())
