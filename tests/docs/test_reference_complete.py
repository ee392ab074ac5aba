"""The reference cannot drift: every public object is documented.

A public function, class or method of ``pipeline_core`` and ``builtin_steps``
without a docstring fails here, and so does a registered step that the user
guide does not mention, or a page that the documentation index leaves out.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import pipeline_core
import builtin_steps

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _modules():
    for package in (pipeline_core, builtin_steps):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if not any(part.startswith("_") for part in info.name.split(".")[1:]):
                yield info.name


def _public_objects(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            yield name, obj


@pytest.mark.parametrize("module_name", sorted(set(_modules())))
def test_public_objects_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"module {module_name} has no docstring"
    missing = []
    for name, obj in _public_objects(module):
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not (inspect.isfunction(member) or isinstance(member, (classmethod, staticmethod, property))):
                    continue
                target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if not inspect.getdoc(target):
                    missing.append(f"{name}.{attr}")
    assert not missing, f"{module_name}: no docstring on {', '.join(missing)}"


def test_every_registered_step_is_in_the_user_guide():
    from pipeline_core import registry

    text = "\n".join(p.read_text() for p in DOCS.glob("*.md"))
    undocumented = [
        d.alias for d in registry().descriptors() if d.alias and f"`{d.alias}`" not in text
    ]
    assert not undocumented, f"steps not mentioned in docs/: {undocumented}"


def test_every_page_is_in_the_index():
    index = (DOCS / "index.md").read_text()
    pages = [p.stem for p in DOCS.glob("*.md") if p.stem != "index"]
    missing = [p for p in pages if p not in index]
    assert not missing, f"pages missing from docs/index.md: {missing}"
