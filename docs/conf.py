"""Sphinx configuration of the sparsopt documentation.

Build (from this folder)::

    python -m sphinx -b html -j 1 . _build/html

No network access is needed: no intersphinx, no remote images, no version switcher.
The gallery in ``../examples`` is executed at build time (a few seconds).
"""

import os
import re

os.environ.setdefault("MPLBACKEND", "Agg")
# The CuPy backend is probed lazily; keep the docs build CPU-only and deterministic.
os.environ.setdefault("SPARSOPT_DISABLE_CUPY", "1")

import matplotlib

matplotlib.use("Agg")

import sparsopt

# -- Project information ----------------------------------------------------------------------

project = "sparsopt"
author = "The sparsopt developers"
copyright = "The sparsopt developers, BSD-3-Clause"
release = sparsopt.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration --------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
# ``_*.rst`` files are fragments included by other pages (e.g. the drop-in table rows of
# user_guide/coming_from_sklearn.rst), never pages of their own.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "**/_*.rst"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# Without intersphinx (no network at build time), references to scikit-learn cannot resolve;
# private base classes appear in "Bases:" lines. Only matters with ``-n`` (nitpicky).
nitpick_ignore = [
    ("py:class", "sparsopt.utils._params.ParamsMixin"),
    ("py:class", "sparsopt.penalties.group._GroupPenalty"),
]
nitpick_ignore_regex = [("py:.*", r"sklearn\..*")]

# -- autodoc / autosummary / numpydoc ---------------------------------------------------------

autosummary_generate = True
autosummary_generate_overwrite = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """scikit-learn generates ``set_<method>_request`` on estimators whose methods take
    metadata (``score(..., sample_weight)``); their docstrings cite scikit-learn pages."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_TABLE_INCLUDE = re.compile(r"^(?P<indent>[ ]+)\.\. include:: (?P<path>\S*_[^/\s]+\.rst)\s*$")


def _inline_table_includes(app, docname, source):
    """Inline an indented ``.. include::`` of a ``_fragment.rst`` (rows of a list-table).

    docutils runs an ``include`` as a directive of its own: several includes in one
    ``list-table`` end its bullet list at each include ("exactly one bullet list
    expected"). A table assembled from fragments (one per family, see
    ``user_guide/coming_from_sklearn.rst``) therefore gets the fragments' lines pasted
    in, at the include's indentation, before parsing. Top-level includes are left alone.
    """
    lines = source[0].splitlines()
    if not any(_TABLE_INCLUDE.match(line) for line in lines):
        return
    here = os.path.dirname(app.env.doc2path(docname))
    out = []
    for line in lines:
        m = _TABLE_INCLUDE.match(line)
        if m is None:
            out.append(line)
            continue
        path = os.path.normpath(os.path.join(here, m["path"]))
        app.env.note_dependency(path)
        with open(path, encoding="utf-8") as f:
            out.extend(m["indent"] + row if row.strip() else "" for row in f.read().splitlines())
    source[0] = "\n".join(out) + "\n"


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("source-read", _inline_table_includes)

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": "/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "doc_module": ("sparsopt",),
    "backreferences_dir": os.path.join("api", "generated", "backreferences"),
    "reference_url": {"sparsopt": None},
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # the families in the order of the user guide
    "subsection_order": [
        "../examples/penalties",
        "../examples/sparse_coding",
        "../examples/dictionary_learning",
        "../examples/bcd",
        "../examples/sbl",
        "../examples/optimal_transport",
        "../examples/completion",
        "*",
    ],
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
}

# -- HTML output ------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sparsopt {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}
