"""The same client scenarios against every implementation, side by side.

Each scenario is a plain proton client over TCP (tests.functional.
proton_clients) and runs once per implementation of its kind, one test id
per row:

* routers: ``FakeRouter`` (in-process), ``router-standin`` (``amqp1-fixtures
  serve router``), ``qdrouterd`` (real 1.19);
* brokers: ``FakeBroker``, ``broker-standin``, ``qpidd`` (real 1.40).

Every row asserts what the *real* daemon does (each was checked against it
first).  A fake that still behaves differently is a row marked
``xfail(strict=True)`` with the difference as its reason, so the table of
differences is :data:`ROUTER_DIFFERENCES` / :data:`BROKER_DIFFERENCES`, and
a fake that starts to behave like the daemon fails its row until the mark
is removed.  Real rows skip with a reason where the daemons are absent
(tests.realqpid).
"""

import pytest
from proton import Data
from proton import Described
from proton import Message
from proton import symbol
from proton import Terminus
from proton import ulong
from proton.reactor import Copy
from proton.reactor import DurableSubscription
from proton.reactor import Filter
from proton.reactor import Selector

from amqp1_fixtures.daemons import qpid as daemons
from amqp1_fixtures import FakeBroker
from amqp1_fixtures import FakeRouter
from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import MODIFIED
from tests.functional.proton_clients import REJECTED
from tests.functional.proton_clients import RELEASED
from tests.functional.proton_clients import unique
from tests import realqpid

ROUTERS = ('FakeRouter', 'router-standin', 'qdrouterd')
BROKERS = ('FakeBroker', 'broker-standin', 'qpidd')
FAKES = ('FakeRouter', 'router-standin', 'FakeBroker', 'broker-standin')

ANYCAST = 'openstack.org/om/rpc/anycast'
#: delivery states of AMQP 1.0 transactions (section 4.5)
DECLARED = 0x33
TRANSACTIONAL_STATE = 0x34

#: scenario -> why the fakes (in-process and stand-in) still differ
ROUTER_DIFFERENCES = {
}
BROKER_DIFFERENCES = {
}


def _make(impl):
    if impl == 'FakeRouter':
        return FakeRouter()
    if impl == 'FakeBroker':
        return FakeBroker()
    kind, _, standin = impl.partition('-')
    if standin:
        cls = daemons.RouterDaemon if kind == 'router' \
            else daemons.BrokerDaemon
        return cls(impl=daemons.STANDIN)
    if not realqpid.find(impl):
        pytest.skip(realqpid.absent_reason(impl))
    cls = daemons.RouterDaemon if impl == 'qdrouterd' \
        else daemons.BrokerDaemon
    return cls(impl=impl, require_real=True)


def rows(impls, scenario=None, differences=None):
    """One ``backend`` parameter per implementation; the fakes' rows of a
    scenario listed in ``differences`` are strict xfails."""
    reason = (differences or {}).get(scenario)
    params = []
    for impl in impls:
        marks = ()
        if reason and impl in FAKES:
            marks = pytest.mark.xfail(strict=True, reason=reason)
        params.append(pytest.param(impl, id=impl, marks=marks))
    return params


def router_rows(scenario=None):
    return rows(ROUTERS, scenario, ROUTER_DIFFERENCES)


def broker_rows(scenario=None):
    return rows(BROKERS, scenario, BROKER_DIFFERENCES)


@pytest.fixture
def backend(request):
    """The implementation the row names, started (and stopped after)."""
    server = _make(request.param)
    server.setUp()
    yield server
    server.cleanUp()


def _url(backend):
    return 'amqp://127.0.0.1:%d' % backend.port


def _offered(client):
    caps = client.connection.remote_offered_capabilities
    return [str(c) for c in caps or ()]


