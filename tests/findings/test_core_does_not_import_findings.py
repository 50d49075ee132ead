"""Arrows point to the core: nothing in postmortems imports the findings app.

What the core shows or asks of findings goes through postmortems.extensions,
which FindingsConfig.ready() fills in. Module-level and function-level imports
both count: a function-level import that only dodges a cycle is still an arrow.
"""

import ast
from pathlib import Path

import postmortems

CORE = Path(postmortems.__file__).resolve().parent


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_no_module_of_the_core_imports_findings():
    wrong = [
        f"{path.relative_to(CORE.parent)}:{line} imports {module}"
        for path in sorted(CORE.rglob("*.py"))
        for line, module in _imported_modules(ast.parse(path.read_text()))
        if module == "findings"
        or module.startswith("findings.")
        or module.startswith("postmortems.findings")
    ]
    assert wrong == []
