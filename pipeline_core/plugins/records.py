"""Calling hook implementations one by one, so that one failing plugin spares the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from pipeline_core.plugins.descriptor import StepDescriptor

if TYPE_CHECKING:  # pragma: no cover
    from pipeline_core.plugins.manager import Registry

__all__ = ["PluginRecord", "SafeHookCaller", "SafeHookRelay"]


@dataclass
class PluginRecord:
    """One registered plugin object and the distribution it came from."""

    obj: Any
    name: str
    distribution: str
    version: str
    entry_point: str = ""
    descriptors: list[StepDescriptor] = field(default_factory=list)
    failed_hooks: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        """str: ``name==version``, and the entry point when there is one, for messages."""
        where = f" (entry point {self.entry_point!r})" if self.entry_point else ""
        return f"{self.distribution}=={self.version}{where}"


class SafeHookCaller:
    """Calls every implementation of one hook on its own, isolating failures."""

    def __init__(self, registry: Registry, name: str) -> None:
        self._registry = registry
        self._name = name
        self._firstresult = bool(
            getattr(self._caller().spec, "opts", {}).get("firstresult", False)
        )

    def _caller(self) -> pluggy.HookCaller:
        return getattr(self._registry.plugin_manager.hook, self._name)

    def get_hookimpls(self) -> list[pluggy.HookImpl]:
        """Return the implementations, in pluggy's registration order."""
        return self._caller().get_hookimpls()

    def __call__(self, **kwargs: Any) -> Any:
        results = []
        for impl in reversed(self.get_hookimpls()):
            ok, value = self._registry._call_impl(impl, self._name, kwargs)
            if not ok or value is None:
                continue
            if self._firstresult:
                return value
            results.append(value)
        return None if self._firstresult else results


class SafeHookRelay:
    """Attribute access to the hooks, like pluggy's ``pm.hook``, with isolated calls."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def __getattr__(self, name: str) -> SafeHookCaller:
        if name.startswith("_") or not hasattr(self._registry.plugin_manager.hook, name):
            raise AttributeError(f"steppe has no hook named {name!r}")
        return SafeHookCaller(self._registry, name)
