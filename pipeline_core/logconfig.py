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
"""

from __future__ import annotations

import configparser
import contextlib
import fnmatch
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline_core.errors import ParameterError

__all__ = ["LOGGER_NAME", "DEFAULT_FORMAT", "LogRule", "step_logger", "read_logcfg", "configured"]

#: The parent logger of every step's logger.
LOGGER_NAME = "steppe"
#: The format used when a ``logcfg`` section gives none.
DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

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
