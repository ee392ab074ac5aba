"""Step parameters: spec strings, typed validation and the merging of layers.

A step declares its parameters in the stpipe (configobj) spec syntax, one per line::

    rejection_threshold = float(default=4.0, min=0)   # sigma threshold
    algorithm = option('OLS', 'OLS_C', default='OLS_C')
    firstgroup = integer(default=None)                 # None: use all groups
    pre_hooks = string_list(default=list())

:func:`parse_spec` turns such text into :class:`ParamSpec` objects; :func:`validate`
converts and checks a mapping of values against them, collecting every problem
before anything is raised; :func:`merge_layers` stacks the configuration layers
(defaults < CRDS parameter file < parameter file < keyword arguments).

Why one module of this size: spec parsing, value conversion and layer merging
are the one concept "a parameter": a spec is useless without its converter, and
the merge follows the spec's nesting.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline_core.errors import ParameterError, StepError
from pipeline_core.truth import parse_truth

__all__ = [
    "ParamSpec",
    "parse_spec",
    "validate",
    "raise_problems",
    "merge_layers",
    "COMMON_SPEC",
    "PARALLEL_SPEC",
    "parallel_specs",
    "override_spec",
    "unknown_name_problem",
]

#: Parameters every step has (the stpipe set).
COMMON_SPEC = """
pre_hooks = hook_list(default=list())   # steps or callables run on the input before the step
post_hooks = hook_list(default=list())  # steps or callables run on the result after the step
output_file = output_file(default=None) # base name of the product (its suffix is appended)
output_dir = string(default=None)       # folder for products (created if missing)
output_ext = string(default='.fits')    # extension of products: .fits or .asdf
output_use_model = boolean(default=False)  # name products after the model's meta.filename
output_use_index = boolean(default=True)   # number the products of a step returning several
save_results = boolean(default=False)   # save the result of this step
skip = boolean(default=False)           # skip this step
suffix = string(default=None)           # product suffix (default: the step's own)
search_output_file = boolean(default=True)  # inside a pipeline, use the pipeline's output_file
input_dir = string(default=None)        # folder in which relative input paths are looked up
"""

#: The extra parameter of steps with ``parallel = True``.
PARALLEL_SPEC = """
maximum_cores = string(default='none')  # worker processes: none, quarter, half, all or a number
"""


def _check_maximum_cores(value: Any, step: str | None) -> None:
    """Refuse a ``maximum_cores`` value that :mod:`pipeline_core.parallel.rows` cannot resolve."""
    from pipeline_core.parallel.cores import parse_maximum_cores

    parse_maximum_cores(value, step or "")


def parallel_specs() -> dict[str, ParamSpec]:
    """Return the specs of the parameters a parallel step adds (:data:`PARALLEL_SPEC`).

    ``maximum_cores`` is checked with the rules of
    :func:`pipeline_core.parallel.rows.resolve_max_workers` whenever it is set, so a
    value it would refuse is a :class:`~pipeline_core.errors.ParameterError` when
    the step is configured, not when it runs.

    Returns
    -------
    dict of str to ParamSpec

    Examples
    --------
    >>> spec = parallel_specs()["maximum_cores"]
    >>> spec.convert("HALF"), spec.convert(2)
    ('HALF', '2')
    """
    specs = parse_spec(PARALLEL_SPEC, owner="steppe parallel parameters")
    cores = specs["maximum_cores"]
    specs["maximum_cores"] = dataclasses.replace(cores, check=_check_maximum_cores)
    return specs


def override_spec(reftype: str) -> str:
    """Return the spec line of the ``override_<reftype>`` parameter.

    Parameters
    ----------
    reftype : str
        A reference file type such as ``"gain"``.

    Returns
    -------
    str
        One spec line.
    """
    return (
        f"override_{reftype} = path_or_model(default=None)"
        f"  # use this {reftype} reference file instead of the CRDS one\n"
    )


# --------------------------------------------------------------------------- kinds

_KIND_ALIASES = {
    "float": "float",
    "integer": "integer",
    "int": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "str": "string",
    "output_file": "string",
    "option": "option",
    "list": "list",
    "tuple": "list",
    "mixed_list": "list",
    "force_list": "force_list",
    "float_list": "float_list",
    "int_list": "int_list",
    "integer_list": "int_list",
    "bool_list": "bool_list",
    "boolean_list": "bool_list",
    "string_list": "string_list",
    "str_list": "string_list",
    "pass": "any",
    "string_or_datamodel": "path_or_model",
    "path_or_model": "path_or_model",
    "datamodel": "path_or_model",
    "hook_list": "hook_list",
}

_LIST_ITEM_KIND = {
    "float_list": "float",
    "int_list": "integer",
    "bool_list": "boolean",
    "string_list": "string",
}

_KIND_TEXT = {
    "float": "a float",
    "integer": "an integer",
    "boolean": "a boolean (true/false)",
    "string": "a string",
    "list": "a list",
    "force_list": "a list (a single value becomes a one-item list)",
    "float_list": "a list of floats",
    "int_list": "a list of integers",
    "bool_list": "a list of booleans",
    "string_list": "a list of strings",
    "any": "any value",
    "path_or_model": "a file path or a data model",
    "hook_list": "a list of step names, class paths, Step classes or callables",
}



class _Invalid(Exception):
    """A value does not fit its spec; the argument says why."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter.

    Parameters
    ----------
    name : str
        The parameter name.
    kind : str
        The canonical check name (``float``, ``integer``, ``boolean``, ``string``,
        ``option``, ``list``, ``force_list``, ``float_list``, ``int_list``,
        ``bool_list``, ``string_list``, ``path_or_model``, ``hook_list``, ``any``).
    default : object
        The default value, already converted to the parameter's type.
    nullable : bool
        Whether ``None`` is accepted (the spec said ``default=None``).
    minimum, maximum : float or None
        Bounds: of the value for numbers, of the length for lists.
    options : tuple
        The accepted values of an ``option(...)``.
    help : str
        The help text (the spec line's comment).
    source : str
        The spec line's check, as written (``float(default=4.0, min=0)``).
    check : callable, optional
        A further check of values that passed the type check:
        ``check(value, step_name)`` gets the value as given and raises
        :class:`~pipeline_core.errors.ParameterError` with the whole message
        (naming the step, the parameter, the value and what is accepted).
    """

    name: str
    kind: str
    default: Any = None
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[Any, ...] = ()
    help: str = ""
    source: str = ""
    check: Callable[[Any, str | None], None] | None = field(default=None, compare=False, repr=False)

    # ------------------------------------------------------------------ describing
    def describe(self) -> str:
        """Say in words what the parameter accepts.

        Returns
        -------
        str
            For example ``"a float >= 0"`` or ``"one of 'OLS', 'OLS_C'"``.
        """
        if self.kind == "option":
            text = "one of " + ", ".join(repr(o) for o in self.options)
        else:
            text = _KIND_TEXT[self.kind]
            is_list = self.kind in _LIST_ITEM_KIND or self.kind in ("list", "force_list")
            bounds = []
            if self.minimum is not None:
                bounds.append(f">= {self.minimum:g}" if not is_list else f"at least {self.minimum:g} items")
            if self.maximum is not None:
                bounds.append(f"<= {self.maximum:g}" if not is_list else f"at most {self.maximum:g} items")
            if bounds:
                text += " " + " and ".join(bounds) if not is_list else " with " + " and ".join(bounds)
        if self.nullable:
            text += ", or None"
        return text

    # ------------------------------------------------------------------ converting
    def convert(self, value: Any, step: str | None = None) -> Any:
        """Convert a value to this parameter's type and check it.

        Parameters
        ----------
        value : object
            The value given (from code, a parameter file or the command line).
        step : str, optional
            The step's name, to name it in the error message.

        Returns
        -------
        object
            The typed value.

        Raises
        ------
        ParameterError
            If the value does not fit; the message names the parameter, the value
            and what is accepted.
        """
        try:
            converted = self._convert(value)
        except _Invalid as exc:
            raise ParameterError(self.problem(value, str(exc), step=step)) from None
        if self.check is not None and converted is not None:
            self.check(value, step)
        return converted

    def problem(self, value: Any, reason: str, step: str | None = None) -> str:
        """Format the message for a value that does not fit.

        Parameters
        ----------
        value : object
            The value given.
        reason : str
            Why it does not fit.
        step : str, optional
            The step's name, to prefix the message with.

        Returns
        -------
        str
            One line.
        """
        where = f"step '{step}': " if step else ""
        return (
            f"{where}parameter '{self.name}' = {value!r} {reason}; "
            f"accepted: {self.describe()} [{self.source}]"
        )

    def _convert(self, value: Any) -> Any:
        if value is None or (self.nullable and isinstance(value, str) and value == "None"):
            if self.nullable or self.kind == "any":
                return None
            raise _Invalid("is not accepted (None is only allowed where the default is None)")
        if self.kind == "option":
            return self._convert_option(value)
        if self.kind in ("list", "force_list") or self.kind in _LIST_ITEM_KIND:
            return self._convert_list(value)
        if self.kind == "hook_list":
            return _convert_hooks(value)
        if self.kind == "path_or_model":
            if isinstance(value, (str, os.PathLike)):
                return os.fspath(value)
            if hasattr(value, "meta"):
                return value
            raise _Invalid(f"is a {type(value).__name__}")
        if self.kind == "any":
            return value
        converted = _convert_scalar(self.kind, value)
        self._check_bounds(converted, converted)
        return converted

    def _convert_option(self, value: Any) -> Any:
        for option in self.options:
            if value == option and type(value) is type(option):
                return option
        for option in self.options:
            if str(value) == str(option):
                return option
        folded = [o for o in self.options if isinstance(o, str) and isinstance(value, str)
                  and o.lower() == value.lower()]
        if len(folded) == 1:
            return folded[0]
        raise _Invalid("is not one of the options")

    def _convert_list(self, value: Any) -> list[Any]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("[", "(")) and text.endswith(("]", ")")):
                text = text[1:-1]
            items: list[Any] = [p.strip() for p in text.split(",")] if text.strip() else []
            items = [_unquote(p) for p in items]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        elif hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1:
            items = list(value.tolist())
        elif self.kind == "force_list":
            items = [value]
        else:
            raise _Invalid(f"is a {type(value).__name__}, not a list")
        item_kind = _LIST_ITEM_KIND.get(self.kind)
        if item_kind is not None:
            converted = []
            for position, item in enumerate(items):
                try:
                    converted.append(_convert_scalar(item_kind, item))
                except _Invalid as exc:
                    raise _Invalid(f"has item {position} = {item!r} that {exc}") from None
            items = converted
        self._check_bounds(items, len(items))
        return items

    def _check_bounds(self, value: Any, measure: Any) -> None:
        if not isinstance(measure, numbers.Real) or isinstance(measure, bool):
            return
        if isinstance(value, list):
            if self.minimum is not None and measure < self.minimum:
                raise _Invalid(f"has {measure} items, fewer than the minimum {self.minimum:g}")
            if self.maximum is not None and measure > self.maximum:
                raise _Invalid(f"has {measure} items, more than the maximum {self.maximum:g}")
            return
        if self.minimum is not None and measure < self.minimum:
            raise _Invalid(f"is below the minimum {self.minimum:g}")
        if self.maximum is not None and measure > self.maximum:
            raise _Invalid(f"is above the maximum {self.maximum:g}")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _convert_scalar(kind: str, value: Any) -> Any:
    """Convert one value to ``kind`` (float, integer, boolean or string)."""
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
            raise _Invalid(f"is a {type(value).__name__}, not a number")
        try:
            return float(value)
        except ValueError:
            raise _Invalid("is not a number") from None
    if kind == "integer":
        if isinstance(value, bool):
            raise _Invalid("is a bool, not an integer")
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            if float(value).is_integer():
                return int(value)
            raise _Invalid("is not a whole number")
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
            try:
                number = float(value)
            except ValueError:
                raise _Invalid("is not an integer") from None
            if number.is_integer():
                return int(number)
            raise _Invalid("is not a whole number")
        raise _Invalid(f"is a {type(value).__name__}, not an integer")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if getattr(getattr(value, "dtype", None), "kind", "") == "b" and getattr(value, "ndim", 1) == 0:
            return bool(value)  # a numpy boolean scalar
        if isinstance(value, numbers.Integral) and int(value) in (0, 1):
            return bool(int(value))
        if isinstance(value, str):
            truth = parse_truth(value)
            if truth is not None:
                return truth
        raise _Invalid("is not a boolean")
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return str(value)
        raise _Invalid(f"is a {type(value).__name__}, not a string")
    raise AssertionError(kind)  # pragma: no cover - kinds are checked when parsing


def _convert_hooks(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [h.strip() for h in value.split(",") if h.strip()]
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for position, item in enumerate(items):
        if not (isinstance(item, str) or callable(item)):
            raise _Invalid(f"has item {position} = {item!r} that is neither a name nor callable")
    return items


# --------------------------------------------------------------------------- parsing

_LINE = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<check>.*?)\s*$")
_CHECK = re.compile(r"^(?P<func>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\((?P<args>.*)\))?$", re.S)


def _split_comment(line: str) -> tuple[str, str]:
    """Split a spec line at the first ``#`` outside quotes."""
    quote = None
    for position, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:position], line[position + 1 :].strip()
    return line, ""


