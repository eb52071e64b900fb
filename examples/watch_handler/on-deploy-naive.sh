#!/bin/sh
# on-deploy-naive.sh: the first version of on-deploy.sh, kept to show what goes wrong.
#
# It deploys every event it is handed, in the order it is handed them. That order is the
# order gossip brought the events to this agent, not the order they were fired, and the watch
# hands the whole buffer over again whenever it starts. test_watch_handler.py shows both.
set -eu

state=${DEPLOY_STATE_DIR:-/var/lib/on-deploy}
mkdir -p "$state"

sed 's/},{/}\n{/g' |
    sed -n 's/.*"Payload":"\([^"]*\)".*"LTime":\([0-9]*\).*/\2 \1/p' |
    while read -r ltime payload; do
        release=$(printf '%s' "$payload" | base64 -d)
        echo "$release" >"$state/current"
        echo "deployed $release (ltime $ltime)" >>"$state/deploy.log"
        echo "on-deploy: deployed $release"
    done
