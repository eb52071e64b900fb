"""Reproductions of the Go standard library behaviours Consul's answers depend on."""
