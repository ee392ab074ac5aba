"""Blocks of work on threads of this process, for kernels that release the interpreter lock.

A compiled kernel (numba's ``nogil=True``) or one made of large numpy operations
spends most of its time without holding the interpreter lock, so threads run it
on several cores at once. Threads share the process's memory: no worker process
is started, no array is copied into shared memory, and the kernel is loaded once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pipeline_core.parallel.cores import worker_budget

__all__ = ["run_on_threads"]


def run_on_threads(run_block: Callable[[int], None], blocks: int, threads: int, name: str) -> None:
    """Call ``run_block(index)`` for every block index, on `threads` threads.

    This thread is one of them. Each thread takes the next block not yet taken
    until none is left, so they finish within a block of each other. After the
    first error no new block is started; the error is raised here, with a note
    naming the block's place in the work, once every thread has stopped.

    Parameters
    ----------
    run_block : callable
        Computes one block; blocks are independent of each other.
    blocks : int
        Number of blocks.
    threads : int
        Number of threads working, this one included; at most the current
        job's share of the cores (:func:`~pipeline_core.parallel.cores.worker_budget`).
    name : str
        What is computed, for the error note.
    """
    lock = threading.Lock()
    state = {"next": 0, "stop": False}
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                index = state["next"]
                if state["stop"] or index >= blocks:
                    return
                state["next"] = index + 1
            try:
                run_block(index)
            except BaseException as exc:
                with lock:
                    state["stop"] = True
                    exc.add_note(f"(raised by {name} on block {index + 1} of {blocks}, in a thread)")
                    errors.append(exc)
                return

    helpers = max(0, min(threads, worker_budget(), blocks) - 1)
    if helpers == 0:
        work()
    else:
        with ThreadPoolExecutor(max_workers=helpers, thread_name_prefix="steppe-rows") as pool:
            futures = [pool.submit(work) for _ in range(helpers)]
            try:
                work()
            except BaseException:  # interrupted in this thread: let the others stop too
                with lock:
                    state["stop"] = True
                raise
            for future in futures:
                future.result()
    if errors:
        raise errors[0]
