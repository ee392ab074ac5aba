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

from dataclasses import dataclass, field

__all__ = [
    "CONTEXT_NAME",
    "FIRST_USEAFTER",
    "GAIN_UPDATE_USEAFTER",
    "UPDATE_SCALE",
    "CALIBRATION_REFTYPES",
    "Subarray",
    "Instrument",
    "ParsRule",
    "INSTRUMENTS",
    "instrument",
]

#: Name of the pipeline context (``.pmap``) of the embedded set.
CONTEXT_NAME = "jwst_0001.pmap"

#: Use-after date of the first version of every reference file (CRDS format).
FIRST_USEAFTER = "2022-01-01 00:00:00"

#: Use-after date of the updated gain and read noise files of the subarray readouts
#: of the detectors in :attr:`Instrument.updated_detectors` (observations on or
#: after it select them).
GAIN_UPDATE_USEAFTER = "2024-06-01 00:00:00"

#: How the updated gain and read noise files differ from the first ones (factors).
UPDATE_SCALE = {"gain": 1.01, "readnoise": 0.97}

#: The calibration reference types with synthetic files, in the order they are built.
CALIBRATION_REFTYPES = ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise")


@dataclass(frozen=True)
class Subarray:
    """A detector readout region.

    Parameters
    ----------
    name : str
        ``META.SUBARRAY.NAME`` (``SUBARRAY`` keyword), e.g. ``"FULL"``, ``"SUB160"``.
    xstart, ystart : int
        First pixel in full-frame coordinates, 1-based (``SUBSTRT1``/``SUBSTRT2``).
    xsize, ysize : int
        Size in pixels (``SUBSIZE1``/``SUBSIZE2``).
    noutputs : int
        Number of amplifiers read out (4 for full frame, 1 for these subarrays).
    dark_frames : int
        Number of frames in the dark reference file for this readout.
    """

    name: str
    xstart: int
    ystart: int
    xsize: int
    ysize: int
    noutputs: int
    dark_frames: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """The ``(rows, columns)`` of the full frame this subarray covers (0-based)."""
        return (
            slice(self.ystart - 1, self.ystart - 1 + self.ysize),
            slice(self.xstart - 1, self.xstart - 1 + self.xsize),
        )

    @property
    def frame_time(self) -> float:
        """Seconds between frames for this readout (the NIRCam/NIRISS timing rule).

        ``(xsize / noutputs + 12) * (ysize + 1)`` clocks of 10 microseconds for the
        full frame, with one more row for a subarray.
        """
        extra_rows = 1 if self.name == "FULL" else 2
        return round((self.xsize / self.noutputs + 12) * (self.ysize + extra_rows) * 1e-5, 8)


@dataclass(frozen=True)
class ParsRule:
    """One rule of a parameter reference type (``pars-<classname>``).

    Parameters
    ----------
    readpatts : tuple of str
        Readout patterns (``META.EXPOSURE.READPATT``) the rule matches.
    parameters : dict or None
        The step parameters the file holds; ``None`` makes the rule say "N/A".
    steps : dict
        For a pipeline: step name -> parameters of that step.
    """

    readpatts: tuple[str, ...]
    parameters: dict | None
    steps: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    """The part of the embedded set that belongs to one instrument.

    Parameters
    ----------
    name : str
        Upper-case instrument name (``META.INSTRUMENT.NAME``).
    known_detectors : tuple of str
        Every detector of the instrument; the parameter reference files apply to all.
    full_frame_detectors : tuple of str
        Detectors with a full-frame (``FULL``) reference set.
    subarray_detectors : tuple of str
        Detectors with reference sets for :attr:`subarrays`.
    subarrays : tuple of Subarray
        The subarray readouts with reference files (besides ``FULL``).
    full_frame : Subarray
        The full-frame readout.
    readpatts : tuple of str
        Readout patterns of the instrument.
    not_applicable : tuple of str
        Reference types that are N/A for the whole instrument.
    updated_detectors : tuple of str
        Detectors whose subarray readouts get a second, later gain and read noise file.
    pars : dict
        ``pars-*`` reference type -> (JWST class path, step name, rules).
    """

    name: str
    known_detectors: tuple[str, ...]
    full_frame_detectors: tuple[str, ...]
    subarray_detectors: tuple[str, ...]
    subarrays: tuple[Subarray, ...]
    full_frame: Subarray
    readpatts: tuple[str, ...]
    not_applicable: tuple[str, ...]
    updated_detectors: tuple[str, ...] = ()
    pars: dict[str, tuple[str, str, tuple[ParsRule, ...]]] = field(default_factory=dict)

    @property
    def detectors(self) -> tuple[str, ...]:
        """Every detector with at least one reference file, sorted."""
        return tuple(sorted(set(self.full_frame_detectors) | set(self.subarray_detectors)))

    def readouts(self, detector: str) -> tuple[Subarray, ...]:
        """The readouts (``FULL`` and subarrays) with reference files for ``detector``."""
        result: list[Subarray] = []
        if detector in self.full_frame_detectors:
            result.append(self.full_frame)
        if detector in self.subarray_detectors:
            result.extend(self.subarrays)
        return tuple(result)


_NIRCAM_PATTERNS = (
    "RAPID", "BRIGHT1", "BRIGHT2", "SHALLOW2", "SHALLOW4",
    "MEDIUM2", "MEDIUM8", "DEEP2", "DEEP8",
)  # fmt: skip

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
    known_detectors=(
        "NRCA1", "NRCA2", "NRCA3", "NRCA4", "NRCALONG",
        "NRCB1", "NRCB2", "NRCB3", "NRCB4", "NRCBLONG",
    ),  # fmt: skip
    full_frame_detectors=("NRCA1",),
    subarray_detectors=("NRCA1", "NRCA3", "NRCB1"),
    subarrays=(
        Subarray("SUB64P", 1, 101, 64, 64, noutputs=1, dark_frames=20),
        Subarray("SUB160", 1889, 1, 160, 160, noutputs=1, dark_frames=20),
    ),
    full_frame=Subarray("FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=10),
    readpatts=_NIRCAM_PATTERNS,
    not_applicable=(
        "ipc", "persat", "trapdensity", "trappars", "refpix", "rscd", "reset", "sirskernel",
    ),  # fmt: skip
    updated_detectors=("NRCA1",),
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
    not_applicable=(
        "ipc", "persat", "trapdensity", "trappars", "refpix", "rscd", "reset", "sirskernel",
        "pars-jumpstep", "pars-rampfitstep", "pars-detector1pipeline",
    ),  # fmt: skip
)

#: The instruments of the embedded set, by upper-case name.
INSTRUMENTS: dict[str, Instrument] = {inst.name: inst for inst in (NIRCAM, NIRISS)}


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
