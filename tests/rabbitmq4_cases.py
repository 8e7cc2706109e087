"""RabbitMQ 4.0's management node, as a table: requests in order and what
the real broker answers to each (checked against rabbitmq-server 4.0.5 by
tests/functional/test_rabbitmq4_behaviour.py, which runs every case on the
real node).  tests/unit/rabbit/test_topology.py runs the same cases on
the in-process model (amqp1_fixtures.rabbit.topology), so the model
answers what the broker answers.

Each case is ``(id, steps)``; a step is ``(method, path, body, status,
expected)``.  ``{q}``, ``{q2}`` and ``{x}`` in paths, bodies and expected
values stand for names unique to the run.  ``status`` is the response's
subject (``'201'``...), or ``'end'`` when the broker ends the session
instead of answering, ``expected`` then being the condition name.
``expected`` is a dict (the body must contain those items), a list (the
body must equal it), a str (the body must equal it), ``None`` (the body
is null) or ``ANY``.
"""

import uuid

#: expected: the body is not checked
ANY = object()


def unique_names():
    """Values for ``{q}``, ``{q2}`` and ``{x}``, new each call."""
    tag = uuid.uuid4().hex[:12]
    return {'{q}': 'mq.' + tag, '{q2}': 'mq2.' + tag, '{x}': 'mx.' + tag}


