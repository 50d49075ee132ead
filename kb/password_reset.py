"""Password reset: a limited number of emails per address and per client.

Without a limit, anyone can make Hindsight send an address a stream of reset
emails (one request is one email), or probe many addresses from one machine.
Counters live in the shared cache with a fixed window, like the API's rate
limits (kb.cache.counter_incr); an unreachable Redis lets requests through.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings

from kb.cache import counter_incr


@dataclass(frozen=True)
class ResetRefusal:
    message: str
    retry_after: int


def _window_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"password-reset:{kind}:{digest}"


def password_reset_check(*, email: str, client: str) -> ResetRefusal | None:
    """Count one reset request; say why it is refused when a limit is passed.

    The address counts whether or not an account uses it, so the answer says
    nothing about which addresses have accounts.
    """
    window = settings.KB_PASSWORD_RESET_WINDOW_SECONDS
    minutes = max(1, window // 60)
    if counter_incr(_window_key("client", client), window) > (
        settings.KB_PASSWORD_RESET_PER_CLIENT
    ):
        return ResetRefusal(
            "Too many password reset requests from this network. "
            f"Try again in {minutes} minutes.",
            window,
        )
    if counter_incr(_window_key("email", email.strip().lower()), window) > (
        settings.KB_PASSWORD_RESET_PER_ADDRESS
    ):
        return ResetRefusal(
            "A reset link was sent to this address several times already. Check "
            f"your inbox and spam folder, or try again in {minutes} minutes.",
            window,
        )
    return None
