"""Local Sphinx extension for the HTML book, loaded through ``sphinx.local_extensions`` in
``_config.yml``.

Browser console (checked by ``tests/browser``):

- sphinx-thebe 0.3 adds its inline configuration script (``const THEBE_JS_URL = ...``) twice
  under Jupyter Book 1.0 (once as filename ``None``, once as ``""``), and the second copy
  throws "Identifier 'THEBE_JS_URL' has already been declared" on every page. Identical
  script entries are dropped here, per page.

API reference (``book/api.md``, built with ``-n``):

- Napoleon reads the first line of a *data* or *attribute* docstring as ``type: text``, so a
  ``#:`` comment such as "Relative tolerance: faces are ..." became a class reference to
  "Relative tolerance". Our ``#:`` comments are prose: napoleon is skipped for them.
- Docstrings of submodules name public objects by their short name (``:func:`small_init```
  in ``reluflow.phases.detection``), and signatures by the module that defines them
  (``reluflow.data.Correlation``), while the reference documents each object once, where users
  reach it (``reluflow.small_init``, ``reluflow.Correlation``, ``reluflow.ncf.kkt_directions``).
  A Python reference that Sphinx cannot resolve, a short name or a dotted ``reluflow.`` path,
  is resolved to the one documented ``reluflow`` object of that name; ambiguous or unknown
  names still fail.
- A package's docstring names its files (``:mod:`.kkt``` in ``reluflow.ncf``); the reference
  documents the package, not each file, so a module reference to an existing ``reluflow``
  submodule that has no section renders as code instead of failing. Unknown modules still fail.
"""

from __future__ import annotations

import importlib.util

from sphinx.util.nodes import make_refnode


def _script_key(js) -> tuple:
    return (js.filename or "", tuple(sorted((k, str(v)) for k, v in js.attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def _napoleon_except_data(app, what, name, obj, options, lines) -> None:
    from sphinx.ext.napoleon import _process_docstring

    if what not in ("data", "attribute"):
        _process_docstring(app, what, name, obj, options, lines)


def _swap_napoleon(app) -> None:
    from sphinx.ext.napoleon import _process_docstring

    listeners = app.events.listeners["autodoc-process-docstring"]
    for listener in list(listeners):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon_except_data)


def _is_submodule(node) -> bool:
    """Is the target of this :mod: reference an existing reluflow module (relative to the
    module whose docstring holds it)?"""
    target, here = node.get("reftarget", "").lstrip("~."), node.get("py:module") or ""
    for name in (f"{here}.{target}", target):  # a relative ``.name`` arrives as ``name``
        try:
            if name.startswith("reluflow.") and importlib.util.find_spec(name) is not None:
                return True
        except ModuleNotFoundError:
            pass
    return False


def _resolve_short_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    if node.get("reftype") == "mod" and _is_submodule(node):
        return contnode  # a file of a documented package: shown as code, not linked
    target = node.get("reftarget", "").lstrip("~.")
    if target.startswith("reluflow."):
        target = target.rpartition(".")[2]  # where it is defined, not where it is documented
    if not target or "." in target:
        return None
    domain = env.get_domain("py")
    roles = set(domain.objtypes_for_role(node.get("reftype", "")) or ())
    found = {}
    for name, entry in domain.objects.items():
        if name.startswith("reluflow.") and name.endswith("." + target) and entry.objtype in roles:
            found.setdefault((entry.docname, entry.node_id), name)
    if len(found) != 1:
        return None
    (docname, node_id), name = next(iter(found.items()))
    return make_refnode(app.builder, node["refdoc"], docname, node_id, contnode, name)


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.napoleon")
    _swap_napoleon(app)
    app.connect("missing-reference", _resolve_short_name)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
