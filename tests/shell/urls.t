#!/bin/bash
#
# The rpc_backend overrides: get_transport_url, get_notification_url,
# iniset_rpc_backend and rpc_backend_add_vhost in every mode, in stack.sh,
# unstack.sh and clean.sh.

source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/devstack_stubs.sh"

plan no_plan
sandbox_create
# the plugin's default ports: these tests start no daemon
SANDBOX_PORTS=plugin

# urls script [vhost]: "rpc-url notify-url" as the plugin returns them
function urls {
    local script=$1 vhost
    vhost=$(printf '%q' "${2:-}")
    if [[ "$script" == "stack" ]]; then
        script="stack pre-install"
    fi
    devstack_run $script -- \
        "echo \"\$(get_transport_url $vhost) \$(get_notification_url $vhost)\""
    cat "$SANDBOX/after"
}

# oslo_parse url: user|password|host|port|vhost per host, decoded the way
# oslo.messaging's TransportURL.parse decodes them
function oslo_parse {
    python3 - "$1" <<'EOF'
import sys
from urllib import parse
url = parse.urlparse(sys.argv[1])
for netloc in url.netloc.split(','):
    user = password = ''
    host = netloc
    if '@' in netloc:
        user, host = netloc.rsplit('@', 1)
        if ':' in user:
            user, password = user.split(':', 1)
            password = parse.unquote(password)
        user = parse.unquote(user)
    if host.startswith('['):
        name, port = host[1:].split(']')
    else:
        name, _, port = host.partition(':')
    print('|'.join([user, password, name, port.lstrip(':'),
                    parse.unquote(url.path[1:])]))
EOF
}

# -- defaults ---------------------------------------------------------------

is "$(urls unstack)" "amqp://127.0.0.1:5672/ amqp://127.0.0.1:5672/" \
    "qpid: both URLs name qpidd on AMQP1_HOST:5672"
is "$(calls '^rabbit:')" "" "unstack.sh needs nothing from lib/rpc_backend"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual
is "$(urls stack)" "amqp://127.0.0.1:45672/ amqp://127.0.0.1:5672/" \
    "qpid-dual: RPC to the router on 45672, notifications to qpidd on 5672"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual
devstack_run stack pre-install -- 'get_transport_url; get_notification_url'
is "$(cat "$SANDBOX/after")" "amqp://127.0.0.1:45672/
amqp://127.0.0.1:5672/" "stack.sh: the override replaces lib/rpc_backend's"

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual
is "$(urls clean nova_cell1)" \
    "amqp://127.0.0.1:45672/nova_cell1 amqp://127.0.0.1:5672/nova_cell1" \
    "clean.sh, which sources lib/rpc_backend first, gets the override too"

# -- credentials --------------------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual 'AMQP1_USERNAME=os user@x' \
    'AMQP1_PASSWORD=p@ss:w/rd%#?&é +'
read -r rpc notify <<<"$(urls unstack)"
is "$rpc" "amqp://os%20user%40x:p%40ss%3Aw%2Frd%25%23%3F%26%C3%A9%20%2B@127.0.0.1:45672/" \
    "user and password are percent-encoded in the RPC URL"
is "$(oslo_parse "$rpc")" "os user@x|p@ss:w/rd%#?&é +|127.0.0.1|45672|" \
    "oslo.messaging decodes them back to the configured credentials"
is "$(oslo_parse "$notify")" "os user@x|p@ss:w/rd%#?&é +|127.0.0.1|5672|" \
    "the notification URL carries them too"

# -- hosts --------------------------------------------------------------------

for host in 2001:db8::5 '[2001:db8::5]'; do
    sandbox_reset
    localrc AMQP1_SERVICE=qpid-dual "AMQP1_HOST=$host" AMQP1_USERNAME=u \
        AMQP1_PASSWORD=p
    is "$(urls unstack cell)" \
        "amqp://u:p@[2001:db8::5]:45672/cell amqp://u:p@[2001:db8::5]:5672/cell" \
        "IPv6 AMQP1_HOST $host is bracketed once in the URLs"
    read -r rpc notify <<<"$(urls unstack)"
    is "$(oslo_parse "$rpc")" "u|p|2001:db8::5|45672|" \
        "and parses back to the address and port"
