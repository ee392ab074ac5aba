"""One input of a batch: running it with its own log file, and the batch's report.

:func:`run_job` runs in whatever process the executor chose (this one, a process of
the local pool or a Dask worker). It never raises for a failure of the step or
pipeline: it writes ``<base>_crash.txt`` with the traceback and returns a
:class:`BatchResult` saying ``"failed"``.

Why one module of this size: everything that happens to one input (its log
file, crash report, skip test and result record) lives here, apart from how the
jobs are scheduled (:mod:`~pipeline_core.batch.runner`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline_core.logconfig import DEFAULT_FORMAT, LOGGER_NAME
from pipeline_core.output import atomic_write
from pipeline_core.parallel.rows import core_budget

__all__ = [
    "BatchReport",
    "BatchResult",
    "Job",
    "crash_result",
    "job_log",
    "order_results",
    "run_job",
    "skipped_result",
    "write_crash_file",
]

log = logging.getLogger("steppe.batch")

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Job:
    """Everything needed to run one input of a batch (sent to worker processes).

    Parameters
    ----------
    step_class : type
        The step or pipeline class (pickled by reference).
    input : str
        Absolute path of the input.
    output_dir : str
        Folder of the products, the log file and the crash file.
    base : str
        The input's file name without extension: names the log and crash files.
    product : str
        The product the run is expected to write.
    config_file : str or None
        An ASDF parameter file.
    params : dict
        Other parameters of ``call`` (including ``steps``).
    cores : int or None
        The job's share of the cores (:func:`pipeline_core.parallel.rows.core_budget`);
        None leaves the process's own limits.
    """

    step_class: type
    input: str
    output_dir: str
    base: str
    product: str
    config_file: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    cores: int | None = None

    @property
    def log_file(self) -> str:
        """Path of the input's log file, ``<output_dir>/<base>.log``."""
        return os.path.join(self.output_dir, f"{self.base}.log")

    @property
    def crash_file(self) -> str:
        """Path of the traceback written on failure, ``<output_dir>/<base>_crash.txt``."""
        return os.path.join(self.output_dir, f"{self.base}_crash.txt")


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one input.

    Parameters
    ----------
    input : str
        The input's path.
    status : {'ok', 'failed', 'skipped'}
        What happened.
    seconds : float
        Wall-clock time of the run (0 when skipped).
    product : str
        The product's path (written when ``ok``, already there when ``skipped``).
    log_file : str or None
        The input's log file (None when skipped).
    crash_file : str or None
        The traceback file when ``failed``.
    error : str or None
        ``"ExceptionType: message"`` when ``failed``.
    """

    input: str
    status: str
    seconds: float
    product: str
    log_file: str | None = None
    crash_file: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchReport:
    """The outcome of a batch: one :class:`BatchResult` per input, in input order.

    Parameters
    ----------
    pipeline : str
        Name of the step or pipeline that was run.
    results : tuple of BatchResult
        One per input.
    seconds : float
        Wall-clock time of the whole batch.
    """

    pipeline: str
    results: tuple[BatchResult, ...]
    seconds: float

    def _with(self, status: str) -> list[BatchResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> list[BatchResult]:
        """The inputs that ran successfully."""
        return self._with(OK)

    @property
    def failed(self) -> list[BatchResult]:
        """The inputs that failed."""
        return self._with(FAILED)

    @property
    def skipped(self) -> list[BatchResult]:
        """The inputs skipped because their product existed."""
        return self._with(SKIPPED)

    @property
    def succeeded(self) -> bool:
        """True when no input failed."""
        return not self.failed

    def summary(self) -> str:
        """Return the summary table: input, status, time and product or error.

        Returns
        -------
        str
            One line per input and a total line.
        """
        rows = []
        for r in self.results:
            if r.status == FAILED:
                detail = f"{r.error} (traceback: {r.crash_file})"
            elif r.status == SKIPPED:
                detail = f"{r.product} exists"
            else:
                detail = r.product
            rows.append((os.path.basename(r.input), r.status, f"{r.seconds:.2f}", detail))
        header = ("input", "status", "time (s)", "product / error")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        lines = [
            f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
            for a, b, c, d in [header, *rows]
        ]
        lines.append(
            f"{self.pipeline}: {len(self.results)} input(s): {len(self.ok)} ok, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped in {self.seconds:.2f} s"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------
# The job's own log file
# --------------------------------------------------------------------------------------

class _ThreadFilter(logging.Filter):
    """Keep the records of one thread: jobs may share a process (Dask threads)."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


