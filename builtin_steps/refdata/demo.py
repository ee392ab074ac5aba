"""Synthetic raw NIRCam ramps for ``steppe demo``, consistent with the embedded references.

(The other instruments' demo exposures are in :mod:`builtin_steps.refdata.demo_exposures`.)

:func:`prepare_demo` writes four dithered exposures of one star field (NIRCam
NRCA1, subarray SUB160, 2 integrations of 10 RAPID groups) and names the three
imaging stages that calibrate them: Detector1 and Image2 on each exposure, then
Image3 on the association of the four ``cal`` products. The ramps are made from
the same detector truth as the embedded reference files, so the Detector1
pipeline calibrates them back to the input count rates:

* bias (the superbias), dark signal (the dark file), and the classical
  non-linearity (the inverse of the linearity correction polynomial);
* stars and sky as Poisson electrons, divided by the gain in force on the
  observation date (the updated gain file);
* read noise per frame (the CDS read noise over the square root of 2);
* cosmic-ray hits (jumps that persist to the end of the integration);
* warm pixels that the dark reference does not know: extra dark current at the
  same detector pixels in every exposure, which Detector1 cannot remove and
  Image3's ``outlier_detection`` flags (the dithers put them on different sky);
* a bright star whose core saturates within the first groups (the pixel's
  response flattens just above its saturation level);
* dead pixels (no response) and the reference-pixel border (bias and noise only);
* the F200W flat field of the embedded set (the pixels' relative response), and
  the telescope pointing of each exposure (``RA_V1``/``DEC_V1``/``PA_V3`` and the
  reference point ``V2_REF``/``V3_REF``/``RA_REF``/``DEC_REF``/``ROLL_REF`` of the
  SIAF aperture ``NRCA1_SUB160``), offset by its dither, so that
  ``calwebb_image2`` calibrates the rates and puts the stars at the same place on
  the sky in every exposure.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np

from builtin_steps.refdata import layout
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.ramps import make_ramp, scene

__all__ = [
    "DEMO_DETECTOR",
    "DEMO_SUBARRAY",
    "DEMO_FILTER",
    "DEMO_POINTING",
    "DEMO_INSTRUMENTS",
    "DEMO_PRODUCT",
    "demo_stars",
    "warm_pixels",
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
_DITHERS = ((0.0, 0.0), (3.5, -2.5), (-4.25, 5.5), (6.5, 3.0))  # pixels, per exposure
_FIELD_STARS = 40  # faint stars besides the saturated one
_STAR_SPACING = 12.0  # pixels: least distance between two stars
_WARM_PIXELS = 40  # pixels with a dark current the dark reference lacks
_WARM_RATE = (30.0, 300.0)  # their extra dark current, e-/s
#: Name of the Image3 product (JWST level-3 naming: program, observation, target,
#: instrument, optical elements); the association is ``<product>_asn.json``.
DEMO_PRODUCT = "jw09999-o001_t001_nircam_clear-f200w"
#: The tweakreg parameters of the demo's Image3 run. A SUB160 field is 5 arcsec
#: wide, so its stars are closer together (``_STAR_SPACING``, 0.37 arcsec) than
#: jwst's full-frame defaults assume: ``separation`` (1 arcsec) would drop most of
#: them and ``tolerance`` (0.7 arcsec) would let each one match several others.
DEMO_TWEAKREG = {"separation": 0.3, "tolerance": 0.15}


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


def demo_stars(rng: np.random.Generator, size: int) -> list[tuple[float, float, float]]:
    """(x, y, flux in e-/s) of the demo field's stars in the first exposure.

    The first star saturates; the others (400 to 30 000 e-/s, bright enough for
    the catalog's detection area) are at least ``_STAR_SPACING`` pixels apart, so
    that each is a distinct catalog source and tweakreg match, and far enough
    from the edges to stay on the detector in every dither.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the positions and fluxes.
    size : int
        Side of the subarray, pixels.

    Returns
    -------
    list of (float, float, float)
    """
    stars = [(size * 0.55, size * 0.4, 3.0e6)]
    margin = 12.0
    while len(stars) <= _FIELD_STARS:
        x, y = rng.uniform(margin, size - margin, 2)
        if all((x - a) ** 2 + (y - b) ** 2 > _STAR_SPACING**2 for a, b, _ in stars):
            stars.append((float(x), float(y), float(10 ** rng.uniform(2.6, 4.5))))
    return stars


def warm_pixels(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Extra dark current (e-/s) of the warm pixels, zero elsewhere.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the positions and rates.
    shape : (int, int)
        Shape of the subarray.

    Returns
    -------
    numpy.ndarray
        Float image, ``_WARM_PIXELS`` non-zero pixels away from the
        reference-pixel border.
    """
    warm = np.zeros(shape)
    ny, nx = shape
    flat = rng.choice((ny - 8) * (nx - 8), _WARM_PIXELS, replace=False)
    y, x = np.divmod(flat, nx - 8)
    warm[y + 4, x + 4] = rng.uniform(*_WARM_RATE, _WARM_PIXELS)
    return warm


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
        ``"nircam"`` (default: four dithered NRCA1 SUB160 exposures), ``"miri"``
        (MIRIMAGE full frame), ``"nirspec"`` (NRS1 IRS2 full frame) or ``"niriss"``
        (NIS SUB80); see :mod:`builtin_steps.refdata.demo_exposures`.

    Returns
    -------
    dict
        ``{"pipeline": "calwebb_detector1", "inputs": [_uncal.fits paths],
        "description": "..."}``; for NIRCam also ``"then"``: ``"calwebb_image2"``
        (on each rate) and ``{"pipeline": "calwebb_image3", "combine":
        DEMO_PRODUCT, "parameters": ..., "show": "cat.ecsv"}`` (once, on the
        association of the four ``cal`` products, with the demo's tweakreg
        parameters; its mosaic is drawn with the catalog's sources marked).

    Raises
    ------
    pipeline_core.errors.ParameterError
        For an instrument without a demo; the message lists those with one.

    Examples
    --------
    >>> from builtin_steps.refdata.demo import prepare_demo
    >>> demo = prepare_demo("demo")  # doctest: +SKIP
    >>> [os.path.basename(p) for p in demo["inputs"]]  # doctest: +SKIP
    ['jw09999001001_01101_00001_nrca1_uncal.fits', ..., 'jw09999001001_01101_00004_nrca1_uncal.fits']
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
    field = demo_stars(np.random.default_rng(20240915), readout.xsize)
    warm = warm_pixels(np.random.default_rng(20240916), truth.shape)
    response = _response(readout)
    updated = _OBS_START >= datetime.datetime.fromisoformat(layout.GAIN_UPDATE_USEAFTER)
    inputs = []
    for exposure, (dx, dy) in enumerate(_DITHERS, start=1):
        rng = np.random.default_rng(1000 + exposure)
        rate = scene(field, truth.shape, dx, dy) * response + warm
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
    image3 = {
        "pipeline": "calwebb_image3",
        "combine": DEMO_PRODUCT,
        "parameters": {"steps": {"tweakreg": dict(DEMO_TWEAKREG)}},
        "show": "cat.ecsv",
    }
    return {
        "pipeline": "calwebb_detector1",
        "then": ["calwebb_image2", image3],
        "inputs": inputs,
        "description": (
            f"{len(inputs)} dithered NIRCam {DEMO_DETECTOR} {DEMO_SUBARRAY} exposures "
            f"({_NINTS} integrations x {_NGROUPS} RAPID groups) of a star field with cosmic rays, "
            "warm pixels and a saturated star, calibrated with the embedded offline reference "
            "set: Detector1 and Image2 on each, then Image3 on all of them (mosaic and catalog)"
        ),
    }
