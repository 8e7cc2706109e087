"""RabbitMQ >= 4 as the AMQP 1.0 intermediary: wire facts, free of I/O.

Nothing here opens a socket: it tells the driver, for a peer that is
RabbitMQ 4 (:func:`is_rabbitmq4`, from the peer's Open), which v2 address
to send to or consume from for each kind of oslo.messaging target, and
which topology (queues, exchanges, bindings) must be declared first
through the ``/management`` node (:class:`ManagementRequest`): the
:class:`Addresser` is what the driver's I/O thread asks.  Names and
properties are those of oslo.messaging's rabbit driver (``impl_rabbit.py``
and ``amqpdriver.py`` on master), so an operator's RabbitMQ tools show
familiar topology and, where the message format allows, a ``rabbit://``
service and an ``amqp://`` one share it.

Design (what RabbitMQ 4.0.5 does, as tests/functional/
test_rabbitmq4_behaviour.py records it):

* **Detection.**  The Open's properties say ``product = RabbitMQ`` and
  ``version = 4.0.5`` (3.x with its AMQP 1.0 plugin says ``3.x``;
  qdrouterd ``qpid-dispatch-router``, qpidd ``qpid-cpp``).  The driver
  picks these addresses when :func:`is_rabbitmq4` is true, as it picks
  legacy or routable addresses for the others.

* **Refusals end the session, not the link.**  An attach to a missing
  queue or exchange, a malformed address, a dynamic source or a
  transaction coordinator ends the *whole session* with the condition
  (``amqp:not-found``, ``amqp:invalid-field``, ``amqp:not-implemented``);
  only a queue deleted under a consumer detaches just that link
  (``amqp:resource-deleted``).  So: declare before attaching; keep the
  management link pair in a session of its own; send replies through one
  anonymous-relay sender (null target, ``to`` per message), on which a
  missing reply queue only *releases* that message.

* **Sending.**  Every send goes to an exchange the sender has declared:
  ``/exchanges/<exchange>/<routing key>``.  An unroutable message (no
  server yet, no listener's queue) comes back ``released``: for a call or
  cast that is "no consumer"; for a notification it cannot happen, the
  sender declares the notification queue itself (as the rabbit driver's
  ``_publish_and_creates_default_queue`` does) so a listener that starts
  later still gets it.

* **RPC replies on 4.0 and 4.1** (no dynamic sources: ``amqp:not-
  implemented: Dynamic sources not supported``): the caller declares
  ``reply_<uuid hex>`` as the rabbit driver does (one per transport, the
  same across reconnects), consumes ``/queues/reply_<uuid>`` and puts that
  address in each request's ``reply-to`` (and ``_reply_q`` = the name,
  where a rabbit:// server looks).  Its properties are the rabbit
  driver's: transient (durable only with ``rabbit_transient_quorum_queue``,
  then a quorum queue) with ``x-expires`` = ``rabbit_transient_queues_ttl``
  -- the "transient non-exclusive" kind RabbitMQ 4 deprecates
  (``transient_nonexcl_queues``, still permitted by default in 4.0), which
  the rabbit driver declares too.  Being transient, nothing sent to it is
  written to disk (every message a proton client sends is durable to 4.0:
  proton leaves ``durable = false`` out of the header); being
  non-exclusive, it survives a reconnect (replies in flight are kept);
  ``x-expires`` removes it 30 minutes after its caller is gone.  On 4.2
  and later (:func:`has_direct_reply_to`) Direct Reply-To is used instead:
  a dynamic source with capability ``rabbitmq:volatile-queue`` (checked
  against RabbitMQ's documentation and the fake only: no 4.2 packaged).

* **Fanout**: exchange ``<topic>_fanout`` (fanout, auto-delete) and, per
  server, ``<topic>_fanout_<uuid hex>`` bound to it, with the reply
  queue's properties.

* **Notifications**: exchange = the target's or ``control_exchange``
  (topic); queue ``<topic>.<priority>`` (or the listener's pool) bound
  with that key, durable when ``amqp_durable_queues`` (or quorum) is set,
  as for the rabbit driver; sent durable when the queue is.

* **Cleanup**: a server's private queue (its fanout queue) is deleted
  when it stops (:attr:`ListenPlan.cleanup`), the reply queue when its
  transport is cleaned up; ``x-expires`` removes them when a process
  dies, as it does the rabbit driver's (which deletes neither).  The
  shared queues ``<topic>`` and ``<topic>.<server>`` are kept, as the
  rabbit driver keeps them.  A queue is deleted only once RabbitMQ
  answered its consumer's detach: 4.0.5 ends the consumer's *session*
  with ``amqp:internal-error`` when a detach reaches a queue being
  deleted.

* **rabbit:// and amqp:// on one RabbitMQ.**  The topology is shared
  (same names and properties for the same options); the message format
  is the rabbit driver's (:mod:`amqp1_driver.rabbit_codec`): a *data*
  section holding its JSON envelope (``content-type application/json``),
  ``_msg_id``/``_reply_q``/``_unique_id``/``_context_*`` in the body, and
  replies to ``/queues/<_reply_q>`` through the default exchange, beside
  the AMQP 1.0 ``message-id``, ``reply-to`` and ``correlation-id``.  So a
  rabbit:// service and an amqp:// one call, cast, fan out and notify each
  other, remote exceptions and call-monitor heartbeats included, and
  servers of both kinds share a topic's queue
  (tests/driver/functional/test_rabbitmq4_interop.py, on the real node).
  Sharing needs the same ``[oslo_messaging_rabbit]`` topology options
  (``amqp_durable_queues``, quorum...) on both sides, as between two
  rabbit:// services: otherwise RabbitMQ refuses the second declaration
  (409), which the driver reports at once.
"""

