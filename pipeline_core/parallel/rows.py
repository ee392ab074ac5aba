"""The ``parallel`` capability: how many workers a step may use, and running a kernel on row blocks.

A step declared with ``parallel = True`` gets the ``maximum_cores`` parameter.
:func:`resolve_max_workers` turns it into a number of worker processes, counted from
the CPUs this process may use, and :func:`map_row_slices` runs a numeric kernel on
contiguous blocks of image rows in a pool of ``forkserver`` processes:

* the kernel first runs on one row, to learn the shape and dtype of each output, and
  the outputs are allocated in shared memory (:func:`shared_empty`);
* the rows are cut into blocks, several per process; the calling process takes blocks
  from the front and the workers from the back, each taking the next one when done,
  so that all finish within a block of each other;
* an input already in shared memory (allocated with :func:`shared_empty`, for
  instance the arrays of a model a parallel step copied for itself) reaches the
  workers without being copied: they map the same memory. Another input is copied
  into shared memory once for the call. Workers write their rows of the outputs in
  place, so outputs are never copied either;
* the result is identical, bit for bit, to calling the kernel on the whole arrays,
  provided the kernel treats every row independently;
* a worker that dies (killed, out of memory, crashed) raises a :class:`StepError`;
  nothing hangs and no shared memory is left behind.

A kernel that releases the interpreter lock for most of its work (numba's
``nogil`` kernels, large numpy operations) runs on threads of this process instead
(``threads=True``): the same blocks, taken by each thread in turn, without starting
processes or copying anything into shared memory. The built-in jump step runs so; a
kernel written in Python needs the processes.

A batch of jobs shares the machine's cores: inside a job the "available" cores are
the job's share (:func:`core_budget`, or the ``STEPPE_CORE_BUDGET`` environment
variable), so ``maximum_cores='all'`` means "all of my share". A process that may not
start children (a daemon process, such as a ``multiprocessing.Pool`` or a Dask worker,
or a worker of this module's own pool) runs kernels serially, on threads too, and
says so in one log line.

Why one module of this size: the probe, allocation of outputs, block cutting,
halos and reassembly are one algorithm (:func:`map_row_slices`); the pool, the
shared memory and the block queue behind it are their own modules.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import DTypeLike

from pipeline_core.parallel import _pool, _sharedmem
from pipeline_core.parallel.threads import run_on_threads
from pipeline_core.parallel._workqueue import BlockQueue
from pipeline_core.parallel.cores import (
    BUDGET_ENV,
    KEYWORDS,
    available_cores,
    cannot_have_children,
    core_budget,
    mark_pool_worker,
    resolve_max_workers,
    step_label,
    worker_budget,
)
from pipeline_core.errors import ParameterError, StepError

__all__ = [
    "BUDGET_ENV",
    "KEYWORDS",
    "RowReader",
    "available_cores",
    "core_budget",
    "map_row_slices",
    "resolve_max_workers",
    "shared_allocator",
    "shared_empty",
    "shared_like",
    "shutdown_pool",
    "uses_workers",
    "worker_budget",
]

log = logging.getLogger("steppe.parallel")

Kernel = Callable[..., Mapping[str, np.ndarray]]

#: Blocks of rows per process: the processes finish within one block of each other
#: (the blocks get smaller towards the point where the processes meet).
BLOCKS_PER_WORKER = 10


@runtime_checkable
class RowReader(Protocol):
    """An input of :func:`map_row_slices` that each process reads block by block.

    Give such an object instead of an array for an input that lives in a file (a
    reference image opened lazily, for instance): every process reads only the
    rows of the blocks it computes, at the same time as the others, instead of the
    caller reading the whole array before the work starts and sharing it. It must
    be picklable (workers receive a copy) and cheap to pickle.

    Attributes
    ----------
    shape : tuple of int
        The shape of the whole array.
    """

    shape: tuple[int, ...]

    def read_rows(self, start: int, stop: int, row_axis: int) -> np.ndarray:
        """Return rows ``start:stop`` along `row_axis` (a new array)."""


# --------------------------------------------------------------------------------------
# Arrays in shared memory
# --------------------------------------------------------------------------------------


def shared_empty(shape: int | tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """Return a new, uninitialised array in shared memory, which workers read without a copy.

    Give :func:`map_row_slices` such an array (or any view of one) and the workers map
    its memory instead of receiving a copy of their rows.

    Parameters
    ----------
    shape : int or tuple of int
        Array shape.
    dtype : data-type
        Array dtype.

    Returns
    -------
    numpy.ndarray
        A C-ordered, writable array. Its shared-memory segment is removed when the
        array and every view of it have been garbage collected, or when the
        interpreter exits.

    Raises
    ------
    StepError
        If the shared-memory file system (``/dev/shm``) cannot hold the array.

    Examples
    --------
    >>> from pipeline_core.parallel.rows import shared_empty
    >>> shared_empty((2, 3), "float32").shape
    (2, 3)
    """
    return _sharedmem.shared_empty(shape, dtype)


def shared_like(array: np.ndarray) -> np.ndarray:
    """Return a copy of `array` in shared memory (see :func:`shared_empty`).

    Parameters
    ----------
    array : numpy.ndarray
        The array to copy.

    Returns
    -------
    numpy.ndarray
        A C-ordered copy with the same shape, dtype and values.

    Raises
    ------
    StepError
        If the shared-memory file system (``/dev/shm``) cannot hold the copy.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline_core.parallel.rows import shared_like
    >>> shared_like(np.arange(3))
    array([0, 1, 2])
    """
    return _sharedmem.shared_copy(np.asarray(array))


# --------------------------------------------------------------------------------------
# The process pool
# --------------------------------------------------------------------------------------

# The fork server imports this module (and numpy) once; workers fork from it ready.
_POOL = _pool.SharedPool(initializer=mark_pool_worker, preload=[__name__])


def shutdown_pool() -> None:
    """Stop the worker processes kept for :func:`map_row_slices`, if any.

    Called automatically when the interpreter exits; the next parallel call starts a
    new pool. Also gives back to the system the shared memory of arrays already
    garbage collected, which is otherwise kept for reuse by later calls (the
    workers keep the segments of their latest call mapped, so that the next call
    on the same arrays finds their pages ready).
    """
    _POOL.shutdown()
    _sharedmem.clear_cache()


#: Arrays smaller than this are not worth a shared-memory segment of their own.
SHARED_MIN_BYTES = 1 << 20


def shared_allocator(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """Allocate an array in shared memory if it is large, else an ordinary one.

    Used to copy the model a parallel step works on
    (``DataModel.copy(allocator=shared_allocator)``), so that its arrays reach the
    workers of :func:`map_row_slices` without another copy.

    Parameters
    ----------
    shape : tuple of int
        Array shape.
    dtype : data-type
        Array dtype.

    Returns
    -------
    numpy.ndarray
        Uninitialised: from :func:`shared_empty` for arrays of ``SHARED_MIN_BYTES``
        (1 MiB) or more, else from :func:`numpy.empty`.
    """
    dtype = np.dtype(dtype)
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize >= SHARED_MIN_BYTES:
        array = _sharedmem.shared_empty(shape, dtype, what="a copy of the input")
        _sharedmem.reserve_whole(array)  # all pages at once: faster than on first write
        return array
    return np.empty(shape, dtype)


def uses_workers(max_workers: int) -> bool:
    """Whether :func:`map_row_slices` with `max_workers` will start worker processes here.

    Parameters
    ----------
    max_workers : int
        As given to :func:`map_row_slices`.

    Returns
    -------
    bool
        False for one worker, in a process that may not start children, or when this
        job's share of the cores is one.
    """
    return max_workers > 1 and cannot_have_children() is None and worker_budget() > 1


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
        if not isinstance(array, np.ndarray) and not _is_reader(array):
            raise StepError(
                f"input {key!r} of kernel {name} is a {type(array).__name__}, not a numpy "
                "array or a RowReader; pass arrays in `inputs` and other values in `kwargs`."
            )
        if not -len(array.shape) <= row_axis < len(array.shape):
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


def _is_reader(value: object) -> bool:
    return not isinstance(value, np.ndarray) and isinstance(value, RowReader)


def _read_whole(inputs: Mapping[str, Any], row_axis: int) -> dict[str, np.ndarray]:
    """The inputs with every RowReader read entirely."""
    return {
        key: value.read_rows(0, value.shape[row_axis], row_axis) if _is_reader(value) else value
        for key, value in inputs.items()
    }


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
    inputs: Mapping[str, np.ndarray], row_axis: int, start: int, stop: int, *, read_only: bool = True
) -> dict[str, np.ndarray]:
    """Rows start:stop of the inputs (RowReaders read); views made read-only unless told otherwise."""
    blocks = {}
    for key, array in inputs.items():
        if _is_reader(array):
            blocks[key] = array.read_rows(start, stop, row_axis)
            continue
        view = _rows(array, row_axis, start, stop)
        if read_only:
            # A kernel writing into its inputs would change some rows of the caller's
            # arrays and not others: refuse it.
            view = view.view()
            view.flags.writeable = False
        blocks[key] = view
    return blocks


def _extended(start: int, stop: int, halo: int, rows: int) -> tuple[int, int]:
    """Rows a block reads: its own rows and up to `halo` more on each side."""
    return max(0, start - halo), min(rows, stop + halo)


def _run_block(
    kernel: Kernel,
    inputs: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    kwargs: Mapping[str, Any],
    row_axis: int,
    start: int,
    stop: int,
    out_keyword: str | None = None,
    lo: int | None = None,
) -> None:
    """Run `kernel` on a block of `inputs` and write its rows start:stop of the result.

    `inputs` hold rows ``lo:`` (default `start`) to the block's end, halo rows
    included; the kernel's results for the halo rows are dropped.
    """
    name = _kernel_name(kernel)
    lo = start if lo is None else lo
    targets = {key: _rows(array, row_axis, start, stop) for key, array in outputs.items()}
    extra = {} if out_keyword is None else {out_keyword: targets}
    read = next(iter(inputs.values())).shape[row_axis]
    result = _check_outputs(kernel(**inputs, **kwargs, **extra), name, read, row_axis)
    if read != stop - start:
        result = {
            key: _rows(array, row_axis, start - lo, stop - lo) for key, array in result.items()
        }
    _check_like(result, targets, name, f"{start}:{stop}")
    for key, array in result.items():
        if not _same_memory(array, targets[key]):
            np.copyto(targets[key], array, casting="no")


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether `a` and `b` are the same elements (a kernel filled its `out` arrays)."""
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.strides == b.strides
    )


