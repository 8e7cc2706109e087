"""Selectors, table-driven and without sockets."""

from proton import Message
from proton import symbol
from proton import ulong
import testtools

from amqp1_fixtures.broker.selector import compile_selector
from amqp1_fixtures.broker.selector import is_selector_descriptor
from amqp1_fixtures.broker.selector import SelectorError


def msg(**props):
    return Message(body='b', properties=props, subject='subj', id='m1',
                   priority=7)


class TestSelector(testtools.TestCase):

    def test_table(self):
        m = msg(colour='red', size=5, ratio=0.5, ok=True, name="it's")
        for text, expected in (
                ("colour = 'red'", True),
                ("colour <> 'red'", False),
                ("size > 3 AND colour = 'red'", True),
                ("size > 7 OR colour = 'blue'", False),
                ("NOT size > 7", True),
                ("size BETWEEN 1 AND 5", True),
                ("size NOT BETWEEN 1 AND 5", False),
                ("colour IN ('blue', 'red')", True),
                ("colour NOT IN ('blue', 'red')", False),
                ("colour LIKE 'r%'", True),
                ("colour LIKE 'r_d'", True),
                ("colour NOT LIKE '%e%'", False),
                ("name LIKE 'it''s'", True),
                ("'50%' LIKE '50\\%' ESCAPE '\\'", True),
                ("missing IS NULL", True),
                ("colour IS NOT NULL", True),
                ("missing = 'x'", False),           # unknown
                ("NOT missing = 'x'", False),       # still unknown
                ("missing = 'x' OR size = 5", True),
                ("size * 2 + 1 = 11", True),
                ("-size < 0", True),
                ("ratio < 1", True),
                ("size / 2 = 2", True),
                ("ok = TRUE", True),
                ("ok", True),
                ("\"colour\" = 'red'", True),
                ("size = 'red'", False),            # different types
                ("NOT size = 'red'", True),
                ("size <> 'red'", False),
                ("NOT size < 'red'", True),
                ("amqp.subject = 'subj'", True),
                ("amqp.message_id = 'm1'", True),
                ("amqp.priority > 4", True),
                ("amqp.redelivered = FALSE", True),
                ("(colour = 'blue' OR size = 5) AND ratio > 0.1", True),
                ("0x10 = 16 AND 1.5e1 = 15", True)):
            self.assertEqual(expected, compile_selector(text)(m), text)

    def test_errors_say_where(self):
        for text, part in (("colour = ", 'expected a value'),
                           ("colour 'red'", 'expected AND, OR'),
                           ("(size > 1", 'expected )'),
                           ("size NOT = 1", 'after NOT'),
                           ("a LIKE 'x' ESCAPE 'ab'", 'one character'),
                           ("colour = #", 'unexpected')):
            error = self.assertRaises(SelectorError, compile_selector, text)
            self.assertIn(part, str(error))


class TestSelectorDescriptor(testtools.TestCase):

    def test_symbolic_and_numeric(self):
        """The filter's descriptor as proton decodes it: a symbol, or the
        ulong 0x0000468C00000004 that rhea and JMS clients send."""
        for descriptor, expected in (
                (symbol('apache.org:selector-filter:string'), True),
                (ulong(0x0000468C00000004), True),
                (symbol('apache.org:legacy-amqp-topic-binding:string'),
                 False),
                (ulong(0x0000468C00000001), False),
                (None, False)):
            self.assertEqual(expected, is_selector_descriptor(descriptor),
                             repr(descriptor))
