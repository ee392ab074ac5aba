"""The ``parallel`` capability: how many workers a step may use, and running a kernel on row blocks.

A step declared with ``parallel = True`` gets the ``maximum_cores`` parameter.
:func:`resolve_max_workers` turns it into a number of worker processes, counted from
the CPUs this process may use, and :func:`map_row_slices` runs a numeric kernel on
contiguous blocks of image rows in a pool of ``forkserver`` processes:

* the kernel first runs on one row, to learn the shape and dtype of each output, and
  the outputs are allocated in shared memory;
* the calling process computes the first block itself, on its own arrays;
* the rows of every other block are copied once into shared memory, where the worker
  in charge attaches to them (no worker receives a copy of the cube), and the worker
  writes its rows of the outputs in place;
* the result is identical, bit for bit, to calling the kernel on the whole arrays,
  provided the kernel treats every row independently;
* a worker that dies (killed, out of memory, crashed) raises a :class:`StepError`;
  nothing hangs and no shared memory is left behind.

A batch of jobs shares the machine's cores: inside a job the "available" cores are
the job's share (:func:`core_budget`, or the ``STEPPE_CORE_BUDGET`` environment
variable), so ``maximum_cores='all'`` means "all of my share". A process that may not
start children (a daemon process, such as a ``multiprocessing.Pool`` or a Dask worker,
or a worker of this module's own pool) runs kernels serially, and says so in one log
line.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from typing import Any

import numpy as np

from pipeline_core import _pool, _sharedmem
from pipeline_core._cores import (
    BUDGET_ENV,
    KEYWORDS,
    available_cores,
    cannot_have_children,
    core_budget,
    mark_pool_worker,
    resolve_max_workers,
    worker_budget,
)
from pipeline_core.errors import ParameterError, StepError

__all__ = [
    "BUDGET_ENV",
    "KEYWORDS",
    "available_cores",
    "core_budget",
    "map_row_slices",
    "resolve_max_workers",
    "shutdown_pool",
    "worker_budget",
]

log = logging.getLogger("steppe.parallel")

Kernel = Callable[..., Mapping[str, np.ndarray]]


# --------------------------------------------------------------------------------------
# The process pool
# --------------------------------------------------------------------------------------

# The fork server imports this module (and numpy) once; workers fork from it ready.
_POOL = _pool.SharedPool(initializer=mark_pool_worker, preload=[__name__])


def shutdown_pool() -> None:
    """Stop the worker processes kept for :func:`map_row_slices`, if any.

    Called automatically when the interpreter exits; the next parallel call starts a
    new pool.
    """
    _POOL.shutdown()


# --------------------------------------------------------------------------------------
# Row slices
# --------------------------------------------------------------------------------------


def _kernel_name(kernel: Callable[..., Any]) -> str:
    module = getattr(kernel, "__module__", None) or "?"
    return f"{module}.{getattr(kernel, '__qualname__', repr(kernel))}"


def _check_importable(kernel: Callable[..., Any], kwargs: Mapping[str, Any]) -> None:
    """Raise a StepError unless worker processes can import `kernel` by name."""
    name = _kernel_name(kernel)
    module = getattr(kernel, "__module__", None)
    qualname = getattr(kernel, "__qualname__", "")
    advice = (
        "Define the kernel as a top-level function in a module that can be imported "
        "(a .py file on sys.path, e.g. next to your script or notebook) and import it "
        "from there; or run serially with maximum_cores='none' (max_workers=1)."
    )
    if module in (None, "__main__", "__mp_main__"):
        raise StepError(
            f"kernel {name} is defined in the main script or an interactive session, "
            f"which worker processes do not import. {advice}"
        )
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise StepError(
            f"kernel {name} is a lambda or a function defined inside another function; "
            f"worker processes can only import top-level functions. {advice}"
        )
    try:
        pickle.dumps(kernel)
    except Exception as exc:
        raise StepError(f"kernel {name} cannot be sent to worker processes ({exc}). {advice}") from exc
    try:
        pickle.dumps(dict(kwargs))
    except Exception as exc:
        raise StepError(
            f"the keyword arguments of kernel {name} cannot be sent to worker processes "
            f"({type(exc).__name__}: {exc}); pass plain values or arrays, or run serially "
            "with maximum_cores='none'."
        ) from exc


def _row_count(inputs: Mapping[str, np.ndarray], row_axis: int, name: str) -> int:
    rows: dict[str, int] = {}
    for key, array in inputs.items():
        if not isinstance(array, np.ndarray):
            raise StepError(
                f"input {key!r} of kernel {name} is a {type(array).__name__}, not a numpy "
                "array; pass arrays in `inputs` and other values in `kwargs`."
            )
        if not -array.ndim <= row_axis < array.ndim:
            raise StepError(
                f"input {key!r} of kernel {name} has shape {array.shape}, which has no "
                f"row axis {row_axis}; every input must have the rows along row_axis."
            )
        rows[key] = array.shape[row_axis]
    if len(set(rows.values())) > 1:
        raise StepError(
            f"the inputs of kernel {name} have different numbers of rows along axis "
            f"{row_axis}: {rows}; every input must have the same rows."
        )
    return next(iter(rows.values()))


def _check_outputs(result: object, name: str, rows: int | None, row_axis: int) -> dict[str, np.ndarray]:
    if not isinstance(result, Mapping) or not all(isinstance(k, str) for k in result):
        raise StepError(
            f"kernel {name} returned a {type(result).__name__}; a kernel must return a "
            "dict of output name to numpy array."
        )
    outputs = {key: np.asarray(value) for key, value in result.items()}
    if rows is not None:
        for key, array in outputs.items():
            if not -array.ndim <= row_axis < array.ndim or array.shape[row_axis] != rows:
                raise StepError(
                    f"output {key!r} of kernel {name} has shape {array.shape} for a block "
                    f"of {rows} row(s); outputs must keep the rows along axis {row_axis}."
                )
    return outputs


def _rows(array: np.ndarray, row_axis: int, start: int, stop: int) -> np.ndarray:
    index: list[slice] = [slice(None)] * array.ndim
    index[row_axis] = slice(start, stop)
    return array[tuple(index)]


def _check_like(
    outputs: dict[str, np.ndarray], targets: Mapping[str, np.ndarray], name: str, rows: str
) -> None:
    """Raise unless `outputs` has the keys, shapes and dtypes of `targets`."""
    if list(outputs) != list(targets):
        raise StepError(
            f"kernel {name} returned outputs {list(outputs)} for rows {rows} but "
            f"{list(targets)} for its first row; a kernel must return the same outputs "
            "for every block of rows."
        )
    for key, array in outputs.items():
        target = targets[key]
        if array.shape != target.shape or array.dtype != target.dtype:
            raise StepError(
                f"output {key!r} of kernel {name} is {array.dtype.name} {array.shape} for "
                f"rows {rows} but {target.dtype.name} {target.shape} was expected from its "
                "first row; the kernel must treat rows independently and return the same "
                "dtype for every block."
            )


def _read_only_rows(
    inputs: Mapping[str, np.ndarray], row_axis: int, start: int, stop: int
) -> dict[str, np.ndarray]:
    blocks = {}
    for key, array in inputs.items():
        view = _rows(array, row_axis, start, stop).view()
        # A kernel writing into its inputs would change some rows of the caller's
        # arrays and not others: refuse it.
        view.flags.writeable = False
        blocks[key] = view
    return blocks


def _run_block(
    kernel: Kernel,
    inputs: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    kwargs: Mapping[str, Any],
    row_axis: int,
    start: int,
    stop: int,
) -> None:
    """Run `kernel` on the block of `inputs` and write the result to rows start:stop."""
    name = _kernel_name(kernel)
    result = _check_outputs(kernel(**inputs, **kwargs), name, stop - start, row_axis)
    targets = {key: _rows(array, row_axis, start, stop) for key, array in outputs.items()}
    _check_like(result, targets, name, f"{start}:{stop}")
    for key, array in result.items():
        np.copyto(targets[key], array, casting="no")


def _run_in_worker(
    kernel: Kernel,
    input_specs: dict[str, _sharedmem.ArraySpec],
    output_specs: dict[str, _sharedmem.ArraySpec],
    kwargs: dict[str, Any],
    row_axis: int,
    start: int,
    stop: int,
) -> None:
    """Run one block in a worker: inputs and outputs are shared-memory segments."""
    with _sharedmem.attached(input_specs) as inputs, _sharedmem.attached(output_specs) as outputs:
        _run_block(kernel, inputs, outputs, kwargs, row_axis, start, stop)
        del inputs, outputs


def _effective_workers(max_workers: int, rows: int, name: str) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int | np.integer):
        raise ParameterError(
            f"max_workers={max_workers!r} for kernel {name} is not an int; resolve "
            "maximum_cores with resolve_max_workers() first."
        )
    workers = min(int(max_workers), rows)
    if workers <= 1:
        return 1
    why = cannot_have_children()
    if why is not None:
        log.warning(
            "kernel %s runs serially instead of on %d workers because this process %s",
            name,
            workers,
            why,
        )
        return 1
    budget = worker_budget()
    if workers > budget:
        log.info(
            "kernel %s uses %d worker(s) instead of %d: this job's share of the cores is %d",
            name,
            budget,
            workers,
            budget,
        )
        workers = budget
    return workers


def _output_templates(
    kernel: Kernel,
    inputs: Mapping[str, np.ndarray],
    kwargs: Mapping[str, Any],
    row_axis: int,
    rows: int,
) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Call the kernel on the first row to learn the shape and dtype of every output."""
    probe = _check_outputs(
        kernel(**_read_only_rows(inputs, row_axis, 0, 1), **kwargs),
        _kernel_name(kernel), 1, row_axis,
    )
    templates = {}
    for key, array in probe.items():
        shape = list(array.shape)
        shape[row_axis] = rows
        templates[key] = (tuple(shape), array.dtype)
    return templates


