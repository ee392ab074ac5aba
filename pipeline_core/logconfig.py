"""Logging of steps: per-step loggers and ``logcfg`` files.

Every step logs through ``logging.getLogger("steppe.<step name>")``. steppe adds no
handler by itself, so a plain ``logging.basicConfig(level=logging.INFO)`` shows the
messages. A ``logcfg`` file (configparser syntax, as stpipe reads it) sends a run's
messages somewhere for the duration of that run::

    [*]
    handler = file:pipeline.log
    level = INFO

A section name is a glob matched against the step name (``[*]``: every step,
``[jump]``: that step only). Keys: ``handler`` (comma separated ``file:<path>``,
``append:<path>``, ``stderr``, ``stdout``), ``level`` (a level name or number) and
``format`` (a :mod:`logging` format string). Handlers are attached to the ``steppe``
logger only; the root logger's handlers are never touched.

**The console, as stpipe users expect it.** ``Step.call`` and the ``steppe`` command
run inside :func:`console_logging`: when nobody configured logging (neither the
``steppe`` logger nor the root logger has a handler), steppe's INFO messages (step
start and end, reference files, saved products) go to stderr for the duration of the
call, in stpipe's format. The first caller installs the handler; nested calls share
it, so a message is never printed twice. Anything configured wins: a ``logcfg``
file, ``logging.basicConfig(...)``, any handler on ``steppe`` or the root logger
(``logging.getLogger("steppe").addHandler(logging.NullHandler())`` silences steppe
the standard way). ``STEPPE_LOG_LEVEL`` sets the console's level (``DEBUG``,
``INFO``, ``WARNING``, ``ERROR``, ``CRITICAL``, a number, or ``off``), and a library
embedding steppe can call :func:`disable_default_logging`.

Why one module of this size: ``logcfg`` files and the default console are the two
ways steppe itself puts handlers on the ``steppe`` logger, and each must know
whether the other (or the user) already did.
"""

from __future__ import annotations

import configparser
import contextlib
import fnmatch
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from pipeline_core.errors import ParameterError

__all__ = [
    "LOGGER_NAME",
    "DEFAULT_FORMAT",
    "LEVEL_ENV",
    "OFF",
    "LogRule",
    "step_logger",
    "read_logcfg",
    "configured",
    "ConsoleHandler",
    "console_logging",
    "console_handler",
    "console_level_from_env",
    "disable_default_logging",
    "enable_default_logging",
    "default_logging_enabled",
]

#: The parent logger of every step's logger.
LOGGER_NAME = "steppe"
#: The format used when a ``logcfg`` section gives none, and by the console.
DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
#: Environment variable setting the level of steppe's own console log (or ``off``).
LEVEL_ENV = "STEPPE_LOG_LEVEL"
#: The console level meaning "no console log at all".
OFF = logging.CRITICAL + 100

_HANDLER_HELP = "file:<path>, append:<path>, stderr or stdout (comma separated)"


def step_logger(name: str) -> logging.Logger:
    """Return the logger of the step called ``name``.

    Parameters
    ----------
    name : str
        The step's name.

    Returns
    -------
    logging.Logger
        ``steppe.<name>``.
    """
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


@dataclass(frozen=True)
class LogRule:
    """One section of a ``logcfg`` file.

    Parameters
    ----------
    pattern : str
        Glob matched against the step name (the logger name after ``steppe.``).
    handlers : tuple of str
        Handler specifications (``file:<path>``, ``append:<path>``, ``stderr``, ``stdout``).
    level : int
        The lowest level sent to the handlers.
    format : str
        The :mod:`logging` format string.
    """

    pattern: str
    handlers: tuple[str, ...]
    level: int
    format: str = DEFAULT_FORMAT

    def matches(self, logger_name: str) -> bool:
        """Tell whether a record from ``logger_name`` belongs to this rule.

        Parameters
        ----------
        logger_name : str
            A logger name such as ``steppe.jump``.

        Returns
        -------
        bool
        """
        short = logger_name[len(LOGGER_NAME) + 1 :] if logger_name.startswith(LOGGER_NAME + ".") else logger_name
        return fnmatch.fnmatchcase(short, self.pattern) or fnmatch.fnmatchcase(logger_name, self.pattern)


def _parse_level(text: str, where: str) -> int:
    value = text.strip()
    if value.isdigit():
        return int(value)
    level = logging.getLevelName(value.upper())
    if isinstance(level, int):
        return level
    raise ParameterError(
        f"{where}: level = {text!r} is not a logging level; accepted: DEBUG, INFO, "
        "WARNING, ERROR, CRITICAL or a number"
    )


