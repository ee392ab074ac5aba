"""The ``parallel`` capability: core budget, worker pool, shared memory, row slices.

- :mod:`~pipeline_core.parallel.cores`: ``maximum_cores`` to a worker count, and
  the core budget shared by a batch and the steps inside it.
- :mod:`~pipeline_core.parallel.rows`: :func:`map_row_slices`, which runs a
  kernel on blocks of rows in a forkserver pool (or on threads) and reassembles
  the result.
- :mod:`~pipeline_core.parallel.threads`: :func:`run_on_threads`, independent
  blocks of work on threads of this process.
- ``_pool``, ``_sharedmem``, ``_workqueue``: the pool, shared-memory arrays and
  the block queue behind it.
"""

from pipeline_core.parallel.cores import available_cores, core_budget, resolve_max_workers
from pipeline_core.parallel.rows import (
    RowReader,
    map_row_slices,
    shared_empty,
    shared_like,
    shutdown_pool,
)
from pipeline_core.parallel.threads import run_on_threads

__all__ = [
    "RowReader",
    "available_cores",
    "core_budget",
    "map_row_slices",
    "resolve_max_workers",
    "run_on_threads",
    "shared_empty",
    "shared_like",
    "shutdown_pool",
]
