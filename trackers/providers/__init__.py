"""One module per tracker behind ``base.Provider``; ``get_provider`` builds one
from settings (credentials) and a team's configuration (base URL override)."""

from django.conf import settings

from trackers.providers.base import Provider
from trackers.providers.github import GitHubProvider
from trackers.providers.jira import JiraProvider
from trackers.providers.linear import LinearProvider

PROVIDERS = ("jira", "github", "linear")


def get_provider(name: str, *, base_url: str = "") -> Provider:
    """The provider ``name`` with its credentials; KeyError for an unknown name."""
    timeout = settings.KB_TRACKER_TIMEOUT
    if name == "jira":
        return JiraProvider(
            api_url=base_url or settings.KB_JIRA_BASE_URL,
            email=settings.KB_JIRA_EMAIL,
            api_token=settings.KB_JIRA_API_TOKEN,
            webhook_secret=settings.KB_JIRA_WEBHOOK_SECRET,
            timeout=timeout,
        )
    if name == "github":
        return GitHubProvider(
            api_url=base_url or settings.KB_GITHUB_API_URL,
            token=settings.KB_GITHUB_TOKEN,
            webhook_secret=settings.KB_GITHUB_WEBHOOK_SECRET,
            timeout=timeout,
        )
    if name == "linear":
        return LinearProvider(
            api_url=base_url or settings.KB_LINEAR_API_URL,
            api_key=settings.KB_LINEAR_API_KEY,
            webhook_secret=settings.KB_LINEAR_WEBHOOK_SECRET,
            timeout=timeout,
        )
    raise KeyError(name)
