"""What a run checks before it does any work.

When a step or pipeline starts a run of its own (``call``, ``run``, ``steppe run``,
each input of ``steppe batch``; not when it runs as a pipeline's step),
:func:`check_run` goes over it and every step of it that is not skipped, and
refuses, before anything is computed or written:

- an ``override_<reftype>`` naming a missing, unreadable or wrong-type reference
  file (:func:`pipeline_core.references.lookup.check_overrides`);
- a pre- or post-hook that is not a registered step, a Step or a callable
  (:func:`pipeline_core.steps.prepost.check_step_hooks`);
- a folder that products go to and that is a file, cannot be created or is not
  writable (:func:`pipeline_core.output.prepare_output_dir`);
- a product that would replace a file the run reads: its input, its parameter
  file, or a reference file given by ``override_<reftype>``.

The messages are those the step would give later. Temporary files that killed
processes left in a product folder are deleted
(:func:`pipeline_core.output.remove_stale_temporaries`). The files the run reads
are kept on the step, so that a product not foreseen here (one a step names while
it runs) is still refused when it is about to be written
(:meth:`~pipeline_core.steps.saving.ProductSaving.check_product_path`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pipeline_core.errors import StepError
from pipeline_core.output import prepare_output_dir, remove_stale_temporaries, same_file
from pipeline_core.references.lookup import check_overrides
from pipeline_core.steps.prepost import check_step_hooks
from pipeline_core.steps.saving import overwrite_message

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.steps.step import Step

__all__ = ["active_steps", "check_run"]


def active_steps(step: Step) -> Iterator[Step]:
    """Yield a step and, for a pipeline, every step of it that is not skipped.

    Parameters
    ----------
    step : Step
        The step or pipeline.

    Yields
    ------
    Step
        ``step`` first, then its steps depth first, in order.
    """
    if step.skip:
        return
    yield step
    for sub in getattr(step, "_steps", {}).values():
        yield from active_steps(sub)


def check_run(step: Step, data: Any, *, config_file: str | None = None) -> dict[str, str]:
    """Check a run before it starts; record the files it reads on ``step``.

    Parameters
    ----------
    step : Step
        The step or pipeline about to run on its own (its ``parent`` is None).
    data : object
        Its opened input: a data model (its ``source_path`` is the input file),
        a path the step reads itself (an association), or other data.
    config_file : str, optional
        The parameter file the step was configured from.

    Returns
    -------
    dict of str to str
        The files the run reads, each with what it is to the run.

    Raises
    ------
    ReferenceFileError
        If an ``override_<reftype>`` is unusable.
    ParameterError
        If a hook is unusable, or a product folder is a file or not writable.
    StepError
        If a product would replace a file the run reads.
    """
    files_read: dict[str, str] = {}
    source = data if isinstance(data, (str, os.PathLike)) else getattr(data, "source_path", None)
    if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        files_read[os.fspath(source)] = "the input"
    if config_file is not None:
        files_read.setdefault(os.fspath(config_file), "the parameter file")
    steps = list(active_steps(step))
    for sub in steps:
        check_step_hooks(sub)
        for reftype, path in check_overrides(sub).items():
            files_read.setdefault(path, f"the override_{reftype} reference file of step '{sub.name}'")
    object.__setattr__(step, "_files_read", files_read)
    folders: set[str] = set()
    for sub in steps:
        _check_products(sub, files_read, folders)
    return files_read


def _check_products(step: Step, files_read: dict[str, str], folders: set[str]) -> None:
    for path in step.planned_products():
        directory = os.path.dirname(path)
        if directory not in folders:
            folders.add(directory)
            checked = prepare_output_dir(directory or None, owner=f"step '{step.name}'")
            for removed in remove_stale_temporaries(checked):
                step.log.info(
                    "Step %s removed %s, the temporary file of a save that did not finish "
                    "(its process no longer runs)", step.name, removed,
                )
        for other, what in files_read.items():
            if same_file(path, other):
                raise StepError(overwrite_message(step.name, path, other, what, before_run=True))
