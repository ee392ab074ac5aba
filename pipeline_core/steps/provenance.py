"""What made a product: software versions and the parameters actually used.

Every product a step returns from a standalone run, or saves, carries a
``meta.steppe`` block in its metadata tree (the ASDF extension of a FITS file,
which JWST's data models read and keep as extra metadata)::

    meta.steppe:
      version: 0.1.0                         # steppe
      software: {steppe: 0.1.0, steppe-example-plugin: 0.2.0}   # every distribution whose steps ran
      parameters:                            # the run's configuration, in the parameter-file layout
        class: builtin_steps.pipelines.detector1.Detector1Pipeline
        name: calwebb_detector1
        parameters: {save_calibrated_ramp: false, ...}
        steps:
        - {class: builtin_steps.jump.step.JumpStep, name: jump, parameters: {rejection_threshold: 4.0, ...}}

``meta.steppe.parameters`` loads back as a parameter file
(``Step.from_config(model.meta.steppe.parameters.to_dict())``). Parameters whose
value is None are left out (None is the default of every parameter that accepts
it). Each step's status is in ``meta.cal_step`` and the reference files and CRDS
context in ``meta.ref_file``; both are written by the steps and
:mod:`pipeline_core.references.lookup`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_core._version import steppe_version

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.steps.step import Step

__all__ = ["provenance_of", "record_provenance"]


def _walk(step: Step) -> list[Step]:
    steps = [step]
    for sub in getattr(step, "_steps", {}).values():
        steps.extend(_walk(sub))
    return steps


def _software(steps: list[Step]) -> dict[str, str]:
    from pipeline_core.plugins.manager import registry

    software = {"steppe": steppe_version()}
    reg = registry()
    for step in steps:
        descriptor = reg.descriptor_for(type(step))
        if descriptor is not None and descriptor.distribution:
            software[descriptor.distribution] = descriptor.version
    return software


def provenance_of(step: Step) -> dict[str, Any]:
    """Return the provenance block of a run of ``step`` (or of its pipeline).

    Parameters
    ----------
    step : Step
        A step; the block describes the outermost pipeline it belongs to.

    Returns
    -------
    dict
        ``version``, ``software`` and ``parameters``; plain YAML-friendly values.
    """
    from pipeline_core.config.parfile import config_to_tree

    root = step._root()
    steps = _walk(root)
    block: dict[str, Any] = {
        "version": steppe_version(),
        "software": _software(steps),
        "parameters": config_to_tree(root._config()),
    }
    return block


def record_provenance(step: Step, model: Any) -> None:
    """Write the provenance block into ``model.meta.steppe``.

    Parameters
    ----------
    step : Step
        The step that produced (or is saving) the model.
    model : DataModel
        The product; objects without ``meta`` are left alone.
    """
    meta = getattr(model, "meta", None)
    if meta is None:
        return
    from pipeline_core.config.parfile import to_plain

    meta.steppe = to_plain(provenance_of(step))
