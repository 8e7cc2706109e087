"""What the DevStack plugin reads, parsed from ``devstack/settings`` and
``devstack/lib/amqp1``: the variables a local.conf (a job's
``devstack_localrc``) may set, the DevStack services it names, the values
it accepts for its enumerated settings and the settings it takes as
booleans.

Nothing here is a hand-kept list of the plugin's settings: change the
plugin and the vocabulary follows.  Only bash's own special variables are
named here, because they are bash's, not the plugin's.
"""

import re

#: the plugin's files that define its vocabulary, relative to the checkout
SOURCES = ('devstack/settings', 'devstack/lib/amqp1')

#: variables bash itself sets; reading them says nothing about local.conf
_BASH_SPECIALS = frozenset((
    'BASH_REMATCH', 'BASH_SOURCE', 'BASH_LINENO', 'FUNCNAME', 'LINENO',
    'SECONDS', 'RANDOM', 'PIPESTATUS', 'IFS', 'OPTARG', 'OPTIND', 'PWD',
    'HOME', 'PATH', 'UID', 'EUID',
))

_READ = re.compile(r'\$\{?!?([A-Za-z_][A-Za-z0-9_]*)')
_TRUEORFALSE = re.compile(r'\btrueorfalse\s+\S+\s+([A-Za-z_][A-Za-z0-9_]*)')
_ASSIGN = re.compile(
    r'^\s*(?:(local|export|declare(?:\s+-\w+)*)\s+)?'
    r'([A-Za-z_][A-Za-z0-9_]*)=(.*)$')
_SERVICE_CALL = re.compile(
    r'\b(?:enable_service|disable_service|is_service_enabled)\s+([^;&|]+)')
_VALID_LIST = re.compile(
    r'^\s*(AMQP1_VALID_[A-Z0-9_]+)=["\']?([^"\'#]*)["\']?\s*$')


def _code_lines(text):
    """``(line number, line)`` of ``text`` without whole-line comments."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith('#'):
            yield number, line


def _self_defaulting(name, value):
    """Whether ``NAME=value`` keeps a value local.conf gave ``NAME``."""
    value = value.strip().strip('"')
    return (value.startswith('${%s:-' % name) or
            value.startswith('${%s-' % name) or
            re.match(r'\$\(trueorfalse\s+\S+\s+%s\)$' % name, value)
            is not None)


class PluginVocabulary(object):
    """The plugin's settings, services and accepted values.

    Owns four read-only facts, all parsed from :data:`SOURCES`:

    * ``settable``: upper-case variables the plugin reads whose value
      local.conf can give (read somewhere, and never assigned except as
      ``X=${X:-default}`` or ``X=$(trueorfalse default X)``);
    * ``services``: DevStack service names given literally to
      ``enable_service``, ``disable_service`` or ``is_service_enabled``;
    * ``choices``: for a setting ``AMQP1_<NAME>`` checked against a list
      ``AMQP1_VALID_<NAME>`` or ``AMQP1_VALID_<NAME>S``, that list;
    * ``booleans``: settings read through DevStack's ``trueorfalse``.
    """

    def __init__(self, texts):
        """:param texts: ``{relative path: file content}`` of the sources."""
        read, assigned_plainly = set(), set()
        services = set()
        lists = {}
        booleans = set()
        for path, text in sorted(texts.items()):
            for _number, line in _code_lines(text):
                read.update(_READ.findall(line))
                for name in _TRUEORFALSE.findall(line):
                    read.add(name)
                    booleans.add(name)
                match = _ASSIGN.match(line)
                if match:
                    scope, name, value = match.groups()
                    if scope or not _self_defaulting(name, value):
                        assigned_plainly.add(name)
                    valid = _VALID_LIST.match(line)
                    if valid:
                        lists[valid.group(1)] = tuple(valid.group(2).split())
                for call in _SERVICE_CALL.findall(line):
                    for word in call.split():
                        if '$' not in word and not word.startswith('-'):
                            services.add(word.strip('"\''))
        # local.conf settings are upper case; the plugin's function locals
        # are lower case (DevStack's convention, and this plugin's).
        self.settable = frozenset(
            name for name in read - assigned_plainly
            if name == name.upper() and not name.startswith('_') and
            name not in _BASH_SPECIALS)
        self.services = frozenset(services)
        self.booleans = frozenset(booleans)
        self.choices = {}
        for name in self.settable:
            suffix = name[len('AMQP1_'):]
            for candidate in ('AMQP1_VALID_' + suffix,
                              'AMQP1_VALID_' + suffix + 'S'):
                if candidate in lists:
                    self.choices[name] = lists[candidate]

    @classmethod
    def from_checkout(cls, root):
        """Parse the plugin of the checkout at ``root``."""
        texts = {}
        for relative in SOURCES:
            with open('%s/%s' % (root, relative)) as stream:
                texts[relative] = stream.read()
        return cls(texts)

    def problem_with_setting(self, name, value):
        """Why local.conf's ``name=value`` is wrong for the plugin, or None."""
        if name not in self.settable:
            return ('%s is not a setting the plugin reads (%s)'
                    % (name, ' or '.join(SOURCES)))
        text = str(value)
        if name in self.choices and text not in self.choices[name]:
            return ('%s=%s is not one of the values the plugin accepts: %s'
                    % (name, text, ', '.join(self.choices[name])))
        if name in self.booleans and text.lower() not in (
                'true', 'false', 'yes', 'no', '1', '0', 'on', 'off'):
            return ('%s=%s is not a boolean (the plugin reads it with '
                    'trueorfalse)' % (name, text))
        return None
