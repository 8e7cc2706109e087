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
