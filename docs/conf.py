"""Sphinx configuration for the steppe documentation."""

from importlib.metadata import version as _version

project = "steppe"
author = "The steppe developers"
copyright = "2026, The steppe developers"
release = _version("steppe")
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
nitpicky = False
html_theme = "alabaster"
intersphinx_mapping = {}
