"""Running Detector1 with every reference file given: no CRDS lookup at all."""

from __future__ import annotations

import pytest

from tests.e2e._samples import ref, step_overrides

#: Reference types the sample exposure (NIRCam imaging) has none of.
NOT_APPLICABLE = {"ipc": ("ipc",), "refpix": ("refpix", "sirskernel"), "reset": ("reset",),
                  "rscd": ("rscd",), "emicorr": ("emicorr",), "picture_frame": ("pictureframe",)}


def offline_overrides(*, jwst: bool = False) -> dict[str, dict[str, str]]:
    """``steps=`` for steppe's (or, with ``jwst=True``, jwst's) Detector1, no CRDS needed."""
    steps = step_overrides()
    for step, reftypes in NOT_APPLICABLE.items():
        steps.setdefault(step, {}).update({f"override_{r}": "N/A" for r in reftypes})
    steps["saturation"]["override_superbias"] = ref("superbias")  # the group-2 test reads it
    if jwst:
        steps["clean_flicker_noise"] = {"override_flat": "N/A", "override_pastasoss": "N/A"}
    return steps


@pytest.fixture
def offline(crds_env, monkeypatch):
    """The embedded CRDS cache, no server, no CRDS parameter files."""
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "1")
    return crds_env
