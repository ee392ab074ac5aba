"""Registering the steps of stpipe packages: listing, names, precedence, isolation.

These tests read the installed ``stpipe.steps`` entry points (jwst 3.0 when it is
installed) and never import jwst itself, except where a test resolves a class.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from pipeline_core.bridge import discovery
from pipeline_core.plugins.manager import PluginWarning, Registry, registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
jwst_installed = pytest.mark.skipif(
    not discovery._top_level_importable("jwst"), reason="jwst is not installed"
)


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )


@jwst_installed
def test_jwst_steps_are_registered_in_jwsts_name():
    descs = {d.class_path: d for d in registry().descriptors()}
    wcs = descs["pipeline_core.bridge.adapters.jwst.step.AssignWcsStep"]
    assert (wcs.alias, wcs.distribution, wcs.version) == ("assign_wcs", "jwst", "3.0.0")
    assert wcs.legacy_class_paths == (
        "jwst.step.AssignWcsStep", "jwst.assign_wcs.assign_wcs_step.AssignWcsStep"
    )
    image2 = descs["pipeline_core.bridge.adapters.jwst.pipeline.Image2Pipeline"]
    assert image2.is_pipeline and image2.alias == "calwebb_image2"
    # an stpipe alias that is not an identifier is left out; the class paths still name it
    wfs = descs["pipeline_core.bridge.adapters.jwst.step.WfsCombineStep"]
    assert wfs.alias is None and "jwst.step.WfsCombineStep" in wfs.names()
    assert registry().conflicts() == []


@jwst_installed
def test_steppe_wins_plain_names_and_dist_prefix_selects_jwst():
    reg = registry()
    ours = reg.resolve("jump")
    assert ours.__module__ == "builtin_steps.jump.step"
    for name in ("jwst.jump.jump_step.JumpStep", "jwst.step.JumpStep"):
        assert reg.resolve(name) is ours
    theirs = reg.resolve("jwst::jump")
    assert theirs.class_path() == "pipeline_core.bridge.adapters.jwst.step.JumpStep"
    assert reg.resolve("jwst::jwst.jump.jump_step.JumpStep") is theirs
    assert reg.resolve("calwebb_detector1").__module__ == "builtin_steps.pipelines.detector1"
    assert reg.resolve("jwst::calwebb_detector1").stpipe_class.__name__ == "Detector1Pipeline"
    # steps steppe does not provide resolve by alias and by both class paths
    contam = reg.resolve("wfss_contam")
    assert reg.resolve("jwst.wfss_contam.wfss_contam_step.WfssContamStep") is contam
    assert reg.resolve("jwst.step.WfssContamStep") is contam
    # steppe's own Image2 steps win over jwst's; jwst's are named with jwst::
    assert reg.resolve("assign_wcs").__module__ == "builtin_steps.assign_wcs.step"
    assert reg.resolve("jwst::assign_wcs").stpipe_class.__name__ == "AssignWcsStep"


@jwst_installed
def test_steppe_list_shows_jwst_steps_steppe_does_not_provide():
    from pipeline_core.cli.main import run_cli

    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["list"], stdout=out, stderr=err) == 0
    rows = {line.split()[0]: line for line in out.getvalue().splitlines() if line.strip()}
    assert "jwst 3.0.0" in rows["wfss_contam"] and "jwst 3.0.0" in rows["calwebb_spec2"]
    assert "steppe" in rows["assign_wcs"] and "jwst" not in rows["assign_wcs"]
    assert "steppe" in rows["jump"] and "jwst" not in rows["jump"]
    assert "jwst's are run as 'jwst::NAME'" in out.getvalue()
    assert "pip install steppe[jwst]" not in out.getvalue()
    assert err.getvalue() == ""


@jwst_installed
def test_listing_imports_nothing_of_jwst():
    result = _run_python(
        """
        import io, sys
        from pipeline_core.cli.main import run_cli
        assert run_cli(["list"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("jwst", "stpipe", "stcal")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_jwst_nothing_is_imported_and_list_says_how_to_enable():
    result = _run_python(
        """
        import io, sys
        sys.modules["jwst"] = None
        sys.modules["stpipe"] = None
        from pipeline_core.cli.main import run_cli
        out, err = io.StringIO(), io.StringIO()
        assert run_cli(["list"], stdout=out, stderr=err) == 0, err.getvalue()
        print(out.getvalue())
        print("ERR:", err.getvalue())
        from pipeline_core import registry
        assert registry().resolve("jump").__module__ == "builtin_steps.jump.step"
        assert not any(d.distribution == "jwst" for d in registry().descriptors())
        print("IMPORTED:", sorted(m for m in sys.modules if m.split(".")[0] in ("jwst", "stpipe")
                                  and sys.modules[m] is not None))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "pip install steppe[jwst]" in result.stdout
    assert "ERR: \n" in result.stdout
    assert "IMPORTED: []" in result.stdout
    assert "PluginWarning" not in result.stderr


BROKEN_DIST = "broken-stpipe-pkg"


@pytest.fixture
def broken_stpipe_package(tmp_path, monkeypatch):
    """An installed distribution whose ``stpipe.steps`` entry point raises."""
    package = tmp_path / "broken_stpipe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "integration.py").write_text(
        "def get_steps():\n    raise RuntimeError('this package is broken')\n"
    )
    info = tmp_path / "broken_stpipe_pkg-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {BROKEN_DIST}\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(
        "[stpipe.steps]\nbroken = broken_stpipe_pkg.integration:get_steps\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    discovery.clear_cache()


def test_a_broken_stpipe_package_is_one_warning(broken_stpipe_package):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        descs = Registry().descriptors()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 1, messages
    assert f"{BROKEN_DIST}==1.2" in messages[0] and "this package is broken" in messages[0]
    assert any(d.alias == "jump" for d in descs)  # steppe's own steps are untouched
    if discovery._top_level_importable("jwst"):
        assert any(d.distribution == "jwst" for d in descs)  # the other package still works


def test_reexported_class_paths_are_found_where_they_are_defined(tmp_path):
    module = tmp_path / "pkg" / "step.py"
    module.parent.mkdir()
    module.write_text("from .sub.thing_step import ThingStep\nfrom pkg.other import Other as Alias\n")
    found = discovery._imports_of(str(module), "pkg.step", False)
    assert found == {"ThingStep": "pkg.sub.thing_step", "Alias": "pkg.other"}
