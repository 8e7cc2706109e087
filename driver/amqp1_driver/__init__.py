"""An ``amqp://`` (AMQP 1.0) driver for oslo.messaging >= 16.

Wire-compatible with the driver oslo.messaging 14.x shipped.  The driver
class is :class:`amqp1_driver.driver.AMQP1Driver`; it is loaded through the
``oslo.messaging.drivers`` entry point ``amqp``, so this package imports
nothing heavy itself.
"""

__all__ = []
