"""Every code example in ``docs/`` runs.

``python`` fences of a page run in order in one namespace, in a fresh working
folder, with the embedded CRDS reference set active. Lines of ``console`` fences
that start with ``$ steppe`` run through the command-line entry point and must
succeed. Fences marked ``text`` are not run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md"))


def _fences(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def _pages_with(language: str) -> list[Path]:
    return [p for p in _pages() if _fences(p, language)]


@pytest.mark.parametrize("page", _pages_with("python"), ids=lambda p: p.name)
def test_python_examples_run(page, tmp_path, monkeypatch, crds_env):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(_fences(page, "python"), start=1):
        try:
            exec(compile(code, f"{page.name}[python block {number}]", "exec"), namespace)
        except Exception as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{page.name}, python block {number} failed: {type(error).__name__}: {error}")


@pytest.mark.parametrize("page", _pages_with("console"), ids=lambda p: p.name)
def test_console_examples_run(page, tmp_path, monkeypatch, crds_env, capsys):
    from pipeline_core.cli import run_cli

    monkeypatch.chdir(tmp_path)
    for block in _fences(page, "console"):
        for line in block.splitlines():
            if not line.startswith("$ steppe"):
                continue
            argv = shlex.split(line[2:])[1:]
            status = run_cli(argv)
            assert status == 0, f"{page.name}: `{line[2:]}` exited {status}: {capsys.readouterr().err}"
