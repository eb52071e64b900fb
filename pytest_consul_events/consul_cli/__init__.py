"""Consul's command line for user events: ``consul event`` and ``consul watch -type=event``.

A ``consul`` program for tests and scripts, talking HTTP to any agent (the fake, from a
fixture or the standalone server, or a real Consul), that reproduces what Consul's own binary
prints, exits with and sends, read from Consul's source (each module names the files):

* ``consul event`` (:mod:`.event_cmd`): Go's flag syntax, the client-side regexp and tag checks,
  ``GET /v1/agent/self`` then ``PUT /v1/event/fire/<name>``, ``Event ID: <id>``, and every
  error message and exit code;
* ``consul watch -type=event`` (:mod:`.watch_cmd`, :mod:`.plan`, :mod:`.handler`): the
  ``api/watch`` plan exactly (first call at start-up, pruning to the events after the one whose
  ID hashes to the last index, the skips, the index reset rule, back-off), the handler run
  through ``$SHELL -c`` with the events as JSON on its standard input and ``CONSUL_INDEX`` in
  its environment, or the JSON printed when there is no handler.

The plan follows the newest Consul read (``api/watch/watch.go`` @0be39e3, 2023 or later):
``WaitIndexVal.Next`` resets the index to 0 only when it is unchanged, which the plan never
reaches, so a watch always blocks on the last index. Consul 1.4-1.6 reset it when it went
*down* (0.8.4-1.3 likewise), delivering the whole buffer again about every other event; the
``PYTEST_CONSUL_EVENTS_WATCH_RESET=decrease`` setting reproduces that (see :mod:`.plan`).

Run it as ``python -m pytest_consul_events.consul_cli ...``; the ``consul_cli`` fixture puts a
``consul`` launcher first on ``PATH`` for the test and everything it starts. Importing this
package is cheap: the fixture code (:mod:`.fixture`) loads pytest machinery only when used.

Not implemented (each answers with a message naming it and exit 1): Consul's other commands,
watch types other than ``event``, HTTPS and TLS settings, Unix sockets, HTTP proxies.
"""
