"""Ship the three starter templates. They stay editable in the admin."""

from django.db import migrations

GOOGLE_SRE = [
    (
        "summary",
        "Summary",
        "What happened, in two or three sentences a newcomer understands.",
    ),
    (
        "impact",
        "Impact",
        "Who was affected and how: users, requests, revenue, error budget.",
    ),
    (
        "root_cause",
        "Root causes",
        "Why it happened. Ask what in the system allowed it, not who.",
    ),
    (
        "trigger",
        "Trigger",
        "The event that set the latent cause off (a push, a deploy, a spike).",
    ),
    ("resolution", "Resolution", "What was done to mitigate and then resolve it."),
    (
        "detection",
        "Detection",
        "How and when we found out; how it could have been sooner.",
    ),
    ("went_well", "What went well", ""),
    ("went_wrong", "What went wrong", ""),
    (
        "got_lucky",
        "Where we got lucky",
        "Things that limited the damage by chance, not design.",
    ),
    (
        "supporting_info",
        "Supporting information",
        "Links to dashboards, logs, tickets.",
    ),
]
RFO = [
    ("summary", "Summary", "A customer-readable account of the outage."),
    (
        "root_cause",
        "What caused the outage",
        "The underlying cause, in plain language.",
    ),
    ("trigger", "What triggered it", "The change or event that started it."),
    ("resolution", "What was done to mitigate", "Steps taken, with times."),
    ("response_improvements", "How the response could have improved", ""),
    ("impact", "Business impact", "Customers, revenue, contracts and SLAs affected."),
    (
        "prevention",
        "What prevents recurrence",
        "The work that stops this class of outage.",
    ),
]
CONFIG_CHANGE = [
    ("summary", "Summary", ""),
    ("trigger", "The change", "What was changed, where, by which mechanism."),
    (
        "change_review",
        "Its review",
        "How the change was reviewed and what the review could see.",
    ),
    (
        "rollout",
        "Canary and rollout stages",
        "Each stage, its size and how long it soaked.",
    ),
    ("canary_analysis", "Why the canary did or did not catch it", ""),
    (
        "rollback",
        "Rollback time",
        "How long from decision to rolled back, and what slowed it.",
    ),
    (
        "root_cause",
        "Root cause",
        "What in the system let a bad change reach production.",
    ),
    ("impact", "Impact", ""),
]

TEMPLATES = [
    (
        "google-sre",
        "Google SRE",
        "The postmortem format from Google's SRE book.",
        GOOGLE_SRE,
        True,
    ),
    (
        "rfo",
        "Reason for Outage (RFO)",
        "A customer-facing account of an outage.",
        RFO,
        False,
    ),
    (
        "config-change",
        "Configuration change",
        "For incidents triggered by a configuration or feature-flag change.",
        CONFIG_CHANGE,
        False,
    ),
]


def create_templates(apps, schema_editor):
    PostmortemTemplate = apps.get_model("postmortems", "PostmortemTemplate")
    for slug, name, description, sections, is_default in TEMPLATES:
        PostmortemTemplate.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "is_default": is_default,
                "sections": [
                    {"key": key, "title": title, "help": help_text}
                    for key, title, help_text in sections
                ],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0001_initial")]
    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]
