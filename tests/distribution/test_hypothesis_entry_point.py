"""The ``hypothesis`` entry point, from the installed wheel, whatever is imported first.

Hypothesis runs every ``hypothesis`` entry point while it is being imported. The package's
points at a small hook module that registers the strategies lazily, so that importing
``pytest_consul_events.strategies`` first (which imports Hypothesis while it is itself half
initialised) works as well as importing Hypothesis first. Each case runs in a fresh interpreter
with only the installed wheel on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from distribution_support import run_python

ID_FORM = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

FROM_TYPE = """
from hypothesis import HealthCheck, given, settings, strategies as st
from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.services import Service

drawn = []

# A fresh interpreter pays first-use costs during the first draws: not a slow strategy.
@settings(max_examples=20, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_type(UserEvent), st.from_type(Service))
def draw(event, service):
    drawn.append((event.id, event.version, event.ltime, service.name, service.port))

draw()
print(json.dumps({"strategies": strategies.__name__, "drawn": drawn,
                  "package": pytest_consul_events.__file__}))
"""

ORDERS = {
    "strategies first": "import json\nfrom pytest_consul_events import strategies\n",
    "hypothesis first": (
        "import json\nimport hypothesis\nfrom pytest_consul_events import strategies\n"
    ),
    "strategies as a name of the package": (
        "import json\nimport pytest_consul_events.strategies as strategies\n"
    ),
}


def check_drawn(output: str, site: Path) -> None:
    result = json.loads(output)
    assert result["strategies"] == "pytest_consul_events.strategies"
    assert result["package"].startswith(str(site))  # the wheel's code, not a checkout's
    assert len(result["drawn"]) == 20
    for event_id, version, ltime, service_name, port in result["drawn"]:
        # The package's strategies: Consul's ID form, version 1, a Lamport time of at least 1,
        # a DNS label as the service name, a port (from_type's own would be any str and int).
        assert re.fullmatch(ID_FORM, event_id)
        assert (version, ltime >= 1) == (1, True)
        assert re.fullmatch(r"[a-z][a-z0-9-]*", service_name)
        assert 0 <= port <= 65535


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_from_type_works_in_a_script_whatever_is_imported_first(
    installed_wheel: Path, order: str
) -> None:
    prelude = ORDERS[order] + "import pytest_consul_events\n"
    run = run_python(installed_wheel, "-c", prelude + FROM_TYPE)
    check_drawn(run.stdout, installed_wheel)


def test_strategies_as_the_first_import_of_a_test_module(
    installed_wheel: Path, tmp_path: Path
) -> None:
    # Under pytest, Hypothesis' own plugin imports Hypothesis late: the test module is first.
    (tmp_path / "test_first.py").write_text(
        textwrap.dedent(
            """
            from pytest_consul_events import strategies as ces

            from hypothesis import HealthCheck, given, settings, strategies as st
            from pytest_consul_events.model.event import UserEvent


            @settings(
                max_examples=10,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(ces.event_names(), st.from_type(UserEvent))
            def test_draws(name, event):
                assert name and event.version == 1
            """
        )
    )
    run = run_python(installed_wheel, "-m", "pytest", "-q", "test_first.py", cwd=tmp_path)
    assert "1 passed" in run.stdout, run.stdout + run.stderr


def test_without_plugins_from_type_falls_back_to_hypothesis_own(installed_wheel: Path) -> None:
    code = textwrap.dedent(
        """
        from hypothesis import HealthCheck, find, settings, strategies as st
        from pytest_consul_events.model.event import UserEvent

        quiet = settings(database=None, suppress_health_check=list(HealthCheck))
        print(repr(find(st.from_type(UserEvent), lambda event: True, settings=quiet).id))
        """
    )
    hooked = run_python(installed_wheel, "-c", code)
    assert re.fullmatch(ID_FORM, eval(hooked.stdout))  # our strategy: the hook ran on import
    plain = run_python(installed_wheel, "-c", code, env={"HYPOTHESIS_NO_PLUGINS": "1"})
    assert eval(plain.stdout) == ""  # Hypothesis' own, shrunk to the empty string


def test_the_hook_does_not_import_the_strategies_module(installed_wheel: Path) -> None:
    code = (
        "import sys, hypothesis; "
        "print(sorted(m for m in sys.modules if m.startswith('pytest_consul_events')))"
    )
    run = run_python(installed_wheel, "-c", code)
    assert eval(run.stdout) == [
        "pytest_consul_events",
        "pytest_consul_events._hypothesis_hook",
        "pytest_consul_events.model",
        "pytest_consul_events.model.event",
        "pytest_consul_events.model.services",
        "pytest_consul_events.validation",
    ]


def test_strategies_without_hypothesis_names_the_extra(installed_wheel: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["hypothesis"] = None  # as if it were not installed
        try:
            from pytest_consul_events import strategies
        except ImportError as exc:
            print(repr((str(exc), exc.name, type(exc.__cause__).__name__)))
        """
    )
    run = run_python(installed_wheel, "-c", code)
    assert eval(run.stdout) == (
        "pytest_consul_events.strategies needs Hypothesis, which is not installed: install the "
        'package with its hypothesis extra, pip install "pytest-consul-events[hypothesis]" (or '
        "pip install hypothesis)",
        "hypothesis",
        "ModuleNotFoundError",
    )


def test_the_plugin_imports_neither_hypothesis_nor_the_strategies(installed_wheel: Path) -> None:
    code = (
        "import sys, pytest_consul_events.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('hypothesis', "
        "'pytest_consul_events.strategies', 'pytest_consul_events._hypothesis_hook'))))"
    )
    assert eval(run_python(installed_wheel, "-c", code).stdout) == []
