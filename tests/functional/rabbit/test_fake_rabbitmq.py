"""FakeRabbitMQ as a fixture: what it keeps across a restart, what it
counts, its faults, TLS and its settings (its RabbitMQ behaviour is
test_rabbitmq4_behaviour.py's, beside the real node)."""

import fixtures
import pytest
from proton import Data
from proton import Endpoint
from proton import SSLDomain
from proton import Terminus
from proton.reactor import AtMostOnce
from proton.reactor import LinkOption

from amqp1_fixtures import ConfigError
from amqp1_fixtures import FakeRabbitMQ
from amqp1_fixtures import make_test_certificates
from tests.functional.proton_clients import ACCEPTED
from tests.functional.proton_clients import REJECTED
from tests.functional.proton_clients import RELEASED
from tests.functional.proton_clients import unique
from tests.functional.rabbit import test_rabbitmq4_behaviour as behaviour
from tests.functional.rabbitmq4_clients import Management


@pytest.fixture
def rabbit():
    fake = FakeRabbitMQ(users={'u1': 'p1-secret'})
    fake.setUp()
    yield fake
    fake.cleanUp()


def _send(clients, client, address, body, **properties):
    out = behaviour.sender(clients, client, address)
    return behaviour.settled_state(clients, out.send(body, **properties))


@pytest.mark.parametrize('how', ['stop', 'kill'])
def test_a_restart_keeps_durable_queues_and_messages(rabbit, clients, how):
    """As RabbitMQ keeps them on disk: durable queues, exchanges and
    bindings, and their durable messages; not transient or exclusive
    queues, nor messages sent ``durable = false``."""
    client = behaviour.connect(clients, rabbit)
    mgmt = Management(client)
    kept, lost, mine = unique('kept'), unique('lost'), unique('mine')
    behaviour.queue(mgmt, kept)
    behaviour.queue(mgmt, lost, durable=False)
    behaviour.queue(mgmt, mine, durable=False, exclusive=True)
    exchange = unique('x')
    assert mgmt.declare_exchange(exchange, 'topic').status == '204'
    assert mgmt.bind(exchange, kept, 'a.#').status == '204'
    assert _send(clients, client, '/exchanges/%s/a.b' % exchange,
                 'durable') == ACCEPTED
    assert _send(clients, client, '/queues/%s' % kept, 'transient',
                 durable=False) == ACCEPTED
    # proton leaves a false durable flag out: RabbitMQ 4 (and the fake)
    # then keep the message as durable.
    assert rabbit.queues()[kept] == 2
    getattr(rabbit, how)()
    rabbit.start()
    assert sorted(q for q in rabbit.queues() if q in (kept, lost, mine)) \
        == [kept]
    assert rabbit.queues()[kept] == 2
    client = behaviour.connect(clients, rabbit)
    assert _send(clients, client, '/exchanges/%s/a.c' % exchange,
                 'after') == ACCEPTED
    got = behaviour.receiver(clients, client, '/queues/%s' % kept)
    clients.wait(lambda: len(got.received) >= 3)
    assert got.bodies == ['durable', 'transient', 'after']


def test_counts_and_describes(rabbit, clients):
    client = behaviour.connect(clients, rabbit)
    mgmt = Management(client)
    name = behaviour.queue(mgmt)
    address = '/queues/%s' % name
    assert _send(clients, client, address, 'one') == ACCEPTED
    assert _send(clients, client, '/exchanges/amq.direct/nobody',
                 'lost') == RELEASED
    got = behaviour.receiver(clients, client, address)
    clients.wait(lambda: got.received)
    got.settle(0)
    clients.wait(lambda: rabbit.stats.address(name).accepted == 1)
    assert rabbit.stats.address(address).received == 1
    assert rabbit.stats.address(name).as_dict()['stored'] == 1
    assert rabbit.stats.address('/exchanges/amq.direct/nobody').released == 1
    assert rabbit.consumers() == {name: 1}
    declared = rabbit.declared()
    assert declared['queues'][name] == {
        'durable': True, 'exclusive': False, 'auto_delete': False,
        'arguments': {'x-queue-type': 'classic'}}
    assert declared['exchanges']['amq.topic'] == 'topic'


def test_wrong_password_is_an_authentication_failure(rabbit, clients):
    client = behaviour.connect(clients, rabbit, password='wrong')
    assert not client.opened
    assert client.transport_condition.name == 'amqp:unauthorized-access'
    rabbit.wait_for(lambda: rabbit.stats.auth_failures == 1)