def _split_args(text: str) -> list[str]:
    """Split an argument list at commas outside quotes and parentheses."""
    parts, depth, quote, current = [], 0, None, []
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if quote or depth:
        raise ValueError(f"unbalanced quotes or parentheses in {text!r}")
    tail = "".join(current).strip()
    if tail or parts:
        parts.append(tail)
    return [p for p in parts if p != ""]


def _literal(text: str) -> Any:
    """Read one configobj argument value."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text == "None":
        return None
    if text in ("True", "False"):
        return text == "True"
    match = re.fullmatch(r"(list|tuple)\s*\((.*)\)", text, re.S)
    if match:
        return [_literal(p) for p in _split_args(match.group(2))]
    if text.startswith("[") and text.endswith("]"):
        return [_literal(p) for p in _split_args(text[1:-1])]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text  # configobj accepts unquoted words


def parse_spec(spec: str, *, owner: str = "step") -> dict[str, ParamSpec]:
    """Parse a spec string into parameter specs.

    Parameters
    ----------
    spec : str
        Lines of ``name = check(args...)  # help``. Blank lines and comment lines are
        ignored.
    owner : str, optional
        Who declared the spec (a class name), for error messages.

    Returns
    -------
    dict of str to ParamSpec
        In declaration order.

    Raises
    ------
    StepError
        If a line cannot be parsed, names an unknown check, or its default does not
        fit its own check.

    Examples
    --------
    >>> specs = parse_spec("threshold = float(default=4.0, min=0)  # sigma")
    >>> specs["threshold"].default, specs["threshold"].help
    (4.0, 'sigma')
    """
    result: dict[str, ParamSpec] = {}
    for number, raw in enumerate(spec.splitlines(), start=1):
        body, comment = _split_comment(raw)
        if not body.strip():
            continue

        def fail(why: str, raw: str = raw, number: int = number) -> StepError:
            return StepError(
                f"{owner}: cannot parse spec line {number} {raw.strip()!r}: {why}. "
                "Write it as `name = check(default=..., min=..., max=...)  # help`, "
                "e.g. `threshold = float(default=4.0, min=0)`"
            )

        line = _LINE.match(body)
        if not line:
            raise fail("expected `name = check(...)`")
        check = _CHECK.match(line.group("check"))
        if not check:
            raise fail("expected a check such as float(...)")
        func = check.group("func")
        kind = _KIND_ALIASES.get(func[3:] if func.startswith("is_") else func)
        if kind is None:
            raise fail(f"unknown check {func!r}; known: {', '.join(sorted(_KIND_ALIASES))}")
        try:
            args = _split_args(check.group("args") or "")
        except ValueError as exc:
            raise fail(str(exc)) from None
        positional, keywords = [], {}
        for arg in args:
            key = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*(.*)$", arg, re.S)
            if key:
                keywords[key.group(1)] = _literal(key.group(2))
            else:
                positional.append(_literal(arg))
        has_default = "default" in keywords
        default = keywords.pop("default", None)
        options: tuple[Any, ...] = ()
        minimum = keywords.pop("min", None)
        maximum = keywords.pop("max", None)
        if kind == "option":
            options = tuple(positional)
            if not options:
                raise fail("option() needs at least one choice")
        elif positional:
            if len(positional) > 2:
                raise fail("too many positional arguments (at most min and max)")
            minimum = positional[0] if minimum is None else minimum
            if len(positional) == 2 and maximum is None:
                maximum = positional[1]
        if keywords:
            raise fail(f"unknown arguments {sorted(keywords)}; known: default, min, max")
        for bound in (minimum, maximum):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, numbers.Real)):
                raise fail(f"bound {bound!r} is not a number")
        name = line.group("name")
        draft = ParamSpec(
            name=name,
            kind=kind,
            nullable=(has_default and default is None) or kind == "any",
            minimum=minimum,
            maximum=maximum,
            options=options,
            help=comment,
            source=line.group("check"),
        )
        if not has_default:
            converted = [] if kind in ("hook_list",) else None
            draft = dataclasses.replace(draft, nullable=True)
        else:
            try:
                converted = draft.convert(default)
            except ParameterError as exc:
                raise fail(f"its default does not fit: {exc}") from None
        result[name] = dataclasses.replace(draft, default=converted)
    return result


# --------------------------------------------------------------------------- validation


def validate(
    step: str, specs: Mapping[str, ParamSpec], values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Convert and check values against specs, collecting every problem.

    Parameters
    ----------
    step : str
        The step's name, used in the messages.
    specs : mapping of str to ParamSpec
        The declared parameters.
    values : mapping
        The values given; names that are not declared are problems.

    Returns
    -------
    converted : dict
        The typed values of the names that passed.
    problems : list of str
        One message per problem (empty when everything fits).

    Examples
    --------
    >>> specs = parse_spec("factor = float(default=1.0)")
    >>> validate("scale", specs, {"factor": "2"})
    ({'factor': 2.0}, [])
    """
    converted: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            problems.append(unknown_name_problem(step, "parameter", name, value, specs))
            continue
        try:
            converted[name] = spec.convert(value, step=step)
        except ParameterError as exc:
            problems.append(str(exc))
    return converted, problems


