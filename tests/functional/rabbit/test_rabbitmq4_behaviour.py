"""RabbitMQ 4.0's AMQP 1.0 behaviour, written down as tests.

Every scenario is a plain proton client (tests.functional.proton_clients,
and pika for the AMQP 0-9-1 side) over TCP, and runs once per
implementation, one test id per implementation, as test_behaviour.py does
for FakeRouter/qdrouterd: the in-process fake (``FakeRabbitMQ``) and the
real RabbitMQ 4 (``rabbitmq4``, the node of tools/rabbitmq4-setup.sh,
skipped with the reason where absent).  Where the fake still differs, its
row is a strict xfail listed in :data:`DIFFERENCES`; the AMQP 0-9-1
scenarios (pika) have the real row only: the fake speaks AMQP 1.0 alone.

Every assertion was first observed on rabbitmq-server 4.0.5 (Debian 13,
Erlang 27).  One node serves a whole module (it takes seconds to start);
each test uses names of its own.
"""

import json

import pika
import pytest
from proton import Data
from proton import Message
from proton import symbol
from proton import Terminus

from amqp1_fixtures.daemons import rabbitmq4
from amqp1_fixtures.rabbit import FakeRabbitMQ
from tests.functional import proton_clients
from tests.functional import rabbitmq4_clients
from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import MODIFIED
from tests.functional.proton_clients import REJECTED
from tests.functional.proton_clients import RELEASED
from tests.functional.proton_clients import unique
from tests.functional.rabbitmq4_clients import Management
from tests.functional.rabbitmq4_clients import quote
from tests import rabbitmq4_cases

IMPLS = ('FakeRabbitMQ', 'rabbitmq4')
#: the implementations that speak AMQP 0-9-1 too
AMQP_091_IMPLS = ('rabbitmq4',)
#: scenario -> why a fake still differs from the real broker
DIFFERENCES = {
    'credit-before-attach': (
        "RabbitMQ 4.0.5's sending links start at delivery-count 2**32-5, "
        'so a flow sent before its attach answer (reckoned from 0) grants '
        '5 credits more than asked (measured: 2 -> 7, 1 -> 6, 7 -> 12); '
        'proton, the engine of the fake, has no way to set a sending '
        "link's initial delivery-count"),
}
FAKES = ('FakeRabbitMQ',)

#: the user an ANONYMOUS login acts as on the module's node
ANONYMOUS_USER = 'anonymous-client'

#: transaction coordinator capability and delivery state (AMQP 1.0 s4.5)
LOCAL_TRANSACTIONS = 'amqp:local-transactions'


def rows(scenario=None, impls=IMPLS):
    """One ``backend`` parameter per implementation of ``impls``."""
    reason = DIFFERENCES.get(scenario)
    params = []
    for impl in impls:
        marks = ()
        if reason and impl in FAKES:
            marks = pytest.mark.xfail(strict=True, reason=reason)
        params.append(pytest.param(impl, id=impl, marks=marks))
    return params


def _make(impl):
    users = {'amqp1fx': 'amqp1fx-behaviour-secret',
             ANONYMOUS_USER: 'anonymous-client-secret'}
    if impl == 'FakeRabbitMQ':
        return FakeRabbitMQ(users=users, anonymous_user=ANONYMOUS_USER)
    if impl == 'rabbitmq4':
        if not rabbitmq4.find_rabbitmq4_server():
            pytest.skip(rabbitmq4.absent_reason())
        return rabbitmq4.RabbitMQ4Daemon(users=users,
                                         anonymous_user=ANONYMOUS_USER)
    raise ValueError(impl)


@pytest.fixture(scope='module')
def backend(request):
    """The implementation the row names, started once per module."""
    server = _make(request.param)
    server.setUp()
    yield server
    server.cleanUp()


def _url(backend):
    return 'amqp://127.0.0.1:%d' % backend.port


def connect(clients, backend, **kwargs):
    """A connection as the node's first user (SASL PLAIN)."""
    kwargs.setdefault('user', backend.user)
    kwargs.setdefault('password', backend.password)
    kwargs.setdefault('allowed_mechs', 'PLAIN')
    return clients.connect(_url(backend), **kwargs)


