"""Reads on the ingestion hot path: API keys by prefix, services by slug or name.

Every finding posted reads its API key (with the key's team) and the ids of the
services it names. Both change rarely, so they are kept in the shared cache (Redis
in production) for ``KB_LOOKUP_CACHE_SECONDS``, as plain values (ids, the key's
hash, scopes, expiry; the team's fields), never as pickled model instances: a
pickle names the model's module and class, so a deploy that moves or changes the
model would find entries it cannot read. What it reads:

- a save or delete of an ``ApiKey``, a ``Team`` or a ``Service`` forgets the
  affected entries at once and again when its transaction commits, so a revoked key
  is refused on the very next request in every process;
- only hits are kept: an unknown prefix or slug is read from the database each time;
- the time limit only bounds what a write that bypasses signals (``.update()``,
  raw SQL), or one made while Redis was unreachable, can leave behind.

With a per-process cache (the local-memory default) one process could not tell the
others, so the default there is 0: no caching. ``service_ids_lenient``, which
matches the service names alerting tools send, is not cached.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import router, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils.text import slugify

from findings.models import ApiKey
from postmortems.models import Service, Team


def _seconds() -> int:
    return settings.KB_LOOKUP_CACHE_SECONDS


def _key_entry(prefix: str) -> str:
    # v2: plain values; v1 held a pickled ApiKey of postmortems.models.
    return f"lookup:api-key:v2:{prefix}"


def _service_entry(slug: str) -> str:
    # v2: the value is (id, team id); v1 held the id alone.
    return f"lookup:service:v2:{slug}"


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix and its team, from the cache when it is there."""
    seconds = _seconds()
    if seconds:
        api_key = _api_key_from_values(cache.get(_key_entry(prefix)))
        if api_key is not None:
            return api_key
    api_key = ApiKey.objects.select_related("team").filter(prefix=prefix).first()
    if api_key is not None and seconds:
        cache.set(_key_entry(prefix), _api_key_values(api_key), seconds)
    return api_key


def _api_key_values(api_key: ApiKey) -> dict[str, dict]:
    """The key's and its team's column values: ids, strings, booleans, dates."""
    return {
        "api_key": _values(api_key),
        "team": _values(api_key.team),
    }


def _api_key_from_values(entry) -> ApiKey | None:
    """The key (with its team) rebuilt as if read from the database; None when
    there is no entry or it lacks a column (written before a field was added)."""
    if not isinstance(entry, dict):
        return None
    try:
        api_key = _instance(ApiKey, entry["api_key"])
        api_key.team = _instance(Team, entry["team"])
    except (KeyError, TypeError):
        return None
    return api_key


def _values(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


def _instance(model, values: dict):
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(
        router.db_for_read(model), names, [values[name] for name in names]
    )


def services_by_slug(slugs: set[str]) -> dict[str, tuple[int, int]]:
    """``{slug: (id, team id)}`` for the services with these slugs; unknown slugs
    are left out."""
    if not slugs:
        return {}
    seconds = _seconds()
    found: dict[str, tuple[int, int]] = {}
    if seconds:
        entries = {_service_entry(slug): slug for slug in slugs}
        found = {
            entries[entry]: tuple(value)
            for entry, value in cache.get_many(entries).items()
        }
    missing = slugs - found.keys()
    if missing:
        rows = {
            slug: (pk, team_id)
            for slug, pk, team_id in Service.objects.filter(slug__in=missing)
            .order_by()
            .values_list("slug", "pk", "team_id")
        }
        if rows and seconds:
            cache.set_many(
                {_service_entry(slug): value for slug, value in rows.items()}, seconds
            )
        found.update(rows)
    return found


def service_ids(slugs: set[str]) -> dict[str, int]:
    """``{slug: id}`` for the services with these slugs; unknown slugs are left out."""
    return {slug: pk for slug, (pk, _) in services_by_slug(slugs).items()}


def service_ids_lenient(names: set[str]) -> dict[str, int]:
    """Match outside service names to ours by slug or by name, ignoring case."""
    names = {name for name in names if name}
    if not names:
        return {}
    slugs = {slugify(name) for name in names} | names
    lowered = {name.lower() for name in names}
    rows = (
        Service.objects.annotate(lname=Lower("name"))
        .filter(Q(slug__in=slugs) | Q(lname__in=lowered))
        .values_list("pk", "slug", "lname")
    )
    found = {}
    for pk, slug, lname in rows:
        for name in names:
            if name in (slug, lname) or slugify(name) == slug or name.lower() == lname:
                found.setdefault(name, pk)
    return found


def _forget(entries: list[str]) -> None:
    """Drop entries now, and again on commit (a read between the two may re-cache)."""
    if not entries or not _seconds():
        return
    cache.delete_many(entries)
    transaction.on_commit(lambda: cache.delete_many(entries))


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def _api_key_changed(sender, instance: ApiKey, **kwargs) -> None:
    _forget([_key_entry(instance.prefix)])


@receiver(post_save, sender=Team)
def _team_changed(sender, instance: Team, created: bool, **kwargs) -> None:
    # Cached keys carry their team (its name, whether findings may open incidents).
    if not created and _seconds():
        prefixes = ApiKey.objects.filter(team=instance).values_list("prefix", flat=True)
        _forget([_key_entry(prefix) for prefix in prefixes])


@receiver(pre_save, sender=Service)
def _service_renaming(sender, instance: Service, **kwargs) -> None:
    # A new slug: the old one must stop resolving to this service.
    if instance.pk and _seconds():
        old = Service.objects.filter(pk=instance.pk).values_list("slug", flat=True)
        _forget([_service_entry(slug) for slug in old if slug != instance.slug])


@receiver(post_save, sender=Service)
@receiver(post_delete, sender=Service)
def _service_changed(sender, instance: Service, **kwargs) -> None:
    _forget([_service_entry(instance.slug)])
