"""Visibility once: ``Model.objects.visible_to(user)`` (as NetBox's
``restrict(user)``) is the rule the pages, the API, search, exports, insights and
notifications read through.

The sweep builds the authorisation matrix's catalogue (tests/kb/catalogue.py),
marks the other team's draft, its action item and its evidence with words found
nowhere else, and asks every surface that shows postmortems or items as a member
of that team, as someone of another team and as nobody: the member sees the marks,
the others never do.
"""

import ast
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from actions.models import ActionItem, ReviewDecision
from findings.models import Finding, FindingMatch
from insights.models import (
    CauseStatement,
    ClassificationSource,
    ConfirmationEffect,
    PostmortemClassification,
    SimilarPostmortem,
)
from notifications.messages import build_message
from notifications.models import Channel, Notification, NotificationKind
from postmortems.models import Postmortem, PostmortemStatus, Role
from tests import factories
from tests.kb.catalogue import OTHER, OWN, build_catalogue

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

SECTION = "Quokkasection the identity team wrote"
ITEM = "Quokkaitem only the identity team may read"
EVIDENCE = "Quokkaevidence the identity team classified"
SEARCH_WORD = "Quokkasection"
VIEWERS = ("member", "outsider", "anonymous")


def test_visible_to_hides_another_teams_draft_and_its_items_as_the_pages_do(
    client, team, other_team, editor, draft_postmortem
):
    """GIVEN a draft of one team with an action item WHEN someone of another team
    (and an anonymous visitor) asks THEN neither the querysets nor the pages show
    it; the team's editor sees both, and once published everyone signed in does."""
    item = factories.ActionItemFactory(postmortem=draft_postmortem, team=team)
    outsider = factories.UserFactory(username="outsider", teams=[other_team])

    assert list(Postmortem.objects.visible_to(editor)) == [draft_postmortem]
    assert list(ActionItem.objects.visible_to(editor)) == [item]
    for user in (outsider, AnonymousUser()):
        assert not Postmortem.objects.visible_to(user).exists()
        assert not ActionItem.objects.visible_to(user).exists()
    client.force_login(outsider)
    page = reverse("postmortems:postmortem_detail", args=[draft_postmortem.pk])
    assert client.get(page).status_code == 404

    Postmortem.objects.filter(pk=draft_postmortem.pk).update(
        status=PostmortemStatus.PUBLISHED
    )
    assert list(Postmortem.objects.visible_to(outsider)) == [draft_postmortem]
    assert list(ActionItem.objects.visible_to(outsider)) == [item]
    assert client.get(page).status_code == 200


# --- The sweep: every surface x member, outsider, nobody ---------------------------


@dataclasses.dataclass
class World:
    catalogue: object
    member: object  # a viewer of the other team: neither author nor reviewer
    draft: Postmortem  # the other team's draft, marked
    in_review: Postmortem
    item: ActionItem  # the draft's item, marked
    people: dict

    def marks(self) -> dict[str, str]:
        """Every mark of the other team's private work, by name."""
        return {
            "section": SECTION,
            # Version diffs compare word by word.
            "section-word": SEARCH_WORD,
            "item": ITEM,
            "draft-link": f'href="/postmortems/{self.draft.pk}/"',
            "review-link": f'href="/postmortems/{self.in_review.pk}/"',
            "item-link": f'href="/actions/{self.item.pk}/"',
            "evidence": EVIDENCE,
            "trigger-evidence": f"{EVIDENCE} (trigger)",
            # The report counts the draft in its class, under its team.
            "counted": f"{self.draft.incident.team.name} (1)",
            "draft-url": reverse("postmortems:postmortem_detail", args=[self.draft.pk]),
        }