def ended(link):
    """The condition that ended ``link`` or its session: ``(where,
    condition)``, where is ``'link'`` or ``'session'``; ``None`` while
    both are up."""
    from proton import Endpoint
    if link.session.state & Endpoint.REMOTE_CLOSED:
        return 'session', link.session.remote_condition
    if link.state & Endpoint.REMOTE_CLOSED:
        return 'link', link.remote_condition
    return None


def refusal(clients, link):
    """Wait until the peer ends ``link`` or its session; return
    ``(where, condition name, description)``."""
    clients.wait(lambda: ended(link), what='refusal of %s' % link.name)
    where, condition = ended(link)
    return where, condition.name, condition.description


def own_session(client):
    """A new session on ``client`` (a refusal ends only that one)."""
    session = client.connection.session()
    session.open()
    return session


def sender(clients, client, address, session=None, presettled=False):
    """A sending link on a session of its own; waits for the attach."""
    from proton.reactor import AtMostOnce
    options = [AtMostOnce()] if presettled else []
    link = clients.container.create_sender(
        session or own_session(client), address, options=options)
    clients.wait(lambda: client._attached(link), what='attach %s' % address)
    return proton_clients.Sender(client, link)


def receiver(clients, client, address, credit=10, session=None,
             dynamic=False, options=()):
    """A receiving link on a session of its own; waits for the attach."""
    link = clients.container.create_receiver(
        session or own_session(client), address, dynamic=dynamic,
        options=list(options))
    recv = proton_clients.Receiver(client, link)
    client._receivers[link] = recv
    if credit:
        link.flow(credit)
    clients.wait(lambda: client._attached(link), what='attach %s' % address)
    return recv


def settled_state(clients, delivery):
    """Wait for the peer's outcome of an unsettled ``delivery``."""
    clients.wait(lambda: delivery.remote_state, what='outcome')
    return delivery.remote_state


def queue(mgmt, name=None, **kwargs):
    """Declare a queue (201); return its name."""
    name = name or unique('q')
    response = mgmt.declare_queue(name, **kwargs)
    assert response.status == '201', response
    return name


# --- the peer's Open and SASL ----------------------------------------------

@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_open_identifies_rabbitmq_4(backend, clients):
    """What the driver detects: product ``RabbitMQ``, version >= 4.0,
    and the capabilities offered."""
    client = connect(clients, backend)
    props = {str(k): v for k, v in client.properties.items()}
    assert props['product'] == 'RabbitMQ'
    assert rabbitmq4.parse_version(props['version'])[:2] >= (4, 0)
    assert set(props) >= {'product', 'version', 'platform', 'node',
                          'cluster_name', 'copyright', 'information'}
    assert props['platform'].startswith('Erlang/OTP ')
    offered = {str(c) for c in
               client.connection.remote_offered_capabilities}
    assert offered == {'LINK_PAIR_V1_0', 'ANONYMOUS-RELAY'}
    # Its container-id is the cluster name.
    assert client.connection.remote_container == props['cluster_name']
    transport = client.transport
    assert transport.remote_max_frame_size == 131072
    assert transport.remote_channel_max == 63
    assert transport.remote_idle_timeout == 30.0


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_sasl_plain_wrong_password(backend, clients):
    """A wrong password is an authentication failure at once."""
    client = connect(clients, backend, password='wrong')
    assert not client.opened
    assert client.transport_condition.name == 'amqp:unauthorized-access'
    assert client.transport_condition.description == \
        'Authentication failed [mech=PLAIN]'


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_sasl_anonymous_maps_to_the_configured_user(backend, clients):
    """ANONYMOUS logs in as ``anonymous_login_user``: messages whose
    user-id is that user are accepted."""
    client = connect(clients, backend, user=None, password=None,
                     allowed_mechs='ANONYMOUS')
    assert client.opened
    name = queue(Management(connect(clients, backend)))
    link = sender(clients, client, '/queues/%s' % name)
    delivery = link.send('hi', user_id=ANONYMOUS_USER.encode())
    assert settled_state(clients, delivery) == ACCEPTED


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_sasl_is_required(backend, clients):
    """A client skipping SASL gets the SASL header back and no Open."""
    client = clients.connect(_url(backend), sasl_enabled=False)
    assert not client.opened
    assert client.transport_condition.name == \
        'amqp:connection:framing-error'
    assert 'SASL' in client.transport_condition.description


