"""What the embedded reference set contains: instruments, detectors, subarrays, files.

This module is plain data. It lists, for each instrument, the detectors and
subarrays that have reference files, the reference types that CRDS answers
"N/A" for, the parameter reference files (``pars-*``) and the use-after dates.
:mod:`builtin_steps.refdata.cache` turns the plan into files and mappings.

The set is synthetic but laid out like the real JWST one: file names
``jwst_<instrument>_<reftype>_<NNNN>.fits`` (or ``.asdf`` for ``pars-*``), one
rules file (``.rmap``) per reference type, an instrument context (``.imap``) per
instrument and the pipeline context ``jwst_0001.pmap``.
"""

from __future__ import annotations

from builtin_steps.refdata.plan import (
    CALIBRATION_REFTYPES,
    CONTEXT_NAME,
    DETECTOR1_REFTYPES,
    FIRST_USEAFTER,
    GAIN_UPDATE_USEAFTER,
    NIR_KEYS,
    PARS_REFTYPES,
    READPATT_KEYS,
    UPDATE_SCALE,
    Instrument,
    ParsRule,
    SingleFile,
    Subarray,
)

__all__ = [
    "CONTEXT_NAME",
    "FIRST_USEAFTER",
    "GAIN_UPDATE_USEAFTER",
    "UPDATE_SCALE",
    "CALIBRATION_REFTYPES",
    "DETECTOR1_REFTYPES",
    "PARS_REFTYPES",
    "NIR_KEYS",
    "READPATT_KEYS",
    "Subarray",
    "SingleFile",
    "Instrument",
    "ParsRule",
    "NIRCAM",
    "NIRISS",
    "MIRI",
    "NIRSPEC",
    "INSTRUMENTS",
    "instrument",
]

_NIRCAM_PATTERNS = (
    "RAPID", "BRIGHT1", "BRIGHT2", "SHALLOW2", "SHALLOW4",
    "MEDIUM2", "MEDIUM8", "DEEP2", "DEEP8",
)  # fmt: skip

_NIRCAM_DETECTORS = (
    "NRCA1", "NRCA2", "NRCA3", "NRCA4", "NRCALONG",
    "NRCB1", "NRCB2", "NRCB3", "NRCB4", "NRCBLONG",
)  # fmt: skip


def _sirs_kernels(detectors: tuple[str, ...]) -> SingleFile:
    """One SIRSKERNEL file (ASDF, a node per detector) for the detectors listed."""
    return SingleFile("sirskernel", ("META.INSTRUMENT.DETECTOR",), ((("|".join(detectors),), True),))


# The parameter values below equal the JWST defaults for the fast readout
# patterns; the patterns that average many frames per group have fewer, noisier
# groups and use a higher jump threshold.
_JUMP_DEFAULTS = {
    "rejection_threshold": 4.0,
    "three_group_rejection_threshold": 6.0,
    "four_group_rejection_threshold": 5.0,
}
_JUMP_AVERAGED = {**_JUMP_DEFAULTS, "rejection_threshold": 5.0}
_RAMPFIT = {"save_opt": False, "suppress_one_group": True}

