"""The ``hypothesis`` entry point: ``st.from_type(UserEvent)`` and ``st.from_type(Service)``.

Hypothesis loads every ``hypothesis`` entry point while ``import hypothesis`` runs, whoever
imports it first, and :func:`_hypothesis_setup_hook` is the one this package declares. It must
not import :mod:`pytest_consul_events.strategies`: that module imports Hypothesis, so when it is
the first to do so (``from pytest_consul_events import strategies`` at the top of a test
module) it is still half-initialised while the hook runs. The strategies are therefore
registered through ``st.deferred``, which imports the strategies module only when a value is
first drawn, long after every import has finished.

Only Hypothesis loads this module, so it costs nothing to a pytest run that does not use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from pytest_consul_events.model.event import UserEvent
    from pytest_consul_events.model.services import Service


def _user_events() -> SearchStrategy[UserEvent]:
    from pytest_consul_events import strategies

    return strategies.user_events()


def _services() -> SearchStrategy[Service]:
    from pytest_consul_events import strategies

    return strategies.services()


def _hypothesis_setup_hook() -> None:
    """Register the package's strategies for ``UserEvent`` and ``Service`` with ``st.from_type``.

    Called by Hypothesis through the package's ``hypothesis`` entry point (not at all when
    ``HYPOTHESIS_NO_PLUGINS`` is set). Imports only ``hypothesis.strategies`` (already loaded
    by then) and the two small model modules that define the types.
    """
    from hypothesis import strategies as st

    from pytest_consul_events.model.event import UserEvent
    from pytest_consul_events.model.services import Service

    st.register_type_strategy(UserEvent, st.deferred(_user_events))
    st.register_type_strategy(Service, st.deferred(_services))
