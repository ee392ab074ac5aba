"""Plugin discovery through entry points, with fake distributions (nothing is installed).

Tier ii replaces ``importlib_metadata.distributions`` with in-memory distributions;
tier iii writes real ``.dist-info`` folders under ``tmp_path``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import importlib_metadata
import pytest

from pipeline_core import hookimpl
from pipeline_core._version import steppe_version
from pipeline_core.plugins import manager as registry_module
from pipeline_core.plugins.manager import ENTRY_POINT_GROUP, PluginWarning, registry


class FakeDistribution(importlib_metadata.Distribution):
    """An in-memory distribution with metadata and an entry_points.txt."""

    def __init__(self, name: str, version: str, entry_points: dict[str, str]) -> None:
        self._files = {
            "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            "entry_points.txt": f"[{ENTRY_POINT_GROUP}]\n"
            + "".join(f"{key} = {value}\n" for key, value in entry_points.items()),
        }

    def read_text(self, filename):
        return self._files.get(filename)

    def locate_file(self, path):  # pragma: no cover - not used by entry point discovery
        return Path("/nonexistent") / path


def _plugin_module(name: str, steps=(), **hooks) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def register_steps():
        return list(steps)

    module.register_steps = register_steps
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


@pytest.fixture
def fake_installed(monkeypatch):
    """Install fake distributions: ``fake_installed(dist, ...)`` replaces what is installed."""

    def install(*distributions: FakeDistribution) -> None:
        monkeypatch.setattr(importlib_metadata, "distributions", lambda **kw: iter(distributions))

    return install


def test_discovers_plugins_and_stamps_distribution_and_version(fake_installed, monkeypatch):
    monkeypatch.setitem(
        sys.modules,
        "tier2_good",
        _plugin_module("tier2_good", [{"class_path": "tier2.steps.Good", "alias": "good", "parallel": True}]),
    )
    fake_installed(FakeDistribution("steppe-good", "1.4", {"good": "tier2_good"}))
    (desc,) = [d for d in registry().descriptors() if d.alias == "good"]
    assert (desc.distribution, desc.version, desc.parallel) == ("steppe-good", "1.4", True)
    assert registry().distributions() == sorted(
        [("steppe", steppe_version()), ("steppe-good", "1.4")]
    )


def test_plugin_that_fails_to_import_warns_once_and_others_keep_working(fake_installed, monkeypatch):
    monkeypatch.setitem(sys.modules, "tier2_good", _plugin_module("tier2_good", [{"class_path": "tier2.steps.Good", "alias": "good"}]))
    fake_installed(
        FakeDistribution("steppe-broken", "0.3", {"broken": "tier2_missing_module"}),
        FakeDistribution("steppe-good", "1.4", {"good": "tier2_good"}),
    )
    message = (
        "steppe plugin steppe-broken==0.3 (entry point 'broken = tier2_missing_module') failed to "
        "import and was skipped: ModuleNotFoundError: No module named 'tier2_missing_module'"
    )
    with pytest.warns(PluginWarning, match=re.escape(message)) as record:
        aliases = [d.alias for d in registry().descriptors()]
    assert len(record) == 1
    assert "good" in aliases
    registry().descriptors()  # cached: no second warning (filterwarnings=error would raise)


def test_plugin_whose_register_steps_raises_is_skipped_with_a_warning(fake_installed, monkeypatch):
    def boom():
        raise ValueError("no steps today")

    bad = types.ModuleType("tier2_bad")
    bad.register_steps = hookimpl(boom)
    monkeypatch.setitem(sys.modules, "tier2_bad", bad)
    monkeypatch.setitem(sys.modules, "tier2_good", _plugin_module("tier2_good", [{"class_path": "tier2.steps.Good", "alias": "good"}]))
    fake_installed(
        FakeDistribution("steppe-bad", "2.0", {"bad": "tier2_bad"}),
        FakeDistribution("steppe-good", "1.4", {"good": "tier2_good"}),
    )
    message = (
        "steppe plugin steppe-bad==2.0 (entry point 'bad = tier2_bad') was rejected and skipped: "
        "ValueError: no steps today"
    )
    with pytest.warns(PluginWarning, match=re.escape(message)):
        assert "good" in [d.alias for d in registry().descriptors()]
    assert ("steppe-bad", "2.0") not in registry().distributions()


def test_plugin_with_a_misspelled_hook_is_rejected_by_check_pending(fake_installed, monkeypatch):
    typo = types.ModuleType("tier2_typo")
    typo.register_step = hookimpl(lambda: [])
    monkeypatch.setitem(sys.modules, "tier2_typo", typo)
    fake_installed(FakeDistribution("steppe-typo", "0.1", {"typo": "tier2_typo"}))
    with pytest.warns(PluginWarning, match=re.escape("steppe plugin steppe-typo==0.1 (entry point 'typo = tier2_typo') was rejected and skipped: PluginValidationError: unknown hook 'register_step'")):
        registry().descriptors()
    assert ("steppe-typo", "0.1") not in registry().distributions()


def test_plugin_with_an_invalid_descriptor_is_skipped(fake_installed, monkeypatch):
    monkeypatch.setitem(sys.modules, "tier2_invalid", _plugin_module("tier2_invalid", [{"class_path": "x.Y", "alias": "bad alias"}]))
    fake_installed(FakeDistribution("steppe-invalid", "0.1", {"invalid": "tier2_invalid"}))
    with pytest.warns(PluginWarning, match=re.escape("alias 'bad alias' must be a Python identifier")):
        assert [d.distribution for d in registry().descriptors()] == ["steppe"]


def test_two_installed_distributions_claiming_one_alias(fake_installed, monkeypatch):
    monkeypatch.setitem(sys.modules, "tier2_a", _plugin_module("tier2_a", [{"class_path": "pkg_a.steps.Jump", "alias": "jump"}]))
    monkeypatch.setitem(sys.modules, "tier2_b", _plugin_module("tier2_b", [{"class_path": "pkg_b.steps.Jump", "alias": "jump"}]))
    fake_installed(
        FakeDistribution("steppe-a", "1", {"a": "tier2_a"}),
        FakeDistribution("steppe-b", "2", {"b": "tier2_b"}),
    )
    with pytest.raises(registry_module.PluginError, match=re.escape("step name 'jump' is claimed by more than one registration (steppe-a==1 and steppe-b==2)")):
        registry().resolve("jump")
    assert registry().find("steppe-b::jump").class_path == "pkg_b.steps.Jump"


def test_entry_points_of_other_groups_are_ignored(monkeypatch):
    class OtherGroup(FakeDistribution):
        def __init__(self):
            super().__init__("steppe-other", "1", {})
            self._files["entry_points.txt"] = "[console_scripts]\nx = os:system\n"

    monkeypatch.setattr(importlib_metadata, "distributions", lambda **kw: iter([OtherGroup()]))
    assert registry().distributions() == [("steppe", steppe_version())]


# ------------------------------------------------------------------ tier iii: real .dist-info

PLUGIN_SOURCE = """
from pipeline_core import hookimpl


