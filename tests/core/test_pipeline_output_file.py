"""``output_file`` saves a pipeline's products: Detector1 on the embedded demo data."""

from __future__ import annotations

import pytest

from pipeline_core import registry


@pytest.fixture
def demo_uncal(crds_env, tmp_path, monkeypatch):
    from builtin_steps.refdata.demo import prepare_demo

    monkeypatch.chdir(tmp_path)
    return prepare_demo(str(tmp_path / "demo"))["inputs"][0]


def test_output_file_alone_writes_rate_and_rateints(demo_uncal, tmp_path):
    detector1 = registry().resolve("calwebb_detector1")
    rate = detector1.call(demo_uncal, output_file="final", steps={"jump": {"maximum_cores": "none"}})
    assert sorted(p.name for p in tmp_path.glob("*.fits")) == ["final_rate.fits", "final_rateints.fits"]
    from pipeline_core.datamodels import open_model

    saved = open_model(str(tmp_path / "final_rate.fits"))
    assert saved.data.shape == rate.data.shape
    assert saved.meta.cal_step.ramp_fit == "COMPLETE"
