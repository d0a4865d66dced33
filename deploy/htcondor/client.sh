#!/bin/sh
# HTCondor job wrapper (runs inside the container): the broker password from the transferred file
# `broker-password` (kept out of the job ad and the command line), the scan's secret from the transferred
# file `scan-secret` (every broker message is authenticated with it), then the client.
if [ -f broker-password ]; then
    SKYSCAN_BROKER_PASSWORD=$(cat broker-password)
    export SKYSCAN_BROKER_PASSWORD
fi
exec /usr/local/bin/skymap-scanner-entrypoint client --scan-secret-file scan-secret "$@"