def _world() -> World:
    catalogue = build_catalogue()
    other = catalogue.cases[OTHER]
    own = catalogue.cases[OWN]
    draft = other.draft
    # Into a section of its template, so that every view of the text shows it.
    key = draft.template.sections[0]["key"]
    draft.sections = {**(draft.sections or {}), key: SECTION}
    draft.save(update_fields=["sections"])
    ActionItem.objects.filter(pk=other.item.pk).update(title=ITEM)
    other.item.refresh_from_db()
    # The own team's incident looks like the other team's draft: its findings
    # page lists the draft's open item (for those who may read it).
    FindingMatch.objects.create(
        incident=own.incident,
        finding=own.finding,
        past_incident=draft.incident,
        action_item=other.item,
        reason="same service",
    )
    # A leadership review decided on the item.
    ReviewDecision.objects.create(
        review=catalogue.review,
        item=other.item,
        decision="escalate",
        recorded_by=catalogue.users["admin"],
    )
    # The draft's evidence: a root cause someone confirmed in the catalogue's
    # class.
    failure_class = catalogue.failure_class
    CauseStatement.objects.filter(postmortem=draft).update(
        text=EVIDENCE,
        failure_class=failure_class,
        confidence=1.0,
        source=ClassificationSource.CONFIRMED,
    )
    # The one in review: a trigger the classifier hesitates on ("confirm next").
    CauseStatement.objects.create(
        postmortem=other.in_review,
        key="trigger",
        kind="trigger",
        text=f"{EVIDENCE} (trigger)",
        text_hash="sweep",
        failure_class=failure_class,
        best_guess=failure_class,
        confidence=0.4,
        teach_score=0.9,
        source=ClassificationSource.CLASSIFIER,
    )
    ConfirmationEffect.objects.create(
        postmortem=draft,
        statement_key="root_cause",
        failure_class=failure_class,
        confirmed_by=catalogue.users["other_editor"],
    )
    # With the own team's approved postmortem, the class recurs on the report.
    for postmortem in (draft, own.approved):
        PostmortemClassification.objects.create(
            postmortem=postmortem,
            failure_class=failure_class,
            source=ClassificationSource.CONFIRMED,
            confidence=1.0,
        )
    # The own team's approved (public) postmortem is most like the draft.
    SimilarPostmortem.objects.create(
        postmortem=own.approved, similar=draft, score=0.93, rank=1
    )
    member = factories.UserFactory(
        username="identity-viewer", role=Role.VIEWER, teams=[other.team]
    )
    return World(
        catalogue=catalogue,
        member=member,
        draft=draft,
        in_review=other.in_review,
        item=other.item,
        people={
            "member": member,
            "outsider": catalogue.users["editor"],
            "anonymous": AnonymousUser(),
        },
    )


@dataclasses.dataclass(frozen=True)
class Surface:
    name: str
    # (world, person) -> what the person gets to read ("" for nothing).
    read: Callable
    # The mark the member must find there.
    mark: str
    # The surface is a file format the sweep does not parse (PDF): a 200 counts.
    binary: bool = False


def _page(url_of: Callable, *, binary: bool = False) -> Callable:
    def read(world: World, person) -> str:
        client = Client()
        if person.is_authenticated:
            client.force_login(person)
        response = client.get(url_of(world))
        if response.status_code != 200:
            return ""
        body = b"".join(response.streaming_content) if response.streaming else None
        body = body if body is not None else response.content
        if binary:
            return "\x00binary 200"
        return body.decode("utf-8", "replace")

    return read


def _notification(kind: str, subject: Callable) -> Callable:
    """The email and chat text of a notification about ``subject`` sent to the
    person (anonymous people get none)."""

    def read(world: World, person) -> str:
        if not person.is_authenticated:
            return ""
        texts = []
        for channel in Channel.values:
            notification = Notification.objects.create(
                user=person,
                kind=kind,
                channel=channel,
                key=f"sweep:{kind}:{person.pk}",
                object_id=subject(world).pk,
            )
            message = build_message(notification)
            if message is not None:
                texts += [message.subject, message.text, message.short_text]
        return "\n".join(texts)

    return read


def _url(name: str, *args: Callable) -> Callable:
    return lambda world: reverse(name, args=[arg(world) for arg in args])


def _draft(world):
    return world.draft.pk


def _item(world):
    return world.item.pk


def _own_incident(world):
    return world.catalogue.cases[OWN].incident.pk


def _draft_incident(world):
    return world.draft.incident_id


def _with_query(name: str, query: str) -> Callable:
    return lambda world: f"{reverse(name)}?{query}"


