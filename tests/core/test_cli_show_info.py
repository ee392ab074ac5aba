"""``steppe show`` (a quick-look PNG) and ``steppe info`` (what made a product)."""

from __future__ import annotations

import io
import os
import stat
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

from pipeline_core.cli.info import describe_product
from pipeline_core.cli.main import run_cli
from pipeline_core.cli.show import (
    QuickLook,
    default_picture_path,
    open_picture,
    quicklook_plane,
    render_quicklook,
)
from pipeline_core.datamodels import CubeModel, ImageModel, RampModel, open_model
from tests.fixtures.core import TwoStepPipeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _image(path: Path, bad: list[tuple[int, int]], shape=(40, 50)) -> Path:
    rng = np.random.default_rng(1)
    model = ImageModel(shape)
    model.data[...] = rng.normal(10.0, 1.0, shape).astype(np.float32)
    for y, x in bad:
        model.dq[y, x] = 1 | 4  # DO_NOT_USE + JUMP_DET
    model.dq[0, 0] = 4  # flagged, but not DO_NOT_USE
    model.meta.bunit_data = "DN/s"
    model.save(str(path))
    return path


def _magenta_pixels(png: Path) -> int:
    from matplotlib.image import imread

    rgb = imread(str(png))[..., :3]
    return int(np.count_nonzero((rgb[..., 0] > 0.95) & (rgb[..., 1] < 0.05) & (rgb[..., 2] > 0.95)))


def test_an_image_with_do_not_use_pixels(tmp_path):
    product = _image(tmp_path / "jw_x_rate.fits", bad=[(5, 5), (6, 7), (30, 40)])
    picture = render_quicklook(product)
    assert picture == QuickLook(
        path=str(tmp_path / "jw_x_rate.png"), plane="image", shape=(40, 50), bad_pixels=3,
        limits=picture.limits, wcs=False,
    )
    low, high = picture.limits
    assert 5.0 < low < 10.0 < high < 15.0  # zscale around the noise
    data = Path(picture.path).read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert _magenta_pixels(Path(picture.path)) > 20  # the three pixels, drawn large, and the legend


def test_no_magenta_without_do_not_use_pixels(tmp_path):
    picture = render_quicklook(_image(tmp_path / "jw_x_rate.fits", bad=[]), tmp_path / "x.png")
    assert picture.bad_pixels == 0
    magenta_legend_only = _magenta_pixels(Path(picture.path))
    with_bad = render_quicklook(_image(tmp_path / "jw_y_rate.fits", bad=[(20, 20)]), tmp_path / "y.png")
    assert _magenta_pixels(Path(with_bad.path)) > magenta_legend_only


def test_a_celestial_wcs_gives_sky_axes(tmp_path):
    product = _image(tmp_path / "jw_x_cal.fits", bad=[])
    with fits.open(product, mode="update") as hdus:
        header = hdus["SCI"].header
        header.update(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRVAL1=80.5, CRVAL2=-69.5, CRPIX1=25.0,
                      CRPIX2=20.0, CDELT1=-8.7e-6, CDELT2=8.7e-6, CUNIT1="deg", CUNIT2="deg")
    assert render_quicklook(product).wcs is True


def test_a_ramp_shows_the_last_group_of_the_first_integration(tmp_path):
    ramp = RampModel(data=np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5))
    ramp.pixeldq[0, 0] = 1
    ramp.groupdq[0, 2, 1, 1] = 1  # last group of integration 1: shown as DO_NOT_USE
    ramp.groupdq[0, 1, 2, 2] = 1  # an earlier group: not
    ramp.groupdq[1, 2, 3, 3] = 1  # another integration: not
    path = tmp_path / "jw_x_uncal.fits"
    ramp.save(str(path))
    with open_model(str(path), lazy=True) as model:
        image, bad, plane = quicklook_plane(model)
    np.testing.assert_array_equal(image, ramp.data[0, 2])
    assert plane == "integration 1, group 3 of 3"
    assert sorted(zip(*np.nonzero(bad))) == [(0, 0), (1, 1)]


