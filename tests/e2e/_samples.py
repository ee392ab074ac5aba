"""Paths of the JWST sample files and the reference overrides that match them."""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES = Path(os.environ.get("STEPPE_SAMPLES", "/work/shared/samples"))
STEM = "jw09999001001_01101_00001_nrca3"
UNCAL = {
    "rampmodel": SAMPLES / "uncal_rampmodel" / f"{STEM}_uncal.fits",
    "level1b": SAMPLES / "uncal_level1b" / f"{STEM}_uncal.fits",
}
OUTPUTS = SAMPLES / "outputs"


def ref(kind: str) -> str:
    """Path of the sample reference file of type ``kind``."""
    return str(SAMPLES / "refs" / f"jwst_nircam_{kind}_nrca3_sub64p_synth.fits")


def step_overrides() -> dict[str, dict[str, str]]:
    """``steps=`` overrides pointing every Detector1 step at the sample references."""
    noise = {"override_gain": ref("gain"), "override_readnoise": ref("readnoise")}
    return {
        "dq_init": {"override_mask": ref("mask")},
        "saturation": {"override_saturation": ref("saturation")},
        "superbias": {"override_superbias": ref("superbias")},
        "linearity": {"override_linearity": ref("linearity")},
        "dark_current": {"override_dark": ref("dark")},
        "jump": dict(noise),
        "ramp_fit": dict(noise),
        "gain_scale": {"override_gain": ref("gain")},
    }


def cli_overrides() -> list[str]:
    """The same overrides as ``--steps.STEP.name=value`` arguments."""
    return [f"--steps.{step}.{name}={value}" for step, pars in step_overrides().items() for name, value in pars.items()]
