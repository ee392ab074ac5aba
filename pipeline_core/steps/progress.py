"""Progress bars for long runs on a terminal.

A step or pipeline that runs longer than :data:`DELAY` seconds shows a :mod:`tqdm`
bar on stderr when stderr is a terminal: a pipeline advances one position per step
and names the step running (``calwebb_detector1: jump  70%|#######   | 7/10``), a
single step shows how long it has been running. The bar is drawn while steppe
prints its own console log (:func:`pipeline_core.logconfig.console_logging`, which
``Step.call`` and ``steppe run`` use) at INFO or more detail; log lines are written
above it, and it disappears when the run ends. So there is no bar when stderr is
not a terminal, with ``--quiet``, when logging was configured by the caller, in
the jobs of a batch (which has its own bar), or after
:func:`~pipeline_core.logconfig.disable_default_logging`.

``STEPPE_PROGRESS`` overrides this: ``0`` (or ``false``, ``no``, ``off``) never
draws a bar, ``1`` (``true``, ``yes``, ``on``) draws one whenever stderr is a
terminal.

The bar is drawn by a background thread, so a step that reports nothing still
shows its elapsed time; a run shorter than :data:`DELAY` never creates it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TextIO

from pipeline_core import logconfig
from pipeline_core.errors import ParameterError
from pipeline_core.truth import parse_truth

__all__ = ["DELAY", "PROGRESS_ENV", "REFRESH", "enter_step", "leave_step", "progress_stream"]

#: Environment variable forcing the bars on (on a terminal) or off.
PROGRESS_ENV = "STEPPE_PROGRESS"
#: Seconds a run lasts before its bar appears.
DELAY = 3.0
#: Seconds between two redraws of the bar.
REFRESH = 0.5


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_stream() -> TextIO | None:
    """Return the stream a progress bar would be drawn on now, or None for no bar.

    Returns
    -------
    text stream or None
        steppe's console stream when it is a terminal and shows INFO messages (or
        stderr when ``STEPPE_PROGRESS`` is true and stderr is a terminal); None
        otherwise.

    Raises
    ------
    ParameterError
        If ``STEPPE_PROGRESS`` is set to a word that is neither true nor false.
    """
    raw = os.environ.get(PROGRESS_ENV, "")
    forced = parse_truth(raw) if raw.strip() else None
    if raw.strip() and forced is None:
        raise ParameterError(
            f"environment variable {PROGRESS_ENV}={raw!r} is not understood; accepted: 1, "
            "true, yes, on (draw progress bars on a terminal) or 0, false, no, off (never). "
            "Set one of these, or unset it"
        )
    if forced is False:
        return None
    handler = logconfig.console_handler()
    if handler is not None and handler.level <= logging.INFO:
        stream: Any = handler.stream
    elif forced:
        stream = sys.stderr
    else:
        return None
    return stream if _is_terminal(stream) else None


class _Tracker:
    """The bar of one top-level run, drawn by a background thread."""

    def __init__(self, root: Any, stream: TextIO) -> None:
        self.root = root
        self.stream = stream
        self.total = len(getattr(root, "_steps", {}) or {}) or None
        self.done = 0
        self.current = root.name
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.bar: Any = None
        self.thread = threading.Thread(target=self._draw_loop, name="steppe-progress", daemon=True)
        self.thread.start()

    def started(self, step: Any) -> None:
        with self.lock:
            self.current = step.name

    def finished(self, step: Any) -> None:
        with self.lock:
            if step.parent is self.root:
                self.done += 1

    def _description(self) -> str:
        if self.total is None or self.current == self.root.name:
            return self.root.name
        return f"{self.root.name}: {self.current}"

    def _draw_loop(self) -> None:
        if self.stopped.wait(DELAY):
            return
        from tqdm import tqdm

        with self.lock:
            if self.total is None:
                bar_format = "{desc}: running for {elapsed}"
            else:
                bar_format = "{desc}  {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}]"
            self.bar = tqdm(
                total=self.total, desc=self._description(), file=self.stream, leave=False,
                bar_format=bar_format, dynamic_ncols=True,
            )
        while not self.stopped.wait(REFRESH):
            self._draw()

    def _draw(self) -> None:
        with self.lock:
            if self.bar is None:
                return
            if self.total is not None:
                self.bar.n = min(self.done, self.total)
            self.bar.set_description_str(self._description(), refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        if self.bar is not None:
            self.bar.close()


_ACTIVE: ContextVar[_Tracker | None] = ContextVar("steppe_progress", default=None)


@dataclass(frozen=True)
class _Ticket:
    tracker: _Tracker
    token: Token[_Tracker | None] | None


def enter_step(step: Any) -> _Ticket | None:
    """Tell the progress bar that ``step`` starts; start a bar for a top-level run.

    Parameters
    ----------
    step : Step
        The step starting.

    Returns
    -------
    object or None
        A ticket for :func:`leave_step`, or None when no bar is drawn.
    """
    tracker = _ACTIVE.get()
    if tracker is not None:
        tracker.started(step)
        return _Ticket(tracker, None)
    if step.parent is not None:
        return None
    stream = progress_stream()
    if stream is None:
        return None
    tracker = _Tracker(step, stream)
    return _Ticket(tracker, _ACTIVE.set(tracker))


def leave_step(ticket: _Ticket | None, step: Any) -> None:
    """Tell the progress bar that ``step`` ended (or failed); remove a top-level bar.

    Parameters
    ----------
    ticket : object or None
        What :func:`enter_step` returned.
    step : Step
        The step that ended.
    """
    if ticket is None:
        return
    ticket.tracker.finished(step)
    if ticket.token is not None:
        _ACTIVE.reset(ticket.token)
        ticket.tracker.close()
