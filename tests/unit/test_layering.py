"""The tree's layers, read from the source (an AST walk, nothing imported): no import circle anywhere, and
the worker's packages import one way only.

Every import counts, those inside functions too: an import moved into a function to dodge a circle is still
a circle.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "worker"
# Where each tree's modules are imported from (the worker's folder is its own root under workerd).
TREES = {"worker": WORKER, "sdk": ROOT / "sdk", "repository": ROOT}
TOP_LEVEL_MAX = 8


def modules(root, skip=()):
    """{dotted name: path} of the .py files under `root`, packages by their __init__."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part in skip for part in relative.parts) or "node_modules" in relative.parts:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            found[".".join(parts)] = path
    return found


def imported(path, name, known):
    """The modules of `known` that the module `name` at `path` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` imports the module; `from module import name` the module.
            candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def graph(root, skip=()):
    known = modules(root, skip)
    return {name: imported(path, name, known) for name, path in known.items()}


def cycles(edges):
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("tree", sorted(TREES))
def test_no_import_circles(tree):
    # The repository's own root sees worker/ and sdk/ as folders of their own trees, checked above.
    skip = ("worker", "sdk") if tree == "repository" else ()
    assert cycles(graph(TREES[tree], skip)) == []


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def later():\n    from c import x\n")
    (tmp_path / "c.py").write_text("from a import y\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "d.py").write_text("from pkg import e\n")
    (tmp_path / "pkg" / "e.py").write_text("from . import d\n")
    assert cycles(graph(tmp_path)) == [["a", "b", "c"], ["pkg.d", "pkg.e"]]


def worker_imports():
    return graph(WORKER)


def test_routes_never_import_routes():
    offenders = {name: sorted(t for t in targets if t.startswith("routes."))
                 for name, targets in worker_imports().items() if name.startswith("routes.")}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


@pytest.mark.parametrize("package, forbidden", [
    ("rollups", ("api", "routes", "router", "entry")),  # storage knows nothing of requests
    ("tz", ("api", "routes", "rollups", "router", "entry")),
    ("api", ("routes", "rollups", "router", "entry")),
])
def test_lower_layers_never_import_upper_ones(package, forbidden):
    offenders = {name: sorted(t for t in targets if t.split(".")[0] in forbidden)
                 for name, targets in worker_imports().items() if name.split(".")[0] == package}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_the_worker_top_holds_few_modules_and_packages_hold_the_rest():
    top = sorted(path.name for path in WORKER.glob("*.py"))
    assert len(top) <= TOP_LEVEL_MAX, top
    assert {"entry.py", "router.py", "d1.py"} <= set(top)
    for package in ("api", "routes", "rollups", "tz"):
        # Empty, so the pure modules import on CPython without the Workers runtime.
        assert (WORKER / package / "__init__.py").read_text() == ""
