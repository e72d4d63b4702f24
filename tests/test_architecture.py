"""The architecture's rules, checked on every run (docs/architecture.md).

Read from the source with `ast`, so a rule broken anywhere in app/ fails here with the
file and line, before a reviewer has to find it.
"""

import ast
import re
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every `app.*` module this file imports, at any depth (function-level too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("app")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":
                out += [(f"app.{a.name}", node.lineno) for a in node.names]
            elif node.module.startswith("app."):
                out.append((node.module, node.lineno))
    return out


def _package(module: str) -> str:
    """`app.cases.service` -> `cases`; top-level modules (`app.main`) are their own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_core_knows_no_domain():
    wrong = [
        f"{path.relative_to(APP.parent)}:{line} imports {target}"
        for name, path in _modules().items()
        if name.startswith("app.core")
        for target, line in _imports(path)
        if not target.startswith("app.core") and target != "app"
    ]
    assert wrong == []


def test_imports_between_packages_point_one_way():
    graph: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for name, path in _modules().items():
        src = _package(name)
        for target, line in _imports(path):
            dst = _package(target)
            if dst != src:
                graph[src].add(dst)
                where.setdefault((src, dst), f"{path.relative_to(APP.parent)}:{line}")

    # Tarjan's strongly connected components: any with two or more packages is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    described = [
        [f"{a} -> {b} ({where[(a, b)]})" for a in c for b in c if (a, b) in where] for c in cycles
    ]
    assert described == []


def test_no_file_is_over_the_size_a_reader_takes_in():
    long = {
        str(p.relative_to(APP.parent)): n
        for p in APP.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_now_comes_from_the_one_clock():
    pattern = re.compile(r"datetime\.now\(|datetime\.utcnow\(|time\.time\(\)|date\.today\(")
    wrong = [
        f"{p.relative_to(APP.parent)}:{i}"
        for p in APP.rglob("*.py")
        if p.name != "clock.py"
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert wrong == []


def test_principals_are_compared_as_types_not_strings():
    pattern = re.compile(r"""\.kind\s*[!=]=\s*["']|has_scope\(\s*["']|require_scope\(\s*["']""")
    wrong = [
        f"{p.relative_to(APP.parent)}:{i}"
        for p in APP.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert wrong == []


def test_every_route_runs_in_the_one_pipeline():
    """Every HTTP route the app serves (but FastAPI's own documentation pages) is an
    AppRoute, so it runs inside the unit of work that SessionDep hands out."""
    from fastapi.routing import APIRoute

    from app.core.routing import AppRoute
    from app.main import create_app

    def routes(container):
        for r in container.routes:
            inner = getattr(r, "original_router", None)  # FastAPI keeps included routers
            if inner is not None:
                yield from routes(inner)
            else:
                yield r

    app = create_app()
    outside = sorted(
        f"{sorted(r.methods)} {r.path}"
        for r in routes(app.router)
        if isinstance(r, APIRoute) and not isinstance(r, AppRoute)
    )
    assert outside == []
    assert any(isinstance(r, AppRoute) for r in routes(app.router))
