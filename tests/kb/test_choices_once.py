"""Choices once: every app defines its choices in ``<app>/choices.py`` (as
NetBox does), and the models and everything else import them from there."""

import ast

from tests.kb.test_import_direction import ROOT, app_files, app_of, module_name


def choices_outside_choices_modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in app_files():
        module = module_name(path)
        if module == f"{app_of(module)}.choices" or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        names = [
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(
                getattr(base, "attr", getattr(base, "id", ""))
                in ("TextChoices", "IntegerChoices", "Choices")
                for base in node.bases
            )
        ]
        if names:
            found[path.relative_to(ROOT).as_posix()] = names
    return found


def test_choices_are_defined_only_in_each_apps_choices_module():
    stray = choices_outside_choices_modules()
    assert not stray, f"Define these in <app>/choices.py: {stray}"


def _member(node: ast.expr) -> str | None:
    """``Status.OPEN`` (or ``Status.OPEN.value``) as "Status.OPEN", else None."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _groups(tree: ast.Module) -> dict[str, frozenset[str]]:
    """Module-level names bound to a tuple, list or set of two or more choices."""
    groups = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(
            node.value, ast.Tuple | ast.List | ast.Set
        ):
            members = [_member(e) for e in node.value.elts]
            if len(members) >= 2 and None not in members:
                for target in node.targets:
                    groups[ast.unparse(target)] = frozenset(members)
    return groups


def groups_copied() -> dict[str, list[str]]:
    """Groups of choices (``OPEN_STATUSES``) copied outside ``<app>/choices.py``:
    the same members as a group defined elsewhere, or a comprehension over a
    group imported from a choices module (``tuple(s.value for s in OPEN)``)."""
    trees = {path: ast.parse(path.read_text()) for path in app_files()}
    is_choices = {
        path: module_name(path) == f"{app_of(module_name(path))}.choices"
        for path in trees
    }
    owners: dict[frozenset[str], set] = {}
    for path, tree in trees.items():
        for members in _groups(tree).values():
            owners.setdefault(members, set()).add(path)
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        if is_choices[path] or "migrations" in path.parts:
            continue
        names = [
            name for name, members in _groups(tree).items() if owners[members] - {path}
        ]
        from_choices = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").endswith("choices")
            for alias in node.names
        }
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(c, ast.comprehension)
                and isinstance(c.iter, ast.Name)
                and c.iter.id in from_choices
                for c in ast.walk(node.value)
            ):
                names += [ast.unparse(t) for t in node.targets]
        if names:
            found[path.relative_to(ROOT).as_posix()] = names
    return found


def test_groups_of_choices_are_defined_once_in_choices_modules():
    """``OPEN_STATUSES`` and the like are defined once, next to their choices; a
    copy (or a tuple of its values) elsewhere drifts when a status is added."""
    copies = groups_copied()
    assert not copies, f"Import these from <app>/choices.py instead: {copies}"
