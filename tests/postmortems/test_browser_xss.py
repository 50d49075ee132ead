"""Markdown XSS in Chromium: a page holding every payload runs none of them.

The context bypasses the Content-Security-Policy on purpose: the CSP is a second
line of defence, and this test checks the first one (the sanitised renderer).
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.postmortems.xss_payloads import PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a payload could leave behind in the DOM if anything ran.
MARKERS_JS = """() => ({
  xss: window.__xss ?? null,
  parentXss: (window.parent && window.parent.__xss) ?? null,
  dataset: document.body.dataset.xss ?? null,
  onAttributes: [...document.querySelectorAll('*')].flatMap(
    (el) => [...el.attributes].filter((a) => a.name.startsWith('on'))
      .map((a) => `${el.tagName}[${a.name}]`)),
  badUrls: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
    .map((el) => el.getAttribute('href') || el.getAttribute('src')
      || el.getAttribute('action') || el.getAttribute('formaction') || '')
    .map((url) => url.replace(/[\\u0000-\\u0020]/g, ''))
    .filter((url) => /^(javascript|vbscript|data):/i.test(url)),
  inlineScripts: [...document.querySelectorAll('script')]
    .filter((s) => !s.src || !new URL(s.src).pathname.startsWith('/static/')).length,
  frames: document.querySelectorAll(
    'main iframe, main object, main embed, main svg, main math').length,
})"""


@pytest.fixture
def xss_postmortem(team, editor, reviewer):
    pm = factories.PostmortemFactory(
        incident__team=team, author=editor, reviewers=[reviewer]
    )
    keys = pm.template.section_keys
    # Every payload in a section (several per section) and alone in a comment.
    pm.sections = {
        key: "\n\n".join(PAYLOADS[index :: len(keys)]) for index, key in enumerate(keys)
    }
    pm.five_whys = PAYLOADS[:5]
    pm.save()
    for payload in PAYLOADS:
        factories.CommentFactory(postmortem=pm, author=reviewer, body=payload)
    factories.ContributingFactorFactory(postmortem=pm, description=PAYLOADS[3])
    factories.HypothesisFactory(postmortem=pm, text=PAYLOADS[4], test=PAYLOADS[5])
    factories.TimelineEntryFactory(incident=pm.incident, text=PAYLOADS[6])
    return pm


def test_browser_xss_payloads_do_not_run(
    browser, live_server, login, xss_postmortem, editor
):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs = []

    def on_dialog(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, "editor")
    pm = xss_postmortem
    for name in ("postmortem_detail", "postmortem_print", "postmortem_history"):
        page.goto(live_server.url + reverse(f"postmortems:{name}", args=[pm.pk]))
        page.wait_for_load_state("networkidle")
        markers = page.evaluate(MARKERS_JS)
        assert markers == {
            "xss": None,
            "parentXss": None,
            "dataset": None,
            "onAttributes": [],
            "badUrls": [],
            "inlineScripts": 0,
            "frames": 0,
        }, name
    # The page did render the payloads, as text or harmless markup.
    page.goto(live_server.url + pm.get_absolute_url())
    expect(page.locator("#comments .comment")).to_have_count(len(PAYLOADS))

    # The live preview swaps server-rendered HTML into the editor.
    page.goto(live_server.url + reverse("postmortems:postmortem_edit", args=[pm.pk]))
    page.wait_for_load_state("networkidle")
    for payload in PAYLOADS:
        with page.expect_response(lambda r: "/postmortems/preview/" in r.url):
            page.fill("#id_section_summary", payload)
    page.wait_for_load_state("networkidle")
    markers = page.evaluate(MARKERS_JS)
    # The editor's own <template> rows carry no payloads; nothing else may run.
    assert markers["xss"] is None and markers["dataset"] is None
    assert markers["onAttributes"] == [] and markers["badUrls"] == []
    assert markers["inlineScripts"] == 0
    assert [kind for kind, _ in dialogs if kind != "beforeunload"] == []
    context.close()


def test_browser_xss_check_would_catch_a_running_payload(browser):
    """GIVEN a page where script does run THEN the markers and dialogs show it."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.set_content(
        "<body><img src=x onerror=\"document.body.dataset.xss='img'\">"
        "<script>window.__xss='script'; alert(1)</script></body>"
    )
    page.wait_for_function("document.body.dataset.xss === 'img'")
    markers = page.evaluate(MARKERS_JS)
    assert markers["xss"] == "script" and markers["dataset"] == "img"
    assert markers["onAttributes"] == ["IMG[onerror]"]
    assert dialogs == ["alert"]
    context.close()
