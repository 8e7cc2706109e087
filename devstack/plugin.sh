#!/bin/bash
#
# devstack/plugin.sh
# DevStack plugin for AMQP 1.0 messaging: dispatches DevStack's phases to
# devstack/lib/amqp1.  Settings: devstack/settings.

# stack.sh traces this file; every function of lib/amqp1 that sees a
# password turns xtrace off itself (settings runs untraced as a whole).

if is_service_enabled amqp1; then
    # Defines get_transport_url and the rest of DevStack's rpc_backend
    # interface in every phase, unstack.sh and clean.sh included.
    source "$(dirname "${BASH_SOURCE[0]}")/lib/amqp1"
    _amqp1_check_mode

    if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        # Validate before anything is installed: settings, the driver the
        # branch's upper-constraints call for, free ports
        _amqp1_preflight

    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        # keystone starts right after this phase and sends notifications
        echo_summary "Installing AMQP 1.0 messaging ($AMQP1_SERVICE)"
        install_amqp1
        _amqp1_check_driver
        configure_amqp1
        start_amqp1

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        # Later installs may have replaced oslo.messaging; the other
        # services start after this phase
        _amqp1_check_driver

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        _amqp1_summary
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_amqp1
    fi

    if [[ "$1" == "clean" ]]; then
        # clean.sh has already run unstack.sh
        cleanup_amqp1
    fi
fi

# Tell emacs to use shell-script-mode
## Local variables:
## mode: shell-script
## End:
