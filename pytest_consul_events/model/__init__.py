"""The agent model: events, the ring buffer, the Lamport clock, filters, sizes and ACLs.

Pure Python with no HTTP and no pytest: every behaviour of the fake is reachable from here.
"""