class _ToParent(logging.Handler):
    """Pass records at or above the logger's usual level on to its parent's handlers."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        super().__init__(level)
        self.logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        if self.logger.parent is not None:
            self.logger.parent.handle(record)


class _JobLogging:
    """Lowers the steppe logger to INFO while jobs run, without flooding the console.

    The log files need INFO records; the handlers above the steppe logger (the
    console) keep receiving only what they received before. Jobs running in threads
    of one process share one setting: the first job sets it, the last restores it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: tuple[int, bool] = (logging.NOTSET, True)
        self._forward: _ToParent | None = None

    def enter(self, logger: logging.Logger) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = (logger.level, logger.propagate)
                usual = logger.getEffectiveLevel()
                if usual > logging.INFO and logger.propagate:
                    self._forward = _ToParent(logger, usual)
                    logger.addHandler(self._forward)
                    logger.propagate = False
                if usual > logging.INFO:
                    logger.setLevel(logging.INFO)
            self._users += 1

    def leave(self, logger: logging.Logger) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                logger.setLevel(self._saved[0])
                logger.propagate = self._saved[1]
                if self._forward is not None:
                    logger.removeHandler(self._forward)
                    self._forward = None


_JOB_LOGGING = _JobLogging()


@contextlib.contextmanager
def job_log(path: str) -> Iterator[None]:
    """Send the current thread's steppe log records (INFO and up) to `path`.

    Parameters
    ----------
    path : str
        The log file; overwritten.

    Yields
    ------
    None
    """
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(DEFAULT_FORMAT))
    handler.setLevel(logging.INFO)
    handler.addFilter(_ThreadFilter(threading.get_ident()))
    _JOB_LOGGING.enter(logger)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        _JOB_LOGGING.leave(logger)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"


def write_crash_file(job: Job, text: str) -> None:
    """Write `text` (a traceback) to the job's crash file, atomically.

    Parameters
    ----------
    job : Job
        The job that failed.
    text : str
        What to write.
    """
    with atomic_write(job.crash_file) as tmp:
        with open(tmp, "w", encoding="utf-8") as stream:
            stream.write(text)


def crash_result(job: Job, error: str, detail: str, seconds: float = 0.0) -> BatchResult:
    """Record a job whose process did not report back (it died), with a crash file.

    Parameters
    ----------
    job : Job
        The job.
    error : str
        One-line description.
    detail : str
        Text for the crash file.
    seconds : float, optional
        Time spent.

    Returns
    -------
    BatchResult
        A ``failed`` result.
    """
    write_crash_file(job, f"{job.input}\n{detail}\n")
    return BatchResult(job.input, FAILED, seconds, job.product, job.log_file, job.crash_file, error)


def run_job(job: Job) -> BatchResult:
    """Run one input; on failure write its crash file instead of raising.

    Parameters
    ----------
    job : Job
        The input and how to run it.

    Returns
    -------
    BatchResult
        ``ok`` or ``failed``.
    """
    started = time.perf_counter()
    name = job.step_class.__name__
    budget = core_budget(job.cores) if job.cores is not None else contextlib.nullcontext()
    with job_log(job.log_file), budget:
        log.info("batch: running %s on %s (process %d)", name, job.input, os.getpid())
        try:
            job.step_class.call(
                job.input,
                config_file=job.config_file,
                save_results=True,
                output_dir=job.output_dir,
                **job.params,
            )
        except Exception as exc:  # noqa: BLE001 - one input's failure must not stop the batch
            seconds = time.perf_counter() - started
            log.error("batch: %s failed on %s after %.2f s", name, job.input, seconds, exc_info=True)
            write_crash_file(job, f"{job.input}\n{traceback.format_exc()}")
            return BatchResult(
                job.input, FAILED, seconds, job.product, job.log_file, job.crash_file, _one_line(exc)
            )
        seconds = time.perf_counter() - started
        log.info("batch: %s finished %s in %.2f s", name, job.input, seconds)
    with contextlib.suppress(FileNotFoundError):
        os.remove(job.crash_file)  # left by an earlier, failed run
    return BatchResult(job.input, OK, seconds, job.product, job.log_file)


def skipped_result(job: Job) -> BatchResult:
    """Return the result of an input whose product already exists.

    Parameters
    ----------
    job : Job
        The input.

    Returns
    -------
    BatchResult
        A ``skipped`` result.
    """
    return BatchResult(job.input, SKIPPED, 0.0, job.product)


def order_results(jobs: Sequence[Job], results: dict[str, BatchResult]) -> tuple[BatchResult, ...]:
    """Return the results in the order of the inputs.

    Parameters
    ----------
    jobs : sequence of Job
        The jobs, in input order.
    results : dict of str to BatchResult
        Results keyed by input path.

    Returns
    -------
    tuple of BatchResult
    """
    return tuple(results[job.input] for job in jobs)
