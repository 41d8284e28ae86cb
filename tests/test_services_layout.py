"""The service layer imports in one direction: no module of officine.services reaches another
through an import hidden inside a function (the way a cycle used to be dodged), and the
imports between them form no cycle."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import officine.services

SERVICES = Path(officine.services.__file__).parent


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(imported module, imported at module level) for every import of the tree."""
    found = []
    top = set(map(id, getattr(tree, "body", [])))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(n, id(node) in top) for n in names]
        elif isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
    return found


def graph() -> dict[str, set[str]]:
    modules = {p.stem for p in SERVICES.glob("*.py") if p.stem != "__init__"}
    edges: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((SERVICES / f"{name}.py").read_text(encoding="utf-8"))
        targets = set()
        for imported, at_top in _imports(tree):
            parts = imported.split(".")
            if parts[:2] == ["officine", "services"] and len(parts) > 2 and parts[2] in modules:
                assert at_top, f"services/{name}.py imports {imported} inside a function"
                targets.add(parts[2])
        edges[name] = targets - {name}
    return edges


def test_services_import_each_other_at_module_level_without_a_cycle() -> None:
    edges = graph()
    assert {"pharmacy", "audit", "backup", "knowledge"} <= set(edges)
    try:
        order = list(TopologicalSorter(edges).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message names the cycle
        raise AssertionError(f"import cycle between services: {exc.args[1]}") from exc
    # The pharmacy uses backups and knowledge; the command-line audit goes through the pharmacy.
    assert order.index("knowledge") < order.index("backup") < order.index("pharmacy") < order.index("audit")


def test_the_layout_check_sees_a_hidden_import() -> None:
    tree = ast.parse("def f():\n    from officine.services.audit import run_audit\n")
    assert ("officine.services.audit", False) in _imports(tree)
    assert ("os", True) in _imports(ast.parse("import os\n"))
