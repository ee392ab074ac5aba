"""Run a step or pipeline over many inputs: a local process pool, or Dask.

Each input runs as ``<Class>.call(input, save_results=True, output_dir=...)`` and gets
its own log file ``<output_dir>/<base>.log`` (``<base>``: the input's file name
without extension). An input that fails writes ``<output_dir>/<base>_crash.txt`` with
the traceback and the others go on. At the end a :class:`BatchReport` gives each
input's status (ok / failed / skipped) and time.

The ``"local"`` executor (the default) runs the inputs one after the other in this
process for ``jobs=1``, and in a pool of N ``forkserver`` processes for ``jobs=N``;
the machine's cores are shared among the jobs, so a parallel step inside a job uses
at most ``cores // N`` workers. A job whose process dies (killed, out of memory, crash
in compiled code) is reported as failed; the inputs that were in the pool at that
moment are run again. The ``"dask"`` executor uses ``dask.distributed``
(``pip install steppe[dask]``): ``scheduler`` is the address of a running scheduler
(or a ``Client``); without it a ``LocalCluster`` of ``jobs`` single-threaded worker
processes is created for the run. Inputs and ``output_dir`` must be visible to the
workers under the same paths.

The command line ``steppe batch`` is :mod:`pipeline_core.cli.batch`.
"""

from __future__ import annotations

import os
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pipeline_core.parallel import _pool
from pipeline_core.batch.job import (
    BatchReport,
    BatchResult,
    Job,
    crash_result,
    order_results,
    run_job,
    skipped_result,
)
from pipeline_core.errors import ParameterError, StepError
from pipeline_core.output import make_output_path, split_ext
from pipeline_core.parallel.rows import available_cores

__all__ = [
    "EXECUTORS",
    "BatchReport",
    "BatchResult",
    "run_batch",
]

#: The accepted values of ``executor``.
EXECUTORS = ("local", "dask")

_DIED = (
    "the process running this input died (killed by the system, out of memory, or a "
    "crash in compiled code) and reported nothing"
)


# --------------------------------------------------------------------------------------
# Preparing the jobs
# --------------------------------------------------------------------------------------


def _resolve(pipeline: str | type) -> type:
    from pipeline_core.plugins.manager import registry

    return registry().resolve(pipeline)


def _product_suffix(step_class: type, params: dict[str, Any]) -> str:
    return (
        params.get("suffix")
        or getattr(step_class, "default_suffix", None)
        or getattr(step_class, "class_alias", None)
        or step_class.__name__.lower()
    )


def _known_suffixes() -> set[str]:
    from pipeline_core.plugins.manager import registry

    return {d.alias for d in registry().descriptors() if d.alias}


def _make_jobs(
    step_class: type,
    inputs: Sequence[str],
    output_dir: str,
    config_file: str | None,
    params: dict[str, Any],
    cores: int | None,
) -> list[Job]:
    suffix = _product_suffix(step_class, params)
    known = _known_suffixes()
    jobs: list[Job] = []
    bases: dict[str, str] = {}
    for path in inputs:
        base = split_ext(os.path.basename(path))[0]
        if base in bases:
            raise ParameterError(
                f"inputs {bases[base]!r} and {path!r} have the same file name, so their "
                f"products and log files ({base}.log) would overwrite each other; run "
                "them in separate batches with different output_dir."
            )
        bases[base] = path
        product = make_output_path(path, suffix, output_dir=output_dir, known_suffixes=known)
        jobs.append(Job(step_class, path, output_dir, base, product, config_file, params, cores))
    return jobs


def _check_arguments(jobs: object, executor: object, params: dict[str, Any]) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(
            f"batch parameter 'jobs' = {jobs!r} is not valid; accepted: a whole number "
            ">= 1 (the number of inputs run at the same time)."
        )
    if executor not in EXECUTORS:
        raise ParameterError(
            f"batch parameter 'executor' = {executor!r} is not valid; accepted: "
            f"{', '.join(repr(e) for e in EXECUTORS)}."
        )
    for name in ("output_file", "save_results"):
        if name in params:
            raise ParameterError(
                f"batch parameter {name!r} cannot be set: every input is saved, under its "
                "own name, in output_dir; remove it."
            )
    return jobs


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------

