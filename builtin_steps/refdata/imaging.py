"""The imaging part of the embedded reference set: what it holds and its rules.

For every NIRCam, NIRISS and MIRI imaging detector the set has a ``distortion``
file built from the SIAF coefficients pysiaf ships
(:mod:`builtin_steps.refdata.siaf`) and a ``filteroffset`` file; for the
readouts of :data:`PIXEL_READOUTS` it has ``flat`` files (per filter), and for
their detectors a full-frame ``area`` file and a ``photom`` table; every imaging
configuration has rows in its instrument's ``apcorr`` and ``abvegaoffset`` file. The
files are written by :mod:`builtin_steps.refdata.imaging_files` and
:mod:`builtin_steps.refdata.catalog_files`.

What is real and what is synthetic:

* the distortion is the real one (the SIAF polynomials of the full-frame
  aperture, to V2/V3), and the pixel area map is its Jacobian, relative to the
  area at the aperture's reference point;
* the filter offsets are zero (the real files hold sub-pixel offsets);
* the source-catalog references (``apcorr``, ``abvegaoffset``,
  :mod:`builtin_steps.refdata.catalog_files`) are synthetic: apertures and
  corrections of the scenes' Gaussian stars, AB-Vega offsets from a smooth law;
* the flats are synthetic (a few per cent of smooth structure, 0.5 % pixel to
  pixel, a few unusable pixels), as are the photometric conversions (a smooth
  function of the filter's wavelength).

:func:`imaging_rules` hands the cache builder one rule set per reference type,
for :mod:`builtin_steps.refdata.cache` to write as ``.rmap`` files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from builtin_steps.refdata.layout import FIRST_USEAFTER, Subarray
from builtin_steps.refdata.siaf import APERTURES

__all__ = [
    "IMAGING_REFTYPES",
    "IMAGING_EXP_TYPES",
    "FILTERS",
    "PixelReadout",
    "PIXEL_READOUTS",
    "MIRI_SUBARRAYS",
    "NOT_APPLICABLE",
    "INSTRUMENTS",
    "flat_keys",
    "imaging_filters",
    "full_frame",
    "imaging_rules",
]

#: Reference types of the imaging steps that have files in the set.
IMAGING_REFTYPES = ("distortion", "filteroffset", "flat", "photom", "area", "apcorr", "abvegaoffset")

#: Exposure types the imaging references apply to, per instrument.
IMAGING_EXP_TYPES: dict[str, tuple[str, ...]] = {
    "NIRCAM": ("NRC_IMAGE", "NRC_TSIMAGE"),
    "NIRISS": ("NIS_IMAGE",),
    "MIRI": ("MIR_IMAGE",),
}

_NRC_SW = (
    "F070W", "F090W", "F115W", "F140M", "F150W", "F150W2", "F162M", "F164N",
    "F182M", "F187N", "F200W", "F210M", "F212N",
)  # fmt: skip
_NRC_LW = (
    "F250M", "F277W", "F300M", "F322W2", "F335M", "F356W", "F360M", "F410M",
    "F430M", "F444W", "F460M", "F480M",
)  # fmt: skip
_NIS_PUPIL = ("F090W", "F115W", "F140M", "F150W", "F158M", "F200W")
_NIS_FILTER = ("F277W", "F356W", "F380M", "F430M", "F444W", "F480M")
_MIRI = ("F560W", "F770W", "F1000W", "F1130W", "F1280W", "F1500W", "F1800W", "F2100W", "F2550W")

#: (FILTER, PUPIL) of the imaging configurations, per instrument and channel.
#: NIRISS images through CLEAR + a pupil-wheel filter or a filter-wheel filter + CLEARP;
#: MIRI has no pupil (None).
FILTERS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "NIRCAM/SHORT": tuple((f, "CLEAR") for f in _NRC_SW),
    "NIRCAM/LONG": tuple((f, "CLEAR") for f in _NRC_LW),
    "NIRISS": tuple(("CLEAR", p) for p in _NIS_PUPIL) + tuple((f, "CLEARP") for f in _NIS_FILTER),
    "MIRI": tuple((f, None) for f in _MIRI),
}


@dataclass(frozen=True)
class PixelReadout:
    """A readout with per-pixel imaging references (flat, area) and its filters.

    Parameters
    ----------
    instrument, detector : str
        Upper-case names.
    readout : Subarray
        The region of the full frame the files cover.
    filters : tuple of (str, str or None)
        The (FILTER, PUPIL) pairs with a flat.
    """

    instrument: str
    detector: str
    readout: Subarray
    filters: tuple[tuple[str, str | None], ...]


_NRC_SUBARRAYS = (
    Subarray("SUB64P", 1, 101, 64, 64, noutputs=1, dark_frames=20),
    Subarray("SUB160", 1889, 1, 160, 160, noutputs=1, dark_frames=20),
)
_NRC_FLATS = (("F200W", "CLEAR"), ("F150W", "CLEAR"))

#: The readouts with flat files (the detectors and subarrays of the embedded
#: Detector1 set, and a MIRI imager subarray); their detectors have area files.
PIXEL_READOUTS: tuple[PixelReadout, ...] = (
    *(PixelReadout("NIRCAM", d, s, _NRC_FLATS) for d in ("NRCA1", "NRCA3", "NRCB1") for s in _NRC_SUBARRAYS),
    PixelReadout(
        "NIRISS", "NIS", Subarray("SUB80", 1, 1, 80, 80, noutputs=1, dark_frames=20),
        (("CLEAR", "F150W"), ("CLEAR", "F200W")),
    ),
    PixelReadout(
        "MIRI", "MIRIMAGE", Subarray("SUB64", 1, 779, 72, 64, noutputs=1, dark_frames=20),
        (("F770W", None), ("F1000W", None)),
    ),
)

#: MIRI imager readouts with rows in the ``apcorr`` file (MIRI rows are per subarray).
MIRI_SUBARRAYS = ("FULL", "BRIGHTSKY", "SUB256", "SUB128", "SUB64")

#: Reference types of the Image2 steps that CRDS answers "N/A" for, for imaging.
NOT_APPLICABLE = (
    "fflat", "sflat", "dflat", "bkg", "wavelengthrange", "specwcs", "regions", "camera",
    "chromcorr", "collimator", "disperser", "fore", "fpa", "msa", "ote", "ifupost",
    "ifufore", "ifuslicer",
)  # fmt: skip

#: Instruments with imaging references.
INSTRUMENTS = tuple(sorted({inst for inst, _ in APERTURES}))

_DETECTOR = "META.INSTRUMENT.DETECTOR"
_EXP_TYPE = "META.EXPOSURE.TYPE"
_SUBARRAY = "META.SUBARRAY.NAME"
_FILTER = "META.INSTRUMENT.FILTER"
_PUPIL = "META.INSTRUMENT.PUPIL"

#: ``new_file(instrument, reftype, ext) -> Path``: where the builder wants the next file.
NewFile = Callable[[str, str, str], Path]
#: reftype -> (match keys, {match values: {useafter: file name}}).
RuleSets = dict[str, tuple[tuple[str, ...], dict[tuple[str, ...], dict[str, str]]]]


def flat_keys(instrument: str) -> tuple[str, ...]:
    """Return the keywords the flat rules of an instrument match.

    Parameters
    ----------
    instrument : str
        Upper-case name.

    Returns
    -------
    tuple of str
        Detector, filter, pupil (not for MIRI) and subarray.
    """
    if instrument == "MIRI":
        return (_DETECTOR, _FILTER, _SUBARRAY)
    return (_DETECTOR, _FILTER, _PUPIL, _SUBARRAY)


def imaging_filters(instrument: str, detector: str) -> tuple[tuple[str, str | None], ...]:
    """Return the (FILTER, PUPIL) pairs of a detector's imaging configurations.

    Parameters
    ----------
    instrument, detector : str
        Upper-case names.

    Returns
    -------
    tuple of (str, str or None)
    """
    if instrument == "NIRCAM":
        return FILTERS["NIRCAM/LONG" if detector.endswith("LONG") else "NIRCAM/SHORT"]
    return FILTERS[instrument]


def full_frame(instrument: str) -> Subarray:
    """Return the full-frame readout of an instrument's imaging detectors.

    Parameters
    ----------
    instrument : str
        Upper-case name.

    Returns
    -------
    Subarray
        2048 x 2048 pixels (NIRCam, NIRISS), 1032 x 1024 (MIRI imager).
    """
    if instrument == "MIRI":
        return Subarray("FULL", 1, 1, 1032, 1024, noutputs=4, dark_frames=10)
    return Subarray("FULL", 1, 1, 2048, 2048, noutputs=4, dark_frames=10)


def _catalog_rules(instrument: str, exp_types: str, new_file: NewFile) -> RuleSets:
    """Write an instrument's ``apcorr`` and ``abvegaoffset`` files; rules by exposure type."""
    from builtin_steps.refdata import catalog_files

    filters = tuple(dict.fromkeys(pair for key in FILTERS if key.split("/")[0] == instrument
                                  for pair in FILTERS[key]))
    apcorr = new_file(instrument, "apcorr", "fits")
    catalog_files.write_apcorr(str(apcorr), instrument, filters, MIRI_SUBARRAYS, FIRST_USEAFTER)
    offsets = new_file(instrument, "abvegaoffset", "asdf")
    catalog_files.write_abvegaoffset(str(offsets), instrument, filters, FIRST_USEAFTER)
    return {
        "apcorr": ((_EXP_TYPE,), {(exp_types,): {FIRST_USEAFTER: apcorr.name}}),
        "abvegaoffset": ((_EXP_TYPE,), {(exp_types,): {FIRST_USEAFTER: offsets.name}}),
    }


