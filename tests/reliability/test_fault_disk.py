"""A full disk or a read-only output folder: a clear error, and no partial file anywhere.

The folders are real: a read-only tmpfs (or, for a user other than root, a folder
without write permission), and a 64 kB tmpfs that a product does not fit in. The
tests skip where such a file system cannot be mounted.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from pipeline_core.cli.main import run_cli
from pipeline_core.errors import StepError
from tests.reliability._steps import FillStep, digest, product_value, write_image


def _mount_tmpfs(folder: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, timeout=30
    )
    return done.returncode == 0


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)
    if os.path.ismount(folder):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody can write to: a read-only tmpfs as root, mode 0555 otherwise."""
    folder = tmp_path / "read-only"
    if os.geteuid() == 0:
        if not _mount_tmpfs(folder, "ro,size=64k"):
            pytest.skip("cannot mount a read-only tmpfs here")
        yield folder
        _unmount(folder)
    else:
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
        yield folder
        folder.chmod(stat.S_IRWXU)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 kB tmpfs: a 128 x 128 product (about 200 kB) does not fit."""
    folder = tmp_path / "tiny"
    if not _mount_tmpfs(folder, "size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield folder
    _unmount(folder)


@pytest.fixture(autouse=True)
def _no_crds_parameter_files(monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")


def test_read_only_output_folder_is_a_clear_error(tmp_path, read_only_dir):
    inp = write_image(tmp_path / "jw_ro_uncal.fits", value=5.0)
    before = digest(inp)
    with pytest.raises(StepError) as info:
        FillStep.call(str(inp), save_results=True, output_dir=str(read_only_dir))
    message = str(info.value)
    assert message.startswith("step 'fill_value': ")
    assert str(read_only_dir) in message
    assert "Read-only file system" in message or "Permission denied" in message
    assert "output_dir" in message and "writable" in message  # the remedies
    assert os.listdir(read_only_dir) == []
    assert digest(inp) == before


def test_read_only_output_folder_from_the_command_line(tmp_path, read_only_dir, register_steps, empty_registry):
    register_steps(FillStep, distribution="fault-tests", version="1.0")
    inp = write_image(tmp_path / "jw_ro_uncal.fits", value=5.0)
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(["run", "fill_value", str(inp), "--output-dir", str(read_only_dir)], stdout=out, stderr=err)
    assert status == 1
    (line,) = err.getvalue().splitlines()
    assert line.startswith("steppe: error: step 'fill_value': ")
    assert str(read_only_dir) in line and "output_dir" in line
    assert os.listdir(read_only_dir) == []


def test_full_disk_leaves_no_partial_product_and_keeps_the_previous_one(tmp_path, tiny_disk):
    inp = write_image(tmp_path / "jw_full_uncal.fits", value=5.0, shape=(128, 128))
    before = digest(inp)
    # a previous, small product of the same name fits on the disk
    (tmp_path / "small").mkdir()
    small = write_image(tmp_path / "small" / "jw_full_uncal.fits", value=1.0, shape=(4, 4))
    FillStep.call(str(small), save_results=True, output_dir=str(tiny_disk), value=1.0)
    product = tiny_disk / "jw_full_filled.fits"
    previous = digest(product)
    with pytest.raises(StepError) as info:
        FillStep.call(str(inp), save_results=True, output_dir=str(tiny_disk), value=2.0)
    message = str(info.value)
    assert message.startswith(f"step 'fill_value': cannot write the product '{product}': ")
    assert "the disk is full (" in message
    assert "a file already at that name is unchanged" in message
    assert f"free space on the disk of '{tiny_disk}' or choose another output_dir" in message
    assert sorted(os.listdir(tiny_disk)) == ["jw_full_filled.fits"]  # no temporary left
    assert digest(product) == previous and product_value(product) == 1.0
    assert digest(inp) == before
