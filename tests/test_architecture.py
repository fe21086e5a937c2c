"""The code's shape (issue 13): the layering contract, no import loop, no domain reaching into
another's private names, modules and functions of a readable size. These read the source, so
they hold for every new domain without a line changed here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("schema", "resolvers", "models")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# A function may be longer when a comment right above it says why (``# long: ...``).
LONG_MARK = "# long:"


def product_files() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "cli.py", ROOT / "serving.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def test_the_layering_contract_holds() -> None:
    # the contracts are in pyproject.toml [tool.importlinter]
    run = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_nothing_below_the_entry_imports_app_or_cli() -> None:
    for path in product_files()[3:]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n in ("app", "cli", "serving") for n in names), path


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected sets of modules (Tarjan), larger than one module."""
    adjacency = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in adjacency[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(adjacency):
        if module not in index:
            visit(module)
    return found


def test_no_import_loop() -> None:
    # Imports inside functions count (they were how loops hid); TYPE_CHECKING ones do not run.
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def _domain(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_domain_imports_another_domains_private_names() -> None:
    offences = []
    for path in product_files():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            if _domain(node.module) == _domain(module):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private:
                offences.append(f"{module}: from {node.module} import {', '.join(private)}")
    assert offences == []


def test_modules_are_a_readable_size() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in product_files()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_functions_are_a_readable_size_or_say_why() -> None:
    long = []
    for path in product_files():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            said = any(LONG_MARK in lines[i] for i in range(max(0, start - 4), start - 1))
            if size > MAX_FUNCTION_LINES and not said:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size})")
    assert long == []
