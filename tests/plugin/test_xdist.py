"""Under pytest-xdist every worker serves its own agent, and isolation per test holds."""

from __future__ import annotations

import pytest


def test_two_workers_each_serve_their_own_isolated_agent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_isolated(consul_agent, consul_client, n):
            assert consul_agent.events == []
            consul_client.event.fire(f"e{n}")
            index, events = consul_client.event.list()
            assert [e["Name"] for e in events] == [f"e{n}"]
            worker = os.environ["PYTEST_XDIST_WORKER"]
            with open(os.path.join(os.environ["SEEN_DIR"], f"{worker}-{n}"), "w") as seen:
                seen.write(str(consul_agent.port))
        """
    )
    seen = pytester.mkdir("seen")
    monkeypatch.setenv("SEEN_DIR", str(seen))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-n", "2"
    )
    result.assert_outcomes(passed=8)
    ports = {path.name.split("-")[0]: set() for path in seen.iterdir()}
    for path in seen.iterdir():
        ports[path.name.split("-")[0]].add(path.read_text())
    assert sorted(ports) == ["gw0", "gw1"]
    assert all(len(worker_ports) == 1 for worker_ports in ports.values())
    assert ports["gw0"] != ports["gw1"]
