#!/bin/sh
# deploy.sh SERVICE VERSION: tell every node that runs SERVICE to deploy VERSION.
#
# It fires a Consul user event named "deploy" whose payload is "SERVICE@VERSION", filtered to
# the nodes that run SERVICE; each of them runs on-deploy.sh through
#   consul watch -type=event -name=deploy /opt/bin/on-deploy.sh
set -eu

if [ $# -ne 2 ]; then
    echo "usage: deploy.sh SERVICE VERSION" >&2
    exit 64
fi
service=$1
version=$2

echo "deploy.sh: announcing $service@$version"
consul event -name=deploy -service="^$service\$" "$service@$version"