Done = Callable[[BatchResult], None]


def _run_serial(jobs: Sequence[Job], done: Done) -> None:
    for job in jobs:
        done(run_job(job))


def _preload(step_class: type) -> list[str]:
    # Imported once by the fork server, so that each worker starts with them loaded
    # (effective when the fork server is not running yet).
    return ["pipeline_core.datamodels", "astropy.io.fits", "asdf", step_class.__module__]


def _run_local_pool(jobs: Sequence[Job], workers: int, done: Done) -> None:
    """Run jobs in a forkserver pool; jobs caught in a broken pool are run again alone."""
    preload = _preload(jobs[0].step_class)
    suspects: list[int] = []
    pool = _pool.new_pool(workers, preload=preload)
    try:
        futures = {}
        try:
            for number, job in enumerate(jobs):
                futures[_pool.submit(pool, run_job, job)] = number
        except BrokenProcessPool:
            suspects.extend(range(len(futures), len(jobs)))
        for future in as_completed(futures):
            try:
                done(future.result())
            except BrokenProcessPool:
                suspects.append(futures[future])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    # A process died, taking every job in the pool with it. Run those jobs again one
    # at a time, so that only the one that kills its process fails.
    retry = None
    try:
        for number in sorted(suspects):
            job = jobs[number]
            retry = retry or _pool.new_pool(1, preload=preload)
            started = time.perf_counter()
            try:
                done(_pool.submit(retry, run_job, job).result())
            except BrokenProcessPool as exc:
                retry.shutdown(wait=True)
                retry = None
                done(crash_result(job, f"worker died: {_DIED}", f"{_DIED}.\n{exc!r}",
                                  time.perf_counter() - started))
    finally:
        if retry is not None:
            retry.shutdown(wait=True)


def _dask() -> types.ModuleType:
    try:
        import dask.distributed as distributed
    except ImportError as exc:
        raise ImportError(
            "executor='dask' needs dask.distributed, which is not installed; install it "
            "with: pip install steppe[dask]"
        ) from exc
    return distributed


def _run_dask(jobs: Sequence[Job], workers: int, scheduler: Any, done: Done) -> None:
    distributed = _dask()
    if not jobs:
        return
    cluster = None
    if scheduler is None:
        # Worker processes start here; keep them from re-running the main script.
        with _pool.hidden_main_module():
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                # A free port: the default one may be taken by another cluster.
                dashboard_address=":0",
            )
        client = distributed.Client(cluster)
    elif isinstance(scheduler, distributed.Client):
        client = scheduler
    else:
        client = distributed.Client(scheduler)
    try:
        futures = {
            client.submit(run_job, job, pure=False, key=f"steppe-batch-{job.base}-{os.urandom(4).hex()}"): job
            for job in jobs
        }
        for future in distributed.as_completed(list(futures)):
            job = futures[future]
            try:
                done(future.result())
            except Exception as exc:  # noqa: BLE001 - the worker died or the task was lost
                done(crash_result(job, f"{type(exc).__name__}: {exc}", f"{_DIED}.\n{exc!r}"))
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()