def _row_bounds(rows: int, blocks: int) -> list[tuple[int, int]]:
    edges = [(rows * i) // blocks for i in range(blocks + 1)]
    return list(zip(edges[:-1], edges[1:]))


def map_row_slices(
    kernel: Kernel,
    inputs: Mapping[str, np.ndarray],
    *,
    max_workers: int,
    kwargs: Mapping[str, Any] | None = None,
    row_axis: int = -2,
) -> dict[str, np.ndarray]:
    """Run a kernel on contiguous blocks of rows, in parallel, and reassemble the outputs.

    Parameters
    ----------
    kernel : callable
        ``kernel(**block_inputs, **kwargs) -> dict[str, numpy.ndarray]``. It must treat
        rows independently, and its outputs must keep the rows along `row_axis`. For
        more than one worker it must be a top-level function of an importable module
        (workers import it by name).
    inputs : mapping of str to numpy.ndarray
        Arrays split along `row_axis`; all must have the same number of rows there.
    max_workers : int
        Number of processes working, this one included (:func:`resolve_max_workers`).
        With 1, or when there is a single row, the kernel is called in this process on
        the whole arrays.
    kwargs : mapping, optional
        Other keyword arguments for the kernel (scalars, small arrays), passed whole
        to every block.
    row_axis : int, optional
        The axis holding the rows (default -2, the y axis of ``(..., ny, nx)``).

    Returns
    -------
    dict of str to numpy.ndarray
        The kernel's outputs for all rows; identical to ``kernel(**inputs, **kwargs)``.

    Raises
    ------
    StepError
        If the inputs or outputs are inconsistent, the kernel cannot be imported by
        the workers, there is not enough shared memory, or a worker process died.
    Exception
        Whatever the kernel raises, re-raised here with a note naming the rows.

    Notes
    -----
    The rows are split into `max_workers` contiguous blocks. This process computes the
    first one on read-only views of its own arrays (a kernel that writes into its
    inputs fails there rather than changing some rows of the caller's arrays); the rows
    of each other block are copied once into shared memory and computed by a process
    of a pool of ``max_workers - 1`` ``forkserver`` workers. In the serial path the
    kernel receives the caller's arrays themselves. A kernel must not modify its inputs.

    The output arrays are allocated in shared memory once their shapes are known
    (from a call of the kernel on the first row), and every block writes its rows
    there, so outputs are never copied between processes; the arrays returned map
    that memory, which is freed when they are garbage collected. The pool is kept
    between calls (the first call pays for starting the processes) and stopped when
    the interpreter exits. At most, memory holds the inputs, a shared copy of the rows
    given to workers, the kernel's temporaries for each block, and the outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline_core.parallel import map_row_slices
    >>> def double(data):
    ...     return {"data": 2 * data}
    >>> map_row_slices(double, {"data": np.ones((2, 3))}, max_workers=1)["data"]
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """
    kwargs = dict(kwargs or {})
    name = _kernel_name(kernel)
    if not inputs:
        raise StepError(f"kernel {name} was given no input arrays; pass at least one.")
    inputs = dict(inputs)
    rows = _row_count(inputs, row_axis, name)
    workers = _effective_workers(max_workers, rows, name)
    if workers <= 1:
        return _check_outputs(kernel(**inputs, **kwargs), name, None, row_axis)

    _check_importable(kernel, kwargs)
    bounds = _row_bounds(rows, workers)
    log.debug("kernel %s: %d rows in %d blocks on %d processes", name, rows, len(bounds), workers)
    templates = _output_templates(kernel, inputs, kwargs, row_axis, rows)
    # This process computes the first block itself; the pool computes the others.
    pool = _POOL.get(workers - 1)
    futures: list[Future[Any]] = []
    with ExitStack() as segments:
        outputs = segments.enter_context(_sharedmem.SharedOutputs(templates))
        try:
            try:
                for start, stop in bounds[1:]:
                    rows_of = {key: _rows(a, row_axis, start, stop) for key, a in inputs.items()}
                    shared = segments.enter_context(_sharedmem.SharedArrays(rows_of))
                    futures.append(_pool.submit(
                        pool, _run_in_worker, kernel, shared.specs, outputs.specs, kwargs,
                        row_axis, start, stop,
                    ))
            except BrokenProcessPool:
                pass  # reported below, with the futures already submitted
            here_error: Exception | None = None
            if len(futures) == len(bounds) - 1:
                start, stop = bounds[0]
                try:
                    _run_block(
                        kernel, _read_only_rows(inputs, row_axis, start, stop),
                        outputs.arrays, kwargs, row_axis, start, stop,
                    )
                except Exception as exc:  # reported once the workers are done
                    here_error = exc
            # Every block finishes (or fails) before its segments disappear.
            wait(futures)
        except BaseException:
            # Interrupted: stop the workers before their segments disappear.
            _POOL.discard(pool)
            raise
        if len(futures) < len(bounds) - 1 or any(
            isinstance(f.exception(), BrokenProcessPool) for f in futures
        ):
            _POOL.discard(pool)
            raise StepError(
                f"a worker process died while running kernel {name} on {rows} rows "
                f"with {workers} processes (it was killed, crashed or ran out of memory) "
                "and no result was produced. Run with maximum_cores='none' to run in "
                "this process and see the error, or use fewer cores to need less memory."
            )
        if here_error is not None:
            start, stop = bounds[0]
            here_error.add_note(f"(raised by kernel {name} on rows {start}:{stop})")
            raise here_error
        for (start, stop), future in zip(bounds[1:], futures):
            error = future.exception()
            if error is not None:
                error.add_note(
                    f"(raised by kernel {name} on rows {start}:{stop} in a worker process)"
                )
                raise error
        return outputs.arrays
