"""Synthetic raw NIRCam ramps for ``steppe demo``, consistent with the embedded references.

(The other instruments' demo exposures are in :mod:`builtin_steps.refdata.demo_exposures`.)

:func:`prepare_demo` writes two dithered exposures of one star field (NIRCam
NRCA1, subarray SUB160, 2 integrations of 10 RAPID groups). The ramps are made
from the same detector truth as the embedded reference files, so the Detector1
pipeline calibrates them back to the input count rates:

* bias (the superbias), dark signal (the dark file), and the classical
  non-linearity (the inverse of the linearity correction polynomial);
* stars and sky as Poisson electrons, divided by the gain in force on the
  observation date (the updated gain file);
* read noise per frame (the CDS read noise over the square root of 2);
* cosmic-ray hits (jumps that persist to the end of the integration);
* a bright star whose core saturates within the first groups (the pixel's
  response flattens just above its saturation level);
* dead pixels (no response) and the reference-pixel border (bias and noise only).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np

from builtin_steps.refdata import layout
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.ramps import make_ramp, scene, star_field

__all__ = ["DEMO_DETECTOR", "DEMO_SUBARRAY", "DEMO_INSTRUMENTS", "make_ramp", "prepare_demo"]

#: The instruments ``steppe demo --instrument`` accepts; the first is the default.
DEMO_INSTRUMENTS = ("nircam", "miri", "nirspec", "niriss")

#: Detector and subarray of the demo exposures.
DEMO_DETECTOR = "NRCA1"
DEMO_SUBARRAY = "SUB160"

_NINTS = 2
_NGROUPS = 10
_OBS_START = datetime.datetime(2024, 9, 15, 3, 12, 0)
_DITHERS = ((0.0, 0.0), (3.5, -2.5))  # pixels, per exposure


def _readout() -> layout.Subarray:
    return next(s for s in layout.NIRCAM.subarrays if s.name == DEMO_SUBARRAY)


def _metadata(model: Any, exposure: int, readout: layout.Subarray, start: datetime.datetime):
    frame = readout.frame_time
    duration = _NINTS * _NGROUPS * frame
    mjd = 40587.0 + start.replace(tzinfo=datetime.UTC).timestamp() / 86400.0
    meta = model.meta
    meta.telescope = "JWST"
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = DEMO_DETECTOR
    meta.instrument.module = "A"
    meta.instrument.channel = "SHORT"
    meta.instrument.filter = "F200W"
    meta.instrument.pupil = "CLEAR"
    obs = meta.observation
    obs.date = start.strftime("%Y-%m-%d")
    obs.time = start.strftime("%H:%M:%S.%f")[:-3]
    obs.date_beg = start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    obs.program_number = "09999"
    obs.observation_number = "001"
    obs.visit_number = "001"
    obs.visit_group = "01"
    obs.sequence_id = "1"
    obs.activity_id = "01"
    obs.exposure_number = f"{exposure:05d}"
    exp = meta.exposure
    exp.type = "NRC_IMAGE"
    exp.readpatt = "RAPID"
    exp.nints = _NINTS
    exp.ngroups = _NGROUPS
    exp.nframes = 1
    exp.groupgap = 0
    exp.frame_divisor = 1
    exp.noutputs = readout.noutputs
    exp.nresets_at_start = 1
    exp.nresets_between_ints = 1
    exp.drop_frames1 = 0
    exp.drop_frames3 = 0
    exp.integration_start = 1
    exp.integration_end = _NINTS
    exp.sample_time = 10
    exp.frame_time = frame
    exp.group_time = frame
    exp.integration_time = _NGROUPS * frame
    exp.exposure_time = _NINTS * _NGROUPS * frame
    exp.effective_exposure_time = (_NGROUPS - 1) * frame * _NINTS
    exp.measurement_time = (_NGROUPS - 1) * frame
    exp.duration = duration
    exp.start_time = mjd
    exp.mid_time = mjd + duration / 2 / 86400.0
    exp.end_time = mjd + duration / 86400.0
    exp.zero_frame = False
    exp.data_problem = False
    sub = meta.subarray
    sub.name = readout.name
    sub.xstart, sub.ystart = readout.xstart, readout.ystart
    sub.xsize, sub.ysize = readout.xsize, readout.ysize
    sub.fastaxis, sub.slowaxis = -1, 2
    meta.visit.tsovisit = False


def prepare_demo(directory: str | os.PathLike[str], instrument: str = "nircam") -> dict[str, Any]:
    """Write the demo exposures and make sure the embedded reference set exists.

    Parameters
    ----------
    directory : str or path-like
        Folder for the raw ramps (created if missing).
    instrument : str, optional
        ``"nircam"`` (default: two dithered NRCA1 SUB160 exposures), ``"miri"``
        (MIRIMAGE full frame), ``"nirspec"`` (NRS1 IRS2 full frame) or ``"niriss"``
        (NIS SUB80); see :mod:`builtin_steps.refdata.demo_exposures`.

    Returns
    -------
    dict
        ``{"pipeline": "calwebb_detector1", "inputs": [_uncal.fits paths],
        "description": "..."}``.

    Raises
    ------
    pipeline_core.errors.ParameterError
        For an instrument without a demo; the message lists those with one.

    Examples
    --------
    >>> from builtin_steps.refdata.demo import prepare_demo
    >>> demo = prepare_demo("demo")  # doctest: +SKIP
    >>> [os.path.basename(p) for p in demo["inputs"]]  # doctest: +SKIP
    ['jw09999001001_01101_00001_nrca1_uncal.fits', 'jw09999001001_01101_00002_nrca1_uncal.fits']
    """
    from pipeline_core.datamodels import RampModel

    from builtin_steps.refdata.cache import ensure_embedded_cache

    name = str(instrument).strip().lower()
    if name not in DEMO_INSTRUMENTS:
        from pipeline_core.errors import ParameterError

        raise ParameterError(
            f"steppe demo: no demo for instrument {instrument!r}; choose one of {list(DEMO_INSTRUMENTS)}"
        )
    ensure_embedded_cache()
    folder = os.fspath(directory)
    os.makedirs(folder, exist_ok=True)
    if name != "nircam":
        from builtin_steps.refdata.demo_exposures import write_exposure

        path, description = write_exposure(name, folder)
        return {"pipeline": "calwebb_detector1", "inputs": [path], "description": description}
    readout = _readout()
    truth = DetectorTruth("NIRCAM", DEMO_DETECTOR, *readout.slices)
    field = star_field(np.random.default_rng(20240915), readout.xsize)
    updated = _OBS_START >= datetime.datetime.fromisoformat(layout.GAIN_UPDATE_USEAFTER)
    inputs = []
    for exposure, (dx, dy) in enumerate(_DITHERS, start=1):
        rng = np.random.default_rng(1000 + exposure)
        rate = scene(field, truth.shape, dx, dy)
        data = make_ramp(
            truth,
            rate,
            rng,
            frame_time=readout.frame_time,
            gain_scale=layout.UPDATE_SCALE["gain"] if updated else 1.0,
            readnoise_scale=layout.UPDATE_SCALE["readnoise"] if updated else 1.0,
        )
        model = RampModel(data=data)
        start = _OBS_START + datetime.timedelta(minutes=2 * (exposure - 1))
        _metadata(model, exposure, readout, start)
        name = f"jw09999001001_01101_{exposure:05d}_{DEMO_DETECTOR.lower()}_uncal.fits"
        inputs.append(model.save(os.path.join(folder, name)))
    return {
        "pipeline": "calwebb_detector1",
        "inputs": inputs,
        "description": (
            f"two dithered NIRCam {DEMO_DETECTOR} {DEMO_SUBARRAY} exposures "
            f"({_NINTS} integrations x {_NGROUPS} RAPID groups) of a star field with cosmic rays "
            "and a saturated star, calibrated with the embedded offline reference set"
        ),
    }
