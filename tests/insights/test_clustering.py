import numpy as np
import pytest

from insights import clustering
from insights.clustering import KnownClass, Params, class_terms, classify

PARAMS = Params(zero_shot_threshold=0.3, classifier_threshold=0.3)

CERT = [
    "the tls certificate expired and renewal failed, handshake errors",
    "certificate expired overnight, tls handshake failed for clients",
    "expired tls certificate, renewal job failed silently",
]
DISK = [
    "disk full on the database volume because log rotation was off",
    "the log volume disk filled up, rotation disabled, writes failed",
    "disk full: rotation of logs disabled so the volume filled",
]
CLOCK = [
    "leap second made the kernel clock spin, ntp drift on hosts",
    "ntp clock drift and a leap second broke kernel timers",
    "kernel timers misbehaved at the leap second, clock drift",
]
ODD = ["the marketing page had a typo in its heading"]


def _items(texts, start=1):
    return [f"pm-{start + i:03d}" for i in range(len(texts))], list(texts)


def _taxonomy(embedder):
    description = "tls certificate expired, renewal failed, handshake errors"
    vector = embedder.encode([description])[0]
    return [KnownClass(slug="certificate-expiry", description_vector=vector)]


def _run(embedder, texts, ids=None, **kwargs):
    ids = ids or [f"pm-{i + 1:03d}" for i in range(len(texts))]
    kwargs.setdefault("params", PARAMS)
    return classify(
        ids=ids,
        vectors=embedder.encode(texts),
        texts=texts,
        classes=kwargs.pop("classes", _taxonomy(embedder)),
        **kwargs,
    )


def test_classify_uses_taxonomy_and_clusters_the_rest(fake_embedder):
    texts = CERT + DISK + CLOCK + ODD
    result = _run(fake_embedder, texts)
    by_id = {a.item_id: a for a in result.assignments}
    assert {by_id[f"pm-{i:03d}"].slug for i in (1, 2, 3)} == {"certificate-expiry"}
    assert by_id["pm-001"].source == clustering.TAXONOMY
    disk = {by_id[f"pm-{i:03d}"].slug for i in (4, 5, 6)}
    clock = {by_id[f"pm-{i:03d}"].slug for i in (7, 8, 9)}
    assert len(disk) == 1 and len(clock) == 1 and disk != clock
    assert by_id["pm-004"].source == clustering.CLUSTER
    assert by_id["pm-010"].slug is None  # fits nothing: unassigned, not forced
    names = {p.slug: p for p in result.proposed}
    assert set(names) == disk | clock
    assert all(p.slug.startswith("proposed-") and p.is_new for p in result.proposed)
    assert "disk" in names[disk.pop()].terms


def test_classify_confirmed_class_wins(fake_embedder):
    texts = CERT + DISK
    result = _run(fake_embedder, texts, confirmed={"pm-001": "dns"})
    first = result.assignments[0]
    assert (first.slug, first.source, first.confidence) == ("dns", "confirmed", 1.0)


def test_classify_learns_from_confirmed_examples(fake_embedder):
    texts = CERT + DISK
    result = _run(fake_embedder, texts, confirmed={"pm-004": "disk-full"})
    by_id = {a.item_id: a for a in result.assignments}
    assert by_id["pm-005"].slug == "disk-full"
    assert by_id["pm-005"].source == clustering.CLASSIFIER
    assert by_id["pm-001"].slug == "certificate-expiry"


def test_classify_overruled_taxonomy_class_stops_zero_shot(fake_embedder):
    """GIVEN two confirmed items the taxonomy would call certificate-expiry
    WHEN people put them in another class
    THEN certificate-expiry stops taking items zero-shot; the classifier does."""
    texts = CERT + DISK
    confirmed = {"pm-001": "tls-expiry", "pm-002": "tls-expiry"}
    result = _run(fake_embedder, texts, confirmed=confirmed)
    third = result.assignments[2]
    assert (third.slug, third.source) == ("tls-expiry", clustering.CLASSIFIER)


def test_classify_is_deterministic_and_ignores_input_order(fake_embedder):
    texts = CERT + DISK + CLOCK + ODD
    ids = [f"pm-{i + 1:03d}" for i in range(len(texts))]
    first = _run(fake_embedder, texts, ids=ids)
    second = _run(fake_embedder, texts, ids=ids)
    backwards = _run(fake_embedder, texts[::-1], ids=ids[::-1])
    assert first.assignments == second.assignments == backwards.assignments
    assert [p.slug for p in first.proposed] == [p.slug for p in backwards.proposed]
    for a, b in zip(first.proposed, backwards.proposed, strict=True):
        np.testing.assert_array_equal(a.centroid, b.centroid)


def _as_known(result):
    return [
        KnownClass(slug=p.slug, proposed=True, centroid=p.centroid)
        for p in result.proposed
    ]


@pytest.mark.parametrize(
    "extra",
    [
        "disk full again: log rotation was off and the volume filled",
        "a leap second and ntp drift broke the kernel clock again",
        "the marketing page had a typo in its footer as well",
    ],
)
def test_classify_adding_one_item_never_renames_or_reshuffles(fake_embedder, extra):
    """GIVEN a run's proposed classes stored as known classes
    WHEN one more postmortem is added and the pipeline runs again
    THEN every earlier item keeps its class, and no class is renamed."""
    texts = CERT + DISK + CLOCK + ODD
    first = _run(fake_embedder, texts)
    previous = {a.item_id: a.slug for a in first.assignments if a.slug}
    classes = _taxonomy(fake_embedder) + _as_known(first)
    second = _run(fake_embedder, [*texts, extra], classes=classes, previous=previous)
    before = {a.item_id: a.slug for a in first.assignments}
    after = {a.item_id: a.slug for a in second.assignments}
    for item_id, slug in before.items():
        if slug is not None:
            assert after[item_id] == slug
    old = {p.slug for p in first.proposed}
    kept = {p.slug for p in second.proposed if not p.is_new}
    assert old <= kept


def test_classify_new_item_joins_existing_proposed_class(fake_embedder):
    texts = CERT + DISK + CLOCK
    first = _run(fake_embedder, texts)
    disk_slug = {a.item_id: a.slug for a in first.assignments}["pm-004"]
    classes = _taxonomy(fake_embedder) + _as_known(first)
    # Fresh run with no previous memberships: centroids alone keep the identity.
    second = _run(
        fake_embedder,
        [*DISK, "disk full, log rotation off, volume filled"],
        ids=["pm-004", "pm-005", "pm-006", "pm-100"],
        classes=classes,
    )
    assert {a.slug for a in second.assignments} == {disk_slug}
    assert not any(p.is_new for p in second.proposed if p.member_ids)


def test_class_terms_picks_distinctive_terms():
    documents = [
        "disk full disk volume rotation database",
        "certificate expired renewal database",
        "leap second clock database",
    ]
    terms = class_terms(documents, top=2)
    assert terms[0][0] == "disk"
    assert "database" not in terms[0] + terms[1] + terms[2]
    assert class_terms([]) == []


def test_classify_empty_input_gives_empty_result(fake_embedder):
    result = classify(
        ids=[], vectors=np.zeros((0, 384)), texts=[], classes=[], params=PARAMS
    )
    assert result.assignments == [] and result.proposed == []
