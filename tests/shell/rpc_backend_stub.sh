#!/bin/bash
#
# tests/shell/rpc_backend_stub.sh
# Installed as the sandbox's $TOP_DIR/lib/rpc_backend: DevStack's RabbitMQ
# versions of the rpc_backend interface, reduced to what the plugin calls
# in qpid-hybrid mode.  Calls are recorded with a "rabbit:" prefix.
# RABBIT_PORT (not in DevStack, which always uses 5672) lets the
# end-to-end test point at a private RabbitMQ node, and RABBITMQCTL at
# its rabbitmqctl.

RABBIT_USERID=${RABBIT_USERID:-stackrabbit}
if is_service_enabled rabbit; then
    RABBIT_HOST=${RABBIT_HOST:-$SERVICE_HOST}
fi

# _rabbit_usable: as DevStack's: rabbit here, or a controller's given
function _rabbit_usable {
    is_service_enabled rabbit || [[ -n "$RABBIT_HOST" && -n "$RABBIT_PASSWORD" ]]
}

function get_transport_url {
    _stub_record "rabbit:get_transport_url $1"
    _rabbit_usable || return 0
    echo "rabbit://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:${RABBIT_PORT:-5672}/$1"
}

function get_notification_url {
    _stub_record "rabbit:get_notification_url $1"
    _rabbit_usable || return 0
    echo "rabbit://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:${RABBIT_PORT:-5672}/$1"
}

function iniset_rpc_backend {
    local package=$1 file=$2 section=${3:-DEFAULT} virtual_host=$4
    _stub_record "rabbit:iniset_rpc_backend $package $file $section $virtual_host"
    iniset "$file" "$section" transport_url "$(get_transport_url "$virtual_host")"
}

function rpc_backend_add_vhost {
    _stub_record "rabbit:rpc_backend_add_vhost $1"
    if [[ -n "${RABBITMQCTL:-}" ]]; then
        $RABBITMQCTL add_vhost "$1" >/dev/null &&
            $RABBITMQCTL set_permissions -p "$1" "$RABBIT_USERID" \
                ".*" ".*" ".*" >/dev/null
    fi
}