done

sandbox_reset
localrc AMQP1_SERVICE=external \
    'AMQP1_RPC_TRANSPORT_URL=amqp://u:p@rpc1:5672,u:p@[2001:db8::7]:5673' \
    'AMQP1_NOTIFY_TRANSPORT_URL=amqp://n1:5672,n2:5672/?idle=5'
read -r rpc notify <<<"$(urls unstack nova_cell1)"
is "$rpc" "amqp://u:p@rpc1:5672,u:p@[2001:db8::7]:5673/nova_cell1" \
    "external: several hosts get the virtual host once, at the end"
is "$(oslo_parse "$rpc")" "u|p|rpc1|5672|nova_cell1
u|p|2001:db8::7|5673|nova_cell1" "each host parses with its credentials"
is "$notify" "amqp://n1:5672,n2:5672/nova_cell1?idle=5" \
    "a vhost replaces the URL's path and keeps its query"
read -r rpc notify <<<"$(urls unstack)"
is "$rpc $notify" \
    "amqp://u:p@rpc1:5672,u:p@[2001:db8::7]:5673/ amqp://n1:5672,n2:5672/?idle=5" \
    "without a vhost the URLs are used as configured"

sandbox_reset
localrc AMQP1_SERVICE=external AMQP1_RPC_TRANSPORT_URL=amqp://bus/own \
    AMQP1_NOTIFY_TRANSPORT_URL=amqp://bus:5672/own
is "$(urls unstack)" "amqp://bus/own amqp://bus:5672/own" \
    "a URL's own virtual host stays when DevStack asks for none"
is "$(urls unstack 'a b/c')" "amqp://bus/a%20b%2Fc amqp://bus:5672/a%20b%2Fc" \
    "a virtual host argument is percent-encoded"

sandbox_reset
localrc AMQP1_SERVICE=external AMQP1_HOST=bus.example.org \
    AMQP1_DEFAULT_PORT=5671 AMQP1_NOTIFY_PORT=5671
is "$(urls unstack)" "amqp://bus.example.org:5671/ amqp://bus.example.org:5671/" \
    "external without URLs: built from AMQP1_HOST and the ports, as before"

# -- qpid-hybrid: RabbitMQ for notifications ----------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_USERNAME=u AMQP1_PASSWORD=p
is "$(urls unstack nova_cell1)" \
    "amqp://u:p@127.0.0.1:45672/nova_cell1 rabbit://stackrabbit:rabbitsecret@127.0.0.1:5672/nova_cell1" \
    "qpid-hybrid: RPC to the router, notifications to DevStack's RabbitMQ"
is "$(calls '^rabbit:')" "rabbit:get_notification_url nova_cell1" \
    "the RabbitMQ URL comes from DevStack's own get_notification_url"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid
devstack_run unstack -- 'rpc_backend_add_vhost nova_cell1; echo "rc=$?"'
is "$(cat "$SANDBOX/after")" "rc=0" "qpid-hybrid: rpc_backend_add_vhost succeeds"
is "$(calls '^rabbit:')" "rabbit:rpc_backend_add_vhost nova_cell1" \
    "and creates the vhost in RabbitMQ, for notifications"

for mode in qpid qpid-dual external; do
    sandbox_reset
    localrc AMQP1_SERVICE=$mode
    devstack_run stack pre-install -- \
        'rpc_backend_add_vhost nova_cell1; echo "rc=$?"'
    is "$(cat "$SANDBOX/after")$(calls '^rabbit:')" "rc=0" \
        "$mode: rpc_backend_add_vhost succeeds (stack.sh runs with errexit) and needs no RabbitMQ"
done

# -- iniset_rpc_backend ---------------------------------------------------------