def _run_in_worker(
    kernel: Kernel,
    input_specs: dict[str, _sharedmem.ArraySpec],
    output_specs: dict[str, _sharedmem.ArraySpec],
    kwargs: dict[str, Any],
    row_axis: int,
    bounds: list[tuple[int, int]],
    queue_spec: _sharedmem.ArraySpec,
    out_keyword: str | None = None,
    readers: dict[str, RowReader] | None = None,
    halo: int = 0,
    rows: int = 0,
) -> int:
    """Run blocks in a worker, taken from the back of the queue, until none is left.

    Inputs and outputs are views of the caller's shared-memory segments (the
    worker keeps them mapped for the next call); `readers` are read block by
    block. Returns the number of blocks computed here.
    """
    done = 0
    _sharedmem.keep_only({spec.name for spec in (*input_specs.values(), *output_specs.values())})
    with ExitStack() as stack:
        inputs = stack.enter_context(_sharedmem.attached(input_specs, keep=True))
        outputs = stack.enter_context(_sharedmem.attached(output_specs, keep=True))
        queue = stack.enter_context(BlockQueue.attach(queue_spec))
        sources = {**inputs.arrays, **(readers or {})}
        while (index := queue.take_back()) is not None:
            start, stop = bounds[index]
            lo, hi = _extended(start, stop, halo, rows)
            try:
                block = _read_only_rows(sources, row_axis, lo, hi)
                for key in inputs.arrays:
                    inputs.prefault(key, block[key], row_axis)
                for key, array in outputs.arrays.items():
                    outputs.reserve(key, _rows(array, row_axis, start, stop), row_axis)
                _run_block(
                    kernel, block, outputs.arrays, kwargs, row_axis, start, stop, out_keyword, lo
                )
            except BaseException as exc:
                queue.stop()
                exc.add_note(
                    f"(raised by kernel {_kernel_name(kernel)} on rows {start}:{stop} in a "
                    "worker process)"
                )
                raise
            finally:
                block = None  # type: ignore[assignment]
            done += 1
        sources.clear()
    return done


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
    inputs: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    row_axis: int,
    rows: int,
) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Call the kernel on the first row to learn the shape and dtype of every output."""
    probe = _check_outputs(
        kernel(**_read_only_rows(inputs, row_axis, 0, 1), **kwargs),
        _kernel_name(kernel), 1, row_axis,
    )
    return {key: (_with_rows(array, row_axis, rows), array.dtype) for key, array in probe.items()}


def _with_rows(array: np.ndarray, row_axis: int, rows: int) -> tuple[int, ...]:
    """The shape of `array` with `rows` rows along `row_axis`."""
    shape = list(array.shape)
    shape[row_axis] = rows
    return tuple(shape)


def _row_bounds(rows: int, blocks: int, workers: int = 2) -> list[tuple[int, int]]:
    """Cut `rows` into `blocks` contiguous blocks, smallest where the processes meet.

    This process takes blocks from the front and ``workers - 1`` others from the
    back, so they meet about ``rows / workers`` rows from the front. Block sizes
    fall linearly towards that point, from both sides (the smallest about a
    quarter of the largest): large blocks cost little in hand-overs, small
    ones let every process finish at nearly the same moment.
    """
    blocks = max(1, min(rows, blocks))
    if blocks < 4 or workers < 2:
        edges = [(rows * i) // blocks for i in range(blocks + 1)]
        return list(zip(edges[:-1], edges[1:]))
    front = max(1, round(blocks / workers))
    back = blocks - front
    weights = [5 * (front - i) + front for i in range(front)]
    weights += [5 * (i + 1) + back for i in range(back)]
    # the share of the rows each side gets is proportional to its processes
    meet = rows / workers
    sums = (sum(weights[:front]), sum(weights[front:]))
    cuts = [0.0]
    for i, weight in enumerate(weights):
        side_rows, side_sum = (meet, sums[0]) if i < front else (rows - meet, sums[1])
        cuts.append(cuts[-1] + side_rows * weight / side_sum)
    edges = sorted({min(rows, int(round(cut))) for cut in cuts} | {0, rows})
    return list(zip(edges[:-1], edges[1:]))


def map_row_slices(
    kernel: Kernel,
    inputs: Mapping[str, np.ndarray],
    *,
    max_workers: int,
    kwargs: Mapping[str, Any] | None = None,
    row_axis: int = -2,
    out_keyword: str | None = None,
    halo: int = 0,
    threads: bool = False,
    in_place: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """Run a kernel on contiguous blocks of rows, in parallel, and reassemble the outputs.

    Parameters
    ----------
    kernel : callable
        ``kernel(**block_inputs, **kwargs) -> dict[str, numpy.ndarray]``. It must treat
        rows independently, and its outputs must keep the rows along `row_axis`. For
        more than one worker it must be a top-level function of an importable module
        (workers import it by name).
    inputs : mapping of str to numpy.ndarray or RowReader
        Arrays split along `row_axis`; all must have the same number of rows there.
        A :class:`RowReader` (an array still in its file) is read block by block by
        the process computing the block, in parallel with the others.
    max_workers : int
        Number of processes working, this one included (:func:`resolve_max_workers`).
        With 1, or when there is a single row, the kernel is called in this process:
        on the whole arrays, or, when the inputs hold more than ``SERIAL_BLOCK_BYTES``
        (64 MiB), on blocks of rows of about that size (its temporary arrays then
        stay small; the result is the same).
    kwargs : mapping, optional
        Other keyword arguments for the kernel (scalars, small arrays), passed whole
        to every block.
    row_axis : int, optional
        The axis holding the rows (default -2, the y axis of ``(..., ny, nx)``).
    out_keyword : str, optional
        The keyword under which the kernel accepts a dict of output arrays to fill
        (like ``out=``), if it does: in the parallel path each block then writes its
        rows of the outputs directly instead of returning new arrays that are copied
        there. The kernel returns those arrays (or others, which are copied).
    halo : int, optional
        For kernels whose result for a row depends on the rows next to it (up to
        `halo` rows away, e.g. flags spreading to neighbouring pixels): every block
        also receives up to `halo` rows on each side of its own, and the kernel's
        outputs for those extra rows are dropped. Cannot be combined with
        `out_keyword`.
    threads : bool, optional
        The kernel releases the interpreter lock for most of its work (a compiled
        ``nogil`` kernel, or large numpy operations): the blocks then run on
        `max_workers` threads of this process instead of worker processes. No
        process is started and nothing is copied into shared memory; the kernel
        need not be importable by name. The result is the same.
    in_place : mapping of str to str, optional
        Outputs written over inputs: ``{output: input}``, each input an array of
        the output's shape and dtype that the caller no longer needs as it was
        (a step's own copy). The returned output is that input array; no array
        of its size is allocated on threads or in blocks of rows. Every block
        still reads the original values of every row it reads, its halo rows
        included (they are copied before any block writes). Cannot be combined
        with `out_keyword`.

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
    The rows are split into ``BLOCKS_PER_WORKER * max_workers`` contiguous blocks (at
    most one per row), smaller towards the point where the processes meet. This
    process takes blocks from the front, on read-only views of its own arrays (a
    kernel that writes into its inputs fails there rather than changing some rows of
    the caller's arrays); the ``max_workers - 1`` processes of a pool of
    ``forkserver`` workers take blocks from the back, until none is left. In the
    serial path the kernel receives the caller's arrays themselves (or views of their
    rows). A kernel must not modify its inputs.

    Inputs that lie in shared memory (:func:`shared_empty`, :func:`shared_like`, or
    views of them, such as the outputs of an earlier call) are mapped by the workers
    as they are; any other input is copied into shared memory once for the duration
    of the call. The outputs are allocated in shared memory once their shapes are
    known (from a call of the kernel on the first row), every block writes its rows
    there, and the arrays returned are those shared arrays (their memory is freed when
    they are garbage collected). The pool is kept between calls (the first call pays
    for starting the processes) and stopped when the interpreter exits. At most,
    memory holds the inputs, a shared copy of the inputs not already shared, the
    kernel's temporaries for one block per process, and the outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline_core.parallel.rows import map_row_slices
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
    if isinstance(halo, bool) or not isinstance(halo, int | np.integer) or halo < 0:
        raise StepError(f"halo={halo!r} for kernel {name} must be a whole number of rows >= 0.")
    if halo and out_keyword is not None:
        raise StepError(
            f"kernel {name}: halo={halo} cannot be combined with out_keyword={out_keyword!r} "
            "(a block computes its halo rows but must not write them); use one or the other."
        )
    inputs = dict(inputs)
    rows = _row_count(inputs, row_axis, name)
    in_place = _check_in_place(dict(in_place or {}), inputs, out_keyword, name)
    workers = _effective_workers(max_workers, rows, name)
    if workers <= 1:
        return _run_serial(kernel, inputs, kwargs, row_axis, rows, halo, name, in_place)
    if threads:
        return _run_threads(
            kernel, inputs, kwargs, row_axis, rows, halo, workers, out_keyword, in_place
        )
    if in_place:  # worker processes write shared outputs: copied over the inputs after
        outputs = map_row_slices(
            kernel, inputs, max_workers=max_workers, kwargs=kwargs, row_axis=row_axis,
            halo=halo,
        )
        return _write_over_inputs(outputs, inputs, in_place, name)

    _check_importable(kernel, kwargs)
    readers = {key: value for key, value in inputs.items() if _is_reader(value)}
    _check_importable_readers(readers, name)
    bounds = _row_bounds(rows, workers * BLOCKS_PER_WORKER, workers)
    log.debug("kernel %s: %d rows in %d blocks on %d processes", name, rows, len(bounds), workers)
    templates = _output_templates(kernel, inputs, kwargs, row_axis, rows)
    outputs: dict[str, np.ndarray] = {}
    shared: dict[str, np.ndarray] = {}
    try:
        with ExitStack() as temporary:
            # Inputs already in shared memory are only described to the workers; the
            # others are copied there once, for the duration of the call.
            for key, array in inputs.items():
                if key not in readers:
                    shared[key] = _in_shared_memory(array, f"input {key!r} of kernel {name}")
            _sharedmem.check_free_space(
                sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in templates.values()),
                "the kernel's outputs",
            )
            for key, (shape, dtype) in templates.items():
                outputs[key] = _sharedmem.shared_empty(shape, dtype, what="the kernel's outputs")
            queue = temporary.enter_context(BlockQueue.create(len(bounds)))
            _run_blocks(
                kernel, inputs, outputs, shared, readers, kwargs, row_axis, bounds, queue,
                workers, rows, out_keyword, halo,
            )
    except BaseException:
        # The traceback keeps these arrays alive: remove their segments now.
        for key, array in shared.items():
            if array is not inputs[key]:
                _sharedmem.release(array)
        for array in outputs.values():
            _sharedmem.release(array)
        raise
    for array in outputs.values():
        _sharedmem.mark_reserved(array)  # every row was written
    # The copies of the inputs are dropped here; their segments serve the next call.
    return outputs


