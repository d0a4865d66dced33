#!/bin/sh
# HTCondor job wrapper (runs inside the container): the broker password from the transferred file
# `broker-password` (kept out of the job ad and the command line), then the client.
if [ -f broker-password ]; then
    SKYSCAN_BROKER_PASSWORD=$(cat broker-password)
    export SKYSCAN_BROKER_PASSWORD
fi
exec /usr/local/bin/skymap-scanner-entrypoint client "$@"
