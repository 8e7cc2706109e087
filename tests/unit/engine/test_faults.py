"""Tests of amqp1_fixtures.engine.faults: which fault acts on which message."""

from proton import Message
import testtools

from amqp1_fixtures.engine import faults
from amqp1_fixtures.engine import stats as stats_mod


def encoded(subject):
    return Message(subject=subject, body='x').encode()


class TestFaultSet(testtools.TestCase):

    def test_empty_set_is_false_and_acts_on_nothing(self):
        found = faults.FaultSet()
        self.assertFalse(found)
        self.assertIsNone(found.for_message('a', encoded('s')))

    def test_first_matching_fault_acts(self):
        found = faults.FaultSet()
        other = faults.Fault(faults.DROP, address='other')
        boom = faults.Fault(faults.REJECT, address='exclusive',
                            match=lambda m: m.subject == 'boom')
        found.add(other)
        found.add(boom)
        self.assertTrue(found)
        self.assertIsNone(found.for_message('exclusive.x', encoded('ok')))
        self.assertIs(boom, found.for_message('exclusive.x',
                                              encoded('boom')))
        self.assertIs(other, found.for_message('other/y', encoded('ok')))
        self.assertEqual(1, boom.matched)

    def test_counted_fault_leaves_the_set_when_spent(self):
        found = faults.FaultSet()
        once = faults.Fault(faults.RELEASE, count=1)
        found.add(once)
        self.assertIs(once, found.for_message('a', encoded('s')))
        self.assertFalse(once.active)
        self.assertFalse(found)
        self.assertIsNone(found.for_message('a', encoded('s')))

    def test_withheld_credit_is_not_a_message_fault(self):
        found = faults.FaultSet()
        withhold = faults.Fault(faults.WITHHOLD_CREDIT, address='exclusive')
        found.add(withhold)
        self.assertTrue(found.withholds_credit('exclusive.a'))
        self.assertFalse(found.withholds_credit('unicast.a'))
        self.assertIsNone(found.for_message('exclusive.a', encoded('s')))
        withhold.remove()
        self.assertFalse(found.withholds_credit('exclusive.a'))

    def test_remove_tells_the_owner(self):
        removed = []
        fault = faults.Fault(faults.DROP, on_remove=removed.append)
        fault.remove()
        self.assertEqual([fault], removed)
        self.assertFalse(fault.active)


class TestAct(testtools.TestCase):

    def test_delay_hands_the_message_on_later(self):
        scheduled = []
        delivered = []
        fault = faults.Fault(faults.DELAY, delay=2.5)
        faults.act(fault, 'a', None, True, lambda: delivered.append(1),
                   stats_mod.Stats(),
                   lambda delay, func: scheduled.append((delay, func)))
        [(delay, func)] = scheduled
        self.assertEqual(2.5, delay)
        func()
        self.assertEqual([1], delivered)

    def test_presettled_message_is_dropped_whatever_the_action(self):
        stats = stats_mod.Stats()
        for action in (faults.DROP, faults.REJECT, faults.RELEASE):
            faults.act(faults.Fault(action), 'a', None, True, None, stats,
                       None)
        self.assertEqual(3, stats.address('a').dropped)
