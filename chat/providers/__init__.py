"""Chat providers by name: adding a provider is adding a module and a line here."""

from django.utils.module_loading import import_string

from chat.providers.base import ChatProvider

PROVIDERS = {
    "slack": "chat.slack.provider.SlackProvider",
}


def get_provider(name: str) -> ChatProvider:
    """The provider called ``name`` (KeyError for an unknown one)."""
    return import_string(PROVIDERS[name])()
