"""Response metrics and the order of lifecycle timestamps (pure functions)."""

import datetime as dt
import zoneinfo

import pytest

from postmortems.metrics import format_duration, incident_metrics, lifecycle_errors

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)


def _by_abbr(timestamps):
    return {metric.abbr: metric for metric in incident_metrics(timestamps)}


def test_incident_metrics_derive_each_duration_from_its_timestamps():
    metrics = _by_abbr(
        {
            "started_at": T0,
            "detected_at": T0 + dt.timedelta(minutes=12),
            "acknowledged_at": T0 + dt.timedelta(minutes=15),
            "mitigated_at": T0 + dt.timedelta(minutes=50),
            "resolved_at": T0 + dt.timedelta(hours=3, minutes=5),
        }
    )
    assert metrics["TTD"].duration == dt.timedelta(minutes=12)
    assert metrics["TTA"].duration == dt.timedelta(minutes=3)
    assert metrics["TTM"].duration == dt.timedelta(minutes=50)
    assert metrics["TTR"].seconds == 3 * 3600 + 5 * 60
    assert metrics["TTD"].formula == "TTD = detected − started = 12 min"
    assert metrics["TTR"].formula == "TTR = resolved − started = 3 h 5 min"


def test_incident_metrics_missing_timestamp_says_not_recorded():
    metrics = _by_abbr({"started_at": T0, "detected_at": None})
    assert metrics["TTD"].duration is None
    assert metrics["TTD"].display == "—"
    assert metrics["TTD"].formula == "TTD = detected − started (not recorded yet)"


def test_incident_metrics_are_real_elapsed_time_across_the_dst_change():
    """GIVEN an incident in Berlin on 2025-10-26, when clocks go back at 03:00 CEST
    WHEN it starts at 01:30 CEST and is resolved at 02:30 CET (one wall-clock hour)
    THEN TTR is two hours, because two hours really passed."""
    started = dt.datetime(2025, 10, 26, 1, 30, tzinfo=BERLIN)
    detected = dt.datetime(2025, 10, 26, 2, 45, tzinfo=BERLIN)  # first 02:45, CEST
    resolved = dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=BERLIN)  # CET
    assert resolved.utcoffset() == dt.timedelta(hours=1)
    metrics = _by_abbr(
        {
            "started_at": started.astimezone(dt.UTC),
            "detected_at": detected.astimezone(dt.UTC),
            "resolved_at": resolved.astimezone(dt.UTC),
        }
    )
    assert metrics["TTR"].duration == dt.timedelta(hours=2)
    assert metrics["TTD"].duration == dt.timedelta(hours=1, minutes=15)


def test_incident_metrics_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_metrics({"started_at": T0.replace(tzinfo=None), "resolved_at": T0})


def test_lifecycle_errors_names_the_step_out_of_order():
    errors = lifecycle_errors(
        {
            "started_at": T0,
            "detected_at": T0 - dt.timedelta(minutes=7),
            "resolved_at": T0 + dt.timedelta(hours=1),
        }
    )
    assert list(errors) == ["detected_at"]
    assert "Detected cannot be before started (7 min earlier)" in errors["detected_at"]


def test_lifecycle_errors_skip_missing_steps_and_compare_with_the_last_set_one():
    errors = lifecycle_errors(
        {
            "started_at": T0,
            "detected_at": T0 + dt.timedelta(minutes=30),
            "acknowledged_at": None,
            "mitigated_at": T0 + dt.timedelta(minutes=20),
        }
    )
    assert "Mitigated cannot be before detected" in errors["mitigated_at"]
    assert lifecycle_errors({"started_at": T0, "resolved_at": T0}) == {}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 s"),
        (12 * 60, "12 min"),
        (2 * 3600, "2 h"),
        (2 * 3600 + 5 * 60, "2 h 5 min"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
        (-300, "−5 min"),
    ],
)
def test_format_duration_is_short_and_readable(seconds, text):
    assert format_duration(dt.timedelta(seconds=seconds)) == text
