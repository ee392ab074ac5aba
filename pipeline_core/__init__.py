"""steppe's framework: steps, pipelines, the step registry and data models.

The public names are imported lazily, so that ``import pipeline_core`` stays cheap
and has no side effects: nothing is discovered, opened or configured until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = [
    "Step",
    "Pipeline",
    "registry",
    "reset_registry",
    "open_model",
    "hookimpl",
    "__version__",
]

_LAZY = {
    "Step": "pipeline_core.step",
    "Pipeline": "pipeline_core.pipeline",
    "registry": "pipeline_core.registry",
    "reset_registry": "pipeline_core.registry",
    "open_model": "pipeline_core.datamodels",
    "hookimpl": "pipeline_core.hookspecs",
}

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels import open_model
    from pipeline_core.hookspecs import hookimpl
    from pipeline_core.pipeline import Pipeline
    from pipeline_core.registry import registry, reset_registry
    from pipeline_core.step import Step


def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("steppe")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pipeline_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
