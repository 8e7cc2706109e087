"""The base of the config unit tests: a temp dir, files written into
it, and a check that a ConfigError names file, line and option."""

import os
import stat
import textwrap

import fixtures
import testtools

from amqp1_fixtures import exceptions

SASLDB_MESSAGE = ('Cyrus sasldb is not readable by the stand-in; '
                  'write a credentials file')


class ConfigTestCase(testtools.TestCase):
    """Base: a temp dir and helpers to write files and check errors."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o644):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, 'w') as f:
            f.write(textwrap.dedent(text))
        os.chmod(path, mode)  # test input only: the umask must not matter
        return path

    def assertConfigError(self, func, path, line, option, text):
        """``func`` raises ConfigError naming path, line and option."""
        err = self.assertRaises(exceptions.ConfigError, func)
        self.assertEqual((path, line, option), (err.path, err.line,
                                                err.option), str(err))
        self.assertIn(text, str(err))
        prefix = '%s:%s: ' % (path, line) if line else '%s: ' % path
        self.assertTrue(str(err).startswith(prefix), str(err))
        if option is not None:
            self.assertIn("option '%s'" % option, str(err))
        self.assertNotIn('\n', str(err))
        return err

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)