#: In one process, inputs larger than this are worked on in blocks of rows of about
#: this size: the kernel's temporary arrays stay small.
SERIAL_BLOCK_BYTES = 64 << 20


def _input_bytes(inputs: Mapping[str, Any]) -> int:
    total = 0
    for value in inputs.values():
        itemsize = np.dtype(getattr(value, "dtype", np.float32)).itemsize
        total += int(np.prod(value.shape, dtype=np.int64)) * itemsize
    return total


def _run_serial(
    kernel: Kernel,
    inputs: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    row_axis: int,
    rows: int,
    halo: int,
    name: str,
    in_place: Mapping[str, str],
) -> dict[str, np.ndarray]:
    """The kernel in this process: on the whole arrays, or on blocks of rows when large."""
    blocks = min(rows, -(-_input_bytes(inputs) // SERIAL_BLOCK_BYTES))
    if blocks <= 1:
        outputs = _check_outputs(kernel(**_read_whole(inputs, row_axis), **kwargs), name, None, row_axis)
        return _write_over_inputs(outputs, inputs, in_place, name)
    bounds = _row_bounds(rows, blocks, 1)
    edges = _original_edges(inputs, in_place, bounds, halo, row_axis, rows)
    outputs: dict[str, np.ndarray] = {}
    for index, (start, stop) in enumerate(bounds):
        lo, hi = _extended(start, stop, halo, rows)
        block = _block_inputs(inputs, row_axis, lo, hi, start, stop, edges[index], read_only=False)
        result = _check_outputs(kernel(**block, **kwargs), name, hi - lo, row_axis)
        if not outputs:
            templates = {key: (_with_rows(array, row_axis, rows), array.dtype) for key, array in result.items()}
            outputs = _new_outputs(templates, inputs, in_place, name)
        _check_like(
            {key: _rows(array, row_axis, start - lo, stop - lo) for key, array in result.items()},
            {key: _rows(array, row_axis, start, stop) for key, array in outputs.items()},
            name, f"{start}:{stop}",
        )
        del block
        for key, array in result.items():
            _rows(outputs[key], row_axis, start, stop)[...] = _rows(array, row_axis, start - lo, stop - lo)
    return outputs


def _check_in_place(
    in_place: dict[str, str], inputs: Mapping[str, Any], out_keyword: str | None, name: str
) -> dict[str, str]:
    """Refuse an ``in_place`` mapping that names no writable input array."""
    if in_place and out_keyword is not None:
        raise StepError(
            f"kernel {name}: in_place={in_place!r} cannot be combined with "
            f"out_keyword={out_keyword!r}; use one or the other."
        )
    for output, key in in_place.items():
        array = inputs.get(key)
        if not isinstance(array, np.ndarray) or not array.flags.writeable:
            raise StepError(
                f"kernel {name}: in_place maps output {output!r} to {key!r}, which is not a "
                f"writable input array (inputs: {sorted(inputs)}); name an input array the "
                "kernel's output may overwrite."
            )
    return in_place


def _original_edges(
    inputs: Mapping[str, Any],
    in_place: Mapping[str, str],
    bounds: list[tuple[int, int]],
    halo: int,
    row_axis: int,
    rows: int,
) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Copies of the halo rows of each block's overwritten inputs, taken before any block writes."""
    edges = []
    for start, stop in bounds:
        lo, hi = _extended(start, stop, halo, rows)
        edges.append({
            key: (_rows(inputs[key], row_axis, lo, start).copy(), _rows(inputs[key], row_axis, stop, hi).copy())
            for key in set(in_place.values())
        })
    return edges


def _block_inputs(
    inputs: Mapping[str, Any],
    row_axis: int,
    lo: int,
    hi: int,
    start: int,
    stop: int,
    edges: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    read_only: bool = True,
) -> dict[str, np.ndarray]:
    """A block's rows lo:hi of the inputs; overwritten inputs rebuilt from their original halo rows."""
    block = _read_only_rows(inputs, row_axis, lo, hi, read_only=read_only)
    for key, (top, bottom) in edges.items():
        own = _rows(inputs[key], row_axis, start, stop)
        if top.shape[row_axis] or bottom.shape[row_axis]:
            own = np.concatenate([top, own, bottom], axis=row_axis)
            own.flags.writeable = False
        elif read_only:
            own = own.view()
            own.flags.writeable = False
        block[key] = own
    return block


def _new_outputs(
    templates: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    inputs: Mapping[str, Any],
    in_place: Mapping[str, str],
    name: str,
) -> dict[str, np.ndarray]:
    """An array for each output ``{key: (shape, dtype)}``: the input it overwrites, or a new one."""
    return {
        key: _in_place_target(inputs[in_place[key]], key, shape, dtype, name)
        if key in in_place else np.empty(shape, dtype)
        for key, (shape, dtype) in templates.items()
    }


def _in_place_target(array: np.ndarray, key: str, shape: tuple[int, ...], dtype: np.dtype, name: str) -> np.ndarray:
    """`array`, if output `key` of kernel `name` (of `shape` and `dtype`) can be written over it."""
    if array.shape != tuple(shape) or array.dtype != dtype:
        raise StepError(
            f"output {key!r} of kernel {name} is {np.dtype(dtype).name} {tuple(shape)}, but the "
            f"input it should overwrite (in_place) is {array.dtype.name} {array.shape}; an "
            "output can only be written over an input of its shape and dtype."
        )
    return array


def _write_over_inputs(
    outputs: dict[str, np.ndarray], inputs: Mapping[str, Any], in_place: Mapping[str, str], name: str
) -> dict[str, np.ndarray]:
    """Copy the outputs named in `in_place` over their inputs, and return those instead."""
    for key, target in in_place.items():
        array = outputs.get(key)
        if array is None:
            continue
        destination = _in_place_target(inputs[target], key, array.shape, array.dtype, name)
        if not _same_memory(array, destination):
            np.copyto(destination, array, casting="no")
        outputs[key] = destination
    return outputs


#: On threads, blocks hold at most about this many bytes of input (and at least
#: ``BLOCKS_PER_WORKER`` blocks go to each thread): a block's temporaries stay small.
THREAD_BLOCK_BYTES = 16 << 20


def _run_threads(
    kernel: Kernel,
    inputs: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    row_axis: int,
    rows: int,
    halo: int,
    workers: int,
    out_keyword: str | None,
    in_place: Mapping[str, str],
) -> dict[str, np.ndarray]:
    """The kernel on blocks of rows, on `workers` threads of this process."""
    name = _kernel_name(kernel)
    blocks = max(workers * BLOCKS_PER_WORKER, -(-_input_bytes(inputs) // THREAD_BLOCK_BYTES))
    bounds = _row_bounds(rows, blocks, 1)
    log.debug("kernel %s: %d rows in %d blocks on %d threads", name, rows, len(bounds), workers)
    outputs = _new_outputs(_output_templates(kernel, inputs, kwargs, row_axis, rows), inputs, in_place, name)
    edges = _original_edges(inputs, in_place, bounds, halo, row_axis, rows)

    def run(index: int) -> None:
        start, stop = bounds[index]
        lo, hi = _extended(start, stop, halo, rows)
        block = _block_inputs(inputs, row_axis, lo, hi, start, stop, edges[index])
        _run_block(kernel, block, outputs, kwargs, row_axis, start, stop, out_keyword, lo)

    run_on_threads(run, len(bounds), workers, f"kernel {name}")
    return outputs


def _check_importable_readers(readers: Mapping[str, Any], name: str) -> None:
    for key, reader in readers.items():
        try:
            pickle.dumps(reader)
        except Exception as exc:
            raise StepError(
                f"input {key!r} of kernel {name} is a {type(reader).__name__} that cannot be "
                f"sent to worker processes ({type(exc).__name__}: {exc}); a RowReader must be "
                "picklable. Pass the array itself, or run serially with maximum_cores='none'."
            ) from exc


def _in_shared_memory(array: np.ndarray, what: str) -> np.ndarray:
    """`array` itself if it lies in shared memory, else a copy there."""
    if _sharedmem.spec_of(array) is not None:
        return array
    return _sharedmem.shared_copy(array, what=what)


def _pool_broken(futures: list[Future[Any]]) -> bool:
    """Whether a worker process died: its pool fails every future it was running."""
    return any(f.done() and isinstance(f.exception(), BrokenProcessPool) for f in futures)


def _run_blocks(
    kernel: Kernel,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, np.ndarray],
    shared: Mapping[str, np.ndarray],
    readers: Mapping[str, RowReader],
    kwargs: Mapping[str, Any],
    row_axis: int,
    bounds: list[tuple[int, int]],
    queue: BlockQueue,
    workers: int,
    rows: int,
    out_keyword: str | None,
    halo: int,
) -> None:
    """Compute every block: this process from the front of `queue`, workers from the back."""
    name = _kernel_name(kernel)
    input_specs = {key: _sharedmem.spec_of(array) for key, array in shared.items()}
    output_specs = {key: _sharedmem.spec_of(array) for key, array in outputs.items()}
    pool = _POOL.get(workers - 1)
    futures: list[Future[Any]] = []
    here_error: Exception | None = None
    # This process takes its first block before the workers can take any.
    index = queue.take_front()
    try:
        try:
            for _ in range(workers - 1):
                futures.append(_pool.submit(
                    pool, _run_in_worker, kernel, input_specs, output_specs, dict(kwargs),
                    row_axis, bounds, queue.spec, out_keyword, dict(readers), halo, rows,
                ))
        except BrokenProcessPool:
            queue.stop()  # reported below, with the futures already submitted
            index = None
        while index is not None:
            start, stop = bounds[index]
            lo, hi = _extended(start, stop, halo, rows)
            try:
                for array in outputs.values():
                    _sharedmem.reserve(_rows(array, row_axis, start, stop), row_axis)
                _run_block(
                    kernel, _read_only_rows(inputs, row_axis, lo, hi), outputs, kwargs,
                    row_axis, start, stop, out_keyword, lo,
                )
            except Exception as exc:  # reported once the workers are done
                queue.stop()
                exc.add_note(f"(raised by kernel {name} on rows {start}:{stop})")
                here_error = exc
            if _pool_broken(futures):  # a worker died: no result can come, stop at once
                queue.stop()
            index = queue.take_front()
        # Every block finishes (or fails) before the segments can disappear.
        wait(futures)
    except BaseException:
        # Interrupted: stop the workers before their segments disappear.
        queue.stop()
        _POOL.discard(pool)
        raise
    if len(futures) < workers - 1 or any(
        isinstance(f.exception(), BrokenProcessPool) for f in futures
    ):
        _POOL.discard(pool)
        raise StepError(
            f"{step_label()}a worker process died while running kernel {name} on {rows} rows "
            f"with {workers} processes (it was killed, crashed or ran out of memory) "
            "and no result was produced. Run with maximum_cores='none' to run in "
            "this process and see the error, or use fewer cores to need less memory."
        )
    if here_error is not None:
        raise here_error
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