import dataclasses
import re
from urllib import parse

#: the product name in RabbitMQ's Open
PRODUCT = 'RabbitMQ'

#: the first version with AMQP 1.0 built in and v2 addresses
MIN_VERSION = (4, 0)

#: the first version with Direct Reply-To over AMQP 1.0
DIRECT_REPLY_TO_VERSION = (4, 2)

#: the management node's address
MANAGEMENT_ADDRESS = '/management'

#: statuses of a successful management request
OK_STATUSES = ('200', '201', '204')

#: the capability of a Direct Reply-To source (4.2+)
VOLATILE_QUEUE_CAPABILITY = 'rabbitmq:volatile-queue'


# --- the peer ----------------------------------------------------------------

def _props(properties):
    """Open properties with plain str keys (proton gives symbols)."""
    return {str(k): v for k, v in (properties or {}).items()}


def broker_version(properties):
    """RabbitMQ's version from an Open's properties, as a tuple of ints,
    or ``None`` when the peer is not RabbitMQ or says no version."""
    props = _props(properties)
    if str(props.get('product', '')) != PRODUCT:
        return None
    match = re.match(r'^(\d+)\.(\d+)(?:\.(\d+))?',
                     str(props.get('version', '')))
    if not match:
        return None
    return tuple(int(g or 0) for g in match.groups())


def is_rabbitmq4(properties):
    """Whether an Open's properties are RabbitMQ 4.0 or later's."""
    version = broker_version(properties)
    return bool(version and version[:2] >= MIN_VERSION)


def has_direct_reply_to(properties):
    """Whether the broker offers Direct Reply-To over AMQP 1.0 (4.2+)."""
    version = broker_version(properties)
    return bool(version and version[:2] >= DIRECT_REPLY_TO_VERSION)


# --- addresses ---------------------------------------------------------------

def _quote(name):
    return parse.quote(name, safe='')


def queue_address(name):
    """``/queues/<name>``: a v2 source or target."""
    if not name:
        raise ValueError('a queue address needs a name')
    return '/queues/%s' % _quote(name)


def exchange_address(exchange, routing_key=None):
    """``/exchanges/<exchange>[/<routing key>]``: a v2 target (the empty
    key when none is given)."""
    if not exchange:
        raise ValueError('the default exchange has no v2 exchange address')
    if routing_key is None:
        return '/exchanges/%s' % _quote(exchange)
    return '/exchanges/%s/%s' % (_quote(exchange), _quote(routing_key))


# --- options -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Options:
    """The rabbit driver's options that shape topology (same names and
    defaults as ``[oslo_messaging_rabbit]``)."""

    control_exchange: str = 'openstack'
    amqp_durable_queues: bool = False
    amqp_auto_delete: bool = False
    rabbit_quorum_queue: bool = False
    rabbit_transient_quorum_queue: bool = False
    rabbit_transient_queues_ttl: int = 1800
    rabbit_quorum_delivery_limit: int = 0
    rabbit_quorum_max_memory_length: int = 0
    rabbit_quorum_max_memory_bytes: int = 0

    @property
    def durable(self):
        """Durability of the shared queues and exchanges (quorum queues
        are always durable)."""
        return self.amqp_durable_queues or self.rabbit_quorum_queue


