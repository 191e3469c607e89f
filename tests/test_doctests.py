"""Run the docstring examples of every reluflow module as doctests."""

import doctest
import importlib
import pkgutil

import pytest

import reluflow

# walk_packages: modules inside subpackages (reluflow.flow, ...) are collected too
MODULES = sorted(info.name.removeprefix("reluflow.") for info in pkgutil.walk_packages(reluflow.__path__, "reluflow."))
#: Modules whose docstrings must carry runnable examples (house style, rule 5).
WITH_EXAMPLES = [
    "data", "datasets", "diagnostics", "flow._common", "flow.driver", "gradient", "network", "plotting", "sweep",
    "symbolic",
    "ncf.escape", "ncf.function", "ncf.kkt", "ncf.symbolic",
    "orthogonal.bias", "orthogonal.escape", "orthogonal.minnorm", "orthogonal.symbolic",
    "phases.detection", "phases.predict",
    "margins.certified", "margins.kernels", "margins.symbolic",
]  # fmt: skip
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def run_doctests(name):
    """Return (failed, attempted, report) for the doctests of ``reluflow.<name>``."""
    module = importlib.import_module(f"reluflow.{name}")
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    report = []
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    return failed, attempted, "".join(report)


def test_modules_discovered():
    assert set(WITH_EXAMPLES) <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name):
    failed, _, report = run_doctests(name)
    assert failed == 0, report


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_doctests_present(name):
    _, attempted, _ = run_doctests(name)
    assert attempted >= 1, f"reluflow.{name} has no doctest examples"
