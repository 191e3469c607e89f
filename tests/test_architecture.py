"""The shape of the library: a light ``import reluflow`` (measured with ``python -X importtime``
in a fresh interpreter), lazy submodules, an acyclic import graph, and no topic importing
another topic's private helpers."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reluflow as rf

LIB = Path(rf.__file__).resolve().parent
#: ``import reluflow`` must stay below this many seconds (cumulative, best of three runs).
IMPORT_BUDGET_S = 0.3
#: Heavy dependencies that ``import reluflow`` must not load.
HEAVY = ("matplotlib", "sympy", "clarabel", "scipy.optimize", "scipy.integrate", "tqdm", "joblib", "ipywidgets")
#: Packages holding one topic (or the solvers, or the widgets); the rest of reluflow is the core.
TOPICS = ("flow", "ncf", "orthogonal", "phases", "margins", "widgets")


def _import_time_us() -> int:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import reluflow"], capture_output=True, text=True, check=True
    ).stderr
    lines = [line for line in out.splitlines() if line.rstrip().endswith("| reluflow")]
    assert len(lines) == 1, out[-2000:]
    return int(lines[0].split("|")[1])


def test_import_is_light():
    best = min(_import_time_us() for _ in range(3))
    assert best < IMPORT_BUDGET_S * 1e6, f"import reluflow took {best / 1e6:.3f} s (budget {IMPORT_BUDGET_S} s)"
    code = f"import sys, reluflow; print([m for m in {HEAVY!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", f"import reluflow loaded {loaded.strip()}"


@pytest.mark.parametrize("name", ["margins", "ncf", "orthogonal", "phases", "plotting", "sweep", "symbolic", "widgets"])
def test_lazy_submodules_load_on_access(name):
    code = (
        f"import sys, reluflow as rf; assert 'reluflow.{name}' not in sys.modules; "
        f"m = rf.{name}; assert m is sys.modules['reluflow.{name}'] and '{name}' in dir(rf)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_topic_symbolic_modules_load_on_access():
    code = (
        "import sys, reluflow as rf\n"
        "topics = [getattr(rf, t) for t in ('ncf', 'orthogonal', 'phases', 'margins')]\n"
        "assert 'sympy' not in sys.modules  # the numerics do not need SymPy\n"
        "for pkg in topics:\n"
        "    assert pkg.symbolic is sys.modules[pkg.__name__ + '.symbolic'] and 'symbolic' in dir(pkg)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        rf.ncf.nonexistent  # noqa: B018


def _module_name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, imported name or '') for every import of reluflow modules in ``path``, at any depth."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out += [(module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names]
    return [(m, n) for m, n in out if m == "reluflow" or m.startswith("reluflow.")]


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in LIB.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for module, imported in _imports(path):
            sub = f"{module}.{imported}"
            targets.add(sub if sub in modules else module)
        graph[name] = targets - {name}
    return graph


def test_import_graph_is_acyclic():
    graph, state, path = _graph(), {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def _topic(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in TOPICS else None


def test_no_topic_imports_another_topics_private_helpers():
    bad = []
    for path in LIB.rglob("*.py"):
        here = _module_name(path)
        for module, imported in _imports(path):
            there = _topic(module)
            if there is None or there == _topic(here):
                continue
            if any(part.startswith("_") for part in module.split(".")[1:]) or imported.startswith("_"):
                bad.append(f"{here} imports {module}.{imported}")
    assert not bad, bad


def test_the_tree_reads_as_the_architecture():
    core = {"data", "network", "losses", "gradient", "trajectory", "diagnostics", "datasets", "sweep", "plotting"}
    top = {p.stem for p in LIB.glob("*.py") if not p.stem.startswith("_")}
    assert top == core | {"symbolic"}, top
    packages = {p.parent.name for p in LIB.glob("*/__init__.py")}
    assert packages == set(TOPICS)
    for topic in ("ncf", "orthogonal", "phases", "margins"):
        assert (LIB / topic / "symbolic.py").exists(), topic
        doc = getattr(rf, topic).__doc__
        assert "book chapter" in doc and ".ipynb" in doc, topic
