"""The documentation builds with Sphinx, warnings as errors, and the API reference is complete.

The HTML is built once per test session in a temporary folder (about ten seconds);
the other tests read the result: every hook specification, every public function
and class, and every registered step must have its own entry in the generated API
reference, so a hook or step added without documentation fails here.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.docs.test_reference_complete import public_modules

DOCS = Path(__file__).resolve().parents[2] / "docs"
BUILD_TIMEOUT = 120  # seconds; the build takes about 10 s


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """Build the HTML documentation; return (output folder, completed process, seconds)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("numpydoc")
    out = tmp_path_factory.mktemp("html")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / ".doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )
    return out, result, time.perf_counter() - started


def test_sphinx_build_has_no_warnings(html):
    _, result, _ = html
    assert result.returncode == 0, "sphinx-build -W failed:\n" + result.stdout + result.stderr


def _api_ids(html) -> set[str]:
    out, result, _ = html
    page = out / "api.html"
    if not page.exists():
        pytest.fail("docs/api.md was not built:\n" + result.stderr)
    return set(re.findall(r'id="([\w.]+)"', page.read_text(encoding="utf-8")))


def test_every_hookspec_is_in_the_api_reference(html):
    from pipeline_core.plugins import hookspecs

    ids = _api_ids(html)
    specs = [n for n, f in vars(hookspecs).items() if inspect.isfunction(f) and hasattr(f, "pipeline_core_spec")]
    missing = [n for n in specs if f"pipeline_core.plugins.hookspecs.{n}" not in ids]
    assert not missing, f"hook specifications missing from the API reference: {missing}"


def test_every_public_function_and_class_is_in_the_api_reference(html):
    ids = _api_ids(html)
    missing = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module_name:
                if f"{module_name}.{name}" not in ids:
                    missing.append(f"{module_name}.{name}")
    assert not missing, f"public objects missing from the API reference: {missing}"


def test_every_registered_step_is_in_the_api_reference(html):
    """Every step steppe itself ships; installed third-party plugins document their own."""
    from pipeline_core import registry

    ids = _api_ids(html)
    missing = [
        d.class_path
        for d in registry().descriptors()
        if d.distribution == "steppe" and d.class_path not in ids
    ]
    assert not missing, f"registered steps missing from the API reference: {missing}"
