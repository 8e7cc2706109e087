"""Make one oslo.messaging RPC call to the URL given; print how it failed.

Run by test_tlsless_proton.py with the python of a TLS-less proton build.
Prints ``elapsed <seconds>`` and then ``<ExceptionName>: <message>`` and
exits 3 when the call failed, 0 if it (wrongly) returned.  The call's own
timeout is long, so failing "at once" cannot be a timeout in disguise.
"""

import sys
import time

#: seconds the call may wait for a reply: far above the test's bound
CALL_TIMEOUT = 60


def main(url):
    from oslo_config import cfg
    import oslo_messaging
    from oslo_messaging import conffixture

    conf = cfg.ConfigOpts()
    conf([], project='tlsless')
    # registers the options oslo.messaging reads, as a service's use does
    conffixture.ConfFixture(conf)
    started = time.monotonic()
    try:
        transport = oslo_messaging.get_rpc_transport(conf, url=url)
        try:
            client = oslo_messaging.get_rpc_client(
                transport, oslo_messaging.Target(topic='tlsless'),
                timeout=CALL_TIMEOUT)
            client.call({}, 'ping')
        finally:
            transport.cleanup()
    except Exception as exc:
        print('elapsed %.3f' % (time.monotonic() - started))
        print('%s: %s' % (type(exc).__name__, exc))
        return 3
    print('elapsed %.3f' % (time.monotonic() - started))
    print('the call returned')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
