"""Demo exposures of MIRI, NIRSpec and NIRISS, consistent with the embedded references.

One exposure per instrument, small enough to calibrate in seconds:

* **MIRI** imager (``MIRIMAGE``), full frame (1032 x 1024, so the reference
  columns are corrected), ``FASTR1``, 2 integrations of 6 groups; the raw
  ramps carry the reset anomaly of the RESET file, the dark of the DARK file
  and the non-linearity (applied to the raw value, bias included);
* **NIRSpec** ``NRS1`` in the IRS2 readout (``NRSIRS2RAPID``, full frame,
  3200 x 2048 with the interleaved reference pixels and the reference output),
  1 integration of 3 groups (the fewest jump detection accepts), exposure
  type ``NRS_FIXEDSLIT``;
* **NIRISS** ``NIS``, subarray ``SUB80``, ``NISRAPID``, 2 integrations of 10 groups.

Each is a star field with sky, cosmic rays and one saturating star
(:func:`builtin_steps.refdata.ramps.make_ramp` makes the near-infrared ramps).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from builtin_steps.refdata import irs2, layout
from builtin_steps.refdata.ramps import make_ramp, scene, star_field, uncorrect
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.reffiles import irs2_reference_bias

__all__ = ["DemoExposure", "DEMO_EXPOSURES", "write_exposure"]

_OBS_START = datetime.datetime(2024, 9, 15, 3, 12, 0)
_CR_PER_INTEGRATION = 25


@dataclass(frozen=True)
class DemoExposure:
    """What one demo exposure is.

    Parameters
    ----------
    instrument, detector, readout, readpatt, exp_type : str
        ``META.INSTRUMENT.NAME``, ``DETECTOR``, the subarray name, ``READPATT``
        and ``EXP_TYPE``.
    nints, ngroups : int
        Integrations and groups.
    filename : str
        Name of the ``_uncal`` file.
    keywords : dict
        Further instrument keywords: data-model attribute path -> value.
    """

    instrument: str
    detector: str
    readout: str
    readpatt: str
    exp_type: str
    nints: int
    ngroups: int
    filename: str
    keywords: dict

    @property
    def subarray(self) -> layout.Subarray:
        """The readout of the embedded set this exposure uses."""
        inst = layout.instrument(self.instrument)
        for readout in inst.readouts(self.detector):
            if readout.name == self.readout and (not readout.readpatts or self.readpatt in readout.readpatts):
                if self.readpatt in readout.readpatts or not any(
                    self.readpatt in r.readpatts for r in inst.readouts(self.detector)
                ):
                    return readout
        raise KeyError(f"no {self.instrument} {self.detector} readout {self.readout} {self.readpatt}")


#: The demo exposure of each instrument besides NIRCam, by lower-case name.
DEMO_EXPOSURES = {
    "miri": DemoExposure(
        "MIRI", "MIRIMAGE", "FULL", "FASTR1", "MIR_IMAGE", 2, 6,
        "jw09999002001_01101_00001_mirimage_uncal.fits",
        {"instrument.filter": "F770W", "instrument.band": None, "exposure.nsamples": 1},
    ),
    "nirspec": DemoExposure(
        "NIRSPEC", "NRS1", "FULL", "NRSIRS2RAPID", "NRS_FIXEDSLIT", 1, 3,
        "jw09999003001_01101_00001_nrs1_uncal.fits",
        {
            "instrument.filter": "F290LP", "instrument.grating": "G395H",
            "instrument.fixed_slit": "S200A1",
            "exposure.nrs_normal": irs2.NRS_NORMAL, "exposure.nrs_reference": irs2.NRS_REFERENCE,
        },
    ),
    "niriss": DemoExposure(
        "NIRISS", "NIS", "SUB80", "NISRAPID", "NIS_IMAGE", 2, 10,
        "jw09999004001_01101_00001_nis_uncal.fits",
        {"instrument.filter": "F150W", "instrument.pupil": "CLEARP"},
    ),
}  # fmt: skip


def _miri_ramp(truth: DetectorTruth, rate: np.ndarray, rng: np.random.Generator, exp: DemoExposure) -> np.ndarray:
    """Raw MIRI ramps: linear signal and dark on the bias, made non-linear, plus the reset anomaly."""
    readout = exp.subarray
    frame = readout.frame_time
    gain = truth.gain.astype(np.float64)
    blind = truth.reference_pixels | truth.dead
    electrons = np.where(blind, 0.0, rate)
    bias = truth.bias.astype(np.float64)
    coeffs = truth.linearity.astype(np.float64)
    read_sigma = truth.readnoise.astype(np.float64) / np.sqrt(2.0)
    ceiling = np.where(np.isnan(truth.saturation), 65535.0, truth.saturation + 150.0)
    reset = truth.reset_anomaly(exp.nints, exp.ngroups)
    ramps = np.empty((exp.nints, exp.ngroups, *truth.shape), np.float32)
    for i in range(exp.nints):
        counts = np.cumsum(rng.poisson(electrons * frame, size=(exp.ngroups, *truth.shape)), axis=0) / gain
        dark = truth.dark_signal_rate[None] * frame * np.arange(1, exp.ngroups + 1)[:, None, None]
        signal = counts + dark
        for _ in range(_CR_PER_INTEGRATION * 4):
            g, y, x = rng.integers(1, exp.ngroups), rng.integers(0, truth.shape[0]), rng.integers(0, truth.shape[1])
            if not blind[y, x]:
                signal[g:, y, x] += rng.uniform(200.0, 3000.0)
        raw = uncorrect(bias + signal, coeffs)
        raw = np.minimum(raw, ceiling) + reset[i] + rng.normal(0.0, 1.0, raw.shape) * read_sigma
        ramps[i] = np.clip(np.round(raw), 0, 65535)
    return ramps


def _irs2_ramp(truth: DetectorTruth, ramp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spread 2048-row ramps over the IRS2 rows; the reference rows get bias and read noise."""
    reference = irs2_reference_bias(truth.detector)
    sigma = float(np.median(truth.readnoise)) / np.sqrt(2.0)
    noise = rng.normal(0.0, sigma, ramp.shape[:2] + reference.shape)
    return irs2.expand(ramp, truth.detector, np.round(reference + noise).astype(np.float32))


