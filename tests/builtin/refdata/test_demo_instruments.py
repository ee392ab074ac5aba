"""``steppe demo --instrument X``: each demo exposure runs through calwebb_detector1 offline."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from pipeline_core.cli.main import run_cli

_NIR_STEPS = {
    "group_scale": "SKIPPED",  # NFRAMES == FRMDIVSR == 1
    "dq_init": "COMPLETE",
    "saturation": "COMPLETE",
    "ipc": "SKIPPED",  # IPC is N/A
    "superbias": "COMPLETE",
    "refpix": "COMPLETE",
    "linearity": "COMPLETE",
    "dark_sub": "COMPLETE",
    "charge_migration": "SKIPPED",
    "jump": "COMPLETE",
    "picture_frame": "SKIPPED",
    "clean_flicker_noise": "SKIPPED",
    "persistence": "SKIPPED",
    "ramp_fit": "COMPLETE",
    "gain_scale": "SKIPPED",  # no GAINFACT in the gain file
}
_MIRI_STEPS = {
    **{k: v for k, v in _NIR_STEPS.items() if k != "superbias"},
    "emicorr": "SKIPPED",
    "firstframe": "SKIPPED",
    "lastframe": "COMPLETE",
    "reset": "COMPLETE",
    "rscd": "COMPLETE",
}


def _demo(instrument: str, folder: Path) -> tuple[str, list[Path]]:
    out = io.StringIO()
    status = run_cli(["demo", "--instrument", instrument, "--output-dir", str(folder)], stdout=out, stderr=out)
    assert status == 0, out.getvalue()
    return out.getvalue(), sorted(folder.glob("*_rate.fits"))


def _check(rate_path: Path, cal_steps: dict, shape: tuple, rate: float, tolerance: float, border: int) -> None:
    from pipeline_core.datamodels import open_model

    model = open_model(str(rate_path))
    assert model.data.shape == shape
    inner = model.data[:, border:-border] if border else model.data
    assert np.isfinite(inner).mean() > 0.99
    assert abs(np.nanmedian(inner) - rate) < tolerance
    done = {k.rsplit(".", 1)[-1]: v for k, v in model.meta.cal_step.to_flat_dict().items()}
    assert done == cal_steps


def test_unknown_instrument_is_refused(embedded_crds_cache, tmp_path):
    err = io.StringIO()
    assert run_cli(["demo", "--instrument", "fgs", "--output-dir", str(tmp_path)], stdout=err, stderr=err) == 1
    assert "fgs" in err.getvalue() and "miri" in err.getvalue()


def test_niriss_demo(embedded_crds_cache, tmp_path):
    text, rates = _demo("niriss", tmp_path)
    assert "NIRISS NIS SUB80 NISRAPID" in text
    # Detector1 only: no association, no Image3 products, no picture
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".json", ".png", ".ecsv")]
    (rate,) = rates
    from builtin_steps.refdata.ramps import scene, star_field
    from builtin_steps.refdata.detector import DetectorTruth

    # The frame time of SUB80 is 75 ms: the sky (0.75 DN/s) adds 0.6 DN over the ramp,
    # and the subarray's reference-pixel means (a few hundred pixels per group) add a
    # common offset per group, so the sky level is known to ~1 DN/s only; the stars
    # check the gain and the non-linearity.
    expected = scene(star_field(np.random.default_rng(20240915), 80), (80, 80), 0.0, 0.0)
    expected = expected / DetectorTruth("NIRISS", "NIS", slice(0, 80), slice(0, 80)).gain
    _check(rate, _NIR_STEPS, (80, 80), float(np.median(expected[:, 4:-4])), 2.5, 4)
    from pipeline_core.datamodels import open_model

    measured = open_model(str(rate)).data
    stars = (expected > 200) & (expected < 5000) & np.isfinite(measured)
    stars[:4] = stars[:, :4] = stars[:, -4:] = False
    assert stars.sum() > 20
    assert abs(np.median(measured[stars] / expected[stars]) - 1) < 0.03


def test_miri_demo(embedded_crds_cache, tmp_path):
    text, rates = _demo("miri", tmp_path)
    assert "MIRI MIRIMAGE FULL FASTR1" in text
    (rate,) = rates
    assert (tmp_path / rate.name.replace("_rate", "_rateints")).is_file()
    # thermal sky of 180 e-/s over a gain of 5.5 e-/DN; reference columns excluded
    _check(rate, _MIRI_STEPS, (1024, 1032), 180 / 5.5, 1.5, 4)


@pytest.mark.slow
def test_nirspec_irs2_demo(embedded_crds_cache, tmp_path):
    from pipeline_core.datamodels import open_model

    text, rates = _demo("nirspec", tmp_path)
    assert "NIRSPEC NRS1 FULL NRSIRS2RAPID" in text
    uncal = open_model(str(next(tmp_path.glob("*_uncal.fits"))), lazy=True)
    assert uncal.shape == (1, 3, 3200, 2048)
    (rate,) = rates
    # the interleaved reference pixels are gone after refpix: 2048 x 2048
    _check(rate, _NIR_STEPS, (2048, 2048), 0.75, 0.3, 4)
