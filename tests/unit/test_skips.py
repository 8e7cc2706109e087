"""amqp1_fixtures.skips: a skip in a fixture's setUp, nested or not,
reaches the caller as the SkipTest itself."""

import unittest

import fixtures
import testtools

from amqp1_fixtures import skips


class Absent(skips.SkippableFixture):
    """Starts a resource, then finds it cannot run."""

    def __init__(self, cleanup_fails=False):
        super().__init__()
        self.cleanup_fails = cleanup_fails
        self.cleaned = False

    def _setUp(self):
        self.addCleanup(self._cleanup)
        self.addDetail('log', testtools.content.text_content('started'))
        raise unittest.SkipTest('thing is not installed')

    def _cleanup(self):
        self.cleaned = True
        if self.cleanup_fails:
            raise OSError('cleanup failed')


class Outer(skips.SkippableFixture):
    """Uses another fixture, as Amqp1Service uses its backends."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def _setUp(self):
        self.useFixture(fixtures.TempDir())
        self.useFixture(self.inner)


class PlainOuter(fixtures.Fixture):
    """A fixture of somebody else's, without SkippableFixture."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def _setUp(self):
        self.useFixture(self.inner)


class TestSetupSkip(testtools.TestCase):

    def wrapped(self, fixture):
        return self.assertRaises(fixtures.MultipleExceptions,
                                 fixtures.Fixture.setUp, fixture)

    def test_bare_skip(self):
        skip = unittest.SkipTest('x')
        self.assertIs(skip, skips.setup_skip(skip))

    def test_other_errors(self):
        self.assertIsNone(skips.setup_skip(ValueError('x')))
        self.assertIsNone(skips.setup_skip(fixtures.MultipleExceptions()))

    def test_nested_skip_is_found(self):
        error = self.wrapped(PlainOuter(PlainOuter(Absent())))
        self.assertEqual('thing is not installed',
                         str(skips.setup_skip(error)))

    def test_a_failed_cleanup_is_not_hidden(self):
        error = self.wrapped(Absent(cleanup_fails=True))
        self.assertIsNone(skips.setup_skip(error))


class TestSkippableFixture(testtools.TestCase):

    def test_skip_is_raised_unwrapped_after_cleanup(self):
        fixture = Absent()
        err = self.assertRaises(unittest.SkipTest, fixture.setUp)
        self.assertEqual('thing is not installed', str(err))
        self.assertTrue(fixture.cleaned)
        # no details of something that did not run; cleanUp is harmless
        self.assertEqual({}, fixture.getDetails())
        fixture.cleanUp()

    def test_nested_skip_is_raised_unwrapped(self):
        inner = Absent()
        for outer in (Outer(inner), Outer(PlainOuter(Absent())),
                      Outer(Outer(inner))):
            err = self.assertRaises(unittest.SkipTest, outer.setUp)
            self.assertEqual('thing is not installed', str(err))
            self.assertEqual({}, outer.getDetails())
        self.assertTrue(inner.cleaned)

    def test_a_failed_cleanup_stays_an_error(self):
        err = self.assertRaises(fixtures.MultipleExceptions,
                                Absent(cleanup_fails=True).setUp)
        self.assertIsInstance(err.args[0][1], unittest.SkipTest)
        self.assertIsInstance(err.args[1][1], OSError)

    def test_a_test_using_it_is_skipped(self):
        class Case(testtools.TestCase):
            def test_it(self):
                self.useFixture(Outer(Absent()))

        result = testtools.TestResult()
        Case('test_it').run(result)
        self.assertEqual([], result.errors)
        self.assertEqual(['thing is not installed'],
                         list(result.skip_reasons))