def read_logcfg(path: str | os.PathLike[str]) -> list[LogRule]:
    """Read a ``logcfg`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file (configparser syntax).

    Returns
    -------
    list of LogRule
        One per section.

    Raises
    ------
    ParameterError
        If the file is missing, cannot be parsed, or has an unknown key, handler or
        level; the message names the file and section.
    """
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise ParameterError(f"logcfg file {text!r} does not exist; give a configparser file "
                             "with sections such as [*] and keys handler, level, format")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(text, encoding="utf-8")
    except configparser.Error as exc:
        raise ParameterError(f"logcfg file {text!r} cannot be parsed: {exc}") from exc
    rules = []
    for section in parser.sections():
        where = f"logcfg file {text!r}, section [{section}]"
        items = dict(parser.items(section))
        unknown = sorted(set(items) - {"handler", "level", "format"})
        if unknown:
            raise ParameterError(f"{where}: unknown keys {unknown}; accepted: handler, level, format")
        handlers = tuple(h.strip() for h in items.get("handler", "stderr").split(",") if h.strip())
        for handler in handlers:
            kind, _, target = handler.partition(":")
            if kind not in ("file", "append", "stderr", "stdout") or (kind in ("file", "append") and not target):
                raise ParameterError(f"{where}: handler {handler!r} is not understood; accepted: {_HANDLER_HELP}")
        rules.append(
            LogRule(
                pattern=section,
                handlers=handlers,
                level=_parse_level(items.get("level", "INFO"), where),
                format=items.get("format", DEFAULT_FORMAT),
            )
        )
    return rules


class _RuleFilter(logging.Filter):
    def __init__(self, rule: LogRule) -> None:
        super().__init__()
        self.rule = rule

    def filter(self, record: logging.LogRecord) -> bool:
        return self.rule.matches(record.name)


def _make_handler(spec: str, base: str) -> logging.Handler:
    kind, _, target = spec.partition(":")
    if kind == "stderr":
        return logging.StreamHandler(sys.stderr)
    if kind == "stdout":
        return logging.StreamHandler(sys.stdout)
    path = target if os.path.isabs(target) else os.path.join(base, target)
    return logging.FileHandler(path, mode="a" if kind == "append" else "w", encoding="utf-8")


@contextlib.contextmanager
def configured(logcfg: str | os.PathLike[str] | None) -> Iterator[list[logging.Handler]]:
    """Send the ``steppe`` loggers' records as a ``logcfg`` file says, within a block.

    Parameters
    ----------
    logcfg : str, os.PathLike or None
        The ``logcfg`` file; ``None`` changes nothing. Relative file handler paths
        are relative to the current working directory.

    Yields
    ------
    list of logging.Handler
        The handlers added (removed and closed when the block ends).

    Raises
    ------
    ParameterError
        If the file is invalid (see :func:`read_logcfg`).
    """
    if logcfg is None:
        yield []
        return
    rules = read_logcfg(logcfg)
    logger = logging.getLogger(LOGGER_NAME)
    handlers: list[logging.Handler] = []
    old_level = logger.level
    try:
        for rule in rules:
            for spec in rule.handlers:
                handler = _make_handler(spec, os.getcwd())
                handler.setLevel(rule.level)
                handler.setFormatter(logging.Formatter(rule.format))
                handler.addFilter(_RuleFilter(rule))
                logger.addHandler(handler)
                handlers.append(handler)
        if rules:
            lowest = min(rule.level for rule in rules)
            if logger.level == logging.NOTSET or logger.level > lowest:
                logger.setLevel(min(lowest, logger.getEffectiveLevel()))
        yield handlers
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(old_level)


# --------------------------------------------------------------------------------------
# The default console
# --------------------------------------------------------------------------------------

_OFF_WORDS = frozenset({"off", "none", "quiet", "silent"})
_LEVEL_HELP = "DEBUG, INFO, WARNING, ERROR, CRITICAL, a positive number, or off"


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """steppe's own console handler: a stream handler that keeps progress bars whole.

    While a :mod:`tqdm` progress bar is on the screen, a message is written above
    it (the bar is cleared, the line written, the bar drawn again) instead of
    through it.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record, clearing any progress bar around it.

        Parameters
        ----------
        record : logging.LogRecord
            The record.
        """
        tqdm_module = sys.modules.get("tqdm")
        bar_class = getattr(tqdm_module, "tqdm", None)
        if bar_class is not None and getattr(bar_class, "_instances", None):
            with bar_class.external_write_mode(file=self.stream):
                super().emit(record)
        else:
            super().emit(record)


