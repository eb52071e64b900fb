"""Default bounds of an agent: Consul's per-client connection limit, and the fake's histories."""

from __future__ import annotations

DEFAULT_HTTP_MAX_CONNS_PER_CLIENT = 200
"""Consul's ``limits { http_max_conns_per_client }`` default (agent/config/default.go)."""

DEFAULT_HISTORY_LIMIT = 10_000
"""How many fired events, logged requests and gossip steps an agent (or cluster) keeps by
default; older ones are dropped and counted. 0 keeps them all."""
