"""Progress bars: on a terminal, for runs longer than a few seconds, while steppe owns the console."""

from __future__ import annotations

import io
import logging
import re
import time

import numpy as np
import pytest

from pipeline_core import Pipeline, Step, logconfig
from pipeline_core.errors import ParameterError
from pipeline_core.steps import progress


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


class NapStep(Step):
    """Sleep ``seconds``, then add one."""

    class_alias = "nap"
    spec = "seconds = float(default=0.1)  # how long to sleep"

    def process(self, data):
        time.sleep(self.seconds)
        return data + 1


class NapPipeline(Pipeline):
    """Two naps."""

    class_alias = "naps"
    step_defs = {"first": NapStep, "second": NapStep}

    def process(self, data):
        return self.second.run(self.first.run(data))


@pytest.fixture
def fast_bars(monkeypatch):
    """Bars appear at once and redraw every 10 ms; no STEPPE_PROGRESS from the shell."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", 0.01)
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    monkeypatch.delenv(logconfig.LEVEL_ENV, raising=False)


@pytest.fixture
def console(monkeypatch):
    """Run with steppe's own console on ``stream`` (pytest's root handler set aside)."""
    steppe = logging.getLogger("steppe")
    monkeypatch.setattr(steppe, "handlers", [])
    monkeypatch.setattr(steppe, "level", logging.NOTSET)

    def run(function, stream, level=None):
        root = logging.getLogger()
        kept, root.handlers = root.handlers, []
        try:
            with logconfig.console_logging(level, stream=stream):
                return function()
        finally:
            root.handlers = kept

    return run


def _screen_lines(text: str) -> list[str]:
    return [part for line in text.split("\n") for part in line.split("\r") if part.strip()]


def test_a_pipeline_on_a_terminal_shows_a_bar_per_step(fast_bars, console):
    terminal = Terminal()
    assert console(lambda: NapPipeline.call(1.0, steps={"second": {"seconds": 0.3}}), terminal) == 3.0
    lines = _screen_lines(terminal.getvalue())
    bars = [line for line in lines if " steps [" in line]
    assert any(re.search(r"naps: second +50%\|.*\| 1/2 steps \[", line) for line in bars), bars
    # the log lines are written whole, above the bar
    assert any(re.search(r" - steppe\.second - INFO - Step second running on float$", line) for line in lines)
    assert any(re.search(r" - steppe\.naps - INFO - Step naps done in \d", line) for line in lines)


def test_a_single_step_shows_how_long_it_runs(fast_bars, console):
    terminal = Terminal()
    console(lambda: NapStep.call(1.0, seconds=0.2), terminal)
    assert re.search(r"nap: running for 00:00", terminal.getvalue())


def test_no_bar_for_short_runs(monkeypatch, console):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(progress, "REFRESH", 0.01)  # DELAY stays: a run of 0.1 s draws nothing
    terminal = Terminal()
    console(lambda: NapPipeline.call(1.0), terminal)
    assert "steps [" not in terminal.getvalue()
    assert "Step naps done in" in terminal.getvalue()


@pytest.mark.parametrize("case", ["not-a-terminal", "quiet", "env-off"])
def test_no_bar(fast_bars, console, monkeypatch, case):
    stream = io.StringIO() if case == "not-a-terminal" else Terminal()
    level = logging.WARNING if case == "quiet" else None
    if case == "env-off":
        monkeypatch.setenv(progress.PROGRESS_ENV, "0")
    console(lambda: NapPipeline.call(1.0), stream, level)
    assert "steps [" not in stream.getvalue()


def test_no_bar_when_the_caller_configured_logging(fast_bars, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    NapPipeline.call(1.0)  # pytest's root handler: the caller's logging
    assert terminal.getvalue() == ""
    monkeypatch.setenv(progress.PROGRESS_ENV, "yes")  # forced on
    NapPipeline.call(1.0, steps={"second": {"seconds": 0.3}})
    assert "naps: second" in terminal.getvalue()


def test_a_bad_steppe_progress_is_an_error(fast_bars, console, monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, "sometimes")
    with pytest.raises(ParameterError) as info:
        console(lambda: NapStep.call(1.0), Terminal())
    assert str(info.value) == (
        "environment variable STEPPE_PROGRESS='sometimes' is not understood; accepted: 1, true, "
        "yes, on (draw progress bars on a terminal) or 0, false, no, off (never). Set one of "
        "these, or unset it"
    )


def test_a_failing_step_removes_its_bar(fast_bars, console):
    class Boom(NapStep):
        class_alias = "boom"

        def process(self, data):
            time.sleep(0.05)
            raise ArithmeticError("boom")

    terminal = Terminal()
    with pytest.raises(ArithmeticError):
        console(lambda: Boom.call(1.0), terminal)
    assert progress._ACTIVE.get() is None
    console(lambda: NapStep.call(np.float64(1.0), seconds=0.05), terminal)  # a new bar, not the old one
    assert "nap: running for" in terminal.getvalue()
