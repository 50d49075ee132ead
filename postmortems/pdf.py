"""PDF export with WeasyPrint, fetching nothing but the app's own static files.

A postmortem's Markdown can hold image links to anything (``http://169.254.169.254/``,
``http://127.0.0.1:5432/``, ``file:///etc/passwd``). WeasyPrint's default fetcher
would follow them from the server: a request forgery and a local file read. Every
resource the renderer asks for goes through ``StaticOnlyFetcher``, which serves the
app's static files (stylesheets, vendored assets), small ``data:`` images, and
refuses everything else; a refused resource is left out and the PDF still renders.
"""

import base64
import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join

logger = logging.getLogger(__name__)

# The page is rendered as if served from this host (it never resolves): relative
# links such as /static/css/app.css become https://hindsight.invalid/static/...,
# which the fetcher maps to files. No other host is ever contacted.
BASE_URL = "https://hindsight.invalid/"
MAX_DATA_IMAGE_BYTES = 256 * 1024


class ResourceRefused(ValueError):
    """The PDF renderer asked for something that is not one of our static files."""


def static_file(url: str) -> Path | None:
    """The file behind one of our static URLs, or None for any other URL."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    if not parts.path.startswith(settings.STATIC_URL):
        return None
    relative = unquote(parts.path[len(settings.STATIC_URL) :])
    try:
        found = finders.find(relative)
        if found:
            return Path(found)
        candidate = Path(safe_join(str(settings.STATIC_ROOT), relative))
    except SuspiciousFileOperation:
        return None  # ../ out of the static directories
    return candidate if candidate.is_file() else None


def _data_image(url: str) -> tuple[bytes, str]:
    header, _, payload = url[len("data:") :].partition(",")
    mime, *params = header.split(";")
    if not mime.startswith("image/"):
        raise ResourceRefused("data: URLs are allowed for images only")
    data = (
        base64.b64decode(payload) if "base64" in params else unquote_to_bytes(payload)
    )
    if len(data) > MAX_DATA_IMAGE_BYTES:
        raise ResourceRefused("data: image too large")
    return data, mime


def _fetcher_class():
    # WeasyPrint is imported when a PDF is made, not when URLs are loaded.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves our static files and small data: images; refuses the rest."""

        def __init__(self):
            super().__init__(allow_redirects=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            try:
                if url.startswith("data:"):
                    body, mime = _data_image(url)
                else:
                    path = static_file(url)
                    if path is None:
                        raise ResourceRefused("not one of the app's static files")
                    body = path.read_bytes()
                    mime = mimetypes.guess_type(path.name)[0] or "text/plain"
            except (ResourceRefused, ValueError) as exc:
                self.refused.append(url)
                logger.warning("PDF export refused %s: %s", url[:200], exc)
                raise ResourceRefused(f"Refused {url[:200]}: {exc}") from None
            self.served.append(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return StaticOnlyFetcher


def static_only_fetcher():
    """A fresh fetcher (it records what it served and refused)."""
    return _fetcher_class()()


def render_pdf(html: str, *, fetcher=None) -> bytes:
    """The PDF of ``html``, whose resources come from ``fetcher`` only."""
    from weasyprint import HTML

    fetcher = fetcher or static_only_fetcher()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