def queue_arguments(options, quorum, ttl=0):
    """A queue's ``x-`` arguments, as the rabbit driver's
    ``_get_queue_arguments`` builds them.

    :param quorum: a quorum queue, with the quorum options.
    :param ttl: ``x-expires`` in seconds (0: none).
    """
    args = {}
    if quorum:
        args['x-queue-type'] = 'quorum'
        for key, value in (
                ('x-delivery-limit', options.rabbit_quorum_delivery_limit),
                ('x-max-in-memory-length',
                 options.rabbit_quorum_max_memory_length),
                ('x-max-in-memory-bytes',
                 options.rabbit_quorum_max_memory_bytes)):
            if value:
                args[key] = value
    if ttl > 0:
        args['x-expires'] = ttl * 1000
    return args


# --- topology and management requests ----------------------------------------

@dataclasses.dataclass(frozen=True)
class ManagementRequest:
    """One HTTP-over-AMQP request: message ``subject`` = :attr:`method`,
    ``to`` = :attr:`path`, amqp-value body :attr:`body` (``None`` is sent
    as an amqp-value null: a request with no body section ends RabbitMQ
    4.0's session), ``reply-to`` = ``$me``."""

    method: str
    path: str
    body: object = None


@dataclasses.dataclass(frozen=True)
class QueueSpec:
    """A queue to declare."""

    name: str
    durable: bool
    exclusive: bool = False
    auto_delete: bool = False
    arguments: tuple = ()

    def declare(self):
        """The ``PUT /queues/<name>`` request."""
        return ManagementRequest('PUT', '/queues/%s' % _quote(self.name), {
            'durable': self.durable, 'exclusive': self.exclusive,
            'auto_delete': self.auto_delete,
            'arguments': dict(self.arguments)})

    def delete(self):
        """The ``DELETE /queues/<name>`` request."""
        return ManagementRequest('DELETE', '/queues/%s' % _quote(self.name))


@dataclasses.dataclass(frozen=True)
class ExchangeSpec:
    """An exchange to declare."""

    name: str
    type: str
    durable: bool
    auto_delete: bool = False

    def declare(self):
        """The ``PUT /exchanges/<name>`` request."""
        return ManagementRequest(
            'PUT', '/exchanges/%s' % _quote(self.name), {
                'type': self.type, 'durable': self.durable,
                'auto_delete': self.auto_delete, 'internal': False,
                'arguments': {}})


@dataclasses.dataclass(frozen=True)
class BindingSpec:
    """A queue bound to an exchange with a key."""

    exchange: str
    queue: str
    key: str

    def declare(self):
        """The ``POST /bindings`` request."""
        return ManagementRequest('POST', '/bindings', {
            'source': self.exchange, 'destination_queue': self.queue,
            'binding_key': self.key, 'arguments': {}})


class ManagementError(Exception):
    """The management node refused a request.

    :param request: the :class:`ManagementRequest`.
    :param status: the response's status (subject).
    :param text: its body (RabbitMQ's explanation).
    """

    def __init__(self, request, status, text):
        super().__init__('%s %s: %s %s' % (request.method, request.path,
                                           status, text))
        self.request = request
        self.status = status
        self.text = text


def check_response(request, status, body):
    """Return ``body`` of a successful response to ``request``.

    :raises ManagementError: any status but 200, 201 and 204 (409: a
        declaration not equivalent to what exists, e.g. another service
        declared the queue with other options).
    """
    if status not in OK_STATUSES:
        raise ManagementError(request, status, body)
    return body


@dataclasses.dataclass(frozen=True)
class SendPlan:
    """Where a message goes and what must exist first.

    :ivar address: the v2 target (a link's target, or ``to`` on an
        anonymous-relay link).
    :ivar declare: specs to declare, in order, before the first send.
    :ivar durable: send the message durable (header ``durable``).
    """

    address: str
    declare: tuple = ()
    durable: bool = False

    def requests(self):
        """The management requests of :attr:`declare`."""
        return [spec.declare() for spec in self.declare]


@dataclasses.dataclass(frozen=True)
class ListenPlan:
    """What a server or listener consumes and what must exist first.

    :ivar sources: v2 source addresses to attach receivers to.
    :ivar declare: specs to declare, in order, before attaching.
    :ivar cleanup: specs to delete when it stops (its private queues).
    :ivar reply_to: for a reply queue, the ``reply-to`` of requests.
    """

    sources: tuple
    declare: tuple = ()
    cleanup: tuple = ()
    reply_to: str = None

    def requests(self):
        """The management requests of :attr:`declare`."""
        return [spec.declare() for spec in self.declare]

    def cleanup_requests(self):
        """The management requests deleting :attr:`cleanup`."""
        return [spec.delete() for spec in self.cleanup]


