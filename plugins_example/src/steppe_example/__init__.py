"""steppe-example-plugin: per-integration jump and saturation statistics of ramps.

A complete, minimal steppe plugin: one custom step (``ramp_dq_summary``), the
plugin module that registers it (:mod:`steppe_example.plugin`, named by the
``pipeline_core.plugins`` entry point) and an ASDF pipeline that runs it between
steppe's built-in Detector1 steps (:data:`steppe_example.pipelines.DETECTOR1_DQ_SUMMARY`).

Nothing is imported here: steppe imports the plugin module to list the steps and
imports the step module only when the step is used.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("steppe-example-plugin")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'steppe_example' has no attribute {name!r}")
