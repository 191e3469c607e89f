"""The API reference page (book/api.md) documents every public name of ``reluflow``: the
top-level names, every public module and package, and every name in their ``__all__``."""

import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

import reluflow as rf

API_PAGE = Path(__file__).resolve().parents[1] / "book" / "api.md"
TEXT = API_PAGE.read_text(encoding="utf-8")


def _modules() -> list[str]:
    """Public modules: those in ``rf.__all__`` and the public submodules in their ``__all__``."""
    out = []
    for name in rf.__all__:
        if isinstance(getattr(rf, name), types.ModuleType):
            out.append(name)
            module = getattr(rf, name)
            out += [f"{name}.{sub}" for sub in module.__all__ if isinstance(getattr(module, sub), types.ModuleType)]
    return out


MODULES = _modules()
TOP = [name for name in rf.__all__ if not isinstance(getattr(rf, name), types.ModuleType)]
MEMBERS = [
    (module, name)
    for module in MODULES
    for name in importlib.import_module(f"reluflow.{module}").__all__
    if not isinstance(getattr(importlib.import_module(f"reluflow.{module}"), name), types.ModuleType)
]


def _automodule(module: str) -> str | None:
    """The options block of ``.. automodule:: reluflow.<module>``, or None."""
    m = re.search(rf"^\.\. automodule:: reluflow\.{re.escape(module)}\n((?:   :.*\n)*)", TEXT, re.M)
    return None if m is None else m.group(1)


@pytest.mark.parametrize("name", TOP)
def test_top_level_name_has_a_section(name):
    assert re.search(rf"^\.\. auto(function|class|data):: {name}\n", TEXT, re.M), (
        f"rf.{name} is in reluflow.__all__ but not in book/api.md: add `.. autofunction:: {name}` "
        "(or autoclass) under `.. currentmodule:: reluflow`"
    )


@pytest.mark.parametrize("module", MODULES)
def test_module_has_a_section(module):
    assert _automodule(module) is not None, f"add an `.. automodule:: reluflow.{module}` section to book/api.md"


@pytest.mark.parametrize("module, name", MEMBERS)
def test_member_is_documented(module, name):
    mod = importlib.import_module(f"reluflow.{module}")
    obj = getattr(mod, name)
    if any(getattr(rf, top) is obj for top in TOP):
        return  # documented at the top level
    explicit = re.search(rf"^\.\. auto(function|class|data):: reluflow\.{re.escape(module)}\.{name}\n", TEXT, re.M)
    if explicit:
        return
    assert ":members:" in (_automodule(module) or ""), (
        f"rf.{module}.{name} is public but not documented: give the automodule of reluflow.{module} "
        f"`:members:` or add `.. autofunction:: reluflow.{module}.{name}`"
    )
    if inspect.isclass(obj) or inspect.isroutine(obj):
        assert inspect.getdoc(obj), f"rf.{module}.{name} needs a docstring (autodoc skips it without one)"
    else:  # data: autodoc documents it from a `#:` comment in the module that lists it
        source = Path(mod.__file__).read_text(encoding="utf-8")
        assert re.search(rf"^#: .*\n(?:#: .*\n)*{name}\b.*=", source, re.M), (
            f"rf.{module}.{name} needs a `#:` doc comment where reluflow.{module} assigns it"
        )