def _rpc_exchange(options, exchange):
    return ExchangeSpec(exchange or options.control_exchange, 'topic',
                        options.durable, options.amqp_auto_delete)


def _fanout_exchange(options, topic):
    return ExchangeSpec('%s_fanout' % topic, 'fanout',
                        options.rabbit_transient_quorum_queue,
                        auto_delete=True)


def _shared_queue(options, name):
    # The rabbit driver's topic consumer queue: shared by every server
    # (and a rabbit:// one) of the topic, so the same properties.
    return QueueSpec(name, options.durable,
                     auto_delete=options.amqp_auto_delete,
                     arguments=tuple(sorted(queue_arguments(
                         options, options.rabbit_quorum_queue).items())))


def _private_queue(options, name):
    # The rabbit driver's reply and fanout queues: transient unless
    # quorum, expiring once unused.
    quorum = options.rabbit_transient_quorum_queue
    return QueueSpec(name, quorum, arguments=tuple(sorted(queue_arguments(
        options, quorum, options.rabbit_transient_queues_ttl).items())))


def rpc_send(topic, server=None, fanout=False, exchange=None,
             options=Options()):
    """A call or cast: to a topic, to one server of it, or to all.

    :param exchange: the target's exchange (default control_exchange).
    """
    if not topic:
        raise ValueError('an RPC target needs a topic')
    if fanout:
        spec = _fanout_exchange(options, topic)
        return SendPlan(exchange_address(spec.name), (spec,))
    spec = _rpc_exchange(options, exchange)
    key = '%s.%s' % (topic, server) if server else topic
    return SendPlan(exchange_address(spec.name, key), (spec,))


def rpc_listen(topic, server, unique, exchange=None, options=Options()):
    """An RPC server's queues: ``<topic>``, ``<topic>.<server>`` and its
    own ``<topic>_fanout_<unique>``.

    :param unique: a hex uuid of the server instance.
    """
    if not topic or not server:
        raise ValueError('an RPC server needs a topic and a server')
    rpc = _rpc_exchange(options, exchange)
    fanout = _fanout_exchange(options, topic)
    shared = [_shared_queue(options, topic),
              _shared_queue(options, '%s.%s' % (topic, server))]
    own = _private_queue(options, '%s_fanout_%s' % (topic, unique))
    declare = (rpc, shared[0], BindingSpec(rpc.name, shared[0].name, topic),
               shared[1], BindingSpec(rpc.name, shared[1].name,
                                      shared[1].name),
               fanout, own, BindingSpec(fanout.name, own.name, topic))
    return ListenPlan(tuple(queue_address(q.name)
                            for q in shared + [own]),
                      declare, cleanup=(own,))


def reply_queue(unique, options=Options()):
    """A caller's reply queue ``reply_<unique>`` (4.0 and 4.1)."""
    spec = _private_queue(options, 'reply_%s' % unique)
    address = queue_address(spec.name)
    return ListenPlan((address,), (spec,), cleanup=(spec,),
                      reply_to=address)


def reply_address(reply_to=None, reply_queue_name=None):
    """Where a server sends a reply, as ``to`` on its anonymous-relay
    sender: the request's ``reply-to``, else the ``_reply_q`` a rabbit://
    caller put in its message (a queue on the default exchange)."""
    if reply_to:
        return reply_to
    if reply_queue_name:
        return queue_address(reply_queue_name)
    raise ValueError('a request without reply-to or _reply_q')


def notify_send(topic, priority, exchange=None, options=Options()):
    """A notification: the exchange and the ``<topic>.<priority>`` queue
    bound to it are declared by the sender, so nothing is lost before a
    listener comes."""
    key = '%s.%s' % (topic, priority)
    spec = _rpc_exchange(options, exchange)
    queue = _shared_queue(options, key)
    return SendPlan(exchange_address(spec.name, key),
                    (spec, queue, BindingSpec(spec.name, key, key)),
                    durable=queue.durable)