def _coordinator(clients, client, session=None):
    """Attach a sender to a transaction coordinator (in ``session``, or a
    new one); return its link."""
    if session is None:
        session = client.connection.session()
        session.open()
    link = session.sender(unique('txn-ctrl'))
    link.target.type = Terminus.COORDINATOR
    caps = link.target.capabilities
    caps.put_array(False, Data.SYMBOL)
    caps.enter()
    caps.put_symbol('amqp:local-transactions')
    caps.exit()
    link.open()
    clients.wait(lambda: link.remote_condition is not None or
                 link.credit > 0, what='coordinator attach')
    return link


# --- both kinds -----------------------------------------------------------

@pytest.mark.parametrize('backend', router_rows() + broker_rows(),
                         indirect=True)
def test_round_trip(backend, clients):
    """A message to a consumer's address arrives and is accepted."""
    prefix = ANYCAST if isinstance(backend, (FakeRouter,
                                             daemons.RouterDaemon)) \
        else 'exclusive'
    address = unique(prefix)
    client = clients.connect(_url(backend))
    receiver = client.receiver(address, credit=10)
    sender = client.sender(address)
    delivery = sender.send('hello')
    clients.wait(lambda: receiver.received, what='delivery')
    receiver.settle(0)
    clients.wait(lambda: delivery.remote_state == ACCEPTED,
                 what='outcome')
    assert receiver.bodies == ['hello']


# --- routers ---------------------------------------------------------------

@pytest.mark.parametrize('backend', router_rows('anonymous-relay'),
                         indirect=True)
def test_router_anonymous_relay(backend, clients):
    """ANONYMOUS-RELAY offered; a null-target link routes by ``to``."""
    client = clients.connect(_url(backend))
    assert 'ANONYMOUS-RELAY' in _offered(client)
    address = unique(ANYCAST)
    receiver = client.receiver(address, credit=5)
    relay = client.sender(None)
    relay.send('relayed', address=address)
    clients.wait(lambda: receiver.received, what='relayed message')
    assert receiver.bodies == ['relayed']


@pytest.mark.parametrize('backend', router_rows('credit'), indirect=True)
def test_router_credit(backend, clients):
    """No credit without a consumer; with a consumer attached, even one
    that granted 0 credit, the producer gets the link capacity (250)."""
    address = unique(ANYCAST)
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    client.sync()
    assert sender.credit == 0
    client.receiver(address, credit=0)
    clients.wait(lambda: sender.credit, timeout=5,
                 what='credit with a 0-credit consumer')
    assert sender.credit == 250


@pytest.mark.parametrize('backend', router_rows('dynamic'), indirect=True)
def test_router_dynamic_addresses(backend, clients):
    """Dynamic addresses are random, and never handed out again after a
    restart (a client holding an old reply address must not get another
    client's replies)."""
    client = clients.connect(_url(backend))
    first = [client.receiver(dynamic=True).address for _ in range(2)]
    assert first[0] != first[1]
    assert not first[0].endswith(('temp.1', 'temp.2'))
    client.close()
    backend.stop()
    backend.start()
    client = clients.connect(_url(backend))
    again = [client.receiver(dynamic=True).address for _ in range(2)]
    assert not set(first) & set(again)


@pytest.mark.parametrize('backend', router_rows('presettled-overflow'),
                         indirect=True)
def test_router_presettled_overflow(backend, clients):
    """Pre-settled messages to a consumer out of credit: the router keeps
    crediting the producer and drops what it cannot buffer (qdrouterd's
    "dropped presettled"), keeping the newest."""
    address = unique(ANYCAST)
    count = 2000
    consumer = clients.connect(_url(backend))
    producer = clients.connect(_url(backend))
    receiver = consumer.receiver(address, credit=100)
    sender = producer.sender(address, presettled=True)
    for i in range(count):
        sender.send(i)
    clients.wait(lambda: sender.link.queued == 0, timeout=10,
                 what='every pre-settled message sent')
    producer.sync()
    consumer.sync()
    assert len(receiver.received) == 100
    receiver.flow(count)
    consumer.sync()
    clients.idle(1.0)
    assert 100 < len(receiver.received) < count
    assert receiver.received[-1].body == count - 1


