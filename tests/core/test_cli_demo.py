"""``steppe demo``: the stages a plugin's ``prepare_demo`` answer names, run by the core."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from pipeline_core import Step, hookimpl
from pipeline_core.cli.demo import DemoStage, demo_plan, write_association
from pipeline_core.cli.main import run_cli
from pipeline_core.datamodels import ImageModel, open_model
from pipeline_core.errors import PluginError


class DemoAddStep(Step):
    """Add a constant (runs on each input)."""

    class_alias = "demo_add"
    spec = "value = float(default=1.0)  # added to every pixel"

    def process(self, input):
        input.data = input.data + self.value
        return input


class DemoTimesStep(Step):
    """Multiply by a factor (runs on each input)."""

    class_alias = "demo_times"
    spec = "factor = float(default=3.0)  # multiplier"

    def process(self, input):
        input.data = input.data * self.factor
        return input


class DemoMeanStep(Step):
    """Average the members of an association (runs once, on the association)."""

    class_alias = "demo_mean"
    spec = "threshold = float(default=0.0)  # pixels above it go in the catalog"

    def process(self, input):
        with open(input, encoding="utf-8") as handle:
            tree = json.load(handle)
        (product,) = tree["products"]
        folder = os.path.dirname(os.path.abspath(input))
        images = [open_model(os.path.join(folder, m["expname"])).data for m in product["members"]]
        mean = ImageModel(data=np.mean(images, axis=0).astype(np.float32))
        y, x = np.nonzero(mean.data > self.threshold)
        Table({"xcentroid": x.astype(float), "ycentroid": y.astype(float)}).write(
            os.path.join(self.output_dir, f"{product['name']}_cat.ecsv"), format="ascii.ecsv")
        mean.meta.filename = f"{product['name']}_mean.fits"
        self.output_use_model = True
        return mean


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def demo_steps(empty_registry, register_steps):
    register_steps(DemoAddStep, DemoTimesStep, DemoMeanStep, distribution="steppe-demo-test")
    return empty_registry


def _plugin(answer_for):
    class Demo:
        @hookimpl
        def prepare_demo(self, directory):
            return answer_for(Path(directory))

    return Demo()


def _exposures(folder: Path, count: int = 3) -> list[str]:
    paths = []
    for index in range(count):
        model = ImageModel(data=np.zeros((8, 10), np.float32))
        model.data[2, 3 + index] = 10.0  # one bright pixel per exposure, in different places
        path = folder / f"jw09999001001_01101_{index + 1:05d}_nrca1_rate.fits"
        model.save(str(path))
        paths.append(str(path))
    return paths


def test_a_combining_stage_runs_once_on_an_association_of_the_products(demo_steps, tmp_path):
    answer = lambda folder: {  # noqa: E731
        "pipeline": "demo_add",
        "inputs": _exposures(folder),
        "then": [{"pipeline": "demo_mean", "combine": "jw09999-o001_t001_demo",
                  "parameters": {"threshold": 2.0}, "show": "cat.ecsv"}],
    }
    demo_steps.register_plugin(_plugin(answer), distribution="steppe-demo-plugin")
    folder = tmp_path / "demo"
    status, out, err = cli("demo", "--output-dir", str(folder))
    assert status == 0, err
    asn = folder / "jw09999-o001_t001_demo_asn.json"
    tree = json.loads(asn.read_text())
    assert tree["asn_type"] == "image3"
    assert [m["expname"] for m in tree["products"][0]["members"]] == [
        f"jw09999001001_01101_{n:05d}_nrca1_demo_add.fits" for n in (1, 2, 3)
    ]
    mosaic = folder / "jw09999-o001_t001_demo_mean.fits"
    # each exposure got 1 added, then the three were averaged: 1 + 10/3 at the bright pixels
    np.testing.assert_allclose(open_model(str(mosaic)).data[2, 3:6], 1.0 + 10.0 / 3.0, rtol=1e-6)
    lines = out.splitlines()
    assert lines.count(f"steppe demo: running demo_mean on {asn}") == 1
    assert f"steppe demo: wrote the association {asn} (3 members)" in lines
    picture = folder / "jw09999-o001_t001_demo_mean.png"
    assert f"steppe demo: wrote {picture}" in lines
    assert lines[-3:] == [
        f"steppe demo: demo_mean made {mosaic}",
        f"steppe demo: its catalog {folder / 'jw09999-o001_t001_demo_cat.ecsv'} (3 sources)",
        f"steppe demo: quick-look {picture} (image, 3 sources circled; steppe show --open to view it)",
    ]


def test_a_catalog_the_stage_did_not_write_leaves_the_picture_plain(demo_steps, tmp_path):
    answer = lambda folder: {"pipeline": "demo_add", "inputs": _exposures(folder, 1),  # noqa: E731
                             "then": [{"pipeline": "demo_times", "show": "cat.ecsv"}]}
    demo_steps.register_plugin(_plugin(answer), distribution="steppe-demo-plugin")
    status, out, err = cli("demo", "--output-dir", str(tmp_path))
    assert status == 0, err
    picture = tmp_path / "jw09999001001_01101_00001_nrca1_demo_times.png"
    assert out.splitlines()[-2:] == [
        f"steppe demo: demo_times made {tmp_path / 'jw09999001001_01101_00001_nrca1_demo_times.fits'}",
        f"steppe demo: quick-look {picture} (image; steppe show --open to view it)",
    ]


def test_a_stage_without_show_draws_nothing(demo_steps, tmp_path):
    answer = lambda folder: {"pipeline": "demo_add", "inputs": _exposures(folder, 1),  # noqa: E731
                             "then": ["demo_times"]}
    demo_steps.register_plugin(_plugin(answer), distribution="steppe-demo-plugin")
    status, out, err = cli("demo", "--output-dir", str(tmp_path))
    assert status == 0, err
    product = tmp_path / "jw09999001001_01101_00001_nrca1_demo_times.fits"
    np.testing.assert_allclose(open_model(str(product)).data[0, 0], 3.0)  # (0 + 1) x 3: in turn
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.json"))
    assert "made" not in out


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"inputs": ["a.fits"]}, "no 'pipeline' name"),
        ({"pipeline": "x"}, "no 'inputs' list"),
        ({"pipeline": "x", "inputs": ["a"], "then": "y"}, "'then' is not a list"),
        ({"pipeline": "x", "inputs": ["a"], "then": [3]}, "the stage 3 is neither a name nor a dict"),
        ({"pipeline": "x", "inputs": ["a"], "then": [{"pipeline": "y", "combin": "p"}]},
         "unknown key(s) ['combin']"),
        ({"pipeline": "x", "inputs": ["a"], "then": [{"pipeline": "y", "combine": "a/b"}]},
         "'combine' of the stage 'y' is 'a/b', not a product name"),
        ({"pipeline": "x", "inputs": ["a"], "then": [{"pipeline": "y", "parameters": [1]}]},
         "'parameters' of the stage 'y' is [1], not a dict"),
        ({"pipeline": "x", "inputs": ["a"], "then": [{"pipeline": "y", "show": 1}]},
         "'show' of the stage 'y' is 1, not a bool or a suffix"),
    ],
)
def test_malformed_answers_are_refused(answer, problem):
    with pytest.raises(PluginError) as caught:
        demo_plan(answer)
    assert problem in str(caught.value)
    assert "it must return a dict with 'pipeline'" in str(caught.value)


def test_plan_of_a_well_formed_answer():
    plan = demo_plan({"pipeline": "a", "inputs": ["x.fits"], "description": "d",
                      "then": ["b", {"pipeline": "c", "combine": "p", "show": True}]})
    assert plan.inputs == ["x.fits"] and plan.description == "d"
    assert plan.stages == [DemoStage("a"), DemoStage("b"), DemoStage("c", combine="p", show=True)]


def test_the_association_names_members_relative_to_its_folder(tmp_path):
    inside = tmp_path / "jw_1_cal.fits"
    elsewhere = tmp_path / "sub" / "jw_2_cal.fits"
    path = write_association(tmp_path / "p_asn.json", "p", [str(inside), str(elsewhere)])
    tree = json.loads(Path(path).read_text())
    assert tree["products"] == [{"name": "p", "members": [
        {"expname": "jw_1_cal.fits", "exptype": "science", "exposerr": None},
        {"expname": str(elsewhere), "exptype": "science", "exposerr": None},
    ]}]
    assert not [p for p in tmp_path.iterdir() if p.name != "p_asn.json"]  # no temporary file left
