"""What the built wheel and sdist hold: the license, the requirements, the entry points.

The runtime requirements are exactly what the package's modules import when they run; every
other third-party import belongs to an extra and to the one module that needs it.
"""

from __future__ import annotations

import ast
import email.parser
import importlib.metadata
import sys
import tarfile
import zipfile
from collections.abc import Iterator

import pytest
from distribution_support import ROOT, Built
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PACKAGE = ROOT / "pytest_consul_events"
RUNTIME = {"pytest", "werkzeug", "google-re2", "py-consul"}
EXTRAS = {
    "aio": {"aiohttp", "pytest-asyncio"},
    "hypothesis": {"hypothesis"},
    "bench": {"pytest-httpserver"},
}
OPTIONAL_IMPORTS = {
    # import name -> (the extra that installs it, the only modules that may import it)
    "hypothesis": ("hypothesis", {"strategies.py", "_hypothesis_hook.py"}),
    "pytest_asyncio": ("aio", {"aio_plugin.py"}),
}
"""aiohttp is imported by py-consul's ``consul.aio``, which ``fake.py`` imports on demand."""


def wheel_metadata(built: Built) -> email.message.Message:
    with zipfile.ZipFile(built.wheel) as wheel:
        [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(wheel.read(name).decode())


def requirements(built: Built) -> list[Requirement]:
    return [Requirement(line) for line in wheel_metadata(built).get_all("Requires-Dist") or []]


def runtime_requirements(built: Built) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements(built) if r.marker is None}


def extra_requirements(built: Built, extra: str) -> set[str]:
    return {
        canonicalize_name(r.name)
        for r in requirements(built)
        if r.marker is not None and r.marker.evaluate({"extra": extra})
    }


# -- the license ----------------------------------------------------------------------------------


def test_the_repository_has_an_mit_license() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the pytest-consul-events authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_wheel_ships_the_license(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        [name] = [
            n for n in wheel.namelist() if ".dist-info/" in n and n.rsplit("/", 1)[1] == "LICENSE"
        ]
        assert wheel.read(name).decode() == (ROOT / "LICENSE").read_text()
    assert wheel_metadata(built)["License"] == "MIT"


def test_the_sdist_ships_the_license(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        [member] = [m for m in sdist.getmembers() if m.name.split("/", 1)[1:] == ["LICENSE"]]
        data = sdist.extractfile(member)
        assert data is not None
        assert data.read().decode() == (ROOT / "LICENSE").read_text()


# -- requirements ---------------------------------------------------------------------------------


def test_runtime_requirements_are_the_four_the_package_imports(built: Built) -> None:
    assert runtime_requirements(built) == RUNTIME


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_extra_brings_what_its_feature_imports(built: Built, extra: str) -> None:
    assert extra_requirements(built, extra) == EXTRAS[extra]


def test_hypothesis_is_not_a_runtime_requirement_but_the_tests_have_it(built: Built) -> None:
    assert "hypothesis" not in runtime_requirements(built)
    assert "hypothesis" in extra_requirements(built, "test")
    assert "werkzeug" in extra_requirements(built, "test")  # tests/http uses werkzeug.test


def _runtime_imports(tree: ast.AST) -> Iterator[str]:
    """Top-level names of the absolute imports in ``tree``, outside ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            yield from (name for child in node.orelse for name in _runtime_imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]
        yield from _runtime_imports(node)


def third_party_imports() -> dict[str, set[str]]:
    """Third-party top-level modules the package imports at run time -> the importing files."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for name in _runtime_imports(tree):
            if name in sys.stdlib_module_names or name == "pytest_consul_events":
                continue
            found.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_every_third_party_import_is_a_runtime_requirement_or_its_extra(built: Built) -> None:
    distributions = importlib.metadata.packages_distributions()
    runtime = runtime_requirements(built)
    imports = third_party_imports()
    assert {"pytest", "re2", "consul", "hypothesis", "pytest_asyncio"} <= set(imports)
    for name, files in imports.items():
        [distribution] = {canonicalize_name(d) for d in distributions[name]}
        if name in OPTIONAL_IMPORTS:
            extra, allowed = OPTIONAL_IMPORTS[name]
            assert distribution in extra_requirements(built, extra), name
            assert distribution not in runtime, name
            assert files <= allowed, (name, files)
        else:
            assert distribution in runtime, (name, files)


@pytest.mark.parametrize("requirement", sorted(RUNTIME))
def test_every_runtime_requirement_is_imported(requirement: str) -> None:
    distributions = importlib.metadata.packages_distributions()
    imported = {
        canonicalize_name(dist) for name in third_party_imports() for dist in distributions[name]
    }
    assert requirement in imported


# -- entry points ---------------------------------------------------------------------------------


def test_the_wheel_declares_the_pytest_and_hypothesis_entry_points(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = wheel.read(name).decode()
    assert text.split() == [
        "[console_scripts]",
        "pytest-consul-events",
        "=",
        "pytest_consul_events.cli:main",
        "[hypothesis]",
        "_",
        "=",
        "pytest_consul_events._hypothesis_hook:_hypothesis_setup_hook",
        "[pytest11]",
        "consul_events",
        "=",
        "pytest_consul_events.plugin",
    ]


def test_the_wheel_holds_every_module_of_the_checkout(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        shipped = {n for n in wheel.namelist() if n.startswith("pytest_consul_events/")}
    expected = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == expected
    assert "pytest_consul_events/py.typed" in shipped


def test_readme_is_the_long_description(built: Built) -> None:
    metadata = wheel_metadata(built)
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == (ROOT / "README.md").read_text().strip()
