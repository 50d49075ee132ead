"""Reads of the trackers app."""

from actions.models import ActionItem
from trackers.models import TrackerConfig, TrackerLink
from trackers.providers import get_provider


def tracker_panel_context(*, item: ActionItem, can_edit: bool) -> dict:
    """What the tracker card on an action item's page shows (two queries)."""
    link = TrackerLink.objects.filter(item_id=item.pk).first()
    config = TrackerConfig.objects.filter(team_id=item.team_id, enabled=True).first()
    provider = None
    if config is not None:
        provider = get_provider(config.provider, base_url=config.base_url)
    if link is not None:
        link.item = item  # for ``disagrees``, without reading the item again
    return {
        "item": item,
        "link": link,
        "config": config,
        "provider_ready": provider is not None and provider.configured(),
        "provider_label": provider.label if provider else "",
        "can_edit": can_edit,
    }