# --- the management node ----------------------------------------------------

@pytest.mark.parametrize('case', [c[1] for c in rabbitmq4_cases.CASES],
                         ids=[c[0] for c in rabbitmq4_cases.CASES])
@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_management_requests(backend, clients, case):
    """Each case of tests/rabbitmq4_cases.py, in order, on one link
    pair: the status and body of each response, or the condition that
    ended the session."""
    names = rabbitmq4_cases.unique_names()
    mgmt = Management(connect(clients, backend))
    for method, path, body, status, expected in case:
        fill = rabbitmq4_cases.fill
        path, body, expected = (fill(path, names), fill(body, names),
                                fill(expected, names))
        if status == 'end':
            message = Message() if body == 'NO-BODY-SECTION' else None
            with pytest.raises(rabbitmq4_clients.ManagementFailed) as err:
                mgmt.request(method, path, body, message=message)
            assert mgmt.session.remote_condition.name == expected
            assert err.value.condition.name == expected
            # Only the session: the connection stays usable.
            assert Management(mgmt.client).declare_queue(
                unique('after')).status == '201'
            continue
        response = mgmt.request(method, path, body)
        assert (method, path, response.status) == (method, path, status), \
            response.body
        rabbitmq4_cases.check_body(response.body, expected)


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_management_response_shape(backend, clients):
    """A response: subject = status, correlation-id = the request's
    message-id, application property ``http:response`` = ``1.1``, an
    amqp-value body, sent pre-settled; the link pair is echoed with
    ``paired``."""
    mgmt = Management(connect(clients, backend))
    assert mgmt.sender_link.remote_properties == {symbol('paired'): True}
    assert mgmt.receiver_link.remote_properties == {symbol('paired'): True}
    response = mgmt.declare_queue(unique('shape'))
    assert response.status == '201'
    assert response.correlated
    assert response.settled
    assert response.message.properties == {'http:response': '1.1'}
    assert response.message.reply_to is None


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_management_exclusive_queue_belongs_to_its_connection(backend,
                                                              clients):
    """An exclusive queue: another connection may not consume from it
    (the session ends with ``amqp:resource-locked``); it goes with its
    connection."""
    owner = connect(clients, backend)
    name = queue(Management(owner), exclusive=True, durable=False)
    other = connect(clients, backend)
    link = clients.container.create_receiver(own_session(other),
                                             '/queues/%s' % name)
    where, condition, description = refusal(clients, link)
    assert (where, condition) == ('session', 'amqp:resource-locked')
    assert description == "cannot obtain exclusive access to locked " \
        "queue '%s' in vhost '/'" % name
    owner.close()
    response = Management(other).request('GET', '/queues/%s' % quote(name))
    assert response.status == '404'


# --- v2 addresses -----------------------------------------------------------

