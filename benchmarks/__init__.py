"""Benchmarks of pytest-consul-events against baselines measured in the same run.

Not part of the test suite. Run them all with ``python -m benchmarks`` (``--quick`` for a smoke
run, ``--only NAME`` for one benchmark, ``--markdown`` for a table to paste into the README).

Every benchmark measures the fake and its baseline side by side, alternating rounds, and reports
medians and their ratio: the machines are noisy and shared, so only a comparison made within one
run means anything. See :mod:`benchmarks.cli` for the list.
"""

from __future__ import annotations

__all__: list[str] = []
