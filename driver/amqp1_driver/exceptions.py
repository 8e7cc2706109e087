"""Exceptions raised by the amqp:// driver.

All are :class:`oslo_messaging.MessagingException` subclasses, so callers
that catch oslo.messaging's own exceptions keep working.
"""

import oslo_messaging


class AuthenticationFailure(oslo_messaging.MessageDeliveryFailure):
    """The server refused our SASL credentials.

    A :class:`~oslo_messaging.MessageDeliveryFailure` (what the 14.x driver
    raised, with ``amqp:unauthorized-access`` in the text), raised at once
    by the calls, casts and notifications waiting for the connection.

    :param host: ``host:port`` that refused us.
    :param user: the user name we offered.
    :param reason: the server's description, if any.
    """

    def __init__(self, host, user, reason=None):
        self.host = host
        self.user = user
        self.reason = reason
        text = ('AMQP authentication failed on %s for user %r'
                % (host, user))
        if reason:
            text += ': %s' % reason
        super().__init__(text)


class TLSUnavailable(oslo_messaging.MessagingException):
    """TLS was asked for but python-qpid-proton was built without it."""


class IOThreadDead(oslo_messaging.MessagingException):
    """The driver's I/O thread ended; no message can be sent any more."""


class DriverShutdown(oslo_messaging.MessagingException):
    """The transport was cleaned up while the request was pending."""


class PeerRefused(oslo_messaging.MessageDeliveryFailure):
    """The peer refused a link, or ended the session or the connection,
    with an error condition.

    Raised at once by every call, cast and notification waiting on what
    was refused (a :class:`~oslo_messaging.MessageDeliveryFailure`, what
    the 14.x driver raised for a failed link), and by later ones until a
    connection is usable again.

    :param host: ``host:port`` of the peer.
    :param what: what the peer did, e.g. ``refused the reply link``,
        ``ended the session``, ``closed the connection``.
    :param condition: the error condition's name, e.g.
        ``amqp:not-implemented``.
    :param description: its description, or None.
    """

    def __init__(self, host, what, condition, description=None):
        self.host = host
        self.what = what
        self.condition = condition
        self.description = description
        text = 'AMQP 1.0 peer %s %s: %s' % (host, what, condition)
        if description:
            text += ': %s' % description
        super().__init__(text)


class InvalidURLOption(oslo_messaging.InvalidTransportURL, ValueError):
    """An ``[oslo_messaging_amqp]`` option in the transport URL's query
    has a bad value (a ``ValueError`` too, what oslo raised before).

    :param url: the transport URL (kept as an attribute, never put into
        the message: it may hold a password).
    :param option: the option's name.
    :param value: the value given.
    :param reason: why the value is bad.
    """

    def __init__(self, url, option, value, reason):
        self.option = option
        self.value = value
        super().__init__(url, 'invalid value %r for option %s in the '
                         'amqp:// transport URL query: %s'
                         % (value, option, reason))