NOVA=/etc/nova/nova.conf
KEYSTONE=/etc/keystone/keystone.conf

sandbox_reset
localrc AMQP1_SERVICE=qpid-dual AMQP1_USERNAME=u AMQP1_PASSWORD=p
devstack_run unstack -- \
    "iniset_rpc_backend nova $NOVA DEFAULT nova_cell1; iniset_rpc_backend keystone $KEYSTONE oslo_messaging_notifications"
is "$(ini_get $NOVA DEFAULT transport_url)" \
    "amqp://u:p@127.0.0.1:45672/nova_cell1" "nova: [DEFAULT] gets the RPC URL"
is "$(ini_get $NOVA oslo_messaging_notifications transport_url)" \
    "amqp://u:p@127.0.0.1:5672/nova_cell1" \
    "nova: [oslo_messaging_notifications] gets the notification URL"
is "$(ini_get $KEYSTONE oslo_messaging_notifications transport_url)" \
    "amqp://u:p@127.0.0.1:5672/" \
    "keystone, which asks for the notifications section, gets qpidd"
is "$(ini_get $KEYSTONE DEFAULT transport_url)" "" \
    "and no RPC URL"
is "$(ini_get $NOVA oslo_messaging_amqp ssl)" "" "no TLS options by default"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid
devstack_run unstack -- \
    "iniset_rpc_backend nova $NOVA DEFAULT nova_cell1; iniset_rpc_backend keystone $KEYSTONE oslo_messaging_notifications"
is "$(ini_get $NOVA DEFAULT transport_url)" \
    "amqp://127.0.0.1:45672/nova_cell1" "qpid-hybrid nova: RPC to the router"
is "$(ini_get $NOVA oslo_messaging_notifications transport_url)" \
    "rabbit://stackrabbit:rabbitsecret@127.0.0.1:5672/nova_cell1" \
    "qpid-hybrid nova: notifications to RabbitMQ"
is "$(ini_get $KEYSTONE oslo_messaging_notifications transport_url)" \
    "rabbit://stackrabbit:rabbitsecret@127.0.0.1:5672/" \
    "qpid-hybrid keystone: notifications to RabbitMQ"
is "$(calls '^rabbit:iniset')" \
    "rabbit:iniset_rpc_backend nova $NOVA oslo_messaging_notifications nova_cell1
rabbit:iniset_rpc_backend keystone $KEYSTONE oslo_messaging_notifications " \
    "through DevStack's own iniset_rpc_backend (heartbeat options and all)"

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_SSL=True
devstack_run unstack -- "iniset_rpc_backend nova $NOVA"
is "$(ini_get $NOVA oslo_messaging_amqp ssl)|$(ini_get $NOVA oslo_messaging_amqp ssl_ca_file)" \
    "True|$SANDBOX/data/ca-bundle.pem" \
    "AMQP1_SSL=True: [oslo_messaging_amqp] ssl with DevStack's CA bundle"

sandbox_reset
localrc AMQP1_SERVICE=external AMQP1_SSL=True AMQP1_SSL_CA_FILE=/etc/ssl/bus-ca.pem
devstack_run unstack -- "iniset_rpc_backend nova $NOVA"
is "$(ini_get $NOVA oslo_messaging_amqp ssl_ca_file)" "/etc/ssl/bus-ca.pem" \
    "external with AMQP1_SSL: the CA file can be the external bus's"

# -- the summary masks passwords ------------------------------------------------

sandbox_reset
localrc AMQP1_SERVICE=qpid-hybrid AMQP1_USERNAME=u AMQP1_PASSWORD=s3cret
devstack_run stack extra
like "$(output)" "RPC at amqp://u:\*\*\*@127.0.0.1:45672/, notifications at rabbit://stackrabbit:\*\*\*@127.0.0.1:5672/" \
    "the extra phase prints where the backends are, passwords masked"
unlike "$(output)" "s3cret|rabbitsecret" "and no password"

done_testing