def notify_listen(topic, priority, exchange=None, pool=None,
                  options=Options()):
    """A notification listener: queue ``<topic>.<priority>`` (or its
    pool's) bound to the exchange with ``<topic>.<priority>``."""
    key = '%s.%s' % (topic, priority)
    spec = _rpc_exchange(options, exchange)
    queue = _shared_queue(options, pool or key)
    return ListenPlan((queue_address(queue.name),),
                      (spec, queue, BindingSpec(spec.name, queue.name, key)))


def notify_listen_key(key, exchange=None, pool=None, options=Options()):
    """:func:`notify_listen` of a ``<topic>.<priority>`` key (what the
    driver's notification targets carry)."""
    spec = _rpc_exchange(options, exchange)
    queue = _shared_queue(options, pool or key)
    return ListenPlan((queue_address(queue.name),),
                      (spec, queue, BindingSpec(spec.name, queue.name, key)))


# --- the driver's addresser ----------------------------------------------

#: oslo.messaging's delivery patterns, as the driver's listeners name them
UNICAST, MULTICAST, ANYCAST = 'unicast', 'multicast', 'anycast'
#: services
RPC, NOTIFY = 'rpc', 'notify'


class Addresser:
    """Addresses and topology for the driver on a RabbitMQ >= 4 peer.

    The counterpart of the driver's legacy and routable addressers
    (:mod:`amqp1_driver.addressing`): :meth:`send_plan` for a message,
    :meth:`listen_plan` for a listener's links; each names the v2
    addresses and what to declare first.

    :param options: :class:`Options` (the rabbit driver's).
    :param rpc_exchange: ``default_rpc_exchange`` (wins over
        ``control_exchange``).
    :param notify_exchange: ``default_notification_exchange``.
    """

    rabbitmq = True
    routable = False

    def __init__(self, options=Options(), rpc_exchange=None,
                 notify_exchange=None):
        self.options = options
        self._exchange = {RPC: rpc_exchange or None,
                          NOTIFY: notify_exchange or None}

    def _exchange_of(self, target, service):
        return target.exchange or self._exchange[service]

    def send_plan(self, target, service=RPC):
        """The :class:`SendPlan` of a message to ``target``."""
        exchange = self._exchange_of(target, service)
        if service == NOTIFY:
            topic, _, priority = target.topic.rpartition('.')
            return notify_send(topic, priority, exchange, self.options)
        return rpc_send(target.topic, None if target.fanout else
                        target.server, target.fanout, exchange,
                        self.options)

    def resolve(self, target, service=RPC):
        """The address a message to ``target`` is sent to."""
        return self.send_plan(target, service).address

    def listen_plan(self, specs, unique):
        """What a listener's links consume and what to declare first.

        :param specs: ``(target, pattern, service)`` triples: an RPC
            server's three (unicast, multicast, anycast of one target),
            or one anycast per notification ``<topic>.<priority>``.
        :param unique: a hex uuid of the listener (its fanout queue).
        :returns: ``(addresses, declare, cleanup)``: the source address of
            each spec, in order, and the specs to declare first and to
            delete when the listener stops.
        """
        addresses, declare, cleanup = [], [], []
        rpc_done = {}
        for target, pattern, service in specs:
            exchange = self._exchange_of(target, service)
            if service == NOTIFY:
                plan = notify_listen_key(target.topic, exchange,
                                         options=self.options)
                addresses.append(plan.sources[0])
                _extend(declare, plan.declare)
                continue
            key = (target.topic, target.server, exchange)
            plan = rpc_done.get(key)
            if plan is None:
                plan = rpc_done[key] = rpc_listen(
                    target.topic, target.server, unique, exchange,
                    self.options)
                _extend(declare, plan.declare)
                _extend(cleanup, plan.cleanup)
            anycast, unicast, multicast = plan.sources
            addresses.append({UNICAST: unicast, MULTICAST: multicast,
                              ANYCAST: anycast}[pattern])
        return tuple(addresses), tuple(declare), tuple(cleanup)


def _extend(into, specs):
    for spec in specs:
        if spec not in into:
            into.append(spec)


def options_from(rabbit_group=None, control_exchange=None):
    """:class:`Options` from ``[oslo_messaging_rabbit]`` (any object with
    the option names; missing ones keep their defaults) and ``[DEFAULT]
    control_exchange``."""
    values = {}
    for field in dataclasses.fields(Options):
        if field.name == 'control_exchange':
            continue
        value = getattr(rabbit_group, field.name, None) \
            if rabbit_group is not None else None
        if value is not None:
            values[field.name] = value
    if control_exchange:
        values['control_exchange'] = control_exchange
    return Options(**values)
