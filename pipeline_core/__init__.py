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
    "StepDescriptor",
    "__version__",
]

_LAZY = {
    "Step": "pipeline_core.steps",
    "Pipeline": "pipeline_core.steps",
    "registry": "pipeline_core.plugins",
    "reset_registry": "pipeline_core.plugins",
    "StepDescriptor": "pipeline_core.plugins",
    "open_model": "pipeline_core.datamodels",
    "hookimpl": "pipeline_core.plugins",
}

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.datamodels import open_model
    from pipeline_core.plugins import StepDescriptor, hookimpl, registry, reset_registry
    from pipeline_core.steps import Pipeline, Step


def __getattr__(name: str):
    if name == "__version__":
        from pipeline_core._version import steppe_version

        return steppe_version()
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pipeline_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
