"""Every code example in ``docs/`` runs.

* The fences of a page run in document order, in a fresh working folder, with
  the embedded CRDS reference set active (the ``crds_env`` fixture); ``python``
  fences share one namespace, and commands see the files the code wrote.
  Environment variables, the logging setup and the registry are restored
  afterwards, so a page cannot leak settings into the next test.
* In ``console`` fences every line that starts with ``$ steppe`` (continued by a
  trailing backslash) runs through :func:`pipeline_core.cli.run_cli` and must
  exit with status 0. Lines without ``$ steppe`` (output) are not checked.
* ``text`` fences (and any other language) are shown, never run.

Pages are found when the tests are collected, so a page that does not exist yet
simply has no test. A failure names the page and the line of the page where the
failing statement is.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^(?P<ticks>`{3,})(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=ticks)[ \t]*$",
                   re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Fence:
    """One fenced block of a page: its language, text and first line in the page."""

    language: str
    body: str
    line: int


def fences(page: Path) -> list[Fence]:
    """Return the fenced blocks of a Markdown page, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        first_line = text.count("\n", 0, match.start("body")) + 1
        found.append(Fence(match.group("lang"), match.group("body"), first_line))
    return found


def commands(fence: Fence) -> list[tuple[int, str]]:
    """Return the ``$ steppe ...`` command lines of a console fence with their page lines."""
    found: list[tuple[int, str]] = []
    lines = fence.body.splitlines()
    index = 0
    while index < len(lines):
        line, start = lines[index], fence.line + index
        index += 1
        if not line.startswith("$ steppe"):
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command[:-1] + " " + lines[index].strip()
            index += 1
        found.append((start, command))
    return found


def _pages_with(*languages: str) -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if any(f.language in languages for f in fences(p)))


def _page_line(error: BaseException, page: Path, fence: Fence) -> int:
    """The page line of the innermost traceback frame that belongs to ``fence``."""
    line = fence.line
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == _block_name(page, fence):
            line = fence.line + lineno - 1
    return line


def _block_name(page: Path, fence: Fence) -> str:
    return f"docs/{page.name}:{fence.line}"


@pytest.fixture
def isolated_page(tmp_path, monkeypatch, crds_env):
    """Run in a fresh folder; restore the environment variables and the logging setup after."""
    monkeypatch.chdir(tmp_path)
    # crds writes its configuration variables into os.environ when it is first
    # imported; import it before the snapshot so that restoring it keeps them.
    import crds.client.api  # noqa: F401

    environ = dict(os.environ)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    steppe_logger = logging.getLogger("steppe")
    steppe_handlers, steppe_level = list(steppe_logger.handlers), steppe_logger.level
    yield tmp_path
    os.environ.clear()
    os.environ.update(environ)
    for logger, kept, old_level in ((root, handlers, level), (steppe_logger, steppe_handlers, steppe_level)):
        for handler in [h for h in logger.handlers if h not in kept]:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(old_level)


def _run_python(page: Path, fence: Fence, namespace: dict) -> None:
    code = compile(fence.body, _block_name(page, fence), "exec")
    failure = None
    try:
        exec(code, namespace)
    except Exception as error:
        where = _page_line(error, page, fence)
        detail = "".join(traceback.format_exception(error))[-4000:]
        failure = f"docs/{page.name}:{where}: the example failed:\n{detail}"
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def _run_console(page: Path, fence: Fence) -> None:
    from pipeline_core.cli.main import run_cli

    for line, command in commands(fence):
        out, err = io.StringIO(), io.StringIO()
        status = run_cli(shlex.split(command)[1:], stdout=out, stderr=err)
        if status != 0:
            pytest.fail(
                f"docs/{page.name}:{line}: `{command}` exited with status {status}:\n"
                f"{err.getvalue()}{out.getvalue()[-2000:]}",
                pytrace=False,
            )


@pytest.mark.parametrize("page", _pages_with("python", "console"), ids=lambda p: p.name)
def test_examples_run(page, isolated_page):
    """Run the page's python and console fences in document order, in one folder."""
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for fence in fences(page):
        if fence.language == "python":
            _run_python(page, fence, namespace)
        elif fence.language == "console":
            _run_console(page, fence)


def test_the_runner_finds_fences_and_commands(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```python\nx = 1\n```\n\n````text\n```python\nnot run\n```\n````\n\n"
        "```console\n$ steppe list \\\n    'jump*'\noutput line\n$ echo no\n```\n"
    )
    found = fences(page)
    assert [(f.language, f.line) for f in found] == [("python", 4), ("text", 8), ("console", 14)]
    assert commands(found[2]) == [(14, "steppe list  'jump*'")]


def test_a_failing_example_names_the_page_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```python\nx = 1\nassert x == 2, 'wrong x'\n```\n")
    (fence,) = fences(page)
    with pytest.raises(pytest.fail.Exception, match=r"docs/page\.md:5: the example failed:(.|\n)*wrong x"):
        _run_python(page, fence, {})


def test_a_failing_command_names_the_page_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```console\n$ steppe list 'no-such-step*'\n```\n")
    (fence,) = fences(page)
    with pytest.raises(pytest.fail.Exception, match=r"docs/page\.md:4: `steppe list 'no-such-step\*'` exited with status 1"):
        _run_console(page, fence)