@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v2_queue_target_and_source(backend, clients):
    """``/queues/Q`` as target and source: accepted, then delivered."""
    client = connect(clients, backend)
    name = queue(Management(client))
    out = sender(clients, client, '/queues/%s' % name)
    delivery = out.send('to-queue')
    assert settled_state(clients, delivery) == ACCEPTED
    got = receiver(clients, client, '/queues/%s' % name)
    clients.wait(lambda: got.received)
    assert got.bodies == ['to-queue']
    # The broker answers the source with released as default outcome and
    # the outcomes it supports.
    source = got.link.remote_source
    assert got.link.remote_source.address == '/queues/%s' % name
    del source


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v2_exchange_targets(backend, clients):
    """``/exchanges/X/KEY`` routes with KEY; ``/exchanges/X`` with the
    empty key (the subject is not used)."""
    client = connect(clients, backend)
    mgmt = Management(client)
    exchange = unique('x')
    assert mgmt.declare_exchange(exchange, 'direct').status == '204'
    keyed, empty = queue(mgmt), queue(mgmt)
    assert mgmt.bind(exchange, keyed, 'k1').status == '204'
    assert mgmt.bind(exchange, empty, '').status == '204'
    with_key = sender(clients, client, '/exchanges/%s/k1' % exchange)
    assert settled_state(clients, with_key.send('keyed')) == ACCEPTED
    without = sender(clients, client, '/exchanges/%s' % exchange)
    assert settled_state(clients, without.send(
        'empty-key', subject='k1')) == ACCEPTED
    got_keyed = receiver(clients, client, '/queues/%s' % keyed)
    got_empty = receiver(clients, client, '/queues/%s' % empty)
    clients.wait(lambda: got_keyed.received and got_empty.received)
    assert got_keyed.bodies == ['keyed']
    assert got_empty.bodies == ['empty-key']


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v2_null_target_uses_to(backend, clients):
    """A null target (anonymous relay) routes each message by its
    ``to`` (v2 addresses only): a queue, an exchange with a key.  An
    unroutable message, or one to a missing queue (the default exchange
    finds no queue), is released; one to a missing exchange is rejected
    with ``amqp:not-found``; a ``to`` that is not a v2 address, or none,
    is rejected (``amqp:precondition-failed``)."""
    client = connect(clients, backend)
    mgmt = Management(client)
    name = queue(mgmt)
    exchange = unique('x')
    assert mgmt.declare_exchange(exchange, 'topic').status == '204'
    bound = queue(mgmt)
    assert mgmt.bind(exchange, bound, 'a.#').status == '204'
    relay = sender(clients, client, None)
    assert settled_state(clients, relay.send(
        'q', address='/queues/%s' % name)) == ACCEPTED
    assert settled_state(clients, relay.send(
        'x', address='/exchanges/%s/a.b.c' % exchange)) == ACCEPTED
    assert settled_state(clients, relay.send(
        'nowhere', address='/exchanges/%s/z' % exchange)) == RELEASED
    assert settled_state(clients, relay.send(
        'missing', address='/queues/%s' % unique('none'))) == RELEASED
    missing = relay.send('missing', address='/exchanges/%s' % unique('x'))
    assert settled_state(clients, missing) == REJECTED
    assert missing.remote.condition.name == 'amqp:not-found'
    for to in (name, '/queue/%s' % name):
        bad = relay.send('v1', address=to)
        assert settled_state(clients, bad) == REJECTED
        assert (bad.remote.condition.name,
                bad.remote.condition.description) == (
            'amqp:precondition-failed', "bad 'to' address string: %s" % to)
    assert settled_state(clients, relay.send('no-to')) == REJECTED
    # None of these ended the link.
    assert ended(relay.link) is None
    got = receiver(clients, client, '/queues/%s' % name)
    got_bound = receiver(clients, client, '/queues/%s' % bound)
    clients.wait(lambda: got.received and got_bound.received)
    assert (got.bodies, got_bound.bodies) == (['q'], ['x'])


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_presettled_to_a_missing_exchange_detaches_the_relay(backend,
                                                             clients):
    """A pre-settled message (nothing to reject) to a missing exchange on
    an anonymous relay detaches that link with ``amqp:not-found``, the
    delivery tag in the condition's info; one nobody takes is dropped
    silently."""
    client = connect(clients, backend)
    quiet = sender(clients, client, None, presettled=True)
    quiet.send('nobody', address='/exchanges/amq.direct/%s' % unique('k'))
    relay = sender(clients, client, None, presettled=True)
    missing = unique('x')
    relay.send('lost', address='/exchanges/%s/k' % missing)
    where, condition, description = refusal(clients, relay.link)
    assert (where, condition) == ('link', 'amqp:not-found')
    assert description == "no exchange '%s' in vhost '/'" % missing
    info = relay.link.remote_condition.info
    assert list(info) == [symbol('delivery-tag')]
    assert ended(quiet.link) is None


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_topic_matching(backend, clients):
    """tests/rabbitmq4_cases.py's TOPIC_MATCHES: a message reaches a
    queue bound to a topic exchange with the binding key (accepted) or
    not (released)."""
    client = connect(clients, backend)
    mgmt = Management(client)
    relay = sender(clients, client, None)
    outcomes = []
    for binding, key, _ in rabbitmq4_cases.TOPIC_MATCHES:
        exchange = unique('t')
        assert mgmt.declare_exchange(exchange, 'topic').status == '204'
        assert mgmt.bind(exchange, queue(mgmt), binding).status == '204'
        delivery = relay.send('m', address='/exchanges/%s/%s' % (
            quote(exchange), quote(key)) if key else
            '/exchanges/%s' % quote(exchange))
        outcomes.append(settled_state(clients, delivery) == ACCEPTED)
    assert outcomes == [m for _, _, m in rabbitmq4_cases.TOPIC_MATCHES]


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_unroutable_message_is_released(backend, clients):
    """An exchange with no matching binding: ``released`` (not
    accepted, not rejected)."""
    client = connect(clients, backend)
    exchange = unique('x')
    assert Management(client).declare_exchange(
        exchange, 'fanout').status == '204'
    out = sender(clients, client, '/exchanges/%s' % exchange)
    assert settled_state(clients, out.send('lost')) == RELEASED
    direct = sender(clients, client, '/exchanges/amq.direct/%s'
                    % unique('nokey'))
    assert settled_state(clients, direct.send('lost')) == RELEASED


