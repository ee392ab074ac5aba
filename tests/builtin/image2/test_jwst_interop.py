"""The cal and i2d products open in JWST's stdatamodels with a usable WCS.

Runs only when ``STEPPE_JWST_PYTHON`` names the interpreter of an environment
with the JWST pipeline (stdatamodels, gwcs): a small script run with it opens
the products and evaluates their WCS.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from builtin_steps.pipelines import Image2Pipeline
from tests.builtin.image2._rates import make_rate

JWST_PYTHON = os.environ.get("STEPPE_JWST_PYTHON")

pytestmark = pytest.mark.skipif(not JWST_PYTHON, reason="STEPPE_JWST_PYTHON is not set")

SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
from stdatamodels.jwst import datamodels
out = {}
for path in sys.argv[1:]:
    with datamodels.open(path) as model:
        ra, dec = model.meta.wcs(10.0, 20.0)
        out[path] = {
            "type": type(model).__name__,
            "shape": list(model.data.shape),
            "wcs": [float(ra), float(dec)],
            "frames": list(model.meta.wcs.available_frames),
            "con": list(model.con.shape) if model.con is not None and model.con.size else None,
            "wht": list(model.wht.shape) if model.wht is not None and model.wht.size else None,
            "bunit": model.meta.bunit_data,
            "photmjsr": model.meta.photometry.conversion_megajanskys,
            "s_region": model.meta.wcsinfo.s_region,
        }
print(json.dumps(out))
"""


def test_products_open_in_stdatamodels_with_their_wcs(crds_env, tmp_path):
    path = make_rate("nircam160").save(tmp_path / "jw05_nrca1_rate.fits")
    (cal,) = Image2Pipeline.call(path, save_results=True, output_dir=str(tmp_path))
    cal_path, i2d_path = str(tmp_path / "jw05_nrca1_cal.fits"), str(tmp_path / "jw05_nrca1_i2d.fits")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run([JWST_PYTHON, "-c", SCRIPT, cal_path, i2d_path], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen[cal_path]["type"] == "ImageModel" and seen[cal_path]["shape"] == [160, 160]
    assert seen[cal_path]["frames"] == ["detector", "v2v3", "v2v3vacorr", "world"]
    np.testing.assert_allclose(seen[cal_path]["wcs"], cal.meta.wcs(10.0, 20.0), rtol=0, atol=1e-10)
    assert seen[cal_path]["bunit"] == "MJy/sr" and seen[cal_path]["photmjsr"] == pytest.approx(0.2)
    assert seen[cal_path]["s_region"] == cal.meta.wcsinfo.s_region
    i2d = seen[i2d_path]
    assert i2d["type"] == "ImageModel" and i2d["wht"] == i2d["shape"] and i2d["con"] == [1, *i2d["shape"]]
    from pipeline_core.datamodels import open_model

    np.testing.assert_allclose(i2d["wcs"], open_model(i2d_path).meta.wcs(10.0, 20.0), rtol=0, atol=1e-10)
