"""Visibility once: ``Model.objects.visible_to(user)`` (as NetBox's
``restrict(user)``) is the rule the pages, the API and insights read through."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from actions.models import ActionItem
from postmortems.models import Postmortem, PostmortemStatus
from tests import factories

pytestmark = pytest.mark.django_db


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
