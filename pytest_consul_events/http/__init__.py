"""The fake agent's HTTP API: a WSGI app translating Consul's requests into model calls."""
