"""The embedded offline reference set: a local CRDS cache and demo data.

``ensure_embedded_cache()`` builds (once) a small but complete local CRDS
context with synthetic JWST-layout reference files, used when ``CRDS_PATH`` is
not set; ``prepare_demo(directory)`` writes synthetic raw ramps that this set
calibrates. Both are imported on first use, so importing this package is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = ["ensure_embedded_cache", "prepare_demo"]

_LAZY = {
    "ensure_embedded_cache": "builtin_steps.refdata.cache",
    "prepare_demo": "builtin_steps.refdata.demo",
}

if TYPE_CHECKING:  # pragma: no cover
    from builtin_steps.refdata.cache import ensure_embedded_cache
    from builtin_steps.refdata.demo import prepare_demo


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'builtin_steps.refdata' has no attribute {name!r}")
