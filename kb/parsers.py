"""The REST API's JSON parser: ``kb.safejson`` for every endpoint.

Registered as the default parser in ``REST_FRAMEWORK``; the machine API reads its
bodies itself (signatures cover the raw bytes) through the same ``kb.safejson``.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from kb import safejson


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: what cannot be stored is a 400 naming the field."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return safejson.loads(stream.read())
        except safejson.JsonRefused as exc:
            raise ParseError(exc.sentence()) from None
