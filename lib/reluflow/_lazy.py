"""PEP 562 lazy submodules (private): a package lists the submodules that load on first
attribute access, so that ``import reluflow`` does not pull in matplotlib, SymPy or the
optimisation solvers."""

from __future__ import annotations

import importlib
import sys


def attach(package: str, submodules: tuple[str, ...]):
    """``(__getattr__, __dir__)`` for the package named ``package``: ``package.<name>`` imports
    the submodule ``name`` (one of ``submodules``) on first access."""
    lazy = frozenset(submodules)

    def __getattr__(name: str):
        if name in lazy:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | lazy)

    return __getattr__, __dir__