class _Console:
    """The shared default console: one handler, counted users."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.disabled = False
        self.handler: ConsoleHandler | None = None
        self.users = 0
        self.saved_level = logging.NOTSET


_CONSOLE = _Console()


def disable_default_logging() -> None:
    """Stop ``Step.call`` from printing steppe's messages to stderr by itself.

    For libraries and services embedding steppe that route or silence logging
    themselves. Handlers configured with :mod:`logging` or a ``logcfg`` file work
    as before; only steppe's own console (and its progress bars) is turned off.
    The setting lasts for the process; :func:`enable_default_logging` undoes it.
    A console already on the screen stays until the call that installed it ends.
    """
    with _CONSOLE.lock:
        _CONSOLE.disabled = True


def enable_default_logging() -> None:
    """Undo :func:`disable_default_logging`."""
    with _CONSOLE.lock:
        _CONSOLE.disabled = False


def default_logging_enabled() -> bool:
    """Tell whether steppe may install its console (see :func:`disable_default_logging`).

    Returns
    -------
    bool
    """
    return not _CONSOLE.disabled


def console_level_from_env() -> int | None:
    """Return the console level the ``STEPPE_LOG_LEVEL`` environment variable asks for.

    Returns
    -------
    int or None
        A :mod:`logging` level, :data:`OFF` for ``off`` (also ``none``, ``quiet``,
        ``silent``), or None when the variable is unset or blank.

    Raises
    ------
    ParameterError
        If the variable holds anything else; the message names it, its value and
        what is accepted.
    """
    raw = os.environ.get(LEVEL_ENV)
    if raw is None or not raw.strip():
        return None
    word = raw.strip()
    if word.lower() in _OFF_WORDS:
        return OFF
    if word.isdigit() and int(word) > 0:
        return int(word)
    level = logging.getLevelName(word.upper())
    if isinstance(level, int) and level > 0:
        return level
    raise ParameterError(
        f"environment variable {LEVEL_ENV}={raw!r} is not a logging level; accepted: "
        f"{_LEVEL_HELP}. Set one of these, or unset it for INFO"
    )


def _configured_elsewhere(logger: logging.Logger) -> bool:
    if logger.handlers:
        return True
    return logger.propagate and bool(logging.getLogger().handlers)


def console_handler() -> ConsoleHandler | None:
    """Return steppe's console handler while one is installed.

    Returns
    -------
    ConsoleHandler or None
        The handler :func:`console_logging` attached to the ``steppe`` logger, or
        None when steppe's messages go where the user configured them.
    """
    return _CONSOLE.handler


@contextlib.contextmanager
def console_logging(
    level: int | None = None, *, stream: TextIO | None = None
) -> Iterator[ConsoleHandler | None]:
    """Print steppe's messages to stderr within a block, unless logging is configured.

    Parameters
    ----------
    level : int, optional
        The console's level (the command line's ``--quiet``/``--verbose``);
        :data:`OFF` installs nothing. Default: ``STEPPE_LOG_LEVEL``, else INFO.
    stream : text stream, optional
        Where to write; default ``sys.stderr`` at the time of the call.

    Yields
    ------
    ConsoleHandler or None
        The handler in use, or None when nothing was installed: the ``steppe`` or
        the root logger has a handler (configured logging wins), the level is
        :data:`OFF`, or :func:`disable_default_logging` was called. A block nested
        in another shares its handler (and its level): nothing is printed twice.

    Raises
    ------
    ParameterError
        If ``STEPPE_LOG_LEVEL`` is invalid (see :func:`console_level_from_env`).

    Notes
    -----
    The ``steppe`` logger's level is set to the console's level for the block when
    it has none of its own, and restored afterwards; the root logger is never
    touched.
    """
    logger = logging.getLogger(LOGGER_NAME)
    with _CONSOLE.lock:
        handler = _CONSOLE.handler
        if handler is not None:
            _CONSOLE.users += 1
        elif not _CONSOLE.disabled and not _configured_elsewhere(logger):
            if level is None:
                level = console_level_from_env()
            if level is None:
                level = logging.INFO
            if level < OFF:
                handler = ConsoleHandler(stream if stream is not None else sys.stderr)
                handler.setLevel(level)
                handler.setFormatter(logging.Formatter(DEFAULT_FORMAT))
                _CONSOLE.saved_level = logger.level
                if logger.level == logging.NOTSET:
                    logger.setLevel(level)
                logger.addHandler(handler)
                _CONSOLE.handler, _CONSOLE.users = handler, 1
    try:
        yield handler
    finally:
        if handler is not None:
            with _CONSOLE.lock:
                _CONSOLE.users -= 1
                if _CONSOLE.users == 0:
                    logger.removeHandler(handler)
                    handler.flush()
                    if logger.level == handler.level and _CONSOLE.saved_level == logging.NOTSET:
                        logger.setLevel(logging.NOTSET)
                    _CONSOLE.handler = None
