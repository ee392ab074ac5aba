"""Fixtures of the Image3 tests: the CRDS set, the dithered exposures and one run of the stage.

Everything here is built once per test session and shared by the folder's
tests: the cal images of :mod:`tests.builtin.image3._scenes` (with their truth)
and the products of one ``calwebb_image3`` run on their association.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.builtin.image3._scenes import PRODUCT, make_cals


@pytest.fixture(scope="session")
def image3_crds(embedded_crds_cache):
    """Point crds at the embedded reference set for the whole folder."""
    from pipeline_core.references import crds_client

    old = {k: os.environ.get(k) for k in ("CRDS_PATH", "CRDS_SERVER_URL")}
    os.environ["CRDS_PATH"], os.environ["CRDS_SERVER_URL"] = embedded_crds_cache, crds_client.SERVERLESS_URL
    crds_client.reset()
    yield embedded_crds_cache
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    crds_client.reset()


@pytest.fixture(scope="session")
def cals(image3_crds):
    """Three dithered cal images and their truth (do not modify: copy)."""
    return make_cals(3)


@pytest.fixture(scope="session")
def stage(cals, tmp_path_factory):
    """Run ``calwebb_image3`` once on the cal images' association; return the output folder."""
    from builtin_steps.pipelines.image3 import Image3Pipeline

    folder = tmp_path_factory.mktemp("image3")
    members = []
    for model in cals[0]:
        model.save(str(folder / model.meta.filename))
        members.append({"expname": model.meta.filename, "exptype": "science"})
    asn = folder / "test_asn.json"
    asn.write_text(json.dumps({"asn_type": "image3", "asn_pool": "pool", "products": [
        {"name": PRODUCT, "members": members}]}))
    out = folder / "out"
    out.mkdir()
    # in memory: the on-disk library of each step is tested in test_image3_memory.py
    mosaic = Image3Pipeline.call(str(asn), save_results=True, output_dir=str(out), in_memory=True,
                                 steps={"tweakreg": {"separation": 0.3, "minobj": 8}})
    return Path(out), mosaic