@hookimpl
def register_steps():
    return [
        {
            "class_path": "fake_real_steps.steps.RealStep",
            "alias": "real_step",
            "legacy_class_paths": ["legacy.pkg.RealStep"],
        }
    ]
"""

STEP_SOURCE = """
from pipeline_core import Step


class RealStep(Step):
    \"\"\"A step shipped by a fake installed distribution.\"\"\"

    class_alias = "real_step"

    def process(self, input):
        return input
"""


@pytest.fixture
def only_fake_distributions(monkeypatch):
    """Keep the real discovery code but look only at distributions named steppe-fake*."""
    real = registry_module._entry_points

    def fake_only():
        return [ep for ep in real() if ep.dist.name.startswith("steppe-fake")]

    monkeypatch.setattr(registry_module, "_entry_points", fake_only)


def test_real_dist_info_is_discovered(make_distribution, only_fake_distributions):
    make_distribution(
        "steppe-fake-real",
        "0.7",
        modules={"fake_real_steps.plugin": PLUGIN_SOURCE, "fake_real_steps.steps": STEP_SOURCE},
        entry_points={"real": "fake_real_steps.plugin"},
    )
    desc = registry().find("legacy.pkg.RealStep")
    assert (desc.alias, desc.distribution, desc.version) == ("real_step", "steppe-fake-real", "0.7")
    assert "fake_real_steps.steps" not in sys.modules
    cls = registry().resolve("steppe-fake-real::real_step")
    assert cls.__module__ == "fake_real_steps.steps"


def test_real_dist_info_with_a_broken_plugin(make_distribution, only_fake_distributions):
    make_distribution(
        "steppe-fake-broken",
        "0.2",
        modules={"fake_broken_plugin": "raise ImportError('needs a missing library')\n"},
        entry_points={"broken": "fake_broken_plugin"},
    )
    make_distribution(
        "steppe-fake-real",
        "0.7",
        modules={"fake_real_steps.plugin": PLUGIN_SOURCE, "fake_real_steps.steps": STEP_SOURCE},
        entry_points={"real": "fake_real_steps.plugin"},
    )
    with pytest.warns(PluginWarning, match=re.escape("steppe plugin steppe-fake-broken==0.2 (entry point 'broken = fake_broken_plugin') failed to import and was skipped: ImportError: needs a missing library")):
        assert registry().find("real_step").distribution == "steppe-fake-real"


def test_nothing_is_left_behind_by_the_previous_tests():
    assert "fake_real_steps" not in sys.modules
    assert not any("steppe-fake" in p for p in sys.path)


# ------------------------------------------------------------------ import has no side effects


def test_importing_pipeline_core_discovers_nothing():
    code = textwrap.dedent(
        """
        import sys
        import importlib_metadata

        def forbidden(*args, **kwargs):
            raise AssertionError("entry points were read at import time")

        importlib_metadata.entry_points = forbidden
        importlib_metadata.distributions = forbidden
        sys.modules["builtin_steps"] = None  # the core must not need the built-in steps
        import pipeline_core
        from pipeline_core import hookimpl, registry, reset_registry
        from pipeline_core.plugins.manager import Registry
        assert "builtin_steps.plugin" not in sys.modules
        reg = Registry(entry_points=())
        assert [d.class_path for d in reg.descriptors()] == ["pipeline_core.steps.pipeline.Pipeline"]
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
