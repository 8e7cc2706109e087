#!/bin/bash
#
# AMQP1_SSL=True: a router certificate from DevStack's CA (lib/tls), an
# sslProfile on the listener, the key readable by the router's user only.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create

ME=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
    SERVICE_USER=daemon
else
    SERVICE_USER=$ME
fi
CA=$SANDBOX/data/CA/int-ca

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True AMQP1_USERNAME=alice \
    AMQP1_PASSWORD=secret
devstack_run stack pre-install install post-config extra
is "$DEVSTACK_STATUS" 0 "qpid-hybrid with AMQP1_SSL stacks"
is "$(calls '^(init_CA|make_cert)')" "init_CA
make_cert $CA amqp1-router 127.0.0.1 IP:127.0.0.1" \
    "DevStack's CA is built (no tls-proxy) and signs a router certificate for AMQP1_HOST"
TLS=$SANDBOX/data/amqp1/qdrouterd/tls
conf=$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")
like "$conf" "sslProfile \{
    name: amqp1-tls
    certFile: $TLS/router.crt
    privateKeyFile: $TLS/router.key
\}" "qdrouterd.conf has an sslProfile with the certificate and key"
like "$conf" $'authenticatePeer: yes\n    saslMechanisms: PLAIN\n    sslProfile: amqp1-tls\n    requireSsl: yes\n}' \
    "the listener uses it and refuses plain connections; SASL PLAIN runs inside TLS"
is "$(cat "$TLS/router.crt")" "certificate for 127.0.0.1" "the certificate is copied"
is "$(cat "$TLS/router.key")" "key for 127.0.0.1" "the key is copied"
is "$(file_mode "$TLS/router.key")|$(file_owner "$TLS/router.key")" "600|$ME" \
    "the key is 0600, owned by the stand-in's user"
is "$(file_mode "$TLS/router.crt")" 644 "the certificate is 0644"
is "$(printf secret | conf_match router "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf" \
        --host 127.0.0.1 --port "$SANDBOX_ROUTER_PORT" --user alice \
        --log-file "$SANDBOX/logs/qdrouterd.log" \
        --cert "$TLS/router.crt" --key "$TLS/router.key")" "" \
    "qdrouterd.conf with TLS means what render_qdrouterd_conf writes for the same inputs"

devstack_run clean
is "$(find "$SANDBOX/data/amqp1" "$CA/amqp1-router.crt" \
        "$CA/private/amqp1-router.key" 2>/dev/null)" "" \
    "clean removes the copies and the router certificate"

# tls-proxy already built the CA in this stack.sh run
sandbox_reset
mkdir -p "$SANDBOX/data"
echo "tls-proxy CA" >"$SANDBOX/data/ca-bundle.pem"
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True \
    AMQP1_HOST=controller.example.org
devstack_run stack pre-install install
is "$(calls '^(init_CA|make_cert)')" \
    "make_cert $CA amqp1-router controller.example.org " \
    "with tls-proxy's CA in place, only the certificate is made, for the host name"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True 'AMQP1_HOST=[2001:db8::5]'
devstack_run stack pre-install install
like "$(calls '^make_cert')" \
    "make_cert $CA amqp1-router 2001:db8::5 IP:2001:db8::5$" \
    "an IPv6 AMQP1_HOST is the certificate's IP address"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True STUB_AVAILABLE=qdrouterd
devstack_run stack pre-install install
is "$(file_owner "$SANDBOX/var/lib/qdrouterd/tls/router.key")" "$SERVICE_USER" \
    "with the distribution's qdrouterd the key belongs to its user"

sandbox_reset
localrc AMQP1_SERVICE=external AMQP1_SSL=True
devstack_run stack pre-install install
is "$DEVSTACK_STATUS|$(calls '^(init_CA|make_cert)')" "0|" \
    "external with AMQP1_SSL makes no certificate: only clients use TLS"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid
devstack_run stack pre-install install
unlike "$(cat "$SANDBOX/etc/qpid-dispatch/qdrouterd.conf")" "ssl" \
    "without AMQP1_SSL there is no sslProfile"

done_testing
