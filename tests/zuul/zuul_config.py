"""A project's Zuul configuration file, read two ways.

:func:`load` reads it as plain YAML whose mappings and keys remember their
line, for this project's own checks (:mod:`tests.zuul.checks`);
:func:`zuul_errors` hands the same text to Zuul's own configuration
parser (``zuul.configloader``, from the ``zuul`` package on PyPI), which
applies Zuul's voluptuous schemas and its per-stanza checks exactly as a
Zuul scheduler does when it loads a project's in-repo configuration.
"""

import types

import yaml


class LineStr(str):
    """A string read from the file that knows its (1-based) line."""

    line = 0


class LineDict(dict):
    """A mapping that knows the (1-based) line it starts on."""

    line = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings and strings carry their line numbers."""

    def construct_line_str(self, node):
        text = LineStr(self.construct_scalar(node))
        text.line = node.start_mark.line + 1
        return text

    def construct_mapping(self, node, deep=False):
        # Anchors merged with "<<" are flattened by the base class first.
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    'while constructing a mapping', node.start_mark,
                    'found duplicate key %r' % str(key),
                    key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _LineLoader.construct_mapping)
_LineLoader.add_constructor('tag:yaml.org,2002:str',
                            _LineLoader.construct_line_str)


class ZuulConfig(object):
    """The stanzas of one Zuul configuration file.

    Owns, read once from the file: ``jobs`` (name -> list of variants, each
    a :class:`LineDict`), ``nodesets`` (name -> body), ``projects`` (list of
    bodies) and ``path``.
    """

    def __init__(self, path, stanzas):
        self.path = path
        self.jobs = {}
        self.nodesets = {}
        self.projects = []
        for stanza in stanzas or ():
            if not isinstance(stanza, dict) or len(stanza) != 1:
                continue
            kind, body = next(iter(stanza.items()))
            if not isinstance(body, dict):
                continue
            if kind == 'job' and 'name' in body:
                self.jobs.setdefault(body['name'], []).append(body)
            elif kind == 'nodeset' and 'name' in body:
                self.nodesets[body['name']] = body
            elif kind == 'project':
                self.projects.append(body)

    def where(self, item):
        """``path:line`` of a mapping or string read from the file."""
        return '%s:%s' % (self.path, getattr(item, 'line', '?'))


def load(path, display=None):
    """Read the Zuul configuration file at ``path``.

    :param display: how messages name the file (default: ``path``).
    :raises yaml.YAMLError: not YAML (the message names file and line), or a
        mapping with a duplicate key.
    """
    with open(path) as stream:
        text = stream.read()
    return ZuulConfig(display or path, yaml.load(text, Loader=_LineLoader))


def zuul_errors(path, project='openstack/devstack-plugin-amqp1',
                branch='main', hostname='opendev.org'):
    """Zuul's own verdict on the file at ``path``: a list of messages.

    Parses the file with ``zuul.configloader`` as the in-repo configuration
    of ``project`` on ``branch``: Zuul's YAML loader (duplicate keys,
    anchors), then each stanza through its parser (job, nodeset, project,
    ...: the voluptuous schema, Ansible variable names, reserved variables,
    regexes, node and group names).  The parse context has no connections
    or tenant: what needs the tenant's layout (whether a parent job or
    nodeset exists, pipelines) is not checked here but by
    :mod:`tests.zuul.checks` against recorded names.
    """
    from zuul import configloader
    from zuul import model

    with open(path) as stream:
        text = stream.read()
    relative = path.rsplit('/', 1)[-1]
    source_context = model.SourceContext(
        '%s/%s' % (hostname, project), project, hostname, branch, relative)
    # A pipeline parser asks the connections for their trigger/reporter
    # schemas: none here (pipelines live in config projects anyway).
    parse_context = configloader.ParseContext(
        types.SimpleNamespace(connections={}), None, None, None)
    unparsed = model.UnparsedConfig()
    with parse_context.accumulator.catchErrors():
        unparsed.extend(configloader.safe_load_yaml(text, source_context))
    # TenantParser.parseConfig uses only the parse context it is given.
    parsed = configloader.TenantParser.parseConfig(
        None, unparsed, parse_context)
    errors = [error.error for error in parse_context.error_list]
    for name in sorted(vars(parsed)):
        if name.endswith('_errors'):
            errors.extend(error.error for error in getattr(parsed, name))
    return errors