@pytest.mark.parametrize('backend', router_rows('coordinator'),
                         indirect=True)
def test_router_refuses_a_coordinator(backend, clients):
    """qdrouterd needs a link route to a coordinator for transactions."""
    client = clients.connect(_url(backend))
    link = _coordinator(clients, client)
    assert link.remote_condition is not None
    assert link.remote_condition.name == 'amqp:precondition-failed'
    assert 'linkRoute to a coordinator' in link.remote_condition.description


@pytest.mark.parametrize('backend', router_rows('idle-timeout'),
                         indirect=True)
def test_router_idle_timeout(backend, clients):
    """The listener's idleTimeoutSeconds (16) is advertised halved, with or
    without a client heartbeat."""
    plain = clients.connect(_url(backend))
    beating = clients.connect(_url(backend), heartbeat=10)
    assert plain.transport.remote_idle_timeout == 8.0
    assert beating.transport.remote_idle_timeout == 8.0


#: how a consumer ends a delivery it holds -> what its producer is told:
#: (state, delivery-failed, undeliverable-here).  Measured on qdrouterd
#: 1.19: a release reaches the producer as released (it may send again);
#: a consumer that goes away holding the delivery -- detaching, closing
#: its connection, or losing it without a close frame -- makes it
#: modified with delivery-failed (the router cannot know whether the
#: consumer acted on it).
CONSUMER_ENDINGS = [
    ('accepted', (ACCEPTED, False, False)),
    ('rejected', (REJECTED, False, False)),
    ('released', (RELEASED, False, False)),
    ('modified', (MODIFIED, True, False)),
    ('modified-undeliverable', (MODIFIED, True, True)),
    ('detached', (MODIFIED, True, False)),
    ('connection-closed', (MODIFIED, True, False)),
    ('connection-lost', (MODIFIED, True, False)),
]


@pytest.mark.parametrize('backend', router_rows('consumer-endings'),
                         indirect=True)
@pytest.mark.parametrize('ending,expected', CONSUMER_ENDINGS,
                         ids=[e[0] for e in CONSUMER_ENDINGS])
def test_router_consumer_endings(backend, clients, ending, expected):
    """What the producer is told when the consumer holding its message
    settles it, or goes away with it unsettled."""
    address = unique(ANYCAST)
    producer = clients.connect(_url(backend))
    holder = clients.connect(_url(backend))
    receiver = holder.receiver(address, credit=1)
    sender = producer.sender(address)
    clients.wait(lambda: sender.credit > 0, what='credit')
    delivery = sender.send(ending)
    clients.wait(lambda: receiver.unsettled(), what='delivery')
    if ending == 'detached':
        receiver.close()
    elif ending == 'connection-closed':
        holder.close()
    elif ending == 'connection-lost':
        holder.abort()
    else:
        item = receiver.unsettled()[0]
        state = {'accepted': ACCEPTED, 'rejected': REJECTED,
                 'released': RELEASED}.get(ending, MODIFIED)
        if ending == 'modified-undeliverable':
            item.delivery.local.undeliverable = True
        receiver.settle(item, state)
    clients.wait(lambda: delivery.settled, what='outcome')
    remote = delivery.remote
    assert (delivery.remote_state, remote.failed, remote.undeliverable) == \
        expected


#: outcomes of three copies -> what the producer of a multicast message
#: gets (qdrouterd 1.19, a standalone router as in a mesh:
#: test_mesh_behaviour.MULTICAST_OUTCOMES)
MULTICAST_OUTCOMES = [
    ((ACCEPTED, REJECTED, ACCEPTED), REJECTED),
    ((RELEASED, ACCEPTED, MODIFIED), ACCEPTED),
    ((RELEASED, MODIFIED, RELEASED), MODIFIED),
    ((RELEASED, RELEASED, RELEASED), RELEASED),
]


@pytest.mark.parametrize('backend', router_rows('multicast-outcome'),
                         indirect=True)
