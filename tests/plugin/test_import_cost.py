"""The plugin loads in every pytest run of every project that installs it: it must stay light."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "werkzeug",
    "consul",
    "re2",
    "hypothesis",
    "requests",
    "pytest_consul_events.fake",
    "pytest_consul_events.strategies",
    "pytest_consul_events._hypothesis_hook",
)


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = (
        "import sys; before = set(sys.modules); import pytest_consul_events.plugin; "
        "print(sorted(m for m in set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = eval(out)  # a list literal printed by the child
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY] == []


def test_package_import_exposes_public_names_lazily() -> None:
    code = (
        "import sys, pytest_consul_events as p; assert 'pytest_consul_events.fake' not in "
        "sys.modules; print(p.FakeConsulAgent.__name__, p.UserEvent.__name__, p.__version__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["FakeConsulAgent", "UserEvent", "0.1.0"]