def unknown_name_problem(
    step: str, what: str, name: str, value: Any, valid: Mapping[str, Any] | list[str]
) -> str:
    """Format the message for an unknown parameter or step name, with close matches.

    Parameters
    ----------
    step : str
        The step (or pipeline) concerned.
    what : str
        ``"parameter"`` or ``"step"``.
    name : str
        The unknown name.
    value : object
        The value given for it.
    valid : mapping or list of str
        The valid names.

    Returns
    -------
    str
        One line naming the close matches and every valid name.
    """
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"step '{step}': unknown {what} '{name}' (given {value!r}).{hint} "
        f"Valid {what}s: {', '.join(names) if names else '(none)'}"
    )


def raise_problems(problems: list[str], *, context: str = "") -> None:
    """Raise one :class:`ParameterError` listing every problem, if there are any.

    Parameters
    ----------
    problems : list of str
        Messages from :func:`validate` and friends.
    context : str, optional
        Where the values came from (e.g. a parameter file), added to the message.

    Raises
    ------
    ParameterError
        When ``problems`` is not empty.
    """
    if not problems:
        return
    where = f" ({context})" if context else ""
    if len(problems) == 1:
        raise ParameterError(problems[0] + where)
    lines = "\n".join(f"  - {p}" for p in problems)
    raise ParameterError(f"{len(problems)} invalid parameters{where}:\n{lines}")


