"""At 390 px wide (a phone) every page fits the screen: the navigation folds
behind "Menu" and wide tables scroll inside their card."""

import pytest
from django.urls import reverse

from tests.kb.authz_matrix import ROUTES
from tests.kb.test_render_sweep import (
    _objects,
    _write_postmortem,
    via_demo_loader,
    via_pages,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Files, not pages: they are downloaded or printed, never laid out on a phone.
NOT_PAGES = ("export", "markdown", "pdf", "print", "password_reset_confirm")


def _page_urls(objects: dict) -> list[str]:
    urls = []
    for route in ROUTES:
        policy = route.methods.get("GET", ("", 0))
        if route.api or policy[1] != 200 or policy[0] == "public":
            continue
        if any(word in route.name for word in NOT_PAGES):
            continue
        if not set(route.objects.values()) <= set(objects):
            continue
        kwargs = {key: objects[name].pk for key, name in route.objects.items()}
        urls.append(reverse(route.name, kwargs=kwargs))
    return urls


@pytest.fixture
def demo_objects(team, other_team, tmp_path, admin_user):
    from postmortems.models import Role
    from tests import factories

    people = {
        "editor": factories.UserFactory(
            username="editor", role=Role.EDITOR, teams=[team]
        ),
        "reviewer": factories.UserFactory(
            username="reviewer", role=Role.REVIEWER, teams=[team]
        ),
        "admin": admin_user,
    }
    via_pages(team, people)
    incident = via_demo_loader(team, people, tmp_path)
    _write_postmortem(incident, people)
    return _objects(incident)


def _overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# The innermost elements that reach past the right edge, to say what to fix.
CULPRITS = """() => {
  const edge = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right <= edge + 1 || box.width === 0) continue;
    let scrolled = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(style.overflowX)) {
        scrolled = true;
        break;
      }
    }
    if (scrolled) continue;
    const inner = [...el.children].some(
      c => c.getBoundingClientRect().right > edge + 1);
    if (inner) continue;
    const name = el.tagName.toLowerCase() + '.' + [...el.classList].join('.');
    out.push(name + ' ' + Math.round(box.right - edge) + 'px');
  }
  return out.slice(0, 5);
}"""


def test_browser_every_page_fits_a_390px_screen(
    page, live_server, login, demo_objects, screenshot_dir
):
    login(page, "admin")
    page.set_viewport_size(PHONE)
    wide = []
    for url in _page_urls(demo_objects):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        if not page.locator("meta[name=viewport]").count():
            continue  # an htmx fragment: checked inside the page that shows it
        extra = _overflow(page)
        if extra > 1:
            culprits = ", ".join(page.evaluate(CULPRITS))
            wide.append(f"{url}: {extra}px wider than the screen ({culprits})")
    assert not wide, "\n".join(wide)


def test_browser_navigation_folds_behind_menu_on_a_phone(
    page, live_server, login, demo_objects, screenshot_dir
):
    login(page, "admin")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('actions:item_list')}")
    assert not page.get_by_role("link", name="Dashboard").is_visible()
    page.screenshot(path=screenshot_dir / "mobile-item-list.png", full_page=True)
    page.click("label.nav-toggle-label")
    assert page.get_by_role("link", name="Dashboard").is_visible()
    page.screenshot(path=screenshot_dir / "mobile-menu-open.png")
    # The keyboard too: the toggle takes focus and Space folds the menu again.
    page.focus("#nav-toggle")
    page.keyboard.press("Space")
    assert not page.get_by_role("link", name="Dashboard").is_visible()
    # On a wide screen the links are in the bar, no menu button.
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.get_by_role("link", name="Dashboard").is_visible()
    assert not page.locator("label.nav-toggle-label").is_visible()
