"""The step registry: plugin discovery, step descriptors and name resolution.

Plugins are modules named by entry points in the group ``pipeline_core.plugins``
(``builtin_steps`` registers itself the same way). They are read with
``importlib_metadata`` the first time the registry is used, never when
``pipeline_core`` is imported, and the result is cached until
:func:`reset_registry`.

Each plugin answers the :func:`~pipeline_core.plugins.hookspecs.register_steps` hook with
plain-data :class:`StepDescriptor` entries, so listing the steps imports nothing
but the plugin modules, and resolving a name imports only the module of that
step. A name resolves, in this order, as a short alias (``"jump"``), a registered
class path, or a legacy class path a step declares
(``"jwst.jump.jump_step.JumpStep"``). ``"dist::name"`` restricts the search to
one distribution. A dotted path that no plugin registered is refused without
being imported, unless importing is explicitly allowed (``allow_import=True`` or
the environment variable ``STEPPE_ALLOW_IMPORT=1``).

A plugin that registers steps on behalf of other distributions (a *bridge*,
such as steppe's ``stpipe`` plugin) sets the module attribute
``STEPPE_BRIDGE = True``: its descriptors keep the distribution they name, and
when another plugin registers one of their names, every plain name of that step
(its alias and class paths) means the other plugin's step, and only
``"dist::name"`` selects the bridged one.

A plugin that fails to import, fails hook validation or raises inside a hook is
reported once with a :class:`PluginWarning` naming ``distribution==version``; the
other plugins keep working.

Why one module of this size: discovery, the descriptor index and resolution
share the Registry's state and lock; the plugin record and the hook calls are
:mod:`~pipeline_core.plugins.records`, the descriptors
:mod:`~pipeline_core.plugins.descriptor`.
"""

from __future__ import annotations

import difflib
import importlib
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

import importlib_metadata
import pluggy

from pipeline_core.plugins import hookspecs
from pipeline_core.plugins.descriptor import (
    StepBase,
    CLASS_PATH_RE,
    GENERIC_PIPELINE,
    StepDescriptor,
    normalize_dist,
)
from pipeline_core.plugins.records import PluginRecord, SafeHookRelay
from pipeline_core._version import steppe_version
from pipeline_core.errors import PluginError
from pipeline_core.truth import parse_truth

__all__ = [
    "ENTRY_POINT_GROUP",
    "ALLOW_IMPORT_ENV",
    "BRIDGE_ATTRIBUTE",
    "GENERIC_PIPELINE",
    "PluginWarning",
    "StepDescriptor",
    "Registry",
    "registry",
    "reset_registry",
    "allow_import_from_env",
]

#: The entry point group plugins are registered under.
ENTRY_POINT_GROUP = "pipeline_core.plugins"

#: Environment variable that, when true, allows resolving unregistered class paths.
ALLOW_IMPORT_ENV = "STEPPE_ALLOW_IMPORT"

#: Attribute a bridge plugin sets to True (see the module documentation).
BRIDGE_ATTRIBUTE = "STEPPE_BRIDGE"

class PluginWarning(UserWarning):
    """A plugin could not be loaded or one of its hooks failed; it was skipped."""


def allow_import_from_env() -> bool:
    """Tell whether ``STEPPE_ALLOW_IMPORT`` allows importing unregistered class paths.

    Returns
    -------
    bool
        True when the variable is set to a true value (``1``, ``true``, ``yes``,
        ``on``; any case), False when unset or false.

    Raises
    ------
    PluginError
        When the variable holds something that is neither true nor false.
    """
    raw = os.environ.get(ALLOW_IMPORT_ENV, "")
    value = parse_truth(raw) if raw.strip() else False
    if value is not None:
        return value
    raise PluginError(
        f"environment variable {ALLOW_IMPORT_ENV}={raw!r} is not understood: "
        "use 1/true/yes to allow importing unregistered step classes, or 0/false/no (or unset it)"
    )


class _CorePlugin:
    """The framework's own registration: the generic, step-list defined Pipeline."""

    @hookspecs.hookimpl
    def register_steps(self) -> list[StepDescriptor]:
        return [
            StepDescriptor(
                GENERIC_PIPELINE,
                alias=None,
                legacy_class_paths=("pipeline_core.Pipeline",),
                is_pipeline=True,
            )
        ]


def _entry_points() -> list[importlib_metadata.EntryPoint]:
    """Return the installed entry points of the plugin group (the discovery seam)."""
    return list(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP))


