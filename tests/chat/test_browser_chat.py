"""Chat in Chromium: the team's chat settings in the admin, the outbox of messages,
and a Slack message on an incident's timeline."""

import datetime as dt

import pytest

from chat.choices import MessageStatus
from chat.models import ChannelLink, ChatMessage, TeamChatSettings
from chat.providers.base import ChatPost, ChatUser
from chat.services import pinned_message_record
from postmortems.models import Role
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    team = factories.TeamFactory(slug="payments", name="Payments")
    admin = factories.UserFactory(
        username="root", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    ana = factories.UserFactory(
        username="ana", first_name="Ana", last_name="Lima", teams=[team]
    )
    incident = factories.IncidentFactory(team=team, title="Checkout 502s")
    link = ChannelLink.objects.create(channel_id="C123ABC456", incident=incident)
    for ts, text, author, user in [
        ("1777630200.000100", "Rolled back deploy 4512 of *checkout-api*", "ana", ana),
        ("1777630500.000200", "Errors back to baseline", "Priya (SRE)", None),
    ]:
        pinned_message_record(
            link=link,
            post=ChatPost(
                channel_id="C123ABC456",
                ts=ts,
                text=text,
                user_id="U222222222",
                posted_at=dt.datetime.fromtimestamp(float(ts), tz=dt.UTC),
            ),
            text=text,
            author=ChatUser(id="U222222222", name=author),
            user=user,
            permalink="https://example.slack.com/archives/C123ABC456/p"
            + ts.replace(".", ""),
        )
    TeamChatSettings.objects.create(team=team, channel_id="C0TEAM0001")
    ChatMessage.objects.create(
        channel_id="C0GONE0001",
        event_key="workflow-event:7",
        subject="postmortem:3",
        text="INC-3 Checkout 502s: the postmortem is ready for review.",
        status=MessageStatus.FAILED,
        attempts=1,
        last_error="Slack chat_postMessage: channel_not_found",
    )
    return admin, incident


def test_chat_pages_look_finished(
    page, live_server, login, world, screenshot_dir, slack
):
    admin, incident = world
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, admin.username)

    page.goto(f"{live_server.url}/admin/chat/teamchatsettings/add/")
    assert page.locator("text=Notifications").first.is_visible()
    assert page.locator("input[name=reaction]").input_value() == "pushpin"
    page.screenshot(path=str(screenshot_dir / "chat-admin-settings-add.png"))

    page.goto(f"{live_server.url}/admin/chat/chatmessage/")
    assert page.locator("text=channel_not_found").first.is_visible()
    page.screenshot(path=str(screenshot_dir / "chat-admin-messages.png"))

    # Send again, with the channel still unknown to Slack: the admin says so.
    slack.answers["chat.postMessage"] = (
        200,
        {"ok": False, "error": "channel_not_found"},
    )
    row = ChatMessage.objects.get()
    page.check(f"input[name=_selected_action][value='{row.pk}']")
    page.select_option("select[name=action]", "send_again")
    page.click("button[name=index]")
    notice = page.locator("ul.messagelist li").first
    assert notice.inner_text() == "0 sent; 1 failed again (channel_not_found)."
    assert len(slack.called("chat.postMessage")) == 1
    page.screenshot(path=str(screenshot_dir / "chat-admin-send-again.png"))

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    timeline = page.locator("#timeline-entries")
    assert timeline.locator("a", has_text="in Slack").count() == 2
    assert timeline.locator("a", has_text="Priya (SRE) in Slack").count() == 1
    assert timeline.locator("text=Ana Lima").first.is_visible()
    timeline.screenshot(path=str(screenshot_dir / "chat-timeline.png"))
