"""The generated adapter classes, reachable as attributes of this module.

The adapter of the stpipe class ``jwst.step.JumpStep`` is
``pipeline_core.bridge.adapters.jwst.step.JumpStep``: the registry imports this
module and walks the attributes; the class is generated on first access and kept,
so the same object answers every time. That is also how pickle finds an adapter
class again (in a batch worker, for instance): by its module and qualified name.

One stpipe class has one adapter, named after the path its package's entry point
declares (``jwst.step.JumpStep``); its defining path
(``jwst.jump.jump_step.JumpStep``) leads to the same adapter.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

__all__ = ["adapter_path", "adapter_for", "adapter_for_class"]

_PREFIX = __name__
_CLASSES: dict[str, type] = {}
_LOCK = threading.RLock()


def adapter_path(stpipe_path: str) -> str:
    """Return the class path of the adapter of an stpipe class path.

    Parameters
    ----------
    stpipe_path : str
        E.g. ``"jwst.step.JumpStep"``.

    Returns
    -------
    str
        ``"pipeline_core.bridge.adapters.jwst.step.JumpStep"``.
    """
    return f"{_PREFIX}.{stpipe_path}"


def _known() -> dict[str, Any]:
    """Every declared and defining stpipe class path -> its declaration."""
    from pipeline_core.bridge.discovery import stpipe_classes

    return {name: entry for entry in stpipe_classes() for name in entry.names()}


def _stpipe_class(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def adapter_for(stpipe_path: str) -> type:
    """Return the adapter class of the stpipe class at ``stpipe_path``, generating it once.

    Parameters
    ----------
    stpipe_path : str
        A declared or defining class path of an installed stpipe package.

    Returns
    -------
    type
        A :class:`~pipeline_core.Step` subclass (a
        :class:`~pipeline_core.steps.pipeline.Pipeline` for an stpipe pipeline).

    Raises
    ------
    PluginError
        When the class cannot be imported or is not an stpipe step.
    """
    from pipeline_core.errors import PluginError

    with _LOCK:
        if stpipe_path in _CLASSES:
            return _CLASSES[stpipe_path]
        entry = _known().get(stpipe_path)
        try:
            stpipe_cls = _stpipe_class(stpipe_path)
        except Exception as exc:  # noqa: BLE001
            origin = f" from {entry.distribution}=={entry.version}" if entry else ""
            raise PluginError(
                f"the stpipe class {stpipe_path}{origin} cannot be imported: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return adapter_for_class(stpipe_cls, declared=entry.class_path if entry else stpipe_path)


def adapter_for_class(stpipe_cls: type, *, declared: str | None = None) -> type:
    """Return the adapter of an imported stpipe class, generating it once.

    Parameters
    ----------
    stpipe_cls : type
        An ``stpipe.Step`` subclass.
    declared : str, optional
        The class path its package declares; default: the declared path found
        for its defining path, else the defining path.

    Returns
    -------
    type
    """
    from pipeline_core.bridge.adapter import make_adapter

    defining = f"{stpipe_cls.__module__}.{stpipe_cls.__qualname__}"
    with _LOCK:
        for path in (declared, defining):
            if path and path in _CLASSES and _CLASSES[path].stpipe_class is stpipe_cls:
                return _CLASSES[path]
        known = _known()
        entry = known.get(declared or "") or known.get(defining)
        canonical = entry.class_path if entry else (declared or defining)
        if canonical in _CLASSES and _CLASSES[canonical].stpipe_class is stpipe_cls:
            cls = _CLASSES[canonical]
        else:
            cls = make_adapter(
                stpipe_cls,
                qualname=canonical,
                module=_PREFIX,
                alias=entry.alias if entry else getattr(stpipe_cls, "class_alias", None),
                origin=f"{entry.distribution} {entry.version}" if entry else _origin(stpipe_cls),
                adapter_of=adapter_for_class,
            )
        for path in {canonical, defining, declared} - {None}:
            _CLASSES[path] = cls
        return cls


def _origin(stpipe_cls: type) -> str:
    top = stpipe_cls.__module__.partition(".")[0]
    module = importlib.import_module(top)
    return f"{top} {getattr(module, '__version__', '?')}"


class _Namespace:
    """A dotted prefix of stpipe class paths (``jwst``, ``jwst.step``)."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _child(f"{self._path}.{name}")

    def __repr__(self) -> str:
        return f"<stpipe classes under {self._path!r}>"


def _child(path: str) -> Any:
    with _LOCK:
        if path in _CLASSES:
            return _CLASSES[path]
    if path in _known() or _importable_stpipe_class(path):
        return adapter_for(path)
    return _Namespace(path)


def _importable_stpipe_class(path: str) -> bool:
    """Whether ``path`` names a class of an stpipe package (imported only then)."""
    module, _, attr = path.rpartition(".")
    if not module or not attr[:1].isupper():
        return False
    tops = {name.partition(".")[0] for name in _known()}
    if path.partition(".")[0] not in tops:
        return False
    try:
        obj = _stpipe_class(path)
    except Exception:  # noqa: BLE001 - not a class path: stay a namespace
        return False
    return isinstance(obj, type) and any(
        f"{base.__module__}.{base.__qualname__}" == "stpipe.step.Step" for base in obj.__mro__
    )


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return _child(name)