NIRCAM = Instrument(
    name="NIRCAM",
    known_detectors=_NIRCAM_DETECTORS,
    full_frame_detectors=("NRCA1",),
    subarray_detectors=("NRCA1", "NRCA3", "NRCB1"),
    subarrays=(
        Subarray("SUB64P", 1, 101, 64, 64, noutputs=1, dark_frames=20),
        Subarray("SUB160", 1889, 1, 160, 160, noutputs=1, dark_frames=20),
    ),
    full_frame=Subarray("FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=10),
    readpatts=_NIRCAM_PATTERNS,
    updated_detectors=("NRCA1",),
    singles=(_sirs_kernels(_NIRCAM_DETECTORS),),
    pars={
        "pars-jumpstep": (
            "jwst.jump.jump_step.JumpStep",
            "jump",
            (
                ParsRule(_NIRCAM_PATTERNS[:5], _JUMP_DEFAULTS),
                ParsRule(_NIRCAM_PATTERNS[5:], _JUMP_AVERAGED),
            ),
        ),
        "pars-rampfitstep": (
            "jwst.ramp_fitting.ramp_fit_step.RampFitStep",
            "ramp_fit",
            (ParsRule(_NIRCAM_PATTERNS[:5], _RAMPFIT), ParsRule(_NIRCAM_PATTERNS[5:], None)),
        ),
        "pars-detector1pipeline": (
            "jwst.pipeline.calwebb_detector1.Detector1Pipeline",
            "Detector1Pipeline",
            (
                ParsRule(
                    _NIRCAM_PATTERNS[:5],
                    {"save_calibrated_ramp": False},
                    steps={"jump": _JUMP_DEFAULTS, "ramp_fit": _RAMPFIT},
                ),
                ParsRule(
                    _NIRCAM_PATTERNS[5:],
                    {"save_calibrated_ramp": False},
                    steps={"jump": _JUMP_AVERAGED, "ramp_fit": _RAMPFIT},
                ),
            ),
        ),
    },
)

NIRISS = Instrument(
    name="NIRISS",
    known_detectors=("NIS",),
    full_frame_detectors=(),
    subarray_detectors=("NIS",),
    subarrays=(Subarray("SUB80", 1, 1, 80, 80, noutputs=1, dark_frames=20),),
    full_frame=Subarray("FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=10),
    readpatts=("NISRAPID", "NIS"),
    singles=(_sirs_kernels(("NIS",)),),
)

# MIRI imager: 1032 x 1024 with 4 reference columns on each side; frame times of
# the FAST readout. The dark and reset files are 4-D (2 integrations).
_MIRI_PATTERNS = ("FAST", "FASTR1", "FASTR100", "SLOW", "SLOWR1")

MIRI = Instrument(
    name="MIRI",
    known_detectors=("MIRIMAGE", "MIRIFULONG", "MIRIFUSHORT"),
    full_frame_detectors=("MIRIMAGE",),
    subarray_detectors=("MIRIMAGE",),
    subarrays=(
        Subarray("SUB256", 413, 51, 256, 256, noutputs=4, dark_frames=10, frame_seconds=0.29952, dark_ints=2),
    ),
    full_frame=Subarray(
        "FULL", 1, 1, 1032, 1024, noutputs=4, dark_frames=6, frame_seconds=2.77504, dark_ints=2
    ),
    readpatts=_MIRI_PATTERNS,
    calibration_reftypes=("mask", "saturation", "linearity", "dark", "gain", "readnoise", "reset"),
    match_keys=READPATT_KEYS,
    singles=(
        SingleFile("rscd", ("META.INSTRUMENT.DETECTOR",), ((("MIRIMAGE|MIRIFULONG|MIRIFUSHORT",), True),)),
        SingleFile("emicorr", ("META.INSTRUMENT.DETECTOR",), ((("MIRIMAGE|MIRIFULONG|MIRIFUSHORT",), True),)),
    ),
)

# NIRSpec: full frame (traditional readout, any pattern but IRS2) and the IRS2
# readout (3200 x 2048 in science orientation before the reference-pixel step),
# which has its own mask, superbias and dark, and shares the other files.
_NIRSPEC_IRS2 = ("NRSIRS2RAPID", "NRSIRS2")
_NIRSPEC_SHARED = ("saturation", "linearity", "gain", "readnoise", "pictureframe")

NIRSPEC = Instrument(
    name="NIRSPEC",
    known_detectors=("NRS1", "NRS2"),
    full_frame_detectors=("NRS1", "NRS2"),
    subarray_detectors=(),
    subarrays=(),
    full_frame=Subarray("FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=5),
    full_frame_variants=(
        Subarray(
            "FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=4, readpatts=_NIRSPEC_IRS2,
            frame_seconds=14.58889, irs2=True, shares=_NIRSPEC_SHARED,
        ),
    ),
    readpatts=("NRSRAPID", "NRS", "NRSN16R4", "NRSN32R8", "NRSSLOW", *_NIRSPEC_IRS2),
    calibration_reftypes=CALIBRATION_REFTYPES + ("pictureframe",),
    match_keys=READPATT_KEYS,
    singles=(
        _sirs_kernels(("NRS1", "NRS2")),
        SingleFile(
            "refpix",
            ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.READPATT"),
            ((("NRS1|NRS2", "|".join(_NIRSPEC_IRS2)), True), (("NRS1|NRS2", "N/A"), False)),
        ),
    ),
)

#: The instruments of the embedded set, by upper-case name.
INSTRUMENTS: dict[str, Instrument] = {inst.name: inst for inst in (NIRCAM, NIRISS, MIRI, NIRSPEC)}


def instrument(name: str) -> Instrument:
    """Return the plan of one instrument.

    Parameters
    ----------
    name : str
        Instrument name, any case (``"nircam"``).

    Returns
    -------
    Instrument

    Raises
    ------
    KeyError
        When the embedded set has no files for that instrument; the message lists
        the instruments it has.
    """
    try:
        return INSTRUMENTS[name.upper()]
    except KeyError:
        raise KeyError(
            f"the embedded reference set has no instrument {name!r}; it has {sorted(INSTRUMENTS)}"
        ) from None
