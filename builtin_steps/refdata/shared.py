"""Reference files shared by several detectors or readouts (tables and ASDF trees).

* ``rscd`` (MIRI): the ``RSCD_GROUP_SKIP`` table, groups to flag at the start
  of the first and of later integrations, per subarray and readout pattern;
* ``emicorr`` (MIRI): the EMI frequencies, their one-period waveforms, and the
  readout clocks and frequencies to correct per subarray (ASDF);
* ``sirskernel`` (near-infrared): per detector, the SIRS Fourier weights
  ``gamma`` and ``zeta`` of the left and right reference columns (ASDF);
* ``refpix`` (NIRSpec IRS2): the ``IRS2`` table of Fourier weights of the
  reference output (alpha) and of the interleaved reference pixels (beta), and
  an empty ``DQ`` table of bad reference pixels.

Each writer takes the destination, the instrument, the detectors and the
use-after date; the layouts are those JWST software reads and writes.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence

import numpy as np
from astropy.io import fits

from builtin_steps.emicorr.clocks import SUBARRAY_CLOCKS
from builtin_steps.refpix.irs2_layout import Irs2Layout

__all__ = ["SHARED_WRITERS", "RSCD_ROWS", "EMI_FREQUENCIES", "irs2_weights", "write_shared_file"]

_AUTHOR = "steppe refdata (synthetic)"

#: RSCD table rows: (subarray, readout pattern, groups flagged in integration 1, in later ones).
RSCD_ROWS = tuple(
    (subarray, readpatt, skip1, skip)
    for subarray, skip1, skip in (
        ("FULL", 1, 3), ("BRIGHTSKY", 1, 3), ("SUB256", 1, 3), ("SUB128", 1, 2),
        ("SUB64", 1, 2), ("SLITLESSPRISM", 1, 2), ("MASK1065", 1, 3), ("MASK1140", 1, 3),
        ("MASK1550", 1, 3), ("MASKLYOT", 1, 3),
    )
    for readpatt in ("FAST", "FASTR1", "SLOW", "SLOWR1")
)  # fmt: skip

#: EMI frequencies of the MIRI detectors (Hz) by the names JWST uses.
EMI_FREQUENCIES = {
    "Hz10": 10.039216, "Hz164": 164.93047, "Hz218a": 218.52055, "Hz218b": 218.520470,
    "Hz218c": 218.520665, "Hz390": 390.625,
}  # fmt: skip
_EMI_AMPLITUDE = 1.5  # DN
_EMI_SAMPLES = 500  # points per waveform period


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _meta(reftype: str, instrument: str, detector: str, useafter: str, description: str) -> dict:
    return {
        "author": _AUTHOR,
        "date": _now(),
        "description": description,
        "instrument": {"name": instrument, "detector": detector},
        "origin": "steppe",
        "pedigree": "DUMMY",
        "reftype": reftype.upper(),
        "telescope": "JWST",
        "useafter": useafter.replace(" ", "T"),
    }


def _write_asdf(path: str, tree: dict) -> None:
    import asdf

    asdf.AsdfFile(tree).write_to(path)


def _primary(path: str, reftype: str, instrument: str, detector: str, useafter: str, model: str) -> fits.PrimaryHDU:
    hdr = fits.Header()
    hdr["DATE"] = (_now(), "Date this file was created (UTC)")
    hdr["FILENAME"] = (os.path.basename(path), "Name of the file")
    hdr["DATAMODL"] = (model, "Type of data model")
    hdr["TELESCOP"] = ("JWST", "Telescope used to acquire the data")
    hdr["REFTYPE"] = (reftype.upper(), "Reference file type")
    hdr["PEDIGREE"] = ("DUMMY", "The pedigree of the reference file")
    hdr["DESCRIP"] = (f"synthetic {reftype} reference", "Description")
    hdr["AUTHOR"] = (_AUTHOR, "Author of the reference file")
    hdr["USEAFTER"] = (useafter.replace(" ", "T"), "Use after date of the reference file")
    hdr["INSTRUME"] = (instrument, "Instrument used to acquire the data")
    hdr["DETECTOR"] = (detector, "Name of detector used to acquire the data")
    return fits.PrimaryHDU(header=hdr)


def _detector_keyword(detectors: Sequence[str]) -> str:
    return detectors[0] if len(detectors) == 1 else "MULTIPLE"


def _rscd(path: str, instrument: str, detectors: Sequence[str], useafter: str) -> None:
    columns = [
        fits.Column("subarray", "17A", array=np.array([r[0] for r in RSCD_ROWS])),
        fits.Column("readpatt", "12A", array=np.array([r[1] for r in RSCD_ROWS])),
        fits.Column("group_skip1", "J", array=np.array([r[2] for r in RSCD_ROWS], np.int32)),
        fits.Column("group_skip", "J", array=np.array([r[3] for r in RSCD_ROWS], np.int32)),
    ]
    table = fits.BinTableHDU.from_columns(columns, name="RSCD_GROUP_SKIP")
    primary = _primary(path, "rscd", instrument, _detector_keyword(detectors), useafter, "RSCDModel")
    fits.HDUList([primary, table]).writeto(path)


def _emicorr(path: str, instrument: str, detectors: Sequence[str], useafter: str) -> None:
    phase = np.arange(_EMI_SAMPLES, dtype=np.float64) / _EMI_SAMPLES
    frequencies = {
        name: {
            "frequency": float(hz),
            "phase_amplitudes": (_EMI_AMPLITUDE * np.sin(2 * np.pi * phase)).astype(np.float32),
        }
        for name, hz in EMI_FREQUENCIES.items()
    }
    fast = {"FULL_FAST": ["Hz10"], "BRIGHTSKY": ["Hz10"], "SUB256": ["Hz10", "Hz390"]}
    cases = {}
    for name, (rowclocks, frameclocks) in SUBARRAY_CLOCKS.items():
        if name == "FULL_SLOW":
            freqs: dict = {"SLOW": {det: ["Hz10"] for det in detectors}}
        else:
            freqs = {"FAST": fast.get(name, ["Hz10", "Hz164", "Hz218a", "Hz218b", "Hz218c", "Hz390"])}
        cases[name] = {"rowclocks": rowclocks, "frameclocks": frameclocks, "freqs": freqs}
    tree = {
        "meta": _meta("emicorr", instrument, _detector_keyword(detectors), useafter, "synthetic EMI waveforms"),
        "frequencies": frequencies,
        "subarray_cases": cases,
    }
    _write_asdf(path, tree)


def _sirskernel(path: str, instrument: str, detectors: Sequence[str], useafter: str) -> None:
    # a Gaussian low-pass of the side reference columns, half from each side
    nfreq = 1025
    f = np.arange(nfreq) / (nfreq - 1)
    weight = 0.5 * np.exp(-0.5 * (f / 0.05) ** 2)
    tree: dict = {
        "meta": _meta("sirskernel", instrument, _detector_keyword(detectors), useafter, "synthetic SIRS kernels")
    }
    for det in detectors:
        half = np.tile(weight.astype(np.complex128), (4, 1))
        tree[det.lower()] = {"gamma": half, "zeta": half.copy()}
    _write_asdf(path, tree)


def irs2_weights(ny: int = 2048) -> np.ndarray:
    """Fourier weights of the interleaved reference pixels (beta), one amplifier.

    A low-pass filter normalised so that a signal common to the normal and the
    reference pixels (a bias drift slower than about 1/100 of the row rate) is
    removed; the reference output weights (alpha) are zero.

    Parameters
    ----------
    ny : int
        Rows of the IRS2 frame (detector frame), 2048.

    Returns
    -------
    numpy.ndarray
        ``(ny * row,)`` complex weights.
    """
    layout = Irs2Layout(16, 4)
    nsamples = ny * layout.row
    targets, _ = layout.spread()
    fraction = np.size(targets) / layout.row  # reference samples per time sample
    freq = np.abs(np.fft.fftfreq(nsamples))
    cutoff = 1.0 / (100.0 * layout.row)
    return (np.exp(-0.5 * (freq / cutoff) ** 2) / fraction).astype(np.complex128)


def _refpix(path: str, instrument: str, detectors: Sequence[str], useafter: str) -> None:
    beta = irs2_weights()
    interleaved = np.empty(2 * beta.size, np.float32)
    interleaved[0::2], interleaved[1::2] = beta.real, beta.imag
    zeros = np.zeros_like(interleaved)
    columns = [fits.Column(f"ALPHA_{k}", "E", array=zeros) for k in range(4)]
    columns += [fits.Column(f"BETA_{k}", "E", array=interleaved) for k in range(4)]
    table = fits.BinTableHDU.from_columns(columns, name="IRS2")
    dq = fits.BinTableHDU.from_columns(
        [
            fits.Column("OUTPUT", "I", array=np.zeros(0, np.int16)),
            fits.Column("ODD_EVEN", "I", array=np.zeros(0, np.int16)),
            fits.Column("MASK", "J", array=np.zeros(0, np.int32)),
        ],
        name="DQ",
    )
    primary = _primary(path, "refpix", instrument, _detector_keyword(detectors), useafter, "IRS2Model")
    primary.header["READPATT"] = ("NRSIRS2", "Readout pattern")
    fits.HDUList([primary, table, dq]).writeto(path)


#: Reference type -> writer(path, instrument, detectors, useafter).
SHARED_WRITERS: dict[str, Callable[[str, str, Sequence[str], str], None]] = {
    "rscd": _rscd,
    "emicorr": _emicorr,
    "sirskernel": _sirskernel,
    "refpix": _refpix,
}


def write_shared_file(path: str, reftype: str, instrument: str, detectors: Sequence[str], useafter: str) -> None:
    """Write one shared reference file.

    Parameters
    ----------
    path : str
        Destination (``.fits`` or ``.asdf``, as the type's layout).
    reftype : str
        A key of :data:`SHARED_WRITERS`.
    instrument : str
        Upper-case instrument name.
    detectors : sequence of str
        The detectors the file serves.
    useafter : str
        CRDS use-after date, ``"YYYY-MM-DD hh:mm:ss"``.

    Raises
    ------
    KeyError
        For a reference type without a writer.
    """
    SHARED_WRITERS[reftype](path, instrument, detectors, useafter)