@pytest.mark.parametrize('address, where, condition, description', [
    # A source that is not a queue.
    ('/exchanges/amq.fanout', 'session', 'amqp:invalid-field',
     'Attach rejected: {amqp_address_v1_not_permitted'),
    # A missing queue: the whole session ends.
    ('/queues/{missing}', 'session', 'amqp:not-found',
     "no queue '{missing}' in vhost '/'"),
], ids=['exchange-source', 'missing-queue'])
@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v2_refused_sources(backend, clients, address, where, condition,
                            description):
    """Sources are ``/queues/Q`` of an existing queue only; a refused
    attach ends the *session* (every link on it), with the condition."""
    missing = unique('none')
    address = address.replace('{missing}', missing)
    description = description.replace('{missing}', missing)
    client = connect(clients, backend)
    session = own_session(client)
    bystander = sender(clients, client, '/exchanges/amq.fanout', session)
    link = clients.container.create_receiver(session, address)
    got = refusal(clients, link)
    assert got[:2] == (where, condition)
    assert got[2].startswith(description.split('{')[0]), got[2]
    assert ended(bystander.link)[0] == 'session'
    # The connection is still usable.
    assert Management(client).declare_queue(unique('after')).status == '201'


@pytest.mark.parametrize('address, condition, description', [
    ('/queues/{missing}', 'amqp:not-found',
     "no queue '{missing}' in vhost '/'"),
    ('/exchanges/{missing}', 'amqp:not-found',
     "no exchange '{missing}' in vhost '/'"),
    ('/exchanges/{missing}/a/b', 'amqp:invalid-field',
     'Attach rejected: {bad_address_string'),
    ('/queues/', 'amqp:invalid-field',
     'Attach rejected: {bad_address_string'),
    ('/exchanges/amq.default', 'amqp:invalid-field',
     'Attach rejected: {bad_address_string'),
], ids=['missing-queue', 'missing-exchange', 'too-many-segments',
        'empty-queue', 'default-exchange-by-name'])
@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v2_refused_targets(backend, clients, address, condition,
                            description):
    """Targets must exist and be well-formed: the session ends."""
    missing = unique('none')
    address = address.replace('{missing}', missing)
    description = description.replace('{missing}', missing)
    client = connect(clients, backend)
    link = clients.container.create_sender(own_session(client), address)
    where, name, text = refusal(clients, link)
    assert (where, name) == ('session', condition)
    assert text.startswith(description), text


# --- v1 addresses (deprecated) and plain names ------------------------------

