#!/bin/sh
# on-deploy.sh: deploy the release that deploy.sh announced.
# Run on every node by: consul watch -type=event -name=deploy /opt/bin/on-deploy.sh
#
# Consul hands the new "deploy" events to standard input as one JSON array:
#   [{"ID":"...","Name":"deploy","Payload":"d2ViQDEuNC4y",...,"Version":1,"LTime":7}]
# (each Payload is "SERVICE@VERSION", base64-encoded). Two things Consul does not promise:
#
# * order: an agent lists events in the order gossip brought them, which need not be the order
#   they were fired. LTime, the Lamport time the server stamped on the event, is the order to
#   trust.
# * once only: the watch hands over everything the agent still buffers when it starts (so at
#   every restart or reload), and again after a failed query.
#
# So this handler applies the events in LTime order, and only those newer than the last one it
# applied, which it keeps in $DEPLOY_STATE_DIR/last-ltime.
set -eu

state=${DEPLOY_STATE_DIR:-/var/lib/on-deploy}
mkdir -p "$state"
last=$(cat "$state/last-ltime" 2>/dev/null || echo 0)

# One line per event, "LTIME PAYLOAD": Consul writes the array on one line, its keys in
# this order, and ends it with a newline.
sed 's/},{/}\n{/g' |
    sed -n 's/.*"Payload":"\([^"]*\)".*"LTime":\([0-9]*\).*/\2 \1/p' |
    sort -n |
    while read -r ltime payload; do
        if [ "$ltime" -le "$last" ]; then
            echo "on-deploy: skipping the event of ltime $ltime (already at $last)" >&2
            continue
        fi
        release=$(printf '%s' "$payload" | base64 -d)
        echo "$release" >"$state/current"
        echo "deployed $release (ltime $ltime)" >>"$state/deploy.log"
        echo "$ltime" >"$state/last-ltime"
        last=$ltime
        echo "on-deploy: deployed $release"
    done