SURFACES = [
    # Lists and search.
    Surface("incident list", _page(_url("postmortems:incident_list")), "draft-link"),
    Surface(
        "incident page",
        _page(_url("postmortems:incident_detail", _draft_incident)),
        "draft-link",
    ),
    Surface(
        "postmortem list", _page(_url("postmortems:postmortem_list")), "draft-link"
    ),
    Surface(
        "postmortem search",
        _page(_with_query("postmortems:postmortem_list", f"q={SEARCH_WORD}")),
        "draft-link",
    ),
    # The incident search reads the postmortems the searcher may read: the
    # draft's own team finds it by its text, nobody else does.
    Surface(
        "incident search",
        _page(_with_query("postmortems:incident_list", f"q={SEARCH_WORD}")),
        "draft-link",
    ),
    # The document and its exports.
    Surface(
        "postmortem page",
        _page(_url("postmortems:postmortem_detail", _draft)),
        "section",
    ),
    Surface(
        "postmortem history",
        _page(_url("postmortems:postmortem_history", _draft)),
        "section-word",
    ),
    Surface(
        "Markdown export",
        _page(_url("postmortems:postmortem_export_markdown", _draft)),
        "section",
    ),
    Surface(
        "print view", _page(_url("postmortems:postmortem_print", _draft)), "section"
    ),
    Surface(
        "PDF export",
        _page(_url("postmortems:postmortem_export_pdf", _draft), binary=True),
        "",
        binary=True,
    ),
    # The API.
    Surface("API postmortem list", _page(_url("postmortem-list")), "section"),
    Surface(
        "API postmortem search",
        _page(_with_query("postmortem-list", f"q={SEARCH_WORD}")),
        "section",
    ),
    Surface("API postmortem", _page(_url("postmortem-detail", _draft)), "section"),
    Surface("API action item list", _page(_url("action-item-list")), "item"),
    Surface("API action item", _page(_url("action-item-detail", _item)), "item"),
    # Action items.
    Surface("action item list", _page(_url("actions:item_list")), "item"),
    Surface(
        "action item search",
        _page(_with_query("actions:item_list", "q=Quokkaitem")),
        "item",
    ),
    Surface("action item CSV", _page(_url("actions:item_export")), "item"),
    Surface("action item page", _page(_url("actions:item_detail", _item)), "item"),
    Surface(
        "postmortem's items panel",
        _page(_url("actions:postmortem_items", _draft)),
        "item",
    ),
    Surface("dashboard", _page(_url("actions:dashboard")), "review-link"),
    Surface(
        "leadership review",
        _page(lambda w: reverse("actions:review_detail", args=[w.catalogue.review.pk])),
        "item",
    ),
    # Findings: the own team's incident looks like the other team's draft.
    Surface(
        "incident findings",
        _page(_url("findings:incident_findings", _own_incident)),
        "item",
    ),
    # Insights: the report, its exports, a class's page, similar incidents.
    Surface("insights report", _page(_url("insights:report")), "counted"),
    Surface(
        "insights report Markdown", _page(_url("insights:report_markdown")), "counted"
    ),
    Surface("insights report print", _page(_url("insights:report_print")), "counted"),
    Surface(
        "confirm next (report)", _page(_url("insights:report")), "trigger-evidence"
    ),
    Surface(
        "confirmation history (report)", _page(_url("insights:report")), "draft-link"
    ),
    Surface(
        "insights class page",
        _page(lambda w: w.catalogue.failure_class.get_absolute_url()),
        "evidence",
    ),
    Surface(
        "similar incidents (postmortem page)",
        _page(lambda w: w.catalogue.cases[OWN].approved.get_absolute_url()),
        "draft-link",
    ),
    Surface(
        "similar incidents (incident page)",
        _page(lambda w: w.catalogue.cases[OWN].approved.incident.get_absolute_url()),
        "draft-link",
    ),
    Surface("API class memberships", _page(_url("class-membership-list")), "evidence"),
    Surface(
        "API failure class",
        _page(
            lambda w: reverse(
                "failure-class-detail", args=[w.catalogue.failure_class.slug]
            )
        ),
        "",
    ),
    # Notifications (email and chat text).
    Surface(
        "review-requested notification",
        _notification(NotificationKind.REVIEW_REQUESTED, lambda w: w.draft),
        "draft-url",
    ),
    Surface(
        "item-assigned notification",
        _notification(NotificationKind.ACTION_ITEM_ASSIGNED, lambda w: w.item),
        "item",
    ),
]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_visible_to_every_surface_shows_a_draft_to_its_team_only(surface, viewer):
    """GIVEN another team's draft, its action item and its evidence, each marked
    WHEN a member of that team, someone of another team or nobody reads a surface
    THEN only the member finds the surface's mark; the others find no mark."""
    world = _world()
    seen = surface.read(world, world.people[viewer])
    marks = world.marks()
    if viewer == "member":
        if surface.binary:
            assert seen, f"{surface.name}: the member cannot read it"
        elif surface.mark:
            assert marks[surface.mark] in seen, (
                f"{surface.name}: the member does not see {surface.mark}"
            )
        return
    if surface.binary:
        assert not seen, f"{surface.name}: {viewer} reads the draft's export"
        return
    if "search" in surface.name:
        del marks["section-word"]  # a search page repeats what was searched for
    found = sorted(name for name, mark in marks.items() if mark in seen)
    assert not found, f"{surface.name}: {viewer} sees {found}"


# --- Findings: readable like their incidents; an API key reads its own team's ------


def test_visible_to_findings_follow_their_incidents_and_keys_their_team():
    """GIVEN findings of two teams WHEN people, nobody and an API key ask THEN
    people read every finding (incidents are not private), nobody reads none, and
    a key reads its own team's only (as the API has always answered)."""
    catalogue = build_catalogue()
    own, other = (catalogue.cases[c].finding for c in (OWN, OTHER))
    for role in ("viewer", "admin"):
        found = set(Finding.objects.visible_to(catalogue.users[role]))
        assert found == {own, other}
    assert not Finding.objects.visible_to(AnonymousUser()).exists()
    response = Client(HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys['key-read']}").get(
        reverse("finding-list")
    )
    assert [row["id"] for row in response.json()["results"]] == [own.pk]