@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_v1_addresses_still_work(backend, clients):
    """``/queue/Q`` declares Q (a *non-durable*, non-exclusive classic
    queue: itself a deprecated kind, ``transient_nonexcl_queues``);
    ``/exchange/X/K`` and ``/topic/K`` (amq.topic) route.  Deprecated
    (``amqp_address_v1``) but permitted in 4.0."""
    client = connect(clients, backend)
    name = unique('v1q')
    got = receiver(clients, client, '/queue/%s' % name)
    response = Management(client).request('GET', '/queues/%s' % name)
    assert (response.status, response.body['durable']) == ('200', False)
    out = sender(clients, client, '/queue/%s' % name)
    assert settled_state(clients, out.send('v1')) == ACCEPTED
    clients.wait(lambda: got.received)
    assert got.bodies == ['v1']
    key = unique('k')
    topic_in = receiver(clients, client, '/topic/%s' % key)
    topic_out = sender(clients, client, '/topic/%s' % key)
    assert settled_state(clients, topic_out.send('t')) == ACCEPTED
    clients.wait(lambda: topic_in.received)
    assert topic_in.bodies == ['t']
    x_in = receiver(clients, client, '/exchange/amq.direct/%s' % key)
    x_out = sender(clients, client, '/exchange/amq.direct/%s' % key)
    assert settled_state(clients, x_out.send('x')) == ACCEPTED
    clients.wait(lambda: x_in.received)
    assert x_in.bodies == ['x']


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_old_driver_addresses_refused(backend, clients):
    """The old driver's routable addresses (a path that is no v1 or v2
    address): refused, the session ends with ``amqp:invalid-field``."""
    client = connect(clients, backend)
    for make in (clients.container.create_sender,
                 clients.container.create_receiver):
        link = make(own_session(client), 'openstack.org/om/rpc/anycast/t/s')
        where, condition, description = refusal(clients, link)
        assert (where, condition) == ('session', 'amqp:invalid-field')
        assert description == 'Attach rejected: {unknown_destination,' \
            '"openstack.org/om/rpc/anycast/t/s"}'


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_plain_name_is_a_v1_queue(backend, clients):
    """A name without ``/`` is a v1 address of a queue: as a target or
    a source it declares a non-durable classic queue of that name."""
    client = connect(clients, backend)
    name = unique('plain')
    out = sender(clients, client, name)
    assert settled_state(clients, out.send('plain')) == ACCEPTED
    response = Management(client).request('GET', '/queues/%s' % name)
    assert (response.status, response.body['durable'],
            response.body['message_count']) == ('200', False, 1)
    got = receiver(clients, client, name)
    clients.wait(lambda: got.received)
    assert got.bodies == ['plain']


# --- what is not there ------------------------------------------------------

@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_dynamic_source_refused(backend, clients):
    """No dynamic sources before 4.2: the session ends with
    ``amqp:not-implemented: Dynamic sources not supported``."""
    client = connect(clients, backend)
    link = clients.container.create_receiver(own_session(client), None,
                                             dynamic=True)
    assert refusal(clients, link) == (
        'session', 'amqp:not-implemented', 'Dynamic sources not supported')


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_transactions_refused(backend, clients):
    """No transaction coordinator: an attach to one ends the session."""
    client = connect(clients, backend)
    link = own_session(client).sender(unique('txn'))
    link.target.type = Terminus.COORDINATOR
    caps = link.target.capabilities
    caps.put_array(False, Data.SYMBOL)
    caps.enter()
    caps.put_symbol(LOCAL_TRANSACTIONS)
    caps.exit()
    link.open()
    where, condition, description = refusal(clients, link)
    assert (where, condition) == ('session', 'amqp:not-implemented')
    assert description == 'Transactions not supported'


# --- consumers, credit, outcomes --------------------------------------------

