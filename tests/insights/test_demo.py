"""The demo shows what insights is for: recurring classes, one that came back."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from insights import selectors

pytestmark = pytest.mark.django_db


def test_demo_insights_show_recurring_classes_and_a_recurrence(fake_model):
    call_command("load_demo")
    call_command("run_insights")
    demo = get_user_model().objects.get(username="demo")
    report = selectors.report_data(user=demo)
    assert len(report.recurring) >= 3
    recurred = {c.slug for c in report.came_back}
    assert "certificate-expiry" in recurred