def _set(meta: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = meta
    for part in parents:
        node = getattr(node, part)
    setattr(node, last, value)


def _metadata(model: Any, exp: DemoExposure, start: datetime.datetime) -> None:
    readout = exp.subarray
    frame = readout.frame_time
    duration = exp.nints * exp.ngroups * frame
    mjd = 40587.0 + start.replace(tzinfo=datetime.UTC).timestamp() / 86400.0
    meta = model.meta
    meta.telescope = "JWST"
    meta.instrument.name = exp.instrument
    meta.instrument.detector = exp.detector
    obs = meta.observation
    obs.date = start.strftime("%Y-%m-%d")
    obs.time = start.strftime("%H:%M:%S.%f")[:-3]
    obs.date_beg = start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    obs.program_number, obs.observation_number, obs.visit_number = "09999", exp.filename[9:12], "001"
    obs.visit_group, obs.sequence_id, obs.activity_id, obs.exposure_number = "01", "1", "01", "00001"
    e = meta.exposure
    e.type, e.readpatt = exp.exp_type, exp.readpatt
    e.nints, e.ngroups, e.nframes, e.groupgap, e.frame_divisor = exp.nints, exp.ngroups, 1, 0, 1
    e.noutputs = readout.noutputs
    e.nresets_at_start = e.nresets_between_ints = 1
    e.drop_frames1 = e.drop_frames3 = 0
    e.integration_start, e.integration_end = 1, exp.nints
    e.sample_time = 10
    e.frame_time = e.group_time = frame
    e.integration_time = exp.ngroups * frame
    e.exposure_time = duration
    e.effective_exposure_time = (exp.ngroups - 1) * frame * exp.nints
    e.measurement_time = (exp.ngroups - 1) * frame
    e.duration = duration
    e.start_time, e.mid_time, e.end_time = mjd, mjd + duration / 2 / 86400.0, mjd + duration / 86400.0
    e.zero_frame = False
    e.data_problem = False
    sub = meta.subarray
    sub.name = readout.name
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = readout.xstart, readout.ystart, readout.xsize, readout.ysize
    sub.fastaxis, sub.slowaxis = {"MIRI": (1, 2), "NIRSPEC": (2, 1)}.get(exp.instrument, (-2, -1))
    meta.visit.tsovisit = False
    for path, value in exp.keywords.items():
        if value is not None:
            _set(meta, path, value)


def write_exposure(name: str, folder: str) -> tuple[str, str]:
    """Write the demo exposure of one instrument.

    Parameters
    ----------
    name : str
        ``"miri"``, ``"nirspec"`` or ``"niriss"``.
    folder : str
        Existing folder for the ``_uncal`` file.

    Returns
    -------
    (str, str)
        The path written and a one-line description.
    """
    from pipeline_core.datamodels import RampModel

    exp = DEMO_EXPOSURES[name]
    readout = exp.subarray
    truth = DetectorTruth(exp.instrument, exp.detector, *readout.slices)
    rng = np.random.default_rng(2024 + len(name))
    field = star_field(np.random.default_rng(20240915), min(truth.shape))
    if exp.instrument == "MIRI":
        # Si:As pixels see a bright thermal sky; the stars sit on it
        rate = scene(field, truth.shape, 0.0, 0.0) * 20.0 + 150.0
        data = _miri_ramp(truth, rate, rng, exp)
    else:
        rate = scene(field, truth.shape, 0.0, 0.0)
        data = make_ramp(
            truth, rate, rng, frame_time=readout.frame_time, nints=exp.nints, ngroups=exp.ngroups
        )
        if readout.irs2:
            data = _irs2_ramp(truth, data, rng)
    model = RampModel(data=data)
    _metadata(model, exp, _OBS_START)
    path = model.save(os.path.join(folder, exp.filename))
    shape = "x".join(str(n) for n in data.shape[:1:-1])
    description = (
        f"one {exp.instrument} {exp.detector} {readout.name} {exp.readpatt} exposure ({exp.exp_type}, "
        f"{shape} pixels, {exp.nints} integration(s) x {exp.ngroups} groups) of a star field with cosmic "
        "rays and a saturated star, calibrated with the embedded offline reference set"
    )
    return path, description
