"""Write parameter reference files (``pars-*``) in the stpipe ASDF layout.

A parameter reference file names the JWST class it configures, so files made
for the JWST pipeline and these synthetic ones read the same way::

    class: jwst.jump.jump_step.JumpStep
    name: jump
    parameters: {rejection_threshold: 4.0, ...}
    meta: {reftype: pars-jumpstep, instrument: {name: NIRCAM}, useafter: ..., ...}

A pipeline's file adds a ``steps`` list of ``{class, name, parameters}``. The
files are plain ASDF documents (one YAML tree, no binary blocks), written without
loading the ASDF extension machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline_core.datamodels.asdf_yaml import dump_tree

__all__ = ["STEP_CLASSES", "write_pars_file"]

#: JWST class paths of the steps a pipeline parameter file may configure.
STEP_CLASSES = {
    "group_scale": "jwst.group_scale.group_scale_step.GroupScaleStep",
    "dq_init": "jwst.dq_init.dq_init_step.DQInitStep",
    "saturation": "jwst.saturation.saturation_step.SaturationStep",
    "superbias": "jwst.superbias.superbias_step.SuperBiasStep",
    "refpix": "jwst.refpix.refpix_step.RefPixStep",
    "linearity": "jwst.linearity.linearity_step.LinearityStep",
    "dark_current": "jwst.dark_current.dark_current_step.DarkCurrentStep",
    "jump": "jwst.jump.jump_step.JumpStep",
    "ramp_fit": "jwst.ramp_fitting.ramp_fit_step.RampFitStep",
    "gain_scale": "jwst.gain_scale.gain_scale_step.GainScaleStep",
}


def write_pars_file(
    path: str,
    *,
    reftype: str,
    class_path: str,
    name: str,
    instrument: str,
    parameters: Mapping[str, object],
    steps: Mapping[str, Mapping[str, object]] | None = None,
    useafter: str,
) -> None:
    """Write one parameter reference file.

    Parameters
    ----------
    path : str
        Destination (``.asdf``).
    reftype : str
        ``pars-<classname lower>``, e.g. ``"pars-jumpstep"``.
    class_path : str
        The JWST class the parameters are for.
    name : str
        The step (or pipeline) name recorded in the file.
    instrument : str
        Upper-case instrument name.
    parameters : mapping
        The step's parameters.
    steps : mapping, optional
        For a pipeline: step name -> that step's parameters.
    useafter : str
        CRDS use-after date, ``"YYYY-MM-DD hh:mm:ss"``.
    """
    tree: dict[str, object] = {
        "class": class_path,
        "name": name,
        "parameters": dict(parameters),
        "meta": {
            "author": "steppe builtin_steps.refdata (synthetic)",
            "date": useafter.replace(" ", "T"),
            "description": f"Parameters for calibration step {class_path}",
            "instrument": {"name": instrument.upper()},
            "origin": "steppe",
            "pedigree": "DUMMY",
            "reftype": reftype,
            "telescope": "JWST",
            "useafter": useafter.replace(" ", "T"),
        },
    }
    if steps:
        tree["steps"] = [
            {"class": STEP_CLASSES[step], "name": step, "parameters": dict(values)}
            for step, values in steps.items()
        ]
    Path(path).write_bytes(dump_tree(tree))
