"""A pipeline's ramp in shared memory for its parallel steps, and a warm worker pool.

:func:`shared_ramp_session` joins the worker pool started ahead of the parallel
steps (:func:`pipeline_core.parallel.session.parallel_session`) and the data
models' allocator (:func:`pipeline_core.datamodels.allocation.arrays_from`):
the ramp a pipeline reads in the block is created in shared memory, which the
workers of ``jump`` and ``ramp_fit`` map instead of receiving a copy.
:func:`share_arrays` moves there a ramp opened before the block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["share_arrays", "shared_ramp_session"]


@contextmanager
def shared_ramp_session(max_workers: int, warm_up: Sequence[str] = ()) -> Iterator[Any]:
    """Run a pipeline's block with a warm worker pool and its ramp in shared memory.

    :func:`pipeline_core.parallel.session.parallel_session`, whose allocator the
    data models use in the block (:func:`pipeline_core.datamodels.allocation.arrays_from`):
    a ramp read from its file (or a model copied) in the block is created in
    shared memory. Its segments are removed when the block ends, also on error.

    Parameters
    ----------
    max_workers : int
        The most processes a parallel step of the block will use.
    warm_up : sequence of str
        ``"module:function"`` warm-up functions each worker runs once started.

    Yields
    ------
    pipeline_core.parallel.session.RampArrays or None
        None when no worker will be used (nothing is changed then).
    """
    from pipeline_core.datamodels.allocation import arrays_from
    from pipeline_core.parallel.session import parallel_session

    with parallel_session(max_workers, warm_up) as ramps:
        if ramps is None:
            yield None
            return
        with arrays_from(ramps):
            yield ramps


def share_arrays(model: Any, names: Sequence[str] = ("data", "groupdq")) -> int:
    """Move arrays of `model` into the shared memory of the current :func:`shared_ramp_session`.

    An array already in shared memory, or one the session's allocator leaves to
    numpy (too small, not ramp-shaped), is left as it is; outside a session
    nothing is done. A model read from its file in the session is there already;
    one opened before (``Pipeline.call`` opens its input before running) is copied
    once, here, instead of once per parallel step.

    Parameters
    ----------
    model : DataModel
        The model whose arrays to move (they are replaced by shared copies).
    names : sequence of str
        The arrays.

    Returns
    -------
    int
        The number of arrays copied.
    """
    from pipeline_core.datamodels.allocation import current_allocator
    from pipeline_core.parallel import _sharedmem
    from pipeline_core.parallel.session import RampArrays

    allocator = current_allocator()
    if not isinstance(allocator, RampArrays):
        return 0
    copied = 0
    for name in names:
        array = getattr(model, name, None)
        if not isinstance(array, np.ndarray) or _sharedmem.spec_of(array) is not None:
            continue
        shared = allocator(array.shape, array.dtype)
        if shared is None:
            continue
        np.copyto(shared, array, casting="no")
        setattr(model, name, shared)
        del array
        copied += 1
    return copied
