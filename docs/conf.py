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


# --------------------------------------------------------------------------------------
# The pictures of quicklook.md, made by the commands that page shows (never committed)
# --------------------------------------------------------------------------------------

_GENERATED = "_generated"
_DEMO_EXPOSURE = "jw09999001001_01101_00001_nrca1"


def _quicklook_pictures(app):
    """Run ``steppe demo`` and ``steppe show`` to draw the pictures of quicklook.md."""
    import io
    import os
    import tempfile

    from pipeline_core.cli.main import run_cli

    folder = os.path.join(app.srcdir, _GENERATED)
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="steppe-docs-") as demo:
        commands = [["demo", "--output-dir", demo, "--quiet"]]
        for product in ("rate", "cal"):
            commands.append(["show", os.path.join(demo, f"{_DEMO_EXPOSURE}_{product}.fits"),
                             "-o", os.path.join(folder, f"quicklook_{product}.png")])
        mosaic = os.path.join(demo, "jw09999-o001_t001_nircam_clear-f200w")
        commands.append(["show", f"{mosaic}_i2d.fits", "--catalog", f"{mosaic}_cat.ecsv",
                         "-o", os.path.join(folder, "quicklook_mosaic.png")])
        for argv in commands:
            out, err = io.StringIO(), io.StringIO()
            if run_cli(argv, stdout=out, stderr=err) != 0:
                raise RuntimeError(f"steppe {' '.join(argv)} failed:\n{err.getvalue()}{out.getvalue()}")


def setup(app):
    """Draw the quick-look pictures before the pages are read."""
    app.connect("builder-inited", _quicklook_pictures)
