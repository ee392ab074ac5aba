"""The plugin contract and the step registry.

- :mod:`~pipeline_core.plugins.hookspecs`: the pluggy hook specifications.
- :mod:`~pipeline_core.plugins.descriptor`: :class:`StepDescriptor`, the plain data
  a plugin registers a step with, and the marker base every step class derives from.
- :mod:`~pipeline_core.plugins.records`: one loaded plugin and its hook calls.
- :mod:`~pipeline_core.plugins.manager`: entry-point discovery and name
  resolution (alias, class path, legacy class path, ``dist::name``).

This layer never imports :class:`~pipeline_core.Step`: a resolved class is checked
against :class:`~pipeline_core.plugins.descriptor.StepBase`.
"""

from pipeline_core.plugins.descriptor import StepBase, StepDescriptor
from pipeline_core.plugins.hookspecs import hookimpl
from pipeline_core.plugins.manager import (
    ENTRY_POINT_GROUP,
    PluginWarning,
    Registry,
    registry,
    reset_registry,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginWarning",
    "Registry",
    "StepBase",
    "StepDescriptor",
    "hookimpl",
    "registry",
    "reset_registry",
]
