"""The ``stpipe`` plugin: registers the steps of installed stpipe packages.

steppe loads this module through its own ``pipeline_core.plugins`` entry point
(``stpipe = "pipeline_core.bridge.plugin"``), like any plugin. It is a *bridge*
(``STEPPE_BRIDGE = True``): each step is registered in the name of the package that
provides it (``jwst 3.0.0``), and a name that another plugin also registers (steppe's
own ``jump``) means that plugin's step; ``jwst::jump`` still names jwst's.

Registration is plain data; the stpipe package is not imported here.
"""

from __future__ import annotations

from pipeline_core.bridge.adapters import adapter_path
from pipeline_core.bridge.discovery import clear_cache, stpipe_classes
from pipeline_core.plugins.descriptor import StepDescriptor
from pipeline_core.plugins.hookspecs import hookimpl

__all__ = ["STEPPE_BRIDGE", "register_steps"]

#: Marks this plugin as a bridge for the registry (see :mod:`pipeline_core.plugins.manager`).
STEPPE_BRIDGE = True


@hookimpl
def register_steps() -> list[StepDescriptor]:
    """Describe every class of the installed stpipe packages as a steppe step.

    Returns
    -------
    list of StepDescriptor
        Class path: the generated adapter's
        (``pipeline_core.bridge.adapters.jwst.step.JumpStep``); legacy class paths:
        the stpipe class paths (``jwst.step.JumpStep``, ``jwst.jump.jump_step.JumpStep``);
        distribution and version: the stpipe package's.
    """
    clear_cache()
    return [
        StepDescriptor(
            class_path=adapter_path(entry.class_path),
            # an alias that is not an identifier (jwst's "calwebb_wfs-image3") cannot be a
            # steppe alias: that class is named by its class path
            alias=entry.alias if entry.alias and entry.alias.isidentifier() else None,
            legacy_class_paths=entry.names(),
            is_pipeline=entry.is_pipeline,
            parallel=False,
            distribution=entry.distribution,
            version=entry.version,
        )
        for entry in stpipe_classes()
    ]