def test_router_multicast_outcome(backend, clients):
    """The producer's outcome waits for every copy: rejected if any copy
    was, else accepted if any was, else modified, else released."""
    address = unique('openstack.org/om/rpc/multicast')
    client = clients.connect(_url(backend))
    consumers = [client.receiver(address, credit=10, name=unique('c'))
                 for _ in range(3)]
    sender = client.sender(address)
    clients.wait(lambda: sender.credit > 0, what='credit')
    got = []
    for states, _ in MULTICAST_OUTCOMES:
        delivery = sender.send(str(states))
        clients.wait(lambda: all(c.unsettled() for c in consumers),
                     what='the copies')
        for consumer, state in zip(consumers, states):
            consumer.settle(consumer.unsettled()[0], state,
                            failed=state == MODIFIED)
        clients.wait(lambda: delivery.settled, what='outcome')
        got.append(delivery.remote_state)
    assert got == [outcome for _, outcome in MULTICAST_OUTCOMES]


@pytest.mark.parametrize('backend', router_rows('waiting-for-credit'),
                         indirect=True)
def test_router_message_waiting_for_credit_when_its_consumer_goes(
        backend, clients):
    """A message waiting in the router for its consumer's credit never
    reached it: when that consumer detaches it is released, even where
    another consumer could take it (measured on qdrouterd 1.19)."""
    address = unique(ANYCAST)
    client = clients.connect(_url(backend))
    # Links of one connection need names of their own.
    stingy = client.receiver(address, credit=0, name=unique('stingy'))
    generous = client.receiver(address, credit=10, name=unique('generous'))
    sender = client.sender(address)
    clients.wait(lambda: sender.credit > 0, what='credit')
    deliveries = [sender.send(i) for i in range(4)]
    client.sync()
    taken = list(generous.bodies)
    stingy.close()
    clients.wait(lambda: all(d.settled for i, d in enumerate(deliveries)
                             if i not in taken), what='the others')
    client.sync()
    # What generous did not have then never reaches it.
    assert generous.bodies == taken
    for i in range(len(taken)):
        generous.settle(i)
    clients.wait(lambda: all(d.settled for d in deliveries), what='outcomes')
    assert [d.remote_state for d in deliveries] == [
        ACCEPTED if i in taken else RELEASED for i in range(4)]


# --- brokers ---------------------------------------------------------------

@pytest.mark.parametrize('backend', broker_rows('store'), indirect=True)
def test_broker_stores_until_a_consumer_comes(backend, clients):
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    deliveries = [sender.send(b) for b in ('a', 'b')]
    clients.wait(lambda: all(d.remote_state == ACCEPTED
                             for d in deliveries), what='stored')
    receiver = client.receiver(address, credit=10)
    clients.wait(lambda: len(receiver.received) == 2, what='drained')
    assert receiver.bodies == ['a', 'b']


@pytest.mark.parametrize('backend', broker_rows('anonymous-relay'),
                         indirect=True)
def test_broker_anonymous_relay(backend, clients):
    """qpidd offers ANONYMOUS-RELAY and routes by each message's ``to``
    (the documented request/response servers of rhea and proton need
    it)."""
    client = clients.connect(_url(backend))
    assert 'ANONYMOUS-RELAY' in _offered(client)
    relay = client.sender(None)
    assert relay.refused is None
    queues = [unique('exclusive') for _ in range(2)]
    receivers = [client.receiver(q, credit=5) for q in queues]
    for i, queue in enumerate(queues):
        relay.send('to-%d' % i, address=queue)
    clients.wait(lambda: all(r.received for r in receivers),
                 what='relayed messages')
    assert [r.bodies for r in receivers] == [['to-0'], ['to-1']]


@pytest.mark.parametrize('backend', broker_rows('relay-nowhere'),
                         indirect=True)
