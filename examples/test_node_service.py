"""The Node example's own test suite (``examples/node-service``), run by ``node --test``.

It needs ``node`` (20 or newer) and ``npm`` on the PATH: ``npm ci`` installs the npm ``consul``
client from the registry (the lock file pins it), then node's test runner starts the standalone
fake agent with this interpreter (``PYTHON``) and this checkout on ``PYTHONPATH``. Without node
or npm the test is skipped, and says so in the test command's summary (``-rfEs`` in the
project's pytest options).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_SERVICE = ROOT / "examples" / "node-service"
MIN_NODE = 20


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        reason = "the Node example's tests (examples/node-service) did not run"
        pytest.skip(f"{missing} not on the PATH: {reason}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    match = re.match(r"v(\d+)\.", version.stdout)
    if not match or int(match.group(1)) < MIN_NODE:
        pytest.skip(
            f"node {version.stdout.strip()} is older than {MIN_NODE}: the Node example's tests "
            "(examples/node-service) did not run"
        )
    return node, npm


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}".strip()


def test_the_node_service_suite_passes() -> None:
    node, npm = _tools()
    install = subprocess.run(
        [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        cwd=NODE_SERVICE,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.fail(f"npm ci failed in {NODE_SERVICE}:\n{_output(install)}", pytrace=False)
    env = dict(os.environ)
    env["PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("NODE_OPTIONS", None)
    result = subprocess.run(
        [node, "--test", "--test-timeout=120000", "test/"],
        cwd=NODE_SERVICE,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        pytest.fail(f"node --test failed in {NODE_SERVICE}:\n{_output(result)}", pytrace=False)
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), result.stdout
