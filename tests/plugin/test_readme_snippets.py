"""The README's test-shaped snippets are tests in examples/test_howto.py, word for word."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_readme_test_snippet_is_in_the_howto_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    howto = (ROOT / "examples" / "test_howto.py").read_text()
    snippets = [
        block
        for block in re.findall(r"```python\n(.*?)```", readme, re.S)
        if re.search(r"^def test_", block, re.M)
    ]
    assert len(snippets) >= 5
    missing = [block for block in snippets if block not in howto]
    assert missing == []
