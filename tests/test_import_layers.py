"""Imports go one way: no cycle between modules, and no import up the layer order.

Layers, lowest first (docs/ARCHITECTURE.md, "Layers"):

    foundation      loyalty, loyalty.config, loyalty.contracts (everything may import them)
    sources         loyalty.generator, loyalty.ticket_api
    extract         loyalty.extract
    warehouse       loyalty.warehouse
    quality         loyalty.quality
    orchestration   loyalty.orchestration
    dags            dags/*.py
    tools           loyalty.cli (the command line's dispatcher), loyalty.bench (benchmarks),
                    loyalty.bi (Superset: make bi)

A module may import its own layer and the layers below it. Every import counts: at module
level and inside functions (a function-level import is still a dependency, only a later one).
The graph is read from the source with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("loyalty", "loyalty.config", "loyalty.contracts")),
    ("sources", ("loyalty.generator", "loyalty.ticket_api")),
    ("extract", ("loyalty.extract",)),
    ("warehouse", ("loyalty.warehouse",)),
    ("quality", ("loyalty.quality",)),
    ("orchestration", ("loyalty.orchestration",)),
    ("dags", ("dags",)),
    ("tools", ("loyalty.cli", "loyalty.bench", "loyalty.bi")),
)
# these are modules, not package prefixes: `loyalty.config` is foundation, `loyalty.configx` is not
EXACT = {"loyalty", "loyalty.config", "loyalty.contracts"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int
    function: str | None  # the enclosing function of a function-level import

    def where(self) -> str:
        scope = f"in {self.function}()" if self.function else "at module level"
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{shown}:{self.line} ({scope})"


def module_files(roots: dict[str, Path]) -> dict[str, Path]:
    """Every module under each root: {dotted name: file}. ``roots``: {top-level name: folder}."""
    out: dict[str, Path] = {}
    for top, folder in roots.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [top, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported dotted name belongs to (its longest known prefix), or None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, path: Path, modules: dict[str, Path]) -> None:
        self.module, self.path, self.modules = module, path, modules
        self.is_package = path.name == "__init__.py"
        self.functions: list[str] = []
        self.found: list[Import] = []

    def _add(self, target: str | None, node: ast.stmt) -> None:
        seen = {(i.imported, i.line) for i in self.found}
        if target is not None and target != self.module and (target, node.lineno) not in seen:
            self.found.append(Import(self.module, target, self.path, node.lineno,
                                     ".".join(self.functions) if self.functions else None))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(_resolve(alias.name, self.modules), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: from the module's package, one level up per extra dot
            package = self.module if self.is_package else self.module.rpartition(".")[0]
            parts = package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            # `from pkg import submodule` depends on the submodule; `from pkg import name` on pkg
            self._add(submodule if submodule in self.modules else _resolve(base, self.modules), node)


def import_graph(modules: dict[str, Path]) -> list[Import]:
    """Every import of one known module by another, module-level and function-level."""
    found: list[Import] = []
    for name, path in modules.items():
        visitor = _ImportVisitor(name, path, modules)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(visitor.found)
    return found


def layer_of(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix not in EXACT and module.startswith(prefix + ".")):
                return rank
    return None


def cycles(imports: list[Import]) -> list[tuple[list[str], list[Import]]]:
    """Each group of modules that import each other (a strongly connected component of more
    than one module) and one shortest cycle through it, as the imports that make it."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        edges.setdefault(imp.importer, {}).setdefault(imp.imported, imp)
    # Tarjan's strongly connected components (iterative)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    nodes = sorted({i.importer for i in imports} | {i.imported for i in imports})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, {}))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    out = []
    for component in components:  # the shortest way from the component's first module back to it
        members, start = set(component), component[0]
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if start in edges.get(node, {}) and (node != start):
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                path.reverse()  # start ... node
                out.append((component, [edges[a][b] for a, b in zip(path, [*path[1:], start], strict=True)]))
                break
            for child in sorted(edges.get(node, {})):
                if child in members and child not in previous and child != start:
                    previous[child] = node
                    queue.append(child)
    return out


def upward(imports: list[Import]) -> list[Import]:
    """The imports of a module from a higher layer (modules in no layer: test_every_module_has_a_layer)."""
    out = []
    for imp in imports:
        importer, imported = layer_of(imp.importer), layer_of(imp.imported)
        if importer is not None and imported is not None and importer < imported:
            out.append(imp)
    return out


