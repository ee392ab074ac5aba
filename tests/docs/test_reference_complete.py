"""The reference cannot drift: every public object is documented.

A test here fails when

* a public module, class, function or method of ``pipeline_core`` or
  ``builtin_steps`` has no docstring, or a public module is missing from the API
  reference (``docs/api.md``);
* a hook specification has no docstring;
* a registered step is not mentioned in the user guide, or one of its parameters
  has no help text in its spec (the text ``steppe config`` and the reference show);
* a page is left out of the documentation index, or the index names a page that
  does not exist.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import builtin_steps
import pipeline_core

DOCS = Path(__file__).resolve().parents[2] / "docs"


def public_modules() -> list[str]:
    """Return the public modules of both packages (no part of the name starts with ``_``)."""
    names = []
    for package in (pipeline_core, builtin_steps):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if not any(part.startswith("_") for part in info.name.split(".")[1:]):
                names.append(info.name)
    return sorted(set(names))


def _public_objects(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            yield name, obj


def _undocumented_members(cls) -> list[str]:
    missing = []
    for attr, member in vars(cls).items():
        if attr.startswith("_"):
            continue
        if not (inspect.isfunction(member) or isinstance(member, (classmethod, staticmethod, property))):
            continue
        target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if not inspect.getdoc(target):
            missing.append(attr)
    return missing


@pytest.mark.parametrize("module_name", public_modules())
def test_public_objects_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"module {module_name} has no docstring"
    missing = []
    for name, obj in _public_objects(module):
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            missing.extend(f"{name}.{attr}" for attr in _undocumented_members(obj))
    assert not missing, f"{module_name}: no docstring on {', '.join(missing)}"


def test_every_public_module_is_in_the_api_reference():
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: ([\w.]+)\s*$", api, re.MULTILINE))
    missing = [m for m in public_modules() if m not in documented and m not in ("pipeline_core", "builtin_steps")]
    assert not missing, f"modules missing from docs/api.md (add an automodule directive): {missing}"
    unknown = sorted(documented - set(public_modules()))
    assert not unknown, f"docs/api.md documents modules that do not exist: {unknown}"


def test_every_hookspec_has_a_docstring():
    from pipeline_core.plugins import hookspecs

    specs = [
        (name, obj) for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, "pipeline_core_spec")
    ]
    assert specs, "no hook specification found in pipeline_core.plugins.hookspecs"
    missing = [name for name, obj in specs if not inspect.getdoc(obj)]
    assert not missing, f"hook specifications without a docstring: {missing}"


def _own_descriptors():
    """The steps steppe and installed steppe plugins provide (not the bridged stpipe ones)."""
    from pipeline_core import registry

    return [d for d in registry().descriptors() if not d.class_path.startswith(BRIDGED)]


#: Steps of stpipe packages (jwst) wrapped by the bridge: documented by their package.
BRIDGED = "pipeline_core.bridge.adapters."


def _registered_step_classes():
    from pipeline_core import registry

    return [(d.alias, registry().resolve(d.class_path)) for d in _own_descriptors()]


def test_every_registered_step_is_in_the_user_guide():

    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md"))
    undocumented = [d.alias for d in _own_descriptors() if d.alias and f"`{d.alias}`" not in text]
    assert not undocumented, f"steps not mentioned in docs/: {undocumented}"


def test_every_step_parameter_has_help_text():
    missing = []
    for alias, cls in _registered_step_classes():
        if not inspect.getdoc(cls):
            missing.append(f"{cls.class_path()} (class docstring)")
        for name, spec in cls.param_specs().items():
            if not spec.help.strip():
                missing.append(f"{alias or cls.class_path()}.{name}")
    assert not missing, (
        "parameters without help text (add a `# comment` to the spec line): " + ", ".join(missing)
    )


def _toctree_entries(index: str) -> list[str]:
    entries = []
    for block in re.findall(r"^```\{toctree\}\n(.*?)^```", index, re.DOTALL | re.MULTILINE):
        entries.extend(line.strip() for line in block.splitlines()
                       if line.strip() and not line.startswith(":"))
    return entries


def test_every_page_is_in_the_index():
    entries = _toctree_entries((DOCS / "index.md").read_text(encoding="utf-8"))
    pages = sorted(p.stem for p in DOCS.glob("*.md") if p.stem != "index")
    missing = [p for p in pages if p not in entries]
    assert not missing, f"pages missing from the toctree of docs/index.md: {missing}"
    absent = [e for e in entries if not (DOCS / f"{e}.md").exists()]
    assert not absent, f"docs/index.md lists pages that do not exist: {absent}"
