"""Arrows point to the core: an app imports only the apps it is built on.

Every ``.py`` file of every app is parsed (not imported), and every import in it,
at module level or inside a function, is mapped to the app it names. A
function-level import that dodges a cycle is still an arrow, so it counts.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# postmortems is the core; findings, actions and insights are built on it; the
# integrations (chat, trackers, notifications) on any of those.
CORE_APPS = {"postmortems", "actions", "insights", "findings"}
ALLOWED = {
    "postmortems": set(),
    "actions": {"postmortems"},
    "insights": {"postmortems", "actions"},
    # insights for its embedder and vectors (similar past incidents).
    "findings": {"postmortems", "insights", "actions"},
    # chat is also a channel of notifications (direct messages): it registers
    # itself in notifications.channels; notifications never imports chat.
    "chat": CORE_APPS | {"notifications"},
    "trackers": CORE_APPS,
    "notifications": CORE_APPS,
    # The project: urls, settings and middleware compose every app. No app
    # imports those modules (see KB_COMPOSITION).
    "kb": CORE_APPS | {"chat", "trackers", "notifications"},
}
APPS = set(ALLOWED)
# kb's shared plumbing (JSON limits, cache, API errors, parsers...) serves every
# app; its composition modules wire the apps together and are imported by none.
KB_COMPOSITION = {"kb.urls", "kb.settings", "kb.wsgi", "kb.asgi", "kb.celery"}


def app_of(module: str) -> str | None:
    """The app a dotted module belongs to (None: a library)."""
    top = module.split(".")[0]
    return top if top in APPS else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every name imported in the file, wherever it sits;
    ``from pkg import name`` gives ``pkg.name`` (it may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def app_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
    )


def wrong_way_imports() -> list[str]:
    """One line per import statement and app it wrongly reaches."""
    wrong = {}
    for path in app_files():
        source = app_of(module_name(path))
        relative = path.relative_to(ROOT).as_posix()
        for line, module in imported_modules(path):
            target = app_of(module)
            if target is None or target == source:
                continue
            where = f"{relative}:{line}"
            if target == "kb":
                if any(
                    module == c or module.startswith(c + ".") for c in KB_COMPOSITION
                ):
                    wrong[(where, target)] = (
                        f"{where} {source} imports {module} (composition)"
                    )
                continue
            if target not in ALLOWED[source]:
                wrong[(where, target)] = f"{where} {source} -> {target} ({module})"
    return sorted(wrong.values())


def test_import_direction_every_app_imports_only_what_it_is_built_on():
    wrong = wrong_way_imports()
    assert not wrong, "Imports pointing the wrong way:\n" + "\n".join(wrong)


def test_import_direction_sees_every_app():
    """The check reads real code: every app is found, with its imports."""
    sources = {app_of(module_name(path)) for path in app_files()}
    assert sources == APPS


@pytest.mark.parametrize(
    ("source", "code", "expected"),
    [
        (
            "postmortems/services/example.py",
            "def f():\n    from actions.services import coverage_check\n",
            ["postmortems -> actions"],
        ),
        ("postmortems/views/example.py", "import insights.tasks\n", ["-> insights"]),
        ("actions/example.py", "from trackers import queries\n", ["-> trackers"]),
        ("actions/example.py", "from postmortems.models import Team\n", []),
        ("postmortems/example.py", "from findings import api\n", ["-> findings"]),
        (
            "postmortems/templatetags/x.py",
            "def f():\n    from findings.selectors import incident\n",
            ["-> findings"],
        ),
        ("findings/x.py", "from postmortems.models import Team\n", []),
        ("chat/example.py", "from kb.urls import urlpatterns\n", ["composition"]),
        ("chat/example.py", "from kb import safejson\n", []),
    ],
)
def test_import_direction_flags_a_wrong_way_import(
    tmp_path, monkeypatch, source, code, expected
):
    """GIVEN a file with one import WHEN the check reads it THEN only an import
    against the table is reported, function-level and relative ones included."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(code)
    wrong = wrong_way_imports()
    assert len(wrong) == len(expected), wrong
    for message, words in zip(wrong, expected, strict=True):
        assert words in message


# -- Templates and URL names: the core's pages name no other app -----------------

URL_NAME = re.compile(r"""\{%\s*url\s+['"]([a-z_]+):""")
LOAD = re.compile(r"\{%\s*load\s+([^%]+?)\s*%\}")
# The core's templates: its pages, and the page shell every page extends (its
# navigation bar lists the apps' sections from postmortems.extensions.nav_items).
CORE_TEMPLATES = ("templates/postmortems", "templates/base.html")
# base.html's personal menu links to the person's own notification settings:
# not a section of the bar but part of every signed-in page, as "Sign out" is.
SHELL_LINKS = {("templates/base.html", "notifications")}


def tag_libraries() -> dict[str, str]:
    """Template tag library name -> the app that ships it."""
    return {
        path.stem: app
        for app in APPS
        for path in (ROOT / app).glob("templatetags/*.py")
        if path.stem != "__init__"
    }


def core_naming_other_apps() -> list[str]:
    """Core templates that link to another app's URLs or load its tags, and core
    code that names another app's URL (a string like "findings:...")."""
    others = APPS - {"postmortems", "kb"}
    libraries = tag_libraries()
    found = []
    for place in CORE_TEMPLATES:
        root = ROOT / place
        if root.is_dir():
            paths = sorted(root.rglob("*.html"))
        else:
            paths = [root] if root.exists() else []
        for path in paths:
            relative = path.relative_to(ROOT).as_posix()
            text = path.read_text()
            for app in sorted(set(URL_NAME.findall(text)) & others):
                if (relative, app) not in SHELL_LINKS:
                    found.append(f"{relative} links to {app}: URLs")
            for names in LOAD.findall(text):
                for name in names.split():
                    if libraries.get(name, "postmortems") in others:
                        found.append(f"{relative} loads {name} ({libraries[name]})")
    for path in app_files():
        if app_of(module_name(path)) != "postmortems":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                app = node.value.split(":", 1)[0]
                if ":" in node.value and app in others and " " not in node.value:
                    where = f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
                    found.append(f"{where} names {node.value!r}")
    return found


def test_core_pages_name_no_other_apps_urls_or_tags():
    """Arrows point to the core in templates too: other apps' sections and panels
    come from postmortems.extensions (nav_items, incident_panels,
    postmortem_panels), filled in by each app's ready()."""
    found = core_naming_other_apps()
    assert not found, "The core names other apps:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("place", "text", "expected"),
    [
        ("templates/postmortems/x.html", "{% url 'findings:finding_list' %}", 1),
        ("templates/postmortems/x.html", "{% url 'actions:item_list' pk %}", 1),
        ("templates/postmortems/x.html", "{% load static insights_tags %}", 1),
        ("templates/base.html", '{% url "insights:report" %}', 1),
        ("templates/base.html", "{% url 'notifications:preferences' %}", 0),
        ("templates/postmortems/x.html", "{% url 'postmortems:incident_list' %}", 0),
        ("postmortems/x.py", 'NAV = ("Analyzers", "findings:analyzer_scorecards")', 1),
        ("postmortems/x.py", 'TEXT = "actions: see the list"', 0),
    ],
)
def test_core_naming_check_flags_another_apps_url_or_tags(
    tmp_path, monkeypatch, place, text, expected
):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    for app in ("postmortems", "insights"):
        (tmp_path / app / "templatetags").mkdir(parents=True)
    (tmp_path / "insights" / "templatetags" / "insights_tags.py").write_text("")
    path = tmp_path / place
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    assert len(core_naming_other_apps()) == expected