def merge_layers(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge configuration layers, later layers winning.

    A layer maps parameter names to values; its optional ``"steps"`` entry maps
    step names to nested layers, which are merged step by step (recursively).

    Parameters
    ----------
    *layers : mapping or None
        Lowest precedence first; ``None`` layers are skipped.

    Returns
    -------
    dict
        A new merged layer; the inputs are not modified.

    Examples
    --------
    >>> merge_layers({"a": 1, "steps": {"s": {"x": 1, "y": 1}}},
    ...              {"steps": {"s": {"y": 2}}})
    {'a': 1, 'steps': {'s': {'x': 1, 'y': 2}}}
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        if not layer:
            continue
        for key, value in layer.items():
            if key == "steps" and isinstance(value, Mapping) and isinstance(merged.get("steps"), dict):
                steps = dict(merged["steps"])
                for step_name, sub in value.items():
                    if isinstance(sub, Mapping) and isinstance(steps.get(step_name), Mapping):
                        steps[step_name] = merge_layers(steps[step_name], sub)
                    else:
                        steps[step_name] = _copy_layer(sub)
                merged["steps"] = steps
            else:
                merged[key] = _copy_layer(value) if key == "steps" else value
    return merged


def _copy_layer(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy_layer(v) for k, v in value.items()}
    return value

