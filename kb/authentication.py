"""Session authentication for the API that answers 401 with a challenge.

DRF answers a request without credentials 401 only when the view's first
authentication class names a ``WWW-Authenticate`` challenge; its
SessionAuthentication names none, so an anonymous request got a 403 ("credentials
were not provided"). This one names the session and where to sign in.
"""

from django.conf import settings
from django.shortcuts import resolve_url
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate_header(self, request) -> str:
        return f'Session realm="hindsight", login="{resolve_url(settings.LOGIN_URL)}"'


class SessionAuthenticationScheme(SessionScheme):
    target_class = "kb.authentication.SessionAuthentication"
