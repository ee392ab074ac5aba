"""The building blocks of the embedded reference set's plan.

Readouts (:class:`Subarray`), per-instrument plans (:class:`Instrument`),
reference types served by one shared file (:class:`SingleFile`), parameter
file rules (:class:`ParsRule`), and the constants every plan uses: the
use-after dates, the reference types of the Detector1 steps and the rule keys.
:mod:`builtin_steps.refdata.layout` fills these in for each instrument.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

#: Every calibration reference type a JWST 3.0 Detector1 step asks CRDS for (plus the
#: persistence types of earlier versions). Each instrument context lists all of
#: them: a type the set has no file for is "N/A" for the whole instrument.
DETECTOR1_REFTYPES = (
    "mask", "saturation", "superbias", "ipc", "refpix", "sirskernel", "rscd", "reset",
    "emicorr", "linearity", "dark", "pictureframe", "flat", "pastasoss", "gain",
    "readnoise", "persat", "trapdensity", "trappars",
)  # fmt: skip

#: The parameter reference types of the Detector1 steps and pipeline
#: (``pars-<JWST class name in lower case>``); those without files are "N/A".
PARS_REFTYPES = tuple(
    f"pars-{name.lower()}"
    for name in (
        "GroupScaleStep", "DQInitStep", "EmiCorrStep", "SaturationStep", "IPCStep",
        "SuperBiasStep", "RefPixStep", "RscdStep", "FirstFrameStep", "LastFrameStep",
        "LinearityStep", "DarkCurrentStep", "ResetStep", "PersistenceStep",
        "ChargeMigrationStep", "JumpStep", "PictureFrameStep", "CleanFlickerNoiseStep",
        "RampFitStep", "GainScaleStep", "Detector1Pipeline",
    )
)  # fmt: skip

#: Rule keys of the calibration files: by detector and subarray (NIRCam, NIRISS) ...
NIR_KEYS = ("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME")
#: ... or by detector, readout pattern and subarray (MIRI, NIRSpec), as CRDS does.
READPATT_KEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.READPATT", "META.SUBARRAY.NAME")


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
        Number of frames in the dark reference file for this readout (groups of
        one frame; for MIRI, groups per integration of the dark and reset files).
    readpatts : tuple of str, optional
        Readout patterns the files of this readout are for; empty: any pattern
        (the rule matches ``N/A``, at a lower weight than a named pattern).
    frame_seconds : float, optional
        Frame time, when it does not follow the near-infrared rule
        (:attr:`frame_time`), e.g. MIRI or NIRSpec IRS2 readouts.
    dark_ints : int, optional
        Integrations of the MIRI dark and reset files (4-D); 0 for 3-D darks.
    irs2 : bool, optional
        A NIRSpec IRS2 readout: the mask and superbias hold the interleaved
        reference pixels (3200 x 2048 in science orientation).
    shares : tuple of str, optional
        Reference types whose files are those of the readout of the same name
        without readout patterns (IRS2 readouts share the saturation, linearity,
        gain, read noise and picture-frame files with the traditional full frame).
    """

    name: str
    xstart: int
    ystart: int
    xsize: int
    ysize: int
    noutputs: int
    dark_frames: int
    readpatts: tuple[str, ...] = ()
    frame_seconds: float | None = None
    dark_ints: int = 0
    irs2: bool = False
    shares: tuple[str, ...] = ()

    @property
    def readpatt_key(self) -> str:
        """The readout-pattern part of a rule key (``"A|B"``, or ``"N/A"`` for any)."""
        return "|".join(self.readpatts) if self.readpatts else "N/A"

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
        full frame, with one more row for a subarray; or :attr:`frame_seconds`.
        """
        if self.frame_seconds is not None:
            return self.frame_seconds
        extra_rows = 1 if self.name == "FULL" else 2
        return round((self.xsize / self.noutputs + 12) * (self.ysize + extra_rows) * 1e-5, 8)


@dataclass(frozen=True)
class SingleFile:
    """A reference type served by one file for several detectors or readouts.

    Parameters
    ----------
    reftype : str
        The reference type, e.g. ``"rscd"``.
    match_keys : tuple of str
        Data-model keywords of the rules.
    rules : tuple of (tuple of str, bool)
        Match values -> True for the file, False for "N/A".
    """

    reftype: str
    match_keys: tuple[str, ...]
    rules: tuple[tuple[tuple[str, ...], bool], ...]


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
    updated_detectors : tuple of str
        Detectors whose subarray readouts get a second, later gain and read noise file.
    pars : dict
        ``pars-*`` reference type -> (JWST class path, step name, rules).
    calibration_reftypes : tuple of str
        The reference types with one file per detector and readout.
    match_keys : tuple of str
        The rule keys of those files (:data:`NIR_KEYS` or :data:`READPATT_KEYS`).
    full_frame_variants : tuple of Subarray
        Further full-frame readouts of the full-frame detectors with their own
        files (the NIRSpec IRS2 readout).
    singles : tuple of SingleFile
        Reference types served by one file for the whole instrument.
    """

    name: str
    known_detectors: tuple[str, ...]
    full_frame_detectors: tuple[str, ...]
    subarray_detectors: tuple[str, ...]
    subarrays: tuple[Subarray, ...]
    full_frame: Subarray
    readpatts: tuple[str, ...]
    updated_detectors: tuple[str, ...] = ()
    pars: dict[str, tuple[str, str, tuple[ParsRule, ...]]] = field(default_factory=dict)
    calibration_reftypes: tuple[str, ...] = CALIBRATION_REFTYPES
    match_keys: tuple[str, ...] = NIR_KEYS
    full_frame_variants: tuple[Subarray, ...] = ()
    singles: tuple[SingleFile, ...] = ()

    @property
    def detectors(self) -> tuple[str, ...]:
        """Every detector with at least one reference file, sorted."""
        return tuple(sorted(set(self.full_frame_detectors) | set(self.subarray_detectors)))

    @property
    def not_applicable(self) -> tuple[str, ...]:
        """The Detector1 reference and parameter types this instrument has no file for."""
        provided = set(self.calibration_reftypes) | {s.reftype for s in self.singles} | set(self.pars)
        return tuple(t for t in DETECTOR1_REFTYPES + PARS_REFTYPES if t not in provided)

    def readouts(self, detector: str) -> tuple[Subarray, ...]:
        """The readouts (``FULL`` and subarrays) with reference files for ``detector``."""
        result: list[Subarray] = []
        if detector in self.full_frame_detectors:
            result.append(self.full_frame)
            result.extend(self.full_frame_variants)
        if detector in self.subarray_detectors:
            result.extend(self.subarrays)
        return tuple(result)