def test_visible_to_a_finding_match_follows_its_action_items_rule():
    """GIVEN a match pointing at an item of another team's draft WHEN the item is
    handed to a person (its owner) who may not read the draft THEN they see the
    match, as they see the item on their list; other outsiders still do not."""
    catalogue = build_catalogue()
    own, other = catalogue.cases[OWN], catalogue.cases[OTHER]
    match = FindingMatch.objects.create(
        incident=own.incident,
        finding=own.finding,
        past_incident=other.draft.incident,
        action_item=other.item,
        reason="same service",
    )
    outsider = catalogue.users["viewer"]
    assert not Postmortem.objects.visible_to(outsider).filter(pk=other.draft.pk)
    assert not FindingMatch.objects.visible_to(outsider).exists()

    ActionItem.objects.filter(pk=other.item.pk).update(owner=outsider)

    assert list(ActionItem.objects.visible_to(outsider).filter(pk=other.item.pk))
    assert list(FindingMatch.objects.visible_to(outsider)) == [match]


def test_visible_to_notifications_are_their_recipients_own():
    catalogue = build_catalogue()
    editor, viewer = catalogue.users["editor"], catalogue.users["viewer"]
    mine = Notification.objects.create(
        user=editor,
        kind=NotificationKind.REVIEW_REQUESTED,
        key="mine",
        object_id=catalogue.cases[OWN].draft.pk,
    )
    Notification.objects.create(
        user=viewer,
        kind=NotificationKind.REVIEW_REQUESTED,
        key="theirs",
        object_id=catalogue.cases[OWN].draft.pk,
    )
    assert list(Notification.objects.visible_to(editor)) == [mine]
    assert not Notification.objects.visible_to(AnonymousUser()).exists()


# --- Static: the rule is written in the permissions modules only -------------------

# Visibility spelled by hand: the public statuses or the user's teams as a filter.
HAND_WRITTEN = re.compile(
    r"status__in\s*=\s*(?:\w+\.)?PUBLIC_STATUSES"
    r"|team_id__in\s*=\s*(?:\w+\.)?team_ids\("
    r"|\bin\s+(?:\w+\.)?PUBLIC_STATUSES"
    r"|__in\"\s*:\s*(?:\w+\.)?team_ids\("
)
APPS = ("postmortems", "actions", "findings", "insights", "notifications", "chat")


def hand_written_visibility(root: Path = ROOT) -> list[str]:
    """file:line of every filter that spells the visibility rule outside a
    ``permissions.py``."""
    found = []
    for app in APPS + ("trackers",):
        for path in sorted((root / app).rglob("*.py")):
            if path.name == "permissions.py" or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HAND_WRITTEN.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_visible_to_is_spelled_only_in_permissions_modules():
    """GIVEN every module of every app WHEN one filters by the public statuses or
    by the user's teams THEN it must be a permissions.py: everything else asks
    ``visible_to(user)`` (or the permissions module's ``public()``)."""
    found = hand_written_visibility()
    assert not found, "Use visible_to(user) instead:\n" + "\n".join(found)


def test_visible_to_second_spellings_are_gone():
    """``visible_postmortems(user, qs)`` and ``visible_action_items(user, qs)`` were
    second spellings of ``visible_to``: nothing defines or calls them."""
    names = {"visible_postmortems", "visible_action_items"}
    found = []
    for app in APPS + ("trackers", "kb"):
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                name = getattr(node, "id", None) or getattr(node, "name", None)
                if name in names or getattr(node, "attr", None) in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("qs.filter(status__in=PUBLIC_STATUSES)\n", True),
        ("qs.filter(postmortem__status__in=permissions.PUBLIC_STATUSES)\n", True),
        ("qs.filter(incident__team_id__in=team_ids(user))\n", True),
        ("if postmortem.status in permissions.PUBLIC_STATUSES:\n", True),
        ('qs.filter(**{f"{field}__in": team_ids(user)})\n', True),
        ("qs.visible_to(user)\n", False),
        ("qs.filter(status__in=OPEN_STATUSES)\n", False),
    ],
)
def test_visible_to_static_check_flags_a_hand_written_rule(tmp_path, code, flagged):
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "example.py").write_text(code)
    (tmp_path / "actions" / "permissions.py").write_text(code)
    found = hand_written_visibility(tmp_path)
    assert len(found) == (1 if flagged else 0), found