def test_injected_fault(rabbit, clients):
    client = behaviour.connect(clients, rabbit)
    name = behaviour.queue(Management(client))
    fault = rabbit.inject('reject', address='/queues/%s' % name, count=1)
    assert _send(clients, client, '/queues/%s' % name, 'no') == REJECTED
    assert not fault.active
    assert _send(clients, client, '/queues/%s' % name, 'yes') == ACCEPTED


def test_tls(clients):
    with fixtures.TempDir() as tmp:
        certs = make_test_certificates(tmp.path)
        with FakeRabbitMQ(host='localhost', tls=certs.server_tls()) as fake:
            domain = SSLDomain(SSLDomain.MODE_CLIENT)
            domain.set_trusted_ca_db(certs.ca_file)
            domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
            client = clients.connect(
                'amqps://localhost:%d' % fake.port, user=fake.user,
                password=fake.password, allowed_mechs='PLAIN',
                ssl_domain=domain)
            assert client.opened
            assert fake.transport_url.startswith('amqp://amqp1fx:')


@pytest.mark.parametrize('kwargs, option', [
    ({'anonymous_user': 'nobody'}, 'anonymous_user'),
    ({'sasl_mechanisms': ['ANONYMOUS']}, 'sasl_mechanisms'),
])
def test_bad_settings(kwargs, option):
    with pytest.raises(ConfigError) as err:
        FakeRabbitMQ(**kwargs)
    assert err.value.option == option


def test_version_announced(clients):
    with FakeRabbitMQ(version='4.2.1') as fake:
        client = behaviour.connect(clients, fake)
        assert client.properties['version'] == '4.2.1'


class _Volatile(LinkOption):
    """Ask for Direct Reply-To (RabbitMQ 4.2's AMQP 1.0 documentation)."""

    def apply(self, link):
        caps = link.source.capabilities
        caps.put_array(False, Data.SYMBOL)
        caps.enter()
        caps.put_symbol('rabbitmq:volatile-queue')
        caps.exit()
        link.source.expiry_policy = Terminus.EXPIRE_WITH_LINK


def test_direct_reply_to_from_4_2(clients):
    """Announced as 4.2: a volatile dynamic source gets a pseudo-queue;
    replies to it come settled while there is credit, are dropped (yet
    accepted) without it, and are released once the requester is gone.
    Unverified against a real 4.2 node (none packaged here)."""
    with FakeRabbitMQ(version='4.2.0') as fake:
        client = behaviour.connect(clients, fake)
        requester = behaviour.receiver(
            clients, client, None, credit=0, dynamic=True,
            options=[_Volatile(), AtMostOnce()])
        address = requester.address
        assert address.startswith('/queues/amq.rabbitmq.reply-to.')
        relay = behaviour.sender(clients, client, None)
        assert behaviour.settled_state(clients, relay.send(
            'dropped', address=address)) == ACCEPTED
        requester.flow(1)
        assert behaviour.settled_state(clients, relay.send(
            'reply', address=address)) == ACCEPTED
        clients.wait(lambda: requester.received)
        assert requester.bodies == ['reply']
        assert requester.received[0].delivery.settled
        requester.close()
        clients.wait(lambda: requester.link.state & Endpoint.REMOTE_CLOSED)
        assert behaviour.settled_state(clients, relay.send(
            'late', address=address)) == RELEASED


@pytest.mark.parametrize('version, durable', [('4.0.5', True),
                                              ('4.2.0', False)])
def test_durable_default(clients, version, durable):
    """proton leaves ``durable = false`` out: durable for 4.0, not for
    4.2 (its release notes)."""
    with FakeRabbitMQ(version=version) as fake:
        client = behaviour.connect(clients, fake)
        name = behaviour.queue(Management(client))
        assert _send(clients, client, '/queues/%s' % name, 'm') == ACCEPTED
        got = behaviour.receiver(clients, client, '/queues/%s' % name)
        clients.wait(lambda: got.received)
        assert got.received[0].message.durable is durable


def test_dynamic_sources_refused_before_4_2(clients):
    with FakeRabbitMQ(version='4.1.3') as fake:
        client = behaviour.connect(clients, fake)
        link = clients.container.create_receiver(
            behaviour.own_session(client), None, dynamic=True,
            options=[_Volatile()])
        assert behaviour.refusal(clients, link) == (
            'session', 'amqp:not-implemented',
            'Dynamic sources not supported')
