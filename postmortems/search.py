"""Full-text search over incidents and postmortems: one ``search()`` for both.

On PostgreSQL it is real full-text search (``django.contrib.postgres.search``):
English stemming, ``websearch`` syntax ("quoted phrases", ``or``, ``-word``), and
results ranked with title hits above body hits. On SQLite it is a simpler match:
every word must appear, case-insensitively, in the title or the sections.

The document is the title plus the postmortem's sections (a JSON object of
Markdown strings) cast to text. The incident list searches the text of the
postmortems the searcher may read (``Postmortem.objects.visible_to``), so a
private draft cannot be found, even indirectly, by people who may not read it,
and its own team finds it; the postmortem list is already limited to what the
user may read.
"""

import json

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Case, F, Func, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast

from postmortems.models import Incident, Postmortem

SEARCH_CONFIG = "english"
MAX_WORDS = 12

# Per model: the title path, the sections path, and the condition the sections
# must meet to be searched by a user.
_DOCUMENTS = {
    Postmortem: ("incident__title", "sections", lambda user: Q()),
    Incident: (
        "title",
        "postmortem__sections",
        lambda user: Q(postmortem__in=Postmortem.objects.visible_to(user)),
    ),
}


def search(queryset: QuerySet, text: str | None, *, user) -> QuerySet:
    """Restrict ``queryset`` (incidents or postmortems) to matches for ``text``,
    reading only the postmortem text ``user`` may read."""
    text = (text or "").strip()
    if not text:
        return queryset
    title, sections, readable = _DOCUMENTS[queryset.model]
    condition = readable(user)
    if connections[queryset.db].vendor == "postgresql":
        return _search_postgres(queryset, text, title, sections, condition)
    return _search_simple(queryset, text, title, sections, condition)


class _RegexpReplace(Func):
    function = "REGEXP_REPLACE"
    output_field = TextField()


def _sections_text(path: str, condition: Q):
    # jsonb::text keeps the keys ("root_cause") and escapes newlines as "\n";
    # drop the keys and the escapes so neither pollutes the words.
    text = _RegexpReplace(
        _RegexpReplace(
            Cast(path, TextField()),
            Value(r'"[A-Za-z0-9_]+"\s*:'),
            Value(" "),
            Value("g"),
        ),
        Value(r"\\[nrt]"),
        Value(" "),
        Value("g"),
    )
    if not condition:
        return text
    return Case(When(condition, then=text), default=Value(""), output_field=TextField())


def _search_postgres(queryset, text, title, sections, condition) -> QuerySet:
    vector = SearchVector(title, weight="A", config=SEARCH_CONFIG) + SearchVector(
        _sections_text(sections, condition), weight="B", config=SEARCH_CONFIG
    )
    query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
    ordering = [field for field in queryset.query.order_by if field != "search_rank"]
    return (
        queryset.alias(search_vector=vector)
        .filter(search_vector=query)
        .annotate(search_rank=SearchRank(F("search_vector"), query))
        .order_by("-search_rank", *ordering)
    )


def _search_simple(queryset, text, title, sections, condition) -> QuerySet:
    for word in text.split()[:MAX_WORDS]:
        # Sections are stored as JSON with non-ASCII characters escaped, so look
        # for the word the way JSON spells it.
        escaped = json.dumps(word)[1:-1]
        in_sections = Q(**{f"{sections}__icontains": escaped})
        if condition:
            in_sections &= condition
        queryset = queryset.filter(Q(**{f"{title}__icontains": word}) | in_sections)
    return queryset
