"""The ``crds`` client, configured when a lookup happens, never at import.

steppe reads the CRDS settings (``CRDS_PATH``, ``CRDS_SERVER_URL``,
``CRDS_CONTEXT``, ``CRDS_MODE``) each time it looks a file up, so they may be set
or changed after ``import pipeline_core``. ``crds`` itself is imported on the
first lookup.

When ``CRDS_PATH`` is not set, the plugin hook
:func:`~pipeline_core.plugins.hookspecs.default_crds_cache` names a local cache (steppe's
built-in steps answer with the embedded offline reference set). Such a default
cache is used without a server: for the duration of each call, ``CRDS_PATH``
points at it, ``CRDS_SERVER_URL`` (unless set) is a server-less address, and the
cache is read-only. The process environment is restored after each call.

``crds`` memoizes its configuration and the mappings it loaded, and reads
``CRDS_SERVER_URL`` once at import; whenever the settings differ from those of
the previous lookup, the memoized state is cleared and the server is set again.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pipeline_core.errors import ReferenceFileError

__all__ = [
    "OBSERVATORY",
    "SERVERLESS_URL",
    "DEFAULT_CONTEXT",
    "CrdsSettings",
    "current_settings",
    "lookup",
    "recommendations",
    "context_name",
    "warm_up",
    "crds_version",
    "is_lookup_error",
    "is_unknown_instrument",
    "rules_summary",
    "reset",
]

#: The CRDS observatory steppe's reference files belong to.
OBSERVATORY = "jwst"

#: Server address used when none is configured: ``crds`` recognizes "serverless"
#: in the URL and answers every server call with an error before any network use.
SERVERLESS_URL = "https://jwst-serverless-mode.stsci.edu"

#: The context used when ``CRDS_CONTEXT`` is not set: the cache's (or server's)
#: operational context.
DEFAULT_CONTEXT = f"{OBSERVATORY}-operational"

_HOW_TO_CONFIGURE = (
    "Set CRDS_PATH to a CRDS cache folder (and CRDS_SERVER_URL to reach a CRDS server), "
    "or install steppe's built-in steps, which provide an embedded offline reference set"
)

_lock = threading.RLock()
_applied: CrdsSettings | None = None
_default_cache: tuple[object, str | None] | None = None  # (registry, its answer)


@dataclass(frozen=True)
class CrdsSettings:
    """The CRDS configuration in force for one lookup.

    Parameters
    ----------
    path : str
        The cache folder (``CRDS_PATH``).
    server_url : str
        The CRDS server address; a "serverless" address means: no server.
    context : str or None
        ``CRDS_CONTEXT``, or None for :data:`DEFAULT_CONTEXT`.
    mode : str or None
        ``CRDS_MODE`` when set (``local``, ``remote``, ``auto``).
    source : str
        Where the cache came from: ``"CRDS_PATH"`` or ``"default_crds_cache"``.
    """

    path: str
    server_url: str
    context: str | None
    mode: str | None
    source: str

    @property
    def server_config(self) -> str:
        """The file a usable cache must contain."""
        return os.path.join(self.path, "config", OBSERVATORY, "server_config")

    def environment(self) -> dict[str, str]:
        """The ``CRDS_*`` variables to set for a call with these settings."""
        env = {"CRDS_PATH": self.path, "CRDS_SERVER_URL": self.server_url}
        if self.source != "CRDS_PATH":
            env["CRDS_READONLY_CACHE"] = "1"
        return env


def _hook_default_cache() -> str | None:
    """Ask the plugins for a default cache, once per registry instance."""
    global _default_cache
    from pipeline_core.plugins.manager import registry

    reg = registry()
    if _default_cache is None or _default_cache[0] is not reg:
        answer = reg.hook.default_crds_cache()
        _default_cache = (reg, os.fspath(answer) if answer is not None else None)
    return _default_cache[1]


def current_settings() -> CrdsSettings:
    """Read the CRDS settings now in force.

    Returns
    -------
    CrdsSettings

    Raises
    ------
    ReferenceFileError
        When no cache is configured (no ``CRDS_PATH`` and no plugin offers a
        default cache), or the cache has no ``config/jwst/server_config`` file.
    """
    path = os.environ.get("CRDS_PATH", "").strip()
    source = "CRDS_PATH"
    if not path:
        path = _hook_default_cache() or ""
        source = "default_crds_cache"
        if not path:
            raise ReferenceFileError(
                "CRDS is not configured: CRDS_PATH is not set and no plugin provides a default "
                f"reference cache. {_HOW_TO_CONFIGURE}."
            )
    server_url = os.environ.get("CRDS_SERVER_URL", "").strip() or SERVERLESS_URL
    context = os.environ.get("CRDS_CONTEXT", "").strip() or None
    mode = os.environ.get("CRDS_MODE", "").strip() or None
    settings = CrdsSettings(os.path.abspath(path), server_url, context, mode, source)
    if not os.path.isfile(settings.server_config):
        origin = "CRDS_PATH" if source == "CRDS_PATH" else "the default reference cache"
        raise ReferenceFileError(
            f"CRDS is not usable: {origin} is '{settings.path}', which has no "
            f"'config/{OBSERVATORY}/server_config' file, so it is not a CRDS cache. "
            f"Point CRDS_PATH at a complete CRDS cache (synced from a CRDS server with "
            f"CRDS_SERVER_URL set), or unset it to use the embedded offline reference set."
        )
    return settings


def _import_crds() -> ModuleType:
    try:
        import crds
    except ImportError as error:  # pragma: no cover - crds is a dependency
        raise ReferenceFileError(
            f"the 'crds' package cannot be imported ({error}); install it (pip install crds)."
        ) from error
    return crds


def _apply(crds: ModuleType, settings: CrdsSettings) -> None:
    """Make crds forget memoized state when the settings changed since the last call."""
    global _applied
    if settings == _applied:
        return
    from crds.client import api
    from crds.core import config, utils

    api.set_crds_server(settings.server_url)
    config.CRDS_REF_SUBDIR_MODE = "None"
    utils.clear_function_caches()
    _applied = settings


@contextlib.contextmanager
def _session() -> Iterator[tuple[ModuleType, CrdsSettings]]:
    """Run crds calls with the current settings and restore the environment after."""
    with _lock:  # the settings too: the default cache may be built on first use, once
        settings = current_settings()
        crds = _import_crds()
        saved = {name: os.environ.get(name) for name in settings.environment()}
        os.environ.update(settings.environment())
        try:
            _apply(crds, settings)
            yield crds, settings
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _crds_call(call: str, settings: CrdsSettings, function, *args, **kwargs):
    """Call a crds function, turning a fatal configuration exit into an error."""
    try:
        return function(*args, **kwargs)
    except SystemExit as error:  # crds exits when its cache cannot be loaded
        raise ReferenceFileError(
            f"CRDS could not load its configuration from '{settings.path}' during {call} "
            f"(exit status {error.code}). {_HOW_TO_CONFIGURE}."
        ) from error


def _resolve_context(crds: ModuleType, settings: CrdsSettings, context: str | None = None) -> str:
    symbolic = context or settings.context or DEFAULT_CONTEXT
    return _crds_call("get_context_name", settings, crds.get_context_name, OBSERVATORY, symbolic)


def context_name(context: str | None = None) -> str:
    """Return the name of the context (``.pmap``) lookups use now.

    Parameters
    ----------
    context : str, optional
        An explicit context (name or symbolic such as ``"jwst-latest"``); default:
        ``CRDS_CONTEXT`` or the cache's default.

    Returns
    -------
    str
    """
    with _session() as (crds, settings):
        return _resolve_context(crds, settings, context)


def lookup(
    parameters: Mapping[str, Any], reftypes: Sequence[str]
) -> tuple[dict[str, str], str, CrdsSettings]:
    """Ask CRDS for the best reference files of some types.

    Parameters
    ----------
    parameters : mapping
        CRDS matching parameters (``META.*`` keys), from ``model.get_crds_parameters()``.
    reftypes : sequence of str
        Lower-case reference types.

    Returns
    -------
    refs : dict
        Reference type -> local path; ``"NOT FOUND n/a"`` when not applicable,
        ``"NOT FOUND <reason>"`` when no rule matches.
    context : str
        The context used.
    settings : CrdsSettings
        The settings in force.

    Raises
    ------
    ReferenceFileError
        When CRDS is not configured.
    crds.CrdsError
        Other failures, as crds raises them (see :func:`is_lookup_error`): an
        instrument the context does not know, a selected file that is neither in
        the cache nor obtainable, a broken mapping.

    Notes
    -----
    ``crds.getrecommendations`` selects the files; ``crds.getreferences`` then
    locates (or, with a server, fetches) the ones found.
    """
    with _session() as (crds, settings):
        context = _resolve_context(crds, settings)
        # Recommendations first: they report "no match" as a value, without crds's
        # error log and without the slow keyword translation of its error path.
        refs = _recommended(crds, settings, context, parameters, reftypes)
        found = [t for t in reftypes if not str(refs.get(t, "NOT FOUND")).upper().startswith("NOT FOUND")]
        if found:
            refs.update(
                _crds_call(
                    "getreferences",
                    settings,
                    crds.getreferences,
                    dict(parameters),
                    reftypes=found,
                    context=context,
                    observatory=OBSERVATORY,
                )
            )
        return refs, context, settings


def warm_up() -> None:
    """Import crds and load the current context's rules, ahead of a first lookup.

    A pipeline calls this in a background thread while its first steps run
    (:func:`pipeline_core.parallel.session.run_warm_ups`), so that its first
    lookup does not wait for them. The lookups' lock makes a lookup started
    meanwhile wait for it; whatever fails here is left for that lookup to report.
    """
    with _session() as (crds, settings):
        crds.get_cached_mapping(_resolve_context(crds, settings))


def recommendations(parameters: Mapping[str, Any], reftypes: Sequence[str]) -> dict[str, str]:
    """Return CRDS's recommended file names without fetching files or raising on no match.

    Parameters
    ----------
    parameters : mapping
        CRDS matching parameters.
    reftypes : sequence of str
        Lower-case reference types.

    Returns
    -------
    dict
        Reference type -> file basename, or ``"NOT FOUND <reason>"``.
    """
    with _session() as (crds, settings):
        return _recommended(crds, settings, _resolve_context(crds, settings), parameters, reftypes)


def _recommended(
    crds: Any, settings: Any, context: str, parameters: Mapping[str, Any], reftypes: Sequence[str]
) -> dict[str, str]:
    """``crds.getrecommendations`` for `reftypes` in `context` (no file is fetched)."""
    return dict(
        _crds_call(
            "getrecommendations",
            settings,
            crds.getrecommendations,
            dict(parameters),
            reftypes=list(reftypes),
            context=context,
            observatory=OBSERVATORY,
        )
    )


def rules_summary(instrument: str, reftype: str, *, limit: int = 12) -> str | None:
    """Describe which data a reference type's rules cover, for error messages.

    Parameters
    ----------
    instrument : str
        Instrument name.
    reftype : str
        Lower-case reference type.
    limit : int, optional
        At most this many rule keys are listed.

    Returns
    -------
    str or None
        E.g. ``"jwst_nircam_gain_0001.rmap covers META.INSTRUMENT.DETECTOR/META.SUBARRAY.NAME
        = NRCA1/FULL, NRCA1/SUB160 (dated by META.OBSERVATION.DATE/TIME)"``, or None
        when the rules cannot be read.
    """
    try:
        with _session() as (crds, settings):
            from crds.core import rmap

            context = _resolve_context(crds, settings)
            rules = rmap.get_cached_mapping(context).get_imap(instrument.lower()).get_rmap(reftype)
            names = rules.parkey[0]
            keys = ["/".join(k) if isinstance(k, tuple) else str(k) for k in rules.selector.keys()]
    except Exception:  # only a help text: any failure means "no summary"
        return None
    shown = ", ".join(keys[:limit]) + (f", ... ({len(keys)} rules)" if len(keys) > limit else "")
    dated = " (dated by META.OBSERVATION.DATE/TIME)" if len(rules.parkey) > 1 else ""
    return f"{rules.name} covers {'/'.join(names)} = {shown}{dated}"


def crds_version() -> str:
    """Return the version of the installed ``crds`` package."""
    return str(getattr(_import_crds(), "__version__", "unknown"))


def is_lookup_error(error: BaseException) -> bool:
    """Tell whether ``error`` is one of crds's own errors (a ``crds.CrdsError``)."""
    try:
        from crds.core.exceptions import CrdsError
    except ImportError:  # pragma: no cover - crds is a dependency
        return False
    return isinstance(error, CrdsError)


def is_unknown_instrument(error: BaseException) -> bool:
    """Tell whether ``error`` says the context has no rules for the instrument."""
    from crds.core.exceptions import CrdsUnknownInstrumentError

    return isinstance(error, CrdsUnknownInstrumentError)


def reset() -> None:
    """Forget the settings of the previous lookup and the plugins' default cache.

    The next lookup then clears crds's memoized configuration and mappings, and
    asks the plugins again. Call it after editing the mappings of a cache in place.
    """
    global _applied, _default_cache
    with _lock:
        _applied = None
        _default_cache = None