def imaging_rules(instrument: str, new_file: NewFile) -> RuleSets:
    """Write an instrument's imaging reference files and return their rules.

    Parameters
    ----------
    instrument : str
        Upper-case name (one of :data:`INSTRUMENTS`).
    new_file : callable
        ``new_file(instrument, reftype, ext)`` returns the path of the next file
        of that type (and records it in the set).

    Returns
    -------
    dict
        reftype -> (match keys, rules): ``distortion``, ``filteroffset`` and
        ``photom`` by detector and exposure type; ``flat`` by detector, filter,
        pupil and subarray; ``area`` (full frame) by detector and exposure type;
        ``apcorr`` and ``abvegaoffset`` (one file each, every imaging filter) by
        exposure type.
    """
    from builtin_steps.refdata import imaging_files as files

    exp_types = "|".join(IMAGING_EXP_TYPES[instrument])
    detectors = sorted(d for i, d in APERTURES if i == instrument)
    by_exposure: RuleSets = {
        reftype: ((_DETECTOR, _EXP_TYPE), {}) for reftype in ("distortion", "filteroffset")
    }
    for detector in detectors:
        path = new_file(instrument, "distortion", "asdf")
        files.write_distortion(str(path), instrument, detector, FIRST_USEAFTER)
        by_exposure["distortion"][1][(detector, exp_types)] = {FIRST_USEAFTER: path.name}
        path = new_file(instrument, "filteroffset", "asdf")
        files.write_filteroffset(
            str(path), instrument, detector, imaging_filters(instrument, detector), FIRST_USEAFTER
        )
        by_exposure["filteroffset"][1][(detector, exp_types)] = {FIRST_USEAFTER: path.name}
    rules = dict(by_exposure)
    rules.update(_catalog_rules(instrument, exp_types, new_file))
    readouts = [r for r in PIXEL_READOUTS if r.instrument == instrument]
    area_rules: dict[tuple[str, ...], dict[str, str]] = {}
    for detector in sorted({r.detector for r in readouts}):
        # full frame, as the JWST area files: the JWST photom step cuts them to the subarray
        path = new_file(instrument, "area", "fits")
        files.write_area(str(path), instrument, detector, full_frame(instrument), FIRST_USEAFTER)
        area_rules[(detector, exp_types)] = {FIRST_USEAFTER: path.name}
    if not readouts:
        return rules
    flat_rules: dict[tuple[str, ...], dict[str, str]] = {}
    photom_rules: dict[tuple[str, ...], dict[str, str]] = {}
    for item in readouts:
        for filt, pupil in item.filters:
            path = new_file(instrument, "flat", "fits")
            files.write_flat(str(path), item, filt, pupil, FIRST_USEAFTER)
            values = (item.detector, filt, item.readout.name)
            if instrument != "MIRI":
                values = (item.detector, filt, pupil or "N/A", item.readout.name)
            flat_rules[values] = {FIRST_USEAFTER: path.name}
    for detector in sorted({r.detector for r in readouts}):
        path = new_file(instrument, "photom", "fits")
        subarrays = sorted({r.readout.name for r in readouts if r.detector == detector})
        files.write_photom(
            str(path), instrument, detector, imaging_filters(instrument, detector), subarrays,
            FIRST_USEAFTER,
        )
        photom_rules[(detector, exp_types)] = {FIRST_USEAFTER: path.name}
    rules["flat"] = (flat_keys(instrument), flat_rules)
    rules["area"] = ((_DETECTOR, _EXP_TYPE), area_rules)
    rules["photom"] = ((_DETECTOR, _EXP_TYPE), photom_rules)
    return rules