def test_a_cube_shows_its_first_plane(tmp_path):
    cube = CubeModel((3, 4, 5))
    cube.data[...] = np.arange(3, dtype=np.float32)[:, None, None]
    cube.dq[0, 1, 2] = 1
    cube.dq[1, 3, 3] = 1
    path = tmp_path / "jw_x_rateints.fits"
    cube.save(str(path))
    status, out, err = cli("show", str(path), "-o", str(tmp_path / "cube.png"))
    assert status == 0, err
    assert out == (f"steppe show: wrote {tmp_path / 'cube.png'} (integration 1 of 3, 5x4, "
                   "pixel axes (no WCS), 1 DO_NOT_USE pixel(s))\n")
    with open_model(str(path), lazy=True) as model:
        image, bad, _ = quicklook_plane(model)
    assert np.all(image == 0.0) and bad.sum() == 1 and bad[1, 2]


def test_default_picture_path():
    assert default_picture_path("out/jw01_nrca1_rate.fits") == "out/jw01_nrca1_rate.png"
    assert default_picture_path("jw01_rate.fits.gz") == "jw01_rate.png"


def test_show_errors_name_the_file_and_the_remedy(tmp_path):
    status, _, err = cli("show", str(tmp_path / "missing.fits"))
    assert status == 1
    assert err == (f"steppe: error: Cannot open '{tmp_path / 'missing.fits'}': no such file. Check the "
                   "path and the working directory.\n")
    product = _image(tmp_path / "jw_x_rate.fits", bad=[])
    folder = tmp_path / "locked"
    folder.mkdir()
    target = folder / "x.png"
    if os.geteuid() == 0:
        target.mkdir()  # a folder where the picture should go: cannot be replaced by a file
    else:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        status, _, err = cli("show", str(product), "-o", str(target))
    finally:
        folder.chmod(stat.S_IRWXU)
    assert status == 1
    assert err.startswith(f"steppe: error: cannot write the picture '{target}': ")
    assert err.endswith(f"; choose another file with -o, or make the folder '{folder}' writable\n")


def test_open_without_a_display_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    product = _image(tmp_path / "jw_x_rate.fits", bad=[])
    status, out, err = cli("show", str(product), "--open")
    assert status == 0
    assert out.startswith(f"steppe show: wrote {tmp_path / 'jw_x_rate.png'} (image")
    assert err == (f"steppe show: no picture viewer is available here (no display); open "
                   f"{tmp_path / 'jw_x_rate.png'} yourself\n")


def test_open_hands_the_picture_to_xdg_open(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "opened.txt"
    opener = bin_dir / "xdg-open"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > {record}\n")
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr("sys.platform", "linux")
    picture = tmp_path / "pic.png"
    picture.write_bytes(PNG_MAGIC)
    assert open_picture(picture) == "xdg-open"
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert record.read_text().strip() == str(picture)


def test_info_of_a_steppe_product(tmp_path, core_steps, monkeypatch):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    model = ImageModel((3, 3))
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.type = "NRC_IMAGE"
    source = tmp_path / "jw_info_uncal.fits"
    model.save(str(source))
    TwoStepPipeline.call(str(source), save_results=True, output_dir=str(tmp_path),
                         steps={"scale": {"factor": 3.0}})
    text = describe_product(tmp_path / "jw_info_twostep.fits")
    lines = text.splitlines()
    assert lines[:3] == [
        f"file      {tmp_path / 'jw_info_twostep.fits'}",
        "model     ImageModel 3x3",
        "exposure  NIRCAM NRCA1 NRC_IMAGE",
    ]
    assert lines[4].startswith("software  steppe ")
    assert lines[5] == "ran       two_step (tests.fixtures.core.TwoStepPipeline)"
    assert "steps (meta.cal_step)\n  add    COMPLETE\n  scale  COMPLETE\n" in text
    assert "    scale (tests.fixtures.core.ScaleStep)\n      factor=3.0, mode='multiply'\n" in text
    assert "    add (tests.fixtures.core.AddStep)\n      value=1.0\n" in text
    status, out, _ = cli("info", str(tmp_path / "jw_info_twostep.fits"))
    assert status == 0 and out == text


def test_info_of_a_jwst_pipeline_product(sample_files):
    text = describe_product(sample_files["rate"])
    assert "software  jwst 3.0.0 (no meta.steppe block)" in text
    assert "ran       -" in text
    assert "  context     jwst_0000.pmap (crds 14.0.3)" in text
    assert "  superbias   jwst_nircam_superbias_nrca3_sub64p_synth.fits" in text
    assert "  ramp_fit             COMPLETE" in text
    assert "parameters (meta.steppe.parameters" not in text
