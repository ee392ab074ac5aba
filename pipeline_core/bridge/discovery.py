"""Reading the ``stpipe.steps`` entry points without importing the packages.

Each stpipe package (jwst, romancal, ...) names a function in the group
``stpipe.steps`` that returns ``(class path, alias, is pipeline)`` tuples. The
function's module is read from the distribution's files and run on its own, so
that listing the steps does not import the package (jwst's module is a literal
list; importing ``jwst.stpipe`` instead would take seconds). A module that cannot
run on its own (it imports from its package) is imported normally.

The class paths they give (``jwst.step.JumpStep``) are re-exports; the module
that re-exports them is parsed (not run) to find where each class is defined
(``jwst.jump.jump_step.JumpStep``), the path that jwst's parameter files name.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import importlib_metadata

from pipeline_core.plugins.manager import PluginWarning

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENABLE_HINT",
    "StpipeClass",
    "stpipe_classes",
    "enable_hint",
    "clear_cache",
]

#: The entry point group stpipe packages register their steps under.
ENTRY_POINT_GROUP = "stpipe.steps"

#: What ``steppe list`` says when no stpipe package can be used.
ENABLE_HINT = (
    "no stpipe package (jwst, romancal) is installed: to run jwst's steps and pipelines "
    "as well, pip install steppe[jwst]"
)


@dataclass(frozen=True)
class StpipeClass:
    """One step or pipeline class an stpipe package declares (plain data).

    Parameters
    ----------
    class_path : str
        The path the entry point gives, e.g. ``"jwst.step.JumpStep"``.
    alias : str or None
        Its ``class_alias``, e.g. ``"jump"``.
    is_pipeline : bool
        True for an stpipe ``Pipeline``.
    distribution, version : str
        The distribution that declares it.
    defined_in : str or None
        The class path where the class is defined, when it differs
        (``"jwst.jump.jump_step.JumpStep"``).
    """

    class_path: str
    alias: str | None
    is_pipeline: bool
    distribution: str
    version: str
    defined_in: str | None = None

    def names(self) -> tuple[str, ...]:
        """Return the class paths that name this class: the declared one, then the defining one."""
        return (self.class_path,) + ((self.defined_in,) if self.defined_in else ())


def _entry_points() -> list[importlib_metadata.EntryPoint]:
    """The installed ``stpipe.steps`` entry points (the discovery seam)."""
    return list(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP))


def _top_level_importable(module: str) -> bool:
    """Whether the top-level package of ``module`` can be imported (None in sys.modules: no)."""
    top = module.partition(".")[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _module_file(ep: importlib_metadata.EntryPoint, module: str) -> Path | None:
    """The source file of ``module`` inside the entry point's distribution, if found."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    relative = module.replace(".", "/")
    for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
        path = Path(dist.locate_file(candidate))
        if path.is_file():
            return path
    return None


def _load_function(ep: importlib_metadata.EntryPoint) -> Any:
    """The entry point's function, from its module run on its own when possible."""
    module, _, attr = ep.value.partition(":")
    path = _module_file(ep, module.strip())
    if path is not None and attr:
        name = f"_steppe_stpipe_entry_{abs(hash((module, str(path))))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is not None and spec.loader is not None:
            standalone = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(standalone)
                obj: Any = standalone
                for part in attr.strip().split("."):
                    obj = getattr(obj, part)
                return obj
            except Exception:  # noqa: BLE001 - needs its package: import it normally
                pass
            finally:
                sys.modules.pop(name, None)
    return ep.load()


def _read_entry_point(ep: importlib_metadata.EntryPoint) -> list[StpipeClass]:
    dist = getattr(ep, "dist", None)
    dist_name = getattr(dist, "name", None) or "<unknown distribution>"
    version = getattr(dist, "version", None) or "?"
    answer = _load_function(ep)()
    classes = []
    for item in answer:
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            raise TypeError(
                f"{ep.value} returned {item!r}; each entry must be (class path, alias, is_pipeline)"
            )
        path, alias, is_pipeline = item
        if not isinstance(path, str) or "." not in path:
            raise TypeError(f"{ep.value} returned the class path {path!r}, not a dotted path")
        classes.append(
            StpipeClass(
                class_path=path,
                alias=alias or None,
                is_pipeline=bool(is_pipeline),
                distribution=dist_name,
                version=version,
                defined_in=_defining_path(ep, path),
            )
        )
    return classes


def _defining_path(ep: importlib_metadata.EntryPoint, class_path: str) -> str | None:
    """Where a re-exported class is defined, read from the re-exporting module's imports."""
    module, _, name = class_path.rpartition(".")
    path = _module_file(ep, module)
    if path is None:
        return None
    imports = _imports_of(str(path), module, path.name == "__init__.py")
    found = imports.get(name)
    return f"{found}.{name}" if found and found != module else None


@functools.lru_cache(maxsize=64)
def _imports_of(path: str, module: str, is_package: bool) -> dict[str, str]:
    """``{name: module it is imported from}`` for the ``from X import name`` statements of a file."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    package = module if is_package else module.rpartition(".")[0]
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            source = ".".join([*base, source] if source else base)
        for alias in node.names:
            found[alias.asname or alias.name] = source
    return found


_CACHE: list[StpipeClass] | None = None


def stpipe_classes() -> list[StpipeClass]:
    """Return every class the installed stpipe packages declare.

    A package whose top-level module cannot be imported is left out quietly (its
    metadata outlived it); a package whose entry point fails is reported with one
    :class:`~pipeline_core.plugins.manager.PluginWarning` naming it, and the others
    are still read. The answer is cached until :func:`clear_cache`.

    Returns
    -------
    list of StpipeClass
    """
    global _CACHE
    if _CACHE is not None:
        return list(_CACHE)
    classes: list[StpipeClass] = []
    for ep in sorted(_entry_points(), key=lambda e: (getattr(e.dist, "name", "") or "", e.name)):
        if not _top_level_importable(ep.value.partition(":")[0].strip()):
            continue
        try:
            classes.extend(_read_entry_point(ep))
        except Exception as exc:  # noqa: BLE001 - one broken package spares the others
            dist = getattr(ep, "dist", None)
            label = f"{getattr(dist, 'name', '?')}=={getattr(dist, 'version', '?')}"
            warnings.warn(
                f"stpipe package {label} (entry point '{ep.name} = {ep.value}' in group "
                f"{ENTRY_POINT_GROUP!r}) could not be read and its steps were skipped: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
    _CACHE = classes
    return list(classes)


def enable_hint() -> str | None:
    """Return how to enable stpipe steps when no stpipe package is usable, else None.

    Returns
    -------
    str or None
    """
    return None if stpipe_classes() else ENABLE_HINT


def clear_cache() -> None:
    """Forget what was read, so that the next :func:`stpipe_classes` reads the entry points again."""
    global _CACHE
    _CACHE = None
    _imports_of.cache_clear()