def describe_cycle(component: list[str], cycle: list[Import]) -> str:
    chain = " -> ".join([cycle[0].importer, *(i.imported for i in cycle)])
    return (f"{', '.join(component)} import each other; e.g. {chain}:\n"
            + "\n".join(f"      {i.importer} imports {i.imported} at {i.where()}" for i in cycle))


def describe_upward(imp: Import) -> str:
    importer, imported = layer_of(imp.importer), layer_of(imp.imported)
    assert importer is not None and imported is not None
    return f"{imp.importer} ({LAYERS[importer][0]}) imports {imp.imported} ({LAYERS[imported][0]}) at {imp.where()}"


def project_modules() -> dict[str, Path]:
    return module_files({"loyalty": REPO / "plugins" / "loyalty", "dags": REPO / "dags"})


# --- the project --------------------------------------------------------------------------------
def test_every_module_has_a_layer() -> None:
    lost = sorted(m for m in project_modules() if layer_of(m) is None)
    assert not lost, (f"modules in no layer: {lost}. Put each in the package of its layer, or add it to LAYERS in "
                      "tests/test_import_layers.py and to docs/ARCHITECTURE.md")


def test_no_import_cycle() -> None:
    found = cycles(import_graph(project_modules()))
    assert not found, (
        "import cycles (function-level imports count):\n  " + "\n  ".join(describe_cycle(*c) for c in found)
        + "\nMove what both sides need into a module below both, or pass it in as an argument.")


def test_no_import_goes_up_the_layers() -> None:
    found = upward(import_graph(project_modules()))
    assert not found, (
        "imports up the layer order (" + " -> ".join(name for name, _ in LAYERS) + "):\n  "
        + "\n  ".join(describe_upward(i) for i in found)
        + "\nMove the imported code down to the importer's layer (or below), or have the caller above pass it in.")


def test_the_graph_sees_the_imports_it_must() -> None:
    """The checker reads the real code: known imports of each kind are in the graph."""
    graph = {(i.importer, i.imported, i.function is not None) for i in import_graph(project_modules())}
    assert ("dags.loyalty_nightly", "loyalty.orchestration.tasks", False) in graph  # from pkg import module
    assert ("loyalty.extract.shop", "loyalty.contracts", False) in graph  # from loyalty import contracts
    assert ("loyalty.orchestration.tasks", "loyalty.quality.gates", True) in graph  # inside a function


# --- the checker itself, on a package made up to break both rules ------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture()
def broken_package(tmp_path: Path) -> dict[str, Path]:
    _write(tmp_path / "loyalty", {
        "__init__.py": "",
        "config.py": "",
        "warehouse/__init__.py": "",
        "warehouse/engines.py": "def open_engine():\n    from loyalty.warehouse import raw\n    return raw\n",
        "warehouse/raw.py": "from loyalty.warehouse.engines import open_engine\n",
        "warehouse/docs.py": "def latest():\n    from ..orchestration.dbt_config import MANIFEST\n    return MANIFEST\n",
        "orchestration/__init__.py": "",
        "orchestration/dbt_config.py": "from loyalty import config\nMANIFEST = 1\n",
    })
    return module_files({"loyalty": tmp_path / "loyalty"})


def test_the_checker_finds_a_cycle_through_a_function_level_import(broken_package: dict[str, Path]) -> None:
    found = cycles(import_graph(broken_package))
    assert len(found) == 1
    component, cycle = found[0]
    assert component == ["loyalty.warehouse.engines", "loyalty.warehouse.raw"]
    assert {i.importer for i in cycle} == {"loyalty.warehouse.engines", "loyalty.warehouse.raw"}
    assert "in open_engine()" in describe_cycle(component, cycle)


def test_the_checker_finds_a_relative_upward_import(broken_package: dict[str, Path]) -> None:
    found = upward(import_graph(broken_package))
    assert [(i.importer, i.imported, i.function) for i in found] == [
        ("loyalty.warehouse.docs", "loyalty.orchestration.dbt_config", "latest")]
    assert "loyalty.warehouse.docs (warehouse) imports loyalty.orchestration.dbt_config (orchestration)" in \
        describe_upward(found[0])