class _Progress:
    """A tqdm progress bar on stderr when it is a terminal; a no-op otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self._bar = None
        if sys.stderr is not None and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="input", file=sys.stderr)
        self.failed = 0

    def update(self, result: BatchResult) -> None:
        if self._bar is None:
            return
        self.failed += result.status == "failed"
        self._bar.set_postfix(failed=self.failed, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_batch(
    pipeline: str | type,
    inputs: Iterable[str | os.PathLike[str]],
    *,
    jobs: int = 1,
    executor: str = "local",
    scheduler: Any = None,
    output_dir: str | os.PathLike[str] | None = None,
    skip_existing: bool = False,
    config_file: str | os.PathLike[str] | None = None,
    steps: dict[str, dict[str, Any]] | None = None,
    **params: Any,
) -> BatchReport:
    """Run a step or pipeline on many inputs, each saved with its own log file.

    Parameters
    ----------
    pipeline : str or type
        A registered name (alias or class path, see
        :meth:`pipeline_core.plugins.manager.Registry.resolve`) or a Step/Pipeline class.
    inputs : iterable of str or os.PathLike
        The input files. Their file names (without extension) must differ.
    jobs : int, optional
        How many inputs run at the same time (default 1).
    executor : {'local', 'dask'}, optional
        A local process pool (default) or ``dask.distributed``.
    scheduler : str or dask.distributed.Client, optional
        For ``executor='dask'``: the scheduler's address (``tcp://host:8786``) or a
        client. Default: a ``LocalCluster`` of `jobs` workers, created for the run.
    output_dir : str or os.PathLike, optional
        Folder for the products, log files and crash files (created if missing).
        Default: the current directory.
    skip_existing : bool, optional
        Skip the inputs whose product is already in `output_dir` (to resume a batch).
    config_file : str or os.PathLike, optional
        An ASDF parameter file applied to every input.
    steps : dict, optional
        Parameters of a pipeline's steps: ``{"jump": {"rejection_threshold": 5}}``.
    **params
        Parameters of the step or pipeline.

    Returns
    -------
    BatchReport
        One :class:`BatchResult` per input, in input order; ``print(report)`` shows
        the summary table.

    Raises
    ------
    StepError
        For ``jobs > 1`` with the local executor and a class defined in ``__main__``.
    ParameterError
        For invalid `jobs` or `executor`, two inputs with the same file name, or
        ``output_file``/``save_results`` in `params`.
    PluginError
        If `pipeline` names no registered step.
    ImportError
        For ``executor='dask'`` without dask installed.

    Notes
    -----
    A failing input never raises here: see its ``<base>_crash.txt`` and the report.
    A progress bar (tqdm) is shown when stderr is a terminal.

    Examples
    --------
    >>> from pipeline_core.batch.runner import run_batch
    >>> report = run_batch("calwebb_detector1", ["a_uncal.fits", "b_uncal.fits"],
    ...                    jobs=2, output_dir="out")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    """
    started = time.perf_counter()
    if steps is not None:
        params["steps"] = steps
    workers = _check_arguments(jobs, executor, params)
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    paths = [os.path.abspath(os.fspath(p)) for p in inputs]
    step_class = _resolve(pipeline)
    if executor == "local" and workers > 1 and step_class.__module__ in ("__main__", "__mp_main__"):
        raise StepError(
            f"{step_class.__name__} is defined in the main script or an interactive "
            "session, which the worker processes of jobs > 1 do not import; move it to a "
            "module that can be imported (a .py file on sys.path) and import it from "
            "there, or use jobs=1."
        )
    directory = os.path.abspath(os.fspath(output_dir) if output_dir is not None else os.getcwd())
    os.makedirs(directory, exist_ok=True)
    config = os.path.abspath(os.fspath(config_file)) if config_file is not None else None
    # Local jobs share this machine's cores; Dask workers are daemon processes whose
    # parallel steps run serially anyway.
    concurrent = min(workers, len(paths))
    cores = max(1, available_cores() // concurrent) if executor == "local" and concurrent > 1 else None
    all_jobs = _make_jobs(step_class, paths, directory, config, params, cores)

    results: dict[str, BatchResult] = {}
    progress = _Progress(len(all_jobs), getattr(step_class, "class_alias", None) or step_class.__name__)

    def done(result: BatchResult) -> None:
        results[result.input] = result
        progress.update(result)

    try:
        todo = []
        for job in all_jobs:
            if skip_existing and os.path.exists(job.product):
                done(skipped_result(job))
            else:
                todo.append(job)
        if executor == "dask":
            _run_dask(todo, workers, scheduler, done)
        elif workers == 1 or len(todo) <= 1:
            _run_serial(todo, done)
        else:
            _run_local_pool(todo, min(workers, len(todo)), done)
    finally:
        progress.close()
    label = getattr(step_class, "class_alias", None) or step_class.__name__
    return BatchReport(label, order_results(all_jobs, results), time.perf_counter() - started)