def test_broker_relay_to_no_node(backend, clients):
    """qpidd accepts (and discards) a relayed message whose ``to`` names
    no node, or that has no ``to``."""
    client = clients.connect(_url(backend))
    relay = client.sender(None)
    deliveries = [relay.send('x', address=unique('nowhere')),
                  relay.send('y')]
    clients.wait(lambda: all(d.remote_state for d in deliveries),
                 what='outcomes')
    assert [d.remote_state for d in deliveries] == [ACCEPTED, ACCEPTED]
    assert relay.refused is None


@pytest.mark.parametrize('backend', broker_rows('browse'), indirect=True)
def test_broker_browse(backend, clients):
    """``distribution-mode: copy`` browses: the messages stay queued."""
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    deliveries = [sender.send(b) for b in ('a', 'b')]
    clients.wait(lambda: all(d.remote_state == ACCEPTED
                             for d in deliveries), what='stored')
    browser = client.receiver(address, credit=10, options=[Copy()])
    assert browser.link.remote_source.distribution_mode == \
        Terminus.DIST_MODE_COPY
    clients.wait(lambda: len(browser.received) == 2, what='browsed')
    # The browser stays attached (qpidd deletes a pattern-made queue when
    # its last subscriber detaches); the consumer is another client's.
    other = clients.connect(_url(backend))
    consumer = other.receiver(address, credit=10)
    clients.wait(lambda: len(consumer.received) == 2, what='consumed')
    assert consumer.bodies == ['a', 'b']


@pytest.mark.parametrize('backend', broker_rows('honest-attach'),
                         indirect=True)
def test_broker_answers_durable_honestly(backend, clients):
    """Asked for a durable subscription (durable=2, expiry never) it does
    not keep, the broker's attach says durable=0 (AMQP 1.0 3.5.3: the
    reply states what is in place)."""
    client = clients.connect(_url(backend))
    receiver = client.receiver(unique('exclusive'), name=unique('sub'),
                               options=[DurableSubscription()])
    source = receiver.link.remote_source
    assert receiver.link.source.durability == Terminus.DELIVERIES
    assert source.durability == Terminus.NONDURABLE


@pytest.mark.parametrize('backend', broker_rows('pattern'), indirect=True)
def test_broker_pattern_anywhere(backend, clients):
    """qpidd matches queue-patterns anywhere in the address: with pattern
    ``unicast``, ``foo.unicast.bar`` becomes a queue."""
    address = unique('foo.unicast') + '.bar'
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    assert sender.refused is None
    delivery = sender.send('kept')
    clients.wait(lambda: delivery.remote_state == ACCEPTED, what='stored')
    receiver = client.receiver(address, credit=1)
    clients.wait(lambda: receiver.received, what='drained')
    assert receiver.bodies == ['kept']


@pytest.mark.parametrize('backend', broker_rows('idle-timeout'),
                         indirect=True)
def test_broker_idle_timeout(backend, clients):
    """qpidd advertises no idle timeout to a client that asks none."""
    plain = clients.connect(_url(backend))
    assert plain.transport.remote_idle_timeout == 0.0


@pytest.mark.parametrize('backend', broker_rows('idle-timeout-mirror'),
                         indirect=True)
def test_broker_idle_timeout_mirrors_the_client(backend, clients):
    """...and the client's own to one that asks (a proton client with
    heartbeat=10 advertises 5 s)."""
    beating = clients.connect(_url(backend), heartbeat=10)
    assert beating.transport.remote_idle_timeout == 5.0


def _select_red(backend, clients, option):
    """Queue red, blue, red; attach a consumer with the selector
    ``option`` (of ``colour = 'red'``); return (address, its receiver)
    once it has the two red ones."""
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    for colour in ('red', 'blue', 'red'):
        sender.send(colour, properties={'colour': colour})
    client.sync()
    receiver = client.receiver(address, credit=10, options=[option])
    clients.wait(lambda: len(receiver.received) >= 2, what='selected')
    client.sync()
    assert receiver.bodies == ['red', 'red']
    return address, receiver