class Registry:
    """The registered plugins and the steps they provide.

    Most code uses the shared instance returned by :func:`registry`. Discovery
    of entry points happens on first use, not on construction.

    Parameters
    ----------
    entry_points : iterable of EntryPoint, optional
        The plugin entry points to load; by default those installed in the group
        ``pipeline_core.plugins``. Pass ``()`` for a registry with no plugins.

    Examples
    --------
    >>> reg = Registry(entry_points=())
    >>> [d.class_path for d in reg.descriptors()]
    ['pipeline_core.steps.pipeline.Pipeline']
    """

    def __init__(self, entry_points: Iterable[importlib_metadata.EntryPoint] | None = None) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._given_entry_points = None if entry_points is None else list(entry_points)
        self._plugins: dict[str, PluginRecord] = {}
        self._loaded = False
        self._lock = threading.RLock()
        self._classes: dict[str, type] = {}
        self._in_process_classes: dict[str, type] = {}
        self._bridges: set[str] = set()

    # ---------------------------------------------------------------- discovery

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """pluggy.PluginManager: The underlying manager (plugins loaded on access)."""
        self._ensure_loaded()
        return self._pm

    @property
    def hook(self) -> Any:
        """The hooks, called like pluggy's ``pm.hook``: ``reg.hook.step_started(step=s, input=x)``.

        Each implementation is called on its own: one that raises is reported
        once with a :class:`PluginWarning` naming its distribution and skipped,
        and the others still answer. Firstresult hooks return the first
        non-None answer (or None); the others return the list of non-None answers.
        """
        self._ensure_loaded()
        return SafeHookRelay(self)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._add_plugin(
                PluginRecord(
                    obj=_CorePlugin(),
                    name="steppe::core",
                    distribution="steppe",
                    version=steppe_version(),
                )
            )
            eps = self._given_entry_points
            if eps is None:
                eps = _entry_points()
            for ep in sorted(eps, key=_entry_point_sort_key):
                self._load_entry_point(ep)
            self._pm.check_pending()
            self._loaded = True

    def _load_entry_point(self, ep: importlib_metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        dist_name = getattr(dist, "name", None) or "<unknown distribution>"
        dist_version = getattr(dist, "version", None) or "?"
        plugin = PluginRecord(
            obj=None,
            name=f"{normalize_dist(dist_name)}::{ep.name}",
            distribution=dist_name,
            version=dist_version,
            entry_point=f"{ep.name} = {ep.value}",
        )
        if plugin.name in self._plugins:
            return
        try:
            plugin.obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any plugin failure is isolated
            self._warn(plugin, "failed to import and was skipped", exc)
            return
        try:
            self._add_plugin(plugin)
        except PluginError as exc:
            self._warn(plugin, "was rejected and skipped", exc.__cause__ or exc)

    def _add_plugin(self, plugin: PluginRecord) -> list[StepDescriptor]:
        """Register a plugin object with pluggy and collect its descriptors.

        Raises PluginError (with the pluggy or hook exception as cause) and leaves
        nothing registered when the plugin is invalid.
        """
        try:
            self._pm.register(plugin.obj, name=plugin.name)
        except ValueError as exc:
            raise PluginError(f"plugin {plugin.label} is already registered: {exc}") from exc
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {plugin.label} is invalid: {exc}") from exc
        try:
            self._pm.check_pending()
            self._check_no_wrappers(plugin)
        except pluggy.PluginValidationError as exc:
            self._pm.unregister(plugin.obj, name=plugin.name)
            raise PluginError(
                f"plugin {plugin.label} is invalid: {exc}. Check the hook names against "
                "pipeline_core.plugins.hookspecs (or mark optional hooks with @hookimpl(optionalhook=True))"
            ) from exc
        self._plugins[plugin.name] = plugin
        bridge = getattr(plugin.obj, BRIDGE_ATTRIBUTE, False) is True
        descriptors: list[StepDescriptor] = []
        for impl in self._pm.hook.register_steps.get_hookimpls():
            if impl.plugin_name != plugin.name:
                continue
            try:
                answer = impl.function()
                if answer is None:
                    answer = []
                if isinstance(answer, (str, bytes, Mapping)) or not isinstance(answer, Iterable):
                    raise PluginError(
                        f"register_steps returned {type(answer).__name__}; it must return a list "
                        "of StepDescriptor objects or dicts"
                    )
                descriptors.extend(
                    item
                    if bridge and isinstance(item, StepDescriptor) and item.distribution
                    else StepDescriptor.from_value(
                        item, distribution=plugin.distribution, version=plugin.version
                    )
                    for item in answer
                )
            except Exception as exc:  # noqa: BLE001
                self._pm.unregister(plugin.obj, name=plugin.name)
                del self._plugins[plugin.name]
                raise PluginError(f"register_steps of plugin {plugin.label} failed: {exc}") from exc
        plugin.descriptors = list(dict.fromkeys(descriptors))
        if bridge:
            self._bridges.add(plugin.name)
        self._classes.clear()
        return list(plugin.descriptors)

    @property
    def _descriptors(self) -> list[StepDescriptor]:
        """Every plugin's descriptors, duplicates removed, in registration order."""
        return list(dict.fromkeys(d for p in self._plugins.values() for d in p.descriptors))

    @property
    def _bridged(self) -> set[StepDescriptor]:
        """The descriptors registered by bridge plugins."""
        return {d for name in self._bridges for d in self._plugins[name].descriptors}

    def _prefer_native(self, descs: list[StepDescriptor]) -> list[StepDescriptor]:
        """Replace each bridged descriptor that a native one shadows by that native one."""
        bridged = self._bridged
        if not bridged.intersection(descs):
            return descs
        return list(dict.fromkeys((self.shadowing(d) or d) if d in bridged else d for d in descs))

    def shadowing(self, desc: StepDescriptor) -> StepDescriptor | None:
        """Return the native step that takes precedence over a bridged one, if any.

        Parameters
        ----------
        desc : StepDescriptor
            A registered descriptor.

        Returns
        -------
        StepDescriptor or None
            For a step registered by a bridge plugin, the first registration of
            another plugin that claims one of its names (which then means that
            registration); None otherwise.
        """
        self._ensure_loaded()
        bridged = self._bridged
        if desc not in bridged:
            return None
        names = set(desc.names())
        for other in self._descriptors:
            if other not in bridged and names & set(other.names()):
                return other
        return None

    def _check_no_wrappers(self, plugin: PluginRecord) -> None:
        for caller in self._pm.get_hookcallers(plugin.obj) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin.obj and (impl.wrapper or impl.hookwrapper):
                    raise pluggy.PluginValidationError(
                        plugin.obj,
                        f"hook {caller.name!r} is implemented as a wrapper, which steppe does not "
                        "support; use a plain @hookimpl",
                    )

    def _warn(self, plugin: PluginRecord, what: str, exc: BaseException) -> None:
        warnings.warn(
            f"steppe plugin {plugin.label} {what}: {type(exc).__name__}: {exc}",
            PluginWarning,
            stacklevel=4,
        )

    def _call_impl(self, impl: pluggy.HookImpl, hook_name: str, kwargs: dict) -> tuple[bool, Any]:
        """Call one hook implementation with the arguments it asks for, isolating errors."""
        missing = [name for name in impl.argnames if name not in kwargs]
        if missing:
            raise TypeError(
                f"hook {hook_name!r} called without argument(s) {', '.join(missing)}"
            )
        try:
            return True, impl.function(*[kwargs[name] for name in impl.argnames])
        except Exception as exc:  # noqa: BLE001
            plugin = self._plugins.get(impl.plugin_name)
            if plugin is None:
                raise
            if hook_name not in plugin.failed_hooks:
                plugin.failed_hooks.add(hook_name)
                self._warn(
                    plugin, f"raised in hook {hook_name!r} (its answer is ignored from now on)", exc
                )
            return False, None

    # ---------------------------------------------------------------- in-process plugins

    def register_plugin(
        self, plugin: object, distribution: str = "<in-process>", version: str = "0"
    ) -> list[StepDescriptor]:
        """Register a plugin object directly, without an entry point.

        Useful in tests and for steps defined in a script or notebook. The
        installed plugins are discovered first.

        Parameters
        ----------
        plugin : object
            A module, class or instance with ``@hookimpl`` functions.
        distribution, version : str
            What to report as its origin (in ``steppe list`` and messages).

        Returns
        -------
        list of StepDescriptor
            The steps it registered.

        Raises
        ------
        PluginError
            When the object is already registered, implements an unknown hook,
            or its ``register_steps`` fails or returns invalid descriptors.

        Examples
        --------
        >>> from pipeline_core import hookimpl
        >>> class MyPlugin:
        ...     @hookimpl
        ...     def register_steps(self):
        ...         return [{"class_path": "my_pkg.steps.MedianStep", "alias": "median"}]
        >>> reg = Registry(entry_points=())
        >>> [d.alias for d in reg.register_plugin(MyPlugin(), distribution="my-pkg")]
        ['median']
        """
        self._ensure_loaded()
        with self._lock:
            name = f"{normalize_dist(distribution)}::{getattr(plugin, '__name__', type(plugin).__name__)}"
            if self._pm.is_registered(plugin):
                raise PluginError(f"plugin {plugin!r} is already registered")
            base, n = name, 1
            while name in self._plugins or self._pm.has_plugin(name):
                n += 1
                name = f"{base}#{n}"
            return self._add_plugin(
                PluginRecord(obj=plugin, name=name, distribution=distribution, version=version)
            )

    def register_classes(
        self, *step_classes: type, distribution: str = "<in-process>", version: str = "0"
    ) -> list[StepDescriptor]:
        """Register already imported Step subclasses, e.g. defined in a script or a test.

        The descriptors are read from the class attributes (``class_alias``,
        ``legacy_class_paths``, ``parallel``); the classes resolve without any import,
        even when defined inside a function.

        Parameters
        ----------
        *step_classes : type
            :class:`~pipeline_core.steps.step.Step` subclasses.
        distribution, version : str
            What to report as their origin.

        Returns
        -------
        list of StepDescriptor

        Raises
        ------
        PluginError
            When an argument is not a Step subclass or its attributes are invalid.
        """
        for cls in step_classes:
            if not (isinstance(cls, type) and issubclass(cls, StepBase)):
                raise PluginError(
                    f"register_classes accepts pipeline_core.Step subclasses only, not {cls!r}"
                )
        descriptors = [
            StepDescriptor.from_class(cls, distribution=distribution, version=version)
            for cls in step_classes
        ]

        class _ClassesPlugin:
            __name__ = "classes"

            @hookspecs.hookimpl
            def register_steps(self) -> list[StepDescriptor]:
                return descriptors

        with self._lock:
            registered = self.register_plugin(_ClassesPlugin(), distribution, version)
            for cls, desc in zip(step_classes, descriptors):
                self._in_process_classes[desc.class_path] = cls
        return registered

    def unregister_plugin(self, plugin: object) -> None:
        """Remove a plugin registered with :meth:`register_plugin` and its steps.

        Parameters
        ----------
        plugin : object
            The object that was registered.

        Raises
        ------
        PluginError
            When the object is not registered.
        """
        with self._lock:
            for name, entry in list(self._plugins.items()):
                if entry.obj is plugin:
                    break
            else:
                raise PluginError(f"plugin {plugin!r} is not registered; nothing to unregister")
            self._pm.unregister(plugin, name=name)
            del self._plugins[name]
            self._bridges.discard(name)
            self._classes.clear()

    # ---------------------------------------------------------------- queries

    def descriptors(self) -> list[StepDescriptor]:
        """Return every registered step: by alias, then the ones without an alias.

        Imports no step class.

        Returns
        -------
        list of StepDescriptor
        """
        self._ensure_loaded()
        return sorted(
            self._descriptors,
            key=lambda d: (d.alias is None, d.alias or d.class_path, d.distribution),
        )

    def distributions(self) -> list[tuple[str, str]]:
        """Return the ``(name, version)`` of every distribution with a loaded plugin.

        Returns
        -------
        list of tuple of str
        """
        self._ensure_loaded()
        return sorted({(p.distribution, p.version) for p in self._plugins.values()})

    def conflicts(self) -> list[str]:
        """Describe every name claimed by more than one distribution or class.

        Returns
        -------
        list of str
            One message per ambiguous name; empty when all names are unique.
        """
        self._ensure_loaded()
        claims: dict[str, set[StepDescriptor]] = {}
        for desc in self._descriptors:
            for name in desc.names():
                claims.setdefault(name, set()).add(desc)
        claims = {name: set(self._prefer_native(list(descs))) for name, descs in claims.items()}
        return [
            _ambiguity_message(name, sorted(descs, key=lambda d: d.distribution))
            for name, descs in sorted(claims.items())
            if len({(d.class_path, d.distribution) for d in descs}) > 1
        ]

    def find(self, name: str) -> StepDescriptor:
        """Return the descriptor a name refers to, without importing anything.

        Parameters
        ----------
        name : str
            An alias, a registered or legacy class path, optionally prefixed by
            ``"distribution::"``.

        Returns
        -------
        StepDescriptor

        Raises
        ------
        PluginError
            When the name is not registered, or is claimed by more than one
            distribution (the message lists the ``dist::name`` spellings).
        """
        self._ensure_loaded()
        found = self._lookup(name)
        if found is None:
            raise PluginError(self._unknown_message(name))
        return found

    def _lookup(self, name: str) -> StepDescriptor | None:
        """Find a descriptor by name; None when unregistered; PluginError when ambiguous."""
        dist, sep, bare = name.strip().rpartition("::")
        pool = self._descriptors
        if sep:
            pool = [d for d in pool if normalize_dist(d.distribution) == normalize_dist(dist)]
            if not pool:
                known = ", ".join(n for n, _ in self.distributions()) or "none"
                raise PluginError(
                    f"no installed distribution named {dist!r} registers steps (in {name!r}); "
                    f"distributions with steps: {known}"
                )
        getters: tuple[Callable[[StepDescriptor], Iterable[str]], ...] = (
            lambda d: (d.alias,) if d.alias else (),
            lambda d: (d.class_path,),
            lambda d: d.legacy_class_paths,
        )
        for names_of in getters:
            matches = [d for d in pool if bare in names_of(d)]
            if not matches:
                continue
            if not sep:
                matches = self._prefer_native(matches)
            if len({(d.class_path, d.distribution) for d in matches}) > 1:
                raise PluginError(_ambiguity_message(bare, matches))
            return matches[0]
        return None

    def descriptor_for(self, step_class: type) -> StepDescriptor | None:
        """Return the descriptor registered for a class, if any.

        Parameters
        ----------
        step_class : type
            A step class.

        Returns
        -------
        StepDescriptor or None
            The descriptor whose class path (or legacy class path) is the class's
            ``module.qualname``, or None for an unregistered class.
        """
        self._ensure_loaded()
        path = f"{step_class.__module__}.{step_class.__qualname__}"
        for desc in self._descriptors:
            if desc.class_path == path:
                return desc
        for desc in self._descriptors:
            if path in desc.legacy_class_paths:
                return desc
        return None

    def resolve(self, name_or_class: str | type, *, allow_import: bool = False) -> type[StepBase]:
        """Return the step class a name refers to, importing only its module.

        Parameters
        ----------
        name_or_class : str or type
            An alias (``"jump"``), a registered class path, a legacy class path
            (``"jwst.jump.jump_step.JumpStep"``), any of these prefixed by
            ``"distribution::"``, or a Step subclass (returned as is).
        allow_import : bool, optional
            Also accept the dotted path of an unregistered Step subclass and
            import it. Also enabled by ``STEPPE_ALLOW_IMPORT=1``. Off by default,
            so that parameter files can only name registered steps.

        Returns
        -------
        type
            A :class:`~pipeline_core.steps.step.Step` subclass.

        Raises
        ------
        PluginError
            When the name is not registered (and importing is not allowed), is
            ambiguous, cannot be imported, or is not a Step subclass.
        """
        if isinstance(name_or_class, type):
            if issubclass(name_or_class, StepBase):
                return name_or_class
            raise PluginError(
                f"{name_or_class.__module__}.{name_or_class.__qualname__} is not a step: it does "
                "not derive from pipeline_core.Step"
            )
        if not isinstance(name_or_class, str) or not name_or_class.strip():
            raise PluginError(
                f"a step must be named by a non-empty string or given as a Step subclass, "
                f"not {name_or_class!r}"
            )
        name = name_or_class.strip()
        with self._lock:
            if name in self._classes:
                return self._classes[name]
        self._ensure_loaded()
        desc = self._lookup(name)
        if desc is not None:
            cls = self._in_process_classes.get(desc.class_path) or _import_class(
                desc.class_path, origin=desc.distribution_label
            )
            if not (isinstance(cls, type) and issubclass(cls, StepBase)):
                raise PluginError(
                    f"{desc.class_path} registered by {desc.distribution_label} is not a "
                    f"pipeline_core.Step subclass (it is {cls!r}); the plugin's register_steps "
                    "names the wrong object"
                )
        elif "::" not in name and CLASS_PATH_RE.match(name) and (
            allow_import or allow_import_from_env()
        ):
            cls = _import_class(name, origin="an unregistered class path (import allowed)")
            if not (isinstance(cls, type) and issubclass(cls, StepBase)):
                raise PluginError(
                    f"{name!r} is {cls!r}, not a step class deriving from pipeline_core.Step; "
                    "only steps can be named in parameter files and on the command line"
                )
        else:
            raise PluginError(self._unknown_message(name))
        with self._lock:
            self._classes[name] = cls
        return cls

    def resolve_preferring(self, name_or_class: str | type, distribution: str | None) -> type[StepBase]:
        """Resolve a name, looking first among one distribution's registrations.

        A coded pipeline names its steps by alias (``"jump"``); they mean the
        steps of the pipeline's own distribution even when another installed
        plugin registers the same alias.

        Parameters
        ----------
        name_or_class : str or type
            As for :meth:`resolve`.
        distribution : str or None
            The distribution whose registration wins when it has one of this name
            (``"steppe"``). None, a class, or a ``"dist::name"`` spelling resolve
            as :meth:`resolve` does.

        Returns
        -------
        type
            A :class:`~pipeline_core.steps.step.Step` subclass.

        Raises
        ------
        PluginError
            As :meth:`resolve`: when the distribution has no step of this name and
            the name is unknown or claimed by several other distributions.
        """
        if distribution and isinstance(name_or_class, str) and "::" not in name_or_class:
            name = name_or_class.strip()
            self._ensure_loaded()
            own = normalize_dist(distribution)
            if any(
                normalize_dist(d.distribution) == own and name in d.names() for d in self._descriptors
            ):
                return self.resolve(f"{own}::{name}")
        return self.resolve(name_or_class)

    def _unknown_message(self, name: str) -> str:
        known = sorted({n for d in self._descriptors for n in d.names()})
        aliases = sorted(d.alias for d in self._descriptors if d.alias)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        listed = ", ".join(aliases) if aliases else "none"
        text = f"{name!r} is not a registered step alias or class path.{hint} Registered aliases: {listed}."
        if CLASS_PATH_RE.match(name):
            text += (
                f" It was not imported: only registered steps may be named. To import an unregistered "
                f"Step subclass, install the plugin that provides it, or opt in with "
                f"resolve(..., allow_import=True) or {ALLOW_IMPORT_ENV}=1."
            )
        else:
            text += " Run 'steppe list' to see every step."
        return text


def _entry_point_sort_key(ep: importlib_metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    return (normalize_dist(getattr(dist, "name", None) or ""), ep.name)


def _ambiguity_message(name: str, descs: list[StepDescriptor]) -> str:
    dists = sorted({d.distribution_label for d in descs})
    choices = " or ".join(
        f"'{normalize_dist(d.distribution)}::{d.alias if d.alias == name else d.class_path}'"
        f" ({d.class_path} from {d.distribution_label})"
        for d in sorted(descs, key=lambda d: (d.distribution, d.class_path))
    )
    return (
        f"step name {name!r} is claimed by more than one registration "
        f"({' and '.join(dists)}); name one of them as 'distribution::name': {choices}"
    )


def _import_class(path: str, *, origin: str) -> Any:
    """Import ``package.module.Attr[.Nested]`` and return the attribute."""
    parts = path.split(".")
    error: BaseException | None = None
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            module: ModuleType = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                error = exc
                continue
            raise PluginError(f"importing {path} from {origin} failed: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"importing {path} from {origin} failed: {type(exc).__name__}: {exc}") from exc
        obj: Any = module
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError as exc:
            raise PluginError(
                f"{path} from {origin} cannot be found: module {module_name!r} has no "
                f"attribute {'.'.join(parts[split:])!r}"
            ) from exc
        return obj
    raise PluginError(
        f"{path} from {origin} cannot be imported: no module of it is installed ({error})"
    ) from error


_REGISTRY: Registry | None = None
_REGISTRY_LOCK = threading.Lock()


def registry() -> Registry:
    """Return the shared registry of installed plugins, creating it on first use.

    The entry points are read on the registry's first query and cached until
    :func:`reset_registry`.

    Returns
    -------
    Registry
    """
    global _REGISTRY
    reg = _REGISTRY
    if reg is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                _REGISTRY = Registry()
            reg = _REGISTRY
    return reg


def reset_registry() -> None:
    """Forget the shared registry; the next :func:`registry` call rediscovers plugins.

    Plugins registered with :meth:`Registry.register_plugin` are dropped too.
    """
    global _REGISTRY
    with _REGISTRY_LOCK:
        _REGISTRY = None