def fill(value, names):
    """``value`` with the placeholders of ``names`` replaced, in strings,
    dict keys and values, and lists."""
    if isinstance(value, str):
        for key, name in names.items():
            value = value.replace(key, name)
        return value
    if isinstance(value, dict):
        return {fill(k, names): fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def check_body(body, expected):
    """Assert that a response's ``body`` matches ``expected``."""
    if expected is ANY:
        return
    if isinstance(expected, dict):
        assert isinstance(body, dict), body
        assert {k: body.get(k) for k in expected} == expected, body
    else:
        assert body == expected


_QUEUE = {'durable': True, 'exclusive': False, 'auto_delete': False,
          'arguments': {}}

CASES = [
    ('queue-declare-redeclare-delete', [
        ('PUT', '/queues/{q}', _QUEUE, '201', {
            'name': '{q}', 'vhost': '/', 'durable': True,
            'auto_delete': False, 'exclusive': False, 'type': 'classic',
            'arguments': {'x-queue-type': 'classic'}, 'message_count': 0,
            'consumer_count': 0}),
        ('PUT', '/queues/{q}', _QUEUE, '200',
         {'name': '{q}', 'type': 'classic'}),
        ('PUT', '/queues/{q}', {'durable': False}, '409',
         "inequivalent arg 'durable' for queue '{q}' in vhost '/': "
         "received 'false' but current is 'true'"),
        ('GET', '/queues/{q}', None, '200',
         {'name': '{q}', 'durable': True}),
        ('DELETE', '/queues/{q}', None, '200', {'message_count': 0}),
        ('DELETE', '/queues/{q}', None, '200', {'message_count': 0}),
        ('GET', '/queues/{q}', None, '404',
         "queue '{q}' in vhost '/' not found"),
    ]),
    ('queue-defaults', [
        ('PUT', '/queues/{q}', {}, '201', {
            'durable': True, 'exclusive': False, 'auto_delete': False,
            'type': 'classic', 'arguments': {'x-queue-type': 'classic'}}),
    ]),
    ('queue-quorum', [
        ('PUT', '/queues/{q}', {'arguments': {'x-queue-type': 'quorum'}},
         '201', {'type': 'quorum', 'durable': True,
                 'arguments': {'x-queue-type': 'quorum'}}),
        ('PUT', '/queues/{q}', {}, '409',
         "inequivalent arg 'x-queue-type' for queue '{q}' in vhost '/': "
         "received 'classic' but current is 'quorum'"),
    ]),
    ('queue-quorum-transient', [
        ('PUT', '/queues/{q}', {'durable': False,
                                'arguments': {'x-queue-type': 'quorum'}},
         '400', "invalid property 'non-durable' for queue '{q}' in "
         "vhost '/'"),
    ]),
    ('queue-quorum-exclusive', [
        ('PUT', '/queues/{q}', {'exclusive': True,
                                'arguments': {'x-queue-type': 'quorum'}},
         '400', "invalid property 'exclusive-owner' for queue '{q}' in "
         "vhost '/'"),
    ]),
    ('queue-quorum-auto-delete', [
        ('PUT', '/queues/{q}', {'auto_delete': True,
                                'arguments': {'x-queue-type': 'quorum'}},
         '400', "invalid property 'auto-delete' for queue '{q}' in "
         "vhost '/'"),
    ]),
    ('queue-inequivalent-expiry', [
        ('PUT', '/queues/{q}', {'arguments': {'x-expires': 1000}}, '201',
         ANY),
        ('PUT', '/queues/{q}', {'arguments': {'x-expires': 2000}}, '409',
         "inequivalent arg 'x-expires' for queue '{q}' in vhost '/': "
         "received '2000' but current is '1000'"),
        ('PUT', '/queues/{q}', {}, '409',
         "inequivalent arg 'x-expires' for queue '{q}' in vhost '/': "
         "received none but current is the value '1000' of type 'long'"),
    ]),
    ('queue-inequivalent-auto-delete', [
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('PUT', '/queues/{q}', {'auto_delete': True}, '409',
         "inequivalent arg 'auto_delete' for queue '{q}' in vhost '/': "
         "received 'true' but current is 'false'"),
    ]),
    ('exchange-inequivalent-durable', [
        ('PUT', '/exchanges/{x}', {'type': 'topic', 'durable': False},
         '204', None),
        ('PUT', '/exchanges/{x}', {'type': 'topic'}, '409',
         "inequivalent arg 'durable' for exchange '{x}' in vhost '/': "
         "received 'true' but current is 'false'"),
    ]),
    ('queue-transient-exclusive-expiring', [
        ('PUT', '/queues/{q}', {'durable': False, 'exclusive': True,
                                'auto_delete': True,
                                'arguments': {'x-expires': 60000}},
         '201', {'durable': False, 'exclusive': True, 'auto_delete': True,
                 'arguments': {'x-expires': 60000,
                               'x-queue-type': 'classic'}}),
    ]),
    ('queue-reserved-name', [
        ('PUT', '/queues/amq.{q}', {}, '403',
         "queue 'amq.{q}' in vhost '/' starts with reserved prefix 'amq.'"),
    ]),
    ('queue-empty-name', [
        ('PUT', '/queues/', {}, '400',
         'declare queue with empty name not allowed'),
    ]),
    ('queue-name-with-slash', [
        ('PUT', '/queues/{q}%2Fa', {}, '201', {'name': '{q}/a'}),
        ('GET', '/queues/{q}%2Fa', None, '200', {'name': '{q}/a'}),
    ]),
    ('queue-purge', [
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('DELETE', '/queues/{q}/messages', None, '200',
         {'message_count': 0}),
    ]),
    ('queue-purge-missing', [
        ('DELETE', '/queues/{q}/messages', None, '400',
         "no queue '{q}' in vhost '/'"),
    ]),
    ('exchange-declare-redeclare-delete', [
        ('PUT', '/exchanges/{x}', {'type': 'fanout', 'durable': False},
         '204', None),
        ('PUT', '/exchanges/{x}', {'type': 'fanout', 'durable': False},
         '204', None),
        ('PUT', '/exchanges/{x}', {'type': 'topic', 'durable': False},
         '409', "inequivalent arg 'type' for exchange '{x}' in vhost '/': "
         "received 'topic' but current is 'fanout'"),
        ('DELETE', '/exchanges/{x}', None, '204', None),
        ('DELETE', '/exchanges/{x}', None, '204', None),
    ]),
    ('exchange-unknown-type', [
        ('PUT', '/exchanges/{x}', {'type': 'bogus'}, '400',
         "unknown exchange type 'bogus'"),
    ]),
    ('exchange-predeclared', [
        ('PUT', '/exchanges/amq.topic', {'type': 'topic'}, '204', None),
        ('PUT', '/exchanges/amq.{x}', {'type': 'topic'}, '403',
         "exchange 'amq.{x}' in vhost '/' starts with reserved prefix "
         "'amq.'"),
    ]),
    ('exchange-default', [
        ('PUT', '/exchanges/', {'type': 'direct'}, '403',
         'operation not permitted on the default exchange'),
    ]),
    ('exchange-auto-delete-goes-with-its-last-binding', [
        ('PUT', '/exchanges/{x}', {'type': 'fanout', 'auto_delete': True},
         '204', None),
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('POST', '/bindings', {'source': '{x}', 'destination_queue': '{q}',
                               'binding_key': '', 'arguments': {}},
         '204', None),
        ('DELETE', '/queues/{q}', None, '200', {'message_count': 0}),
        # Gone: declaring it with another type is no conflict.
        ('PUT', '/exchanges/{x}', {'type': 'direct'}, '204', None),
    ]),
    ('exchange-auto-delete-before-any-binding', [
        ('PUT', '/exchanges/{x}', {'type': 'fanout', 'auto_delete': True},
         '204', None),
        ('PUT', '/exchanges/{x}', {'type': 'direct', 'auto_delete': True},
         '409', "inequivalent arg 'type' for exchange '{x}' in vhost '/': "
         "received 'direct' but current is 'fanout'"),
    ]),
    ('bindings', [
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('PUT', '/exchanges/{x}', {'type': 'topic'}, '204', None),
        ('POST', '/bindings', {'source': '{x}', 'destination_queue': '{q}',
                               'binding_key': 'a.*', 'arguments': {}},
         '204', None),
        ('POST', '/bindings', {'source': '{x}', 'destination_queue': '{q}',
                               'binding_key': 'a.*', 'arguments': {}},
         '204', None),
        ('GET', '/bindings?src={x}&dstq={q}&key=a.%2A', None, '200', [
            {'source': '{x}', 'destination_queue': '{q}',
             'binding_key': 'a.*', 'arguments': {},
             'location': '/bindings/src={x};dstq={q};key=a.%2A;args='}]),
        ('DELETE', '/bindings/src={x};dstq={q};key=a.%2A;args=', None,
         '204', None),
        ('DELETE', '/bindings/src={x};dstq={q};key=a.%2A;args=', None,
         '204', None),
        ('GET', '/bindings?src={x}&dstq={q}&key=a.%2A', None, '200', []),
    ]),
    ('binding-missing-exchange', [
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('POST', '/bindings', {'source': '{x}', 'destination_queue': '{q}',
                               'binding_key': 'k', 'arguments': {}},
         '400', "no exchange '{x}' in vhost '/'"),
    ]),
    ('binding-missing-queue', [
        ('PUT', '/exchanges/{x}', {'type': 'direct'}, '204', None),
        ('POST', '/bindings', {'source': '{x}', 'destination_queue': '{q}',
                               'binding_key': 'k', 'arguments': {}},
         '400', "no queue '{q}' in vhost '/'"),
    ]),
    ('binding-to-default-exchange', [
        ('PUT', '/queues/{q}', {}, '201', ANY),
        ('POST', '/bindings', {'source': '', 'destination_queue': '{q}',
                               'binding_key': 'k', 'arguments': {}},
         '403', 'operation not permitted on the default exchange'),
    ]),
    ('request-without-body-section', [
        ('GET', '/queues/{q}', 'NO-BODY-SECTION', 'end',
         'amqp:internal-error'),
    ]),
    ('unknown-method', [
        ('PATCH', '/queues/{q}', None, 'end', 'amqp:internal-error'),
    ]),
    ('bindings-query-without-destination', [
        ('GET', '/bindings?src={x}&key=k', None, 'end',
         'amqp:internal-error'),
    ]),
]


#: topic exchange matching: (binding key, routing key, matches), each
#: checked on the real broker (a message with the routing key is
#: accepted when a queue bound with the binding key gets it, released
#: otherwise)
TOPIC_MATCHES = [
    ('a.b', 'a.b', True),
    ('a.b', 'a.c', False),
    ('a.*', 'a.b', True),
    ('a.*', 'a', False),
    ('a.*', 'a.b.c', False),
    ('*', 'a', True),
    ('*', '', False),
    ('a.#', 'a', True),
    ('a.#', 'a.b.c', True),
    ('a.#', 'b.a', False),
    ('#', '', True),
    ('#', 'a.b', True),
    ('#.c', 'c', True),
    ('#.c', 'a.b.c', True),
    ('a.#.c', 'a.c', True),
    ('a.#.c', 'a.x.y.c', True),
    ('a.#.c', 'a.x.y', False),
    ('*.*', 'a', False),
    ('*.#', 'a', True),
    ('', '', True),
    ('', 'a', False),
    ('a..b', 'a..b', True),
    ('a.*.b', 'a..b', True),
]