@pytest.mark.parametrize('backend', broker_rows('selector'), indirect=True)
def test_broker_selector(backend, clients):
    """A JMS selector filters on application properties."""
    address, receiver = _select_red(backend, clients,
                                    Selector("colour = 'red'"))
    assert receiver.link.remote_source.filter.format() != ''
    # the blue one waits for a consumer that selects it
    other = clients.connect(_url(backend)).receiver(
        address, credit=10, options=[Selector("colour <> 'red'")])
    clients.wait(lambda: other.received, what='the rest')
    assert other.bodies == ['blue']


#: the selector filter's numeric descriptor (0x0000468C:0x00000004,
#: Apache's domain and the selector-filter:string code), as rhea and JMS
#: clients send it
SELECTOR_CODE = 0x0000468C00000004


@pytest.mark.parametrize('backend', broker_rows('selector-numeric'),
                         indirect=True)
def test_broker_selector_with_numeric_descriptor(backend, clients):
    """qpidd applies a selector described by its numeric code, and its
    attach reply states the filter as it was sent (key and descriptor)."""
    sent = {symbol('jms-selector'): Described(ulong(SELECTOR_CODE),
                                              "colour = 'red'")}
    _, receiver = _select_red(backend, clients, Filter(sent))
    echoed = receiver.link.remote_source.filter
    echoed.rewind()
    assert echoed.next()
    echoed = echoed.get_object()
    assert echoed == sent
    assert [type(v.descriptor) for v in echoed.values()] == [ulong]


@pytest.mark.parametrize('backend', broker_rows('selector-types'),
                         indirect=True)
def test_broker_selector_on_mixed_types(backend, clients):
    """Comparing a number with a string is false, whatever the operator
    (not unknown): its negation selects."""
    client = clients.connect(_url(backend))
    got = {}
    for text in ("colour = 'red'", "colour <> 'red'", "colour < 'red'",
                 "NOT (colour = 'red')", "NOT (colour < 'red')"):
        address = unique('exclusive')
        sender = client.sender(address)
        sender.send('five', properties={'colour': 5})
        sender.send('marker', properties={'colour': 'x', 'end': True})
        client.sync()
        receiver = client.receiver(address, credit=10, options=[
            Selector('(%s) OR end = TRUE' % text)])
        clients.wait(lambda: any(r.body == 'marker'
                                 for r in receiver.received),
                     what='selected')
        got[text] = receiver.bodies
    assert got == {
        "colour = 'red'": ['marker'], "colour <> 'red'": ['marker'],
        "colour < 'red'": ['marker'],
        "NOT (colour = 'red')": ['five', 'marker'],
        "NOT (colour < 'red')": ['five', 'marker']}


@pytest.mark.parametrize('backend', broker_rows('transactions'),
                         indirect=True)
def test_broker_accepts_a_coordinator(backend, clients):
    """qpidd attaches a transaction coordinator (local transactions)."""
    client = clients.connect(_url(backend))
    link = _coordinator(clients, client)
    assert link.remote_condition is None
    assert link.credit > 0


def _control(clients, link, descriptor, value):
    """Send a declare/discharge on a coordinator link; return its
    delivery once the broker answered."""
    delivery = link.send(Message(body=Described(symbol(descriptor), value)))
    clients.wait(lambda: delivery.remote_state, what=descriptor)
    return delivery


def _declare(clients, link):
    delivery = _control(clients, link, 'amqp:declare:list', [None])
    assert delivery.remote_state == DECLARED
    return delivery.remote.data[0]


def _in_txn(delivery, txn, outcome=None):
    delivery.local.data = [txn] if outcome is None else \
        [txn, Described(ulong(outcome), [])]
    delivery.update(TRANSACTIONAL_STATE)


@pytest.mark.parametrize('backend', broker_rows('transactions'),
                         indirect=True)