@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_queue_deleted_under_a_consumer(backend, clients):
    """Deleting a queue detaches its consumers' links (the session
    stays) with ``amqp:resource-deleted`` and no description."""
    client = connect(clients, backend)
    mgmt = Management(client)
    name = queue(mgmt)
    session = own_session(client)
    got = receiver(clients, client, '/queues/%s' % name, session=session)
    other = sender(clients, client, '/exchanges/amq.fanout', session)
    assert mgmt.delete_queue(name).status == '200'
    where, condition, description = refusal(clients, got.link)
    assert (where, condition) == ('link', 'amqp:resource-deleted')
    assert description is None
    assert ended(other.link) is None


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_credit(backend, clients):
    """The broker grants a sender 170 credits; it sends a receiver no
    more than the credit granted once attached, and goes on when more is
    granted."""
    client = connect(clients, backend)
    name = queue(Management(client))
    out = sender(clients, client, '/queues/%s' % name)
    assert out.credit == 170
    for i in range(5):
        out.send('m%d' % i)
    clients.wait(lambda: all(d.remote_state for d in out.deliveries))
    got = client.receiver('/queues/%s' % name, credit=0)
    client.sync()
    got.flow(2)
    clients.wait(lambda: len(got.received) >= 2)
    client.sync()
    assert got.bodies == ['m0', 'm1']
    got.flow(3)
    clients.wait(lambda: len(got.received) >= 5)
    assert got.bodies == ['m0', 'm1', 'm2', 'm3', 'm4']


@pytest.mark.parametrize('backend', rows('credit-before-attach'),
                         indirect=True)
def test_credit_sent_with_the_attach_is_exceeded(backend, clients):
    """Credit granted in the flow that follows the attach at once (before
    the broker's attach answer, as proton does for ``flow()`` on a new
    link) is not a limit in 4.0.5: the queue's messages all come, the
    link's credit goes negative.  A consumer must grant credit after the
    attach is answered."""
    client = connect(clients, backend)
    name = queue(Management(client))
    out = sender(clients, client, '/queues/%s' % name)
    for i in range(5):
        out.send('m%d' % i)
    clients.wait(lambda: all(d.remote_state for d in out.deliveries))
    got = client.receiver('/queues/%s' % name, credit=2)
    clients.wait(lambda: len(got.received) >= 2)
    client.sync()
    assert len(got.received) == 5
    assert got.link.credit == -3


@pytest.mark.parametrize('queue_type, counted', [
    ('classic', 0), ('quorum', 1)])
@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_consumer_outcomes(backend, clients, queue_type, counted):
    """A receiver's outcomes: released and modified put the message back
    (modified with delivery-failed counts a failed delivery on a quorum
    queue only); rejected drops it (no dead-letter exchange); a message
    with no header section is durable."""
    client = connect(clients, backend)
    mgmt = Management(client)
    name = queue(mgmt, arguments={'x-queue-type': queue_type})
    out = sender(clients, client, '/queues/%s' % name)
    assert settled_state(clients, out.send('d')) == ACCEPTED
    got = receiver(clients, client, '/queues/%s' % name, credit=1)
    clients.wait(lambda: got.received)
    first = got.received[0]
    assert first.message.durable
    assert first.message.delivery_count == 0
    assert first.message.annotations == {
        symbol('x-exchange'): '', symbol('x-routing-key'): name}
    got.settle(first, RELEASED)
    got.flow(1)
    clients.wait(lambda: len(got.received) >= 2)
    assert got.received[1].message.delivery_count == 0
    assert not got.received[1].message.first_acquirer
    got.settle(1, MODIFIED, failed=True)
    got.flow(1)
    clients.wait(lambda: len(got.received) >= 3)
    assert got.received[2].message.delivery_count == counted
    got.settle(2, REJECTED)
    client.sync()
    response = mgmt.request('GET', '/queues/%s' % name)
    assert response.body['message_count'] == 0


@pytest.mark.parametrize('backend', rows(), indirect=True)
def test_presettled_sends(backend, clients):
    """A pre-settled sender is accepted (at-most-once); the messages are
    queued.  (The real node counts them a moment after its session took
    them: nothing tells a pre-settled sender when, so the count is asked
    until it is reached.)"""
    client = connect(clients, backend)
    mgmt = Management(client)
    name = queue(mgmt)
    out = sender(clients, client, '/queues/%s' % name, presettled=True)
    for i in range(3):
        out.send('p%d' % i)
    client.sync()
    counts = []

    def queued():
        response = mgmt.request('GET', '/queues/%s' % name)
        counts.append(response.body['message_count'])
        return counts[-1] == 3
    clients.wait(queued, what='3 messages queued, counted %s' % counts)


# --- AMQP 1.0 <-> AMQP 0-9-1 ------------------------------------------------

