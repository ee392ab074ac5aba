"""How many cores: ``maximum_cores`` values and the core budget of batch jobs.

The public names are re-exported by :mod:`pipeline_core.parallel.rows`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from pipeline_core.errors import ParameterError

__all__ = [
    "BUDGET_ENV",
    "KEYWORDS",
    "available_cores",
    "cannot_have_children",
    "core_budget",
    "mark_pool_worker",
    "resolve_max_workers",
    "worker_budget",
]

log = logging.getLogger("steppe.parallel")

#: The ``maximum_cores`` keywords and the fraction of the available cores each one means.
KEYWORDS: dict[str, float] = {"none": 0.0, "quarter": 0.25, "half": 0.5, "all": 1.0}

#: Environment variable holding the number of cores a process (a batch job) may use.
BUDGET_ENV = "STEPPE_CORE_BUDGET"

_ACCEPTED = (
    "'none', 'quarter', 'half', 'all' (any case) or a whole number of cores >= 1 "
    "(an int or a string such as '4')"
)



# --------------------------------------------------------------------------------------
# How many cores
# --------------------------------------------------------------------------------------

_budget: ContextVar[int | None] = ContextVar("steppe_core_budget", default=None)

# Set in the processes of steppe's row-slice pool: kernels there never fan out again.
_IN_POOL_WORKER = False


def mark_pool_worker() -> None:
    """Mark this process as a worker of the row-slice pool (it runs kernels serially)."""
    global _IN_POOL_WORKER
    _IN_POOL_WORKER = True


def available_cores() -> int:
    """Return the number of CPUs this process may run on.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where the platform has it (it honours
        ``taskset``, cgroup cpusets and batch-system pinning), else ``os.cpu_count()``.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _env_budget() -> int | None:
    raw = os.environ.get(BUDGET_ENV)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ParameterError(
            f"environment variable {BUDGET_ENV}={raw!r} is not a whole number of cores "
            f">= 1; set it to the number of cores this process may use, or unset it."
        )
    return value


def cannot_have_children() -> str | None:
    """Return why this process must not start worker processes, or None.

    Returns
    -------
    str or None
        The reason, worded to follow "this process".
    """
    if _IN_POOL_WORKER:
        return "is itself a worker of a steppe process pool"
    if multiprocessing.current_process().daemon:
        return (
            "is a daemon process (for instance a multiprocessing.Pool or Dask worker), "
            "which may not start child processes"
        )
    return None


def worker_budget() -> int:
    """Return how many cores the current job may use for its parallel steps.

    The smallest of: the CPUs this process may run on (:func:`available_cores`), the
    share set by :func:`core_budget` for the running job, and the
    ``STEPPE_CORE_BUDGET`` environment variable. It is 1 in a process that may not
    start child processes (a daemon process or a worker of steppe's pool).

    Returns
    -------
    int
        A number of cores, at least 1.

    Raises
    ------
    ParameterError
        If ``STEPPE_CORE_BUDGET`` is set to something other than a whole number >= 1.
    """
    if cannot_have_children() is not None:
        return 1
    cores = available_cores()
    for limit in (_budget.get(), _env_budget()):
        if limit is not None:
            cores = min(cores, limit)
    return max(1, cores)


@contextmanager
def core_budget(cores: int) -> Iterator[int]:
    """Limit the cores that parallel steps may use while the block runs.

    A batch of ``N`` jobs on ``C`` cores runs each job inside
    ``core_budget(max(1, C // N))``, so that the jobs together use no more than the
    machine. The limit applies to the current thread (it is a context variable).

    Parameters
    ----------
    cores : int
        Number of cores, at least 1.

    Yields
    ------
    int
        The budget now in force (:func:`worker_budget`).

    Raises
    ------
    ParameterError
        If `cores` is not a whole number >= 1.

    Examples
    --------
    >>> from pipeline_core.parallel.rows import core_budget, resolve_max_workers
    >>> with core_budget(1):
    ...     resolve_max_workers("all")
    1
    """
    if isinstance(cores, bool) or not isinstance(cores, int | np.integer) or cores < 1:
        raise ParameterError(
            f"core budget {cores!r} is not a whole number of cores >= 1; "
            "give the number of cores the job may use."
        )
    token = _budget.set(int(cores))
    try:
        yield worker_budget()
    finally:
        _budget.reset(token)


def parse_maximum_cores(value: object, step_name: str = "") -> tuple[str | None, int | None]:
    """Check a ``maximum_cores`` value and split it into its keyword or number.

    Parameters
    ----------
    value : str or int
        'none', 'quarter', 'half', 'all' (any case), a whole number >= 1, or
        such a number as a string.
    step_name : str, optional
        The step the value belongs to, named in the error message.

    Returns
    -------
    tuple
        ``(keyword, None)`` or ``(None, number)``.

    Raises
    ------
    ParameterError
        For any other value, naming the step, the value and what is accepted.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in KEYWORDS:
            return text.lower(), None
        if text.isdigit() and int(text) >= 1:
            return None, int(text)
    elif isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        if value >= 1:
            return None, int(value)
    where = f"step {step_name!r}: " if step_name else ""
    raise ParameterError(
        f"{where}parameter 'maximum_cores' = {value!r} is not valid; accepted: "
        f"{_ACCEPTED}. Use 'none' to run on one core."
    )


def resolve_max_workers(value: object, *, step_name: str = "") -> int:
    """Turn a ``maximum_cores`` value into a number of worker processes.

    Parameters
    ----------
    value : str or int
        ``'none'`` (one core, the serial path), ``'quarter'``, ``'half'``, ``'all'``
        (any case: that fraction of the available cores, rounded down, at least 1),
        or a whole number of cores, as an int or a numeric string.
    step_name : str, optional
        Name of the step, used in messages.

    Returns
    -------
    int
        Number of workers, between 1 and the available cores. The available cores are
        :func:`worker_budget`: the CPUs this process may run on, or the share of them
        given to the current batch job.

    Raises
    ------
    ParameterError
        For any other value (floats, zero, negative numbers, other words). It names
        the step, the parameter, the value and what is accepted.

    Notes
    -----
    A number above the available cores is capped, and a job whose share of the cores
    reduces the request logs it: one INFO line on the ``steppe.parallel`` logger.

    Examples
    --------
    >>> from pipeline_core.parallel.rows import resolve_max_workers
    >>> resolve_max_workers("none")
    1
    >>> resolve_max_workers("1")
    1
    """
    keyword, number = parse_maximum_cores(value, step_name)
    if keyword == "none":
        return 1
    budget = worker_budget()
    machine = available_cores()
    if keyword is not None:
        workers = max(1, int(budget * KEYWORDS[keyword]))
        wanted = max(1, int(machine * KEYWORDS[keyword]))
    else:
        assert number is not None
        workers = min(number, budget)
        wanted = number
    if workers < wanted:
        where = f"step {step_name!r}: " if step_name else ""
        if budget < machine:
            why = cannot_have_children()
            reason = (
                f"this process {why}" if why else f"this job's share of the cores is {budget}"
            )
        else:
            reason = f"this process may use {machine} CPU(s)"
        log.info(
            "%smaximum_cores=%r asks for %d worker(s); using %d because %s",
            where,
            value,
            wanted,
            workers,
            reason,
        )
    return workers
