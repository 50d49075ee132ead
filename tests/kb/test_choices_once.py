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
