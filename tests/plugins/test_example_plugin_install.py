"""The example plugin, really installed with pip, seen and run by steppe.

``plugins_example/`` is built and installed with pip into a temporary folder (not
into the interpreter's site-packages, so the rest of the suite is unaffected), then
``steppe`` runs in subprocesses with that folder on ``PYTHONPATH``, exactly as it
would for a user who installed the plugin.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCE = ROOT / "plugins_example"

pytestmark = [pytest.mark.plugin_install, pytest.mark.slow]


def _can_build_without_isolation() -> bool:
    """Whether the interpreter has what setuptools needs to build a wheel by itself."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    from importlib.metadata import version

    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1)  # bdist_wheel moved into setuptools in 70.1


@pytest.fixture(scope="module")
def installed_folder(tmp_path_factory) -> Path:
    """Install plugins_example with pip into a temporary folder; return the folder."""
    target = tmp_path_factory.mktemp("site-steppe-example")
    # pip builds in the source folder (build/, *.egg-info): build from a copy instead.
    source = tmp_path_factory.mktemp("src") / "plugins_example"
    shutil.copytree(PLUGIN_SOURCE, source, ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info", "build", ".pytest_cache"))
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--target", str(target), str(source)]
    if _can_build_without_isolation():
        command.insert(5, "--no-build-isolation")
    env = dict(os.environ, PIP_NO_CACHE_DIR="1", PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env,
                            cwd=tmp_path_factory.getbasetemp())
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    assert (target / "steppe_example" / "pipelines" / "detector1_dq_summary.asdf").is_file()
    return target


@pytest.fixture
def installed_plugin(installed_folder, crds_env) -> dict[str, str]:
    """The environment of a process that sees the installed plugin and the test CRDS cache."""
    path = os.pathsep.join(filter(None, [str(installed_folder), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")


def steppe(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from pipeline_core.cli.main import main; main()", *args],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def test_steppe_list_shows_the_installed_plugin(installed_plugin):
    result = steppe(installed_plugin, "list", "ramp_dq*")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (row,) = result.stdout.splitlines()[1:]
    assert row.split() == [
        "ramp_dq_summary", "steppe_example.step.RampDQSummaryStep", "steppe-example-plugin", "0.1.0", "no"
    ]


def test_the_installed_step_runs_from_the_command_line(installed_plugin, tmp_path, make_ramp_model):
    from pipeline_core.datamodels import dqflags

    ramp = make_ramp_model(nints=2, ngroups=4, ny=8, nx=8)
    ramp.groupdq[0, 2, 1, 1] = dqflags.group["JUMP_DET"]
    ramp.groupdq[1, 1:, 3, 3] = dqflags.group["SATURATED"]
    source = tmp_path / "jw09999001001_01101_00001_nrca3_jump.fits"
    ramp.save(str(source))
    result = steppe(installed_plugin, "run", "steppe-example-plugin::ramp_dq_summary", str(source),
                    "--save_table=true", "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "out" / "jw09999001001_01101_00001_nrca3_dqsummary.ecsv").read_text()
    rows = [line.split() for line in table.splitlines() if not line.startswith("#")]
    assert rows[0][:4] == ["integration", "jump_pixels", "jump_fraction", "jumps"]
    assert [row[3] for row in rows[1:]] == ["1", "0"]
    assert (tmp_path / "out" / "jw09999001001_01101_00001_nrca3_ramp_dq_summary.fits").is_file()


def test_the_plugin_own_tests_pass_against_the_installed_package(installed_plugin, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN_SOURCE / "tests")],
        capture_output=True, text=True, timeout=300, env=installed_plugin, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.mark.slow
def test_the_shipped_pipeline_runs_on_a_jwst_ramp(installed_plugin, tmp_path, sample_files):
    locate = subprocess.run(
        [sys.executable, "-m", "steppe_example.pipelines"],
        capture_output=True, text=True, timeout=60, env=installed_plugin,
    )
    pipeline_file = locate.stdout.strip()
    assert pipeline_file.endswith("detector1_dq_summary.asdf"), locate.stderr
    result = steppe(installed_plugin, "run", pipeline_file, str(sample_files["uncal_level1b"]),
                    "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    products = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert any(name.endswith("_dqsummary.ecsv") for name in products), products
    assert any(name.endswith(".fits") for name in products), products
    from pipeline_core.datamodels import open_model

    for fits in (tmp_path / "out").glob("*.fits"):
        with open_model(str(fits)) as product:
            assert product.meta.cal_step.jump == "COMPLETE"
            assert product.meta.cal_step.ramp_dq_summary == "COMPLETE"
            assert np.isfinite(product.data).any()
