"""The standalone agent: ``python -m pytest_consul_events`` (or ``pytest-consul-events``).

Where each behaviour lives:

* :mod:`~pytest_consul_events.standalone.config`: Consul's agent configuration files (HCL or
  JSON) and ``-hcl`` fragments, read into one raw settings tree, merged as Consul merges them;
  the ``fake { ... }`` block holds what only the fake has (seed, clock, gossip, agents...).
* :mod:`~pytest_consul_events.standalone.flags`: the command line, turned into the same tree.
* :mod:`~pytest_consul_events.standalone.plan`: the merged tree turned into what to start:
  one :class:`~pytest_consul_events.fake.FakeConsulAgent`, or a
  :class:`~pytest_consul_events.cluster.FakeConsulCluster` with its ports.
* :mod:`~pytest_consul_events.standalone.run`: starting it, the address lines (or the JSON
  line), signals and exit codes.

The control API that every agent serves under ``/_fake/`` is
:mod:`pytest_consul_events.http.control`.
"""
