"""The exception hierarchy of steppe.

Every error steppe raises derives from :class:`SteppeError`. Messages name the object
concerned (step, parameter, file, plugin), the value that was given, what would be
accepted, and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "SteppeError",
    "StepError",
    "ParameterError",
    "ReferenceFileError",
    "PluginError",
    "DataModelError",
]


class SteppeError(Exception):
    """Base class of every error raised by steppe."""


class StepError(SteppeError):
    """A step could not be configured or run."""


class ParameterError(StepError, ValueError):
    """A parameter has an unknown name, a wrong type or an out-of-range value."""


class ReferenceFileError(StepError):
    """A calibration reference file could not be found, read or used."""


class PluginError(SteppeError):
    """A plugin, step name or class path could not be registered or resolved."""


class DataModelError(SteppeError, ValueError):
    """A data file or data model is malformed or inconsistent."""
