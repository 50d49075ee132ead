"""A postmortem as a Markdown file with YAML front matter. Pure: plain data in.

The front matter is what other tools index (severity, services, dates, status,
root-cause class, action items); the body is the document as written, so the file
reads well on its own and can be imported back (Google SRE headings).
"""

import datetime as dt
from decimal import Decimal

import yaml


def _plain(value):
    """Values YAML writes portably: ISO strings for dates, numbers for decimals."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _without_labels(rows: list[dict]) -> list[dict]:
    return [
        {key: value for key, value in row.items() if not key.endswith("_label")}
        for row in rows
    ]


def front_matter(doc: dict) -> dict:
    """The YAML header's keys, in a stable order.

    It holds every structured field (people as usernames, kinds as stored values),
    so ``manage.py import_postmortems`` reads the file back to the same postmortem;
    the body below it is the document for people.
    """
    return _plain(
        {
            "title": doc["title"],
            "incident": doc["incident"],
            "severity": doc["severity"],
            "near_miss": doc.get("near_miss", False),
            "services": doc["services"],
            "team": doc["team"],
            "template": doc["template"],
            "status": doc["status"],
            "author": doc["author"],
            "reviewers": doc["reviewers"],
            "roles": doc.get("roles", {}),
            "started": doc["started"],
            "detected": doc["detected"],
            "acknowledged": doc["acknowledged"],
            "mitigated": doc["mitigated"],
            "resolved": doc["resolved"],
            "published": doc["published"],
            "root_cause_class": doc.get("root_cause_class"),
            "impact": doc["impact"],
            "five_whys": doc["five_whys"],
            "contributing_factors": _without_labels(doc["contributing_factors"]),
            "hypotheses": _without_labels(doc["hypotheses"]),
            "timeline": _without_labels(doc["timeline"]),
            "action_items": doc["action_items"],
        }
    )


def _line(text: str) -> str:
    return " ".join((text or "").split())


def render_markdown_export(doc: dict) -> str:
    """The whole file: front matter, then the document's sections as Markdown."""
    header = yaml.safe_dump(
        front_matter(doc), sort_keys=False, allow_unicode=True, width=100
    )
    out = ["---", header.rstrip("\n"), "---", "", f"# {_line(doc['title'])}", ""]
    for section in doc["sections"]:
        out += [
            f"## {section['title']}",
            "",
            (section["text"] or "_Not written._").strip(),
            "",
        ]
    if doc["five_whys"]:
        out += ["## Five whys", ""]
        out += [f"{n}. {_line(why)}" for n, why in enumerate(doc["five_whys"], 1)]
        out.append("")
    if doc["contributing_factors"]:
        out += ["## Contributing factors", ""]
        out += [
            f"- **{factor['kind_label']}**: {_line(factor['description'])}"
            for factor in doc["contributing_factors"]
        ]
        out.append("")
    if doc["hypotheses"]:
        out += ["## Investigation log", ""]
        for hyp in doc["hypotheses"]:
            settled = ""
            if hyp["settled_by"] or hyp["settled_at"]:
                settled = f" (settled by {hyp['settled_by'] or 'unknown'}"
                settled += f" at {hyp['settled_at']})" if hyp["settled_at"] else ")"
            test = f" Test: {_line(hyp['test'])}." if hyp["test"] else ""
            out.append(
                f"- [{hyp['track_label']}] **{hyp['status_label']}**: "
                f"{_line(hyp['text'])}."
                f"{test}{settled}"
            )
        out.append("")
    if doc["timeline"]:
        out += ["## Timeline", ""]
        out += [
            f"- {entry['at']} [{entry['kind_label']}] {_line(entry['text'])}"
            for entry in doc["timeline"]
        ]
        out.append("")
    if doc["action_items"]:
        out += ["## Action items", ""]
        for item in doc["action_items"]:
            box = "x" if item["status"] in {"done", "wont_do"} else " "
            owner = f", owner {item['owner']}" if item["owner"] else ""
            due = f", due {item['due_date']}" if item["due_date"] else ""
            out.append(
                f"- [{box}] {_line(item['title'])} ({item['status']}, "
                f"{item['priority']}{owner}{due})"
            )
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