def test_broker_transactional_sends(backend, clients):
    """Messages sent in a transaction are queued on commit only; a
    rollback discards them."""
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    # qpidd scopes a transaction to the coordinator's session
    ctrl = _coordinator(clients, client, sender.link.session)
    consumer = clients.connect(_url(backend)).receiver(address, credit=10)
    for body, fail in (('committed', False), ('rolled back', True)):
        txn = _declare(clients, ctrl)
        clients.wait(lambda: sender.credit > 0, what='credit')
        # The state goes before the message, so the transfer carries it.
        delivery = sender.link.delivery(unique('tag'))
        _in_txn(delivery, txn)
        sender.link.send(Message(body=body).encode())
        sender.link.advance()
        client.sync()
        consumer.client.sync()
        assert body not in consumer.bodies
        done = _control(clients, ctrl, 'amqp:discharge:list', [txn, fail])
        assert done.remote_state == ACCEPTED
    sender.send('marker')
    clients.wait(lambda: 'marker' in consumer.bodies, what='marker')
    assert consumer.bodies == ['committed', 'marker']


@pytest.mark.parametrize('backend', broker_rows('transactions'),
                         indirect=True)
def test_broker_transaction_belongs_to_its_session(backend, clients):
    """A transfer naming a transaction of another session is an ordinary
    message: queued at once."""
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    txn = _declare(clients, _coordinator(clients, client))
    sender = client.sender(address)
    consumer = clients.connect(_url(backend)).receiver(address, credit=10)
    clients.wait(lambda: sender.credit > 0, what='credit')
    delivery = sender.link.delivery(unique('tag'))
    _in_txn(delivery, txn)
    sender.link.send(Message(body='at once').encode())
    sender.link.advance()
    clients.wait(lambda: consumer.received, what='the message')
    assert consumer.bodies == ['at once']


@pytest.mark.parametrize('backend', broker_rows('transactions'),
                         indirect=True)
def test_broker_transactional_acquisitions(backend, clients):
    """A message accepted in a transaction is gone on commit; on
    rollback it is back in the queue for the next consumer."""
    address = unique('exclusive')
    client = clients.connect(_url(backend))
    sender = client.sender(address)
    for body in ('kept', 'consumed'):
        sender.send(body)
    client.sync()
    receiver = client.receiver(address, credit=2)
    ctrl = _coordinator(clients, client, receiver.link.session)
    clients.wait(lambda: len(receiver.received) == 2, what='both')
    for item, fail in zip(receiver.received, (True, False)):
        txn = _declare(clients, ctrl)
        _in_txn(item.delivery, txn, ACCEPTED)
        item.delivery.settle()
        done = _control(clients, ctrl, 'amqp:discharge:list', [txn, fail])
        assert done.remote_state == ACCEPTED
    other = clients.connect(_url(backend)).receiver(address, credit=10)
    clients.wait(lambda: other.received, what='the rolled back one')
    other.client.sync()
    assert other.bodies == ['kept']
    # An undischarged transaction is rolled back when its controller's
    # connection goes.  (``last`` keeps the queue: qpidd deletes a
    # pattern-made queue with its last subscriber.)
    last = clients.connect(_url(backend)).receiver(address, credit=0)
    other.close()
    doomed = clients.connect(_url(backend))
    taker = doomed.receiver(address, credit=1)
    txn = _declare(clients, _coordinator(clients, doomed,
                                         taker.link.session))
    sender.send('again')
    clients.wait(lambda: taker.received, what='one more')
    _in_txn(taker.received[0].delivery, txn, ACCEPTED)
    taker.received[0].delivery.settle()
    doomed.sync()
    doomed.close()
    last.flow(10)
    clients.wait(lambda: len(last.received) == 2, what='redelivery')
    # 'kept' too: ``other`` left it unsettled when it detached
    assert last.bodies == ['kept', 'again']


def test_router_credit_option_is_checked():
    """A misspelt credit model is a clear error, not a silent default."""
    from amqp1_fixtures import exceptions
    with pytest.raises(exceptions.ConfigError, match="credit must be"):
        FakeRouter(credit='consumer')
