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
* dead pixels (no response) and the reference-pixel border (bias and noise only);
* the F200W flat field of the embedded set (the pixels' relative response), and
  the telescope pointing of each exposure (``RA_V1``/``DEC_V1``/``PA_V3`` and the
  reference point ``V2_REF``/``V3_REF``/``RA_REF``/``DEC_REF``/``ROLL_REF`` of the
  SIAF aperture ``NRCA1_SUB160``), the second one offset by its dither, so that
  ``calwebb_image2`` calibrates the rates and puts the stars at the same place on
  the sky in both exposures.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np

from builtin_steps.refdata import layout
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.ramps import make_ramp, scene, star_field

__all__ = [
    "DEMO_DETECTOR",
    "DEMO_SUBARRAY",
    "DEMO_FILTER",
    "DEMO_POINTING",
    "DEMO_INSTRUMENTS",
    "make_ramp",
    "exposure_pointing",
    "prepare_demo",
]

#: The instruments ``steppe demo --instrument`` accepts; the first is the default.
DEMO_INSTRUMENTS = ("nircam", "miri", "nirspec", "niriss")

#: Detector and subarray of the demo exposures.
DEMO_DETECTOR = "NRCA1"
DEMO_SUBARRAY = "SUB160"
#: Filter and pupil of the demo exposures.
DEMO_FILTER = ("F200W", "CLEAR")
#: RA_REF, DEC_REF, ROLL_REF of the first exposure (degrees): a field in the LMC.
DEMO_POINTING = (80.4875, -69.4986, 40.0)
_APERTURE = "NRCA1_SUB160"

_NINTS = 2
_NGROUPS = 10
_OBS_START = datetime.datetime(2024, 9, 15, 3, 12, 0)
_DITHERS = ((0.0, 0.0), (3.5, -2.5))  # pixels, per exposure


def _readout() -> layout.Subarray:
    return next(s for s in layout.NIRCAM.subarrays if s.name == DEMO_SUBARRAY)


def exposure_pointing(dither: tuple[float, float]) -> dict[str, float]:
    """Return the pointing keywords of a demo exposure dithered by ``dither`` pixels.

    A star at pixel ``p`` of the first exposure is at ``p + dither`` in this one:
    the sky point at the first exposure's reference pixel sits at the reference
    pixel plus the dither, whose V2/V3 position the SIAF gives.

    Parameters
    ----------
    dither : (float, float)
        Offset of the scene on the detector, pixels (x, y).

    Returns
    -------
    dict
        ``ra_ref``, ``dec_ref``, ``roll_ref``, ``ra_v1``, ``dec_v1``, ``pa_v3``
        (degrees) and ``v2_ref``, ``v3_ref`` (arcsec), ``v3yangle`` (degrees),
        ``vparity``.
    """
    from pysiaf.utils import rotations

    from builtin_steps.refdata.siaf import siaf_aperture

    ap = siaf_aperture("NIRCAM", _APERTURE)
    ra, dec, roll = DEMO_POINTING
    v2, v3 = ap.sci_to_tel(ap.XSciRef + dither[0], ap.YSciRef + dither[1])
    attitude = rotations.attitude(float(v2), float(v3), ra, dec, roll)
    ra_ref, dec_ref = rotations.pointing(attitude, ap.V2Ref, ap.V3Ref)
    ra_v1, dec_v1 = rotations.pointing(attitude, 0.0, 0.0)
    return {
        "ra_ref": float(ra_ref) % 360.0,
        "dec_ref": float(dec_ref),
        "roll_ref": float(rotations.posangle(attitude, ap.V2Ref, ap.V3Ref)) % 360.0,
        "ra_v1": float(ra_v1) % 360.0,
        "dec_v1": float(dec_v1),
        "pa_v3": float(rotations.posangle(attitude, 0.0, 0.0)) % 360.0,
        "v2_ref": float(ap.V2Ref),
        "v3_ref": float(ap.V3Ref),
        "v3yangle": float(ap.V3IdlYAngle),
        "vparity": int(ap.VIdlParity),
    }


def _pointing_metadata(model: Any, dither: tuple[float, float]) -> None:
    values = exposure_pointing(dither)
    meta = model.meta
    for key in ("ra_v1", "dec_v1", "pa_v3"):
        setattr(meta.pointing, key, values[key])
    for key in ("v2_ref", "v3_ref", "v3yangle", "vparity", "ra_ref", "dec_ref", "roll_ref"):
        setattr(meta.wcsinfo, key, values[key])
    meta.aperture.name = _APERTURE
    meta.velocity_aberration.scale_factor = 1.0
    meta.target.ra, meta.target.dec = DEMO_POINTING[0], DEMO_POINTING[1]


def _response(readout: layout.Subarray) -> np.ndarray:
    """The pixels' relative response: the demo filter's flat (1 where it is unusable)."""
    from builtin_steps.refdata.imaging_files import flat_truth

    flat, _, dq = flat_truth("NIRCAM", DEMO_DETECTOR, DEMO_FILTER[0], *readout.slices)
    usable = np.isfinite(flat) & (flat > 0) & (dq == 0)
    return np.where(usable, flat, 1.0)


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
    meta.instrument.filter, meta.instrument.pupil = DEMO_FILTER
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
        "description": "..."}``; for NIRCam also ``"then": ["calwebb_image2"]``:
        Detector1 makes the rates, Image2 the calibrated (``cal``) and resampled
        (``i2d``) images.

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
    response = _response(readout)
    updated = _OBS_START >= datetime.datetime.fromisoformat(layout.GAIN_UPDATE_USEAFTER)
    inputs = []
    for exposure, (dx, dy) in enumerate(_DITHERS, start=1):
        rng = np.random.default_rng(1000 + exposure)
        rate = scene(field, truth.shape, dx, dy) * response
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
        _pointing_metadata(model, (dx, dy))
        name = f"jw09999001001_01101_{exposure:05d}_{DEMO_DETECTOR.lower()}_uncal.fits"
        inputs.append(model.save(os.path.join(folder, name)))
    return {
        "pipeline": "calwebb_detector1",
        "then": ["calwebb_image2"],
        "inputs": inputs,
        "description": (
            f"two dithered NIRCam {DEMO_DETECTOR} {DEMO_SUBARRAY} exposures "
            f"({_NINTS} integrations x {_NGROUPS} RAPID groups) of a star field with cosmic rays "
            "and a saturated star, calibrated (Detector1, then Image2) with the embedded "
            "offline reference set"
        ),
    }
