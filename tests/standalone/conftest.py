"""Setup for the standalone agent's tests: ``main()`` called in this process never serves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_consul_events.standalone import run as runner

PREFIX = "pytest-consul-events: "


@pytest.fixture
def refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """``refused(*argv)``: run ``main(argv)`` here, check that it exits 2 with one line on
    stderr and nothing on stdout, and return that line without its prefix. A command line
    accepted by mistake fails the test instead of serving until a signal."""

    def serve(*args: object, **kwargs: object) -> int:
        raise AssertionError("the command line was accepted and would serve")

    monkeypatch.setattr(runner, "_serve", serve)

    def run(*argv: str) -> str:
        assert runner.main(list(argv)) == 2
        out, err = capsys.readouterr()
        assert out == "", out
        assert err.startswith(PREFIX), err
        assert err.count("\n") == 1, err
        assert err.endswith("\n"), err
        return err[len(PREFIX) : -1]

    return run
