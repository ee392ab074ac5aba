"""Many inputs as one batch, on a local process pool or a Dask cluster.

- :mod:`~pipeline_core.batch.runner`: :func:`run_batch` and its report.
- :mod:`~pipeline_core.batch.job`: one input's job, run in a worker process.
"""

from pipeline_core.batch.runner import BatchReport, BatchResult, run_batch

__all__ = ["BatchReport", "BatchResult", "run_batch"]
