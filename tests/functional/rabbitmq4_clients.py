"""Proton clients of RabbitMQ 4's management node, for the behaviour tests.

RabbitMQ 4 declares and deletes queues, exchanges and bindings over AMQP
1.0 itself: "HTTP over AMQP" requests on the ``/management`` node, through
a *link pair* (AMQP Link Pair CS 01): a sender to ``/management`` and a
receiver from it, with the same link name, both carrying the link property
``paired = true``.  A request is a message with ``message-id``, ``to`` =
the HTTP path (``/queues/q1``), ``subject`` = the method, ``reply-to`` =
``$me`` and an amqp-value body (``null`` when there is none); the response
has ``subject`` = the status code, ``correlation-id`` = the request's
``message-id`` and an amqp-value body.
"""

import uuid
from urllib import parse

from proton import Data
from proton import Endpoint
from proton import Message
from proton import symbol
from proton._message import pn_message_body
from proton.reactor import AtMostOnce
from proton.reactor import LinkOption

from tests.functional import proton_clients

MANAGEMENT = '/management'


class NullBodyMessage(Message):
    """A :class:`proton.Message` whose ``body=None`` is sent as an
    amqp-value ``null`` section rather than no body section: a management
    request without a body section ends RabbitMQ 4.0's session
    (``amqp:internal-error``, a ``function_clause``)."""

    def _pre_encode(self):
        super()._pre_encode()
        if self.body is None:
            Data(pn_message_body(self._msg)).put_null()


class Paired(LinkOption):
    """The link property ``paired = true`` of a management link pair."""

    def apply(self, link):
        link.properties = {symbol('paired'): True}


def quote(name):
    """A queue or exchange name as one segment of a management path or a
    v2 address (percent-encoded, ``/`` included)."""
    return parse.quote(name, safe='')


class Response:
    """A management response: ``status`` (str, e.g. ``'201'``), ``body``,
    and the whole ``message``."""

    def __init__(self, message):
        self.message = message
        self.status = message.subject
        self.body = message.body

    def __repr__(self):
        return '<Response %s %r>' % (self.status, self.body)


class ManagementFailed(AssertionError):
    """The session or link pair ended before the response came."""

    def __init__(self, condition):
        self.condition = condition
        super().__init__('management link pair ended: %s' % (condition,))


class Management:
    """A management link pair on a :class:`proton_clients.Client`, in a
    session of its own (an error ends only that session).

    :param client: the connection.
    :param name: the link name both halves share.
    """

    def __init__(self, client, name=None):
        self.client = client
        self.clients = client.clients
        name = name or proton_clients.unique('mgmt')
        self.session = client.connection.session()
        self.session.open()
        container = self.clients.container
        self.sender_link = container.create_sender(
            self.session, MANAGEMENT, name=name,
            options=[Paired(), AtMostOnce()])
        self.receiver_link = container.create_receiver(
            self.session, MANAGEMENT, name=name, options=[Paired()])
        self.receiver = proton_clients.Receiver(client, self.receiver_link)
        client._receivers[self.receiver_link] = self.receiver
        self.receiver_link.flow(100)
        self.clients.wait(lambda: self.ended or (
            client._attached(self.sender_link) and
            client._attached(self.receiver_link)), what='management attach')

    @property
    def ended(self):
        """The condition that ended the session, a link or the
        connection, if one did."""
        for endpoint in (self.session, self.sender_link,
                         self.receiver_link, self.client.connection):
            if endpoint.state & Endpoint.REMOTE_CLOSED:
                return endpoint.remote_condition or 'closed'
        if self.client.disconnected:
            return self.client.transport_condition or 'disconnected'
        return None

    def send(self, method, path, body=None, message=None):
        """Send one request; return its message-id."""
        if message is None:
            message = NullBodyMessage(body=body)
        message.id = message.id or str(uuid.uuid4())
        message.address = path
        message.subject = method
        message.reply_to = '$me'
        self.sender_link.send(message)
        return message.id

    def request(self, method, path, body=None, message=None):
        """Send a request and wait for its :class:`Response`.

        :raises ManagementFailed: the session ended instead.
        """
        seen = len(self.receiver.received)
        ident = self.send(method, path, body, message)
        self.clients.wait(lambda: len(self.receiver.received) > seen or
                          self.ended, what='%s %s' % (method, path))
        if len(self.receiver.received) <= seen:
            raise ManagementFailed(self.ended)
        item = self.receiver.received[seen]
        self.receiver.settle(item)
        response = Response(item.message)
        response.correlated = item.message.correlation_id == ident
        response.settled = item.delivery.settled
        return response

    # --- the requests the tests use --------------------------------------

    def declare_queue(self, name, durable=True, exclusive=False,
                      auto_delete=False, arguments=None):
        """``PUT /queues/<name>``."""
        return self.request('PUT', '/queues/%s' % quote(name), {
            'durable': durable, 'exclusive': exclusive,
            'auto_delete': auto_delete, 'arguments': arguments or {}})

    def delete_queue(self, name):
        """``DELETE /queues/<name>``."""
        return self.request('DELETE', '/queues/%s' % quote(name))

    def declare_exchange(self, name, type='direct', durable=True,
                         auto_delete=False, arguments=None):
        """``PUT /exchanges/<name>``."""
        return self.request('PUT', '/exchanges/%s' % quote(name), {
            'type': type, 'durable': durable, 'auto_delete': auto_delete,
            'internal': False, 'arguments': arguments or {}})

    def bind(self, exchange, queue, key):
        """``POST /bindings`` of ``queue`` to ``exchange`` with ``key``."""
        return self.request('POST', '/bindings', {
            'source': exchange, 'destination_queue': queue,
            'binding_key': key, 'arguments': {}})
