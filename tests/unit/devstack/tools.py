"""Paths of the DevStack plugin's Python tools (devstack/tools), which are
scripts, not a package: the tests load or run them by path."""

import importlib.util
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                    os.pardir, os.pardir))
TOOLS = os.path.join(ROOT, 'devstack', 'tools')


def path(name):
    """The path of tool ``name`` (``driver_check.py`` ...)."""
    return os.path.join(TOOLS, name)


def load(name):
    """Tool ``name`` as a module, for in-process tests of its functions."""
    spec = importlib.util.spec_from_file_location(
        'devstack_tool_' + name[:-3], path(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