def _pika_get(backend, queue_name):
    conn = pika.BlockingConnection(backend.connection_parameters())
    try:
        channel = conn.channel()
        for _ in range(100):
            method, props, body = channel.basic_get(queue_name,
                                                    auto_ack=True)
            if method is not None:
                return props, body
            conn.sleep(0.05)
    finally:
        conn.close()
    raise AssertionError('nothing in %s' % queue_name)


def _pika_publish(backend, queue_name, body, **properties):
    conn = pika.BlockingConnection(backend.connection_parameters())
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish('', queue_name, body,
                              pika.BasicProperties(**properties))
    finally:
        conn.close()


@pytest.mark.parametrize('backend', rows(impls=AMQP_091_IMPLS),
                         indirect=True)
def test_amqp1_to_091(backend, clients):
    """What an AMQP 0-9-1 consumer (oslo's rabbit driver) gets of AMQP
    1.0 messages: a data section is the body as is, with message-id,
    correlation-id, reply-to, content-type and application-properties as
    0-9-1 properties and headers; an amqp-value section (what the
    amqp:// driver sends: a JSON string) arrives as its AMQP 1.0 encoding,
    0-9-1 ``type`` = ``amqp-1.0``, no content-type."""
    client = connect(clients, backend)
    name = queue(Management(client))
    out = sender(clients, client, '/queues/%s' % name)
    envelope = json.dumps({'oslo.version': '2.0',
                           'oslo.message': '{"method": "m"}'})
    data = Message(body=envelope.encode(), inferred=True, id='id-1',
                   correlation_id='corr-1', reply_to='/queues/reply_1',
                   content_type='application/json',
                   properties={'k': 'v'})
    assert settled_state(clients, out.link.send(data)) == ACCEPTED
    props, body = _pika_get(backend, name)
    assert body == envelope.encode()
    assert props.content_type == 'application/json'
    assert (props.message_id, props.correlation_id, props.reply_to) == (
        'id-1', 'corr-1', '/queues/reply_1')
    assert props.headers['k'] == 'v'
    for body_value in (envelope, b'bytes-not-inferred', {'a': 1}):
        value = Message(body=body_value)
        assert settled_state(clients, out.link.send(value)) == ACCEPTED
        props, body = _pika_get(backend, name)
        assert body == _amqp_value_section(body_value)
        assert (props.type, props.content_type, props.delivery_mode) == (
            'amqp-1.0', None, 2)


#: the descriptor of an amqp-value section (AMQP 1.0 s3.2.8)
AMQP_VALUE = 0x77


def _amqp_value_section(value):
    """The AMQP 1.0 encoding of an amqp-value section holding ``value``,
    by proton's encoder."""
    data = Data()
    data.put_described()
    data.enter()
    data.put_ulong(AMQP_VALUE)
    data.put_object(value)
    data.exit()
    return data.encode()


@pytest.mark.parametrize('backend', rows(impls=AMQP_091_IMPLS),
                         indirect=True)
def test_091_to_amqp1(backend, clients):
    """What an AMQP 1.0 consumer gets of an AMQP 0-9-1 message (oslo's
    rabbit driver publishing JSON): a data section (bytes) with
    content-type, message-id, correlation-id, reply-to and the headers as
    application-properties."""
    client = connect(clients, backend)
    name = queue(Management(client))
    envelope = json.dumps({'oslo.version': '2.0', 'oslo.message': '{}'})
    _pika_publish(backend, name, envelope.encode(),
                  content_type='application/json', content_encoding='utf-8',
                  message_id='id-2', correlation_id='corr-2',
                  reply_to='reply_abc', headers={'h': 'v'},
                  delivery_mode=2)
    got = receiver(clients, client, '/queues/%s' % name)
    clients.wait(lambda: got.received)
    message = got.received[0].message
    assert message.body == envelope.encode()
    assert message.content_type == 'application/json'
    assert message.content_encoding == 'utf-8'
    assert (message.id, message.correlation_id, message.reply_to) == (
        'id-2', 'corr-2', 'reply_abc')
    assert message.properties == {'h': 'v'}
    assert message.durable
