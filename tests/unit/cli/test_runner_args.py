"""``amqp1-fixtures run``'s command line: MODE, options and COMMAND."""

import argparse

import pytest

from amqp1_fixtures.cli import runner


def _parse(argv):
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    args = parser.parse_args(argv)
    return args, runner.split_rest(args)


@pytest.mark.parametrize('argv, command, daemons', [
    (['qpid-dual', '--', 'stestr', 'run'], ['stestr', 'run'], False),
    (['qpid-dual', '--daemons', '--', 'stestr', 'run'], ['stestr', 'run'],
     True),
    (['--daemons', 'qpid', '--', 'true'], ['true'], True),
    (['qpid', 'stestr', 'run'], ['stestr', 'run'], False),
    # tox's own "--" (its posargs) belongs to COMMAND
    (['qpid-dual', '--', 'tox', '-e', 'functional', '--', '-k', 'x'],
     ['tox', '-e', 'functional', '--', '-k', 'x'], False),
    (['qpid-dual', '--daemons', '--', 'tox', '-e', 'f', '--', '-x'],
     ['tox', '-e', 'f', '--', '-x'], True),
    (['qpid-dual', '--daemons'], [], True),
], ids=['command', 'options then command', 'options before mode',
        'no separator', 'command holding --', 'options, command holding --',
        'no command'])
def test_split(argv, command, daemons):
    args, found = _parse(argv)
    assert found == command
    assert args.daemons is daemons


def test_unknown_option_is_a_usage_error():
    with pytest.raises(SystemExit):
        _parse(['qpid-dual', '--bogus', '--', 'true'])


def test_notify_driver():
    args, command = _parse(['qpid-hybrid', '--notify-driver', 'amqp', '--',
                            'true'])
    assert (args.notify_driver, command) == ('amqp', ['true'])
    with pytest.raises(SystemExit):
        _parse(['qpid-hybrid', '--notify-driver', 'kafka', '--', 'true'])


def test_rabbitmq_mode():
    args, command = _parse(['rabbitmq', '--daemons', '--', 'true'])
    assert (args.mode, args.daemons) == ('rabbitmq', True)
    assert command == ['true']
