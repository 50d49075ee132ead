"""HTML forms for the postmortem document: start one, edit it, discuss it."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from postmortems import selectors
from postmortems.models import (
    ContributingFactorKind,
    HypothesisStatus,
    HypothesisTrack,
    Postmortem,
    PostmortemTemplate,
)
from postmortems.services.postmortems import (
    FactorInput,
    HypothesisInput,
    PostmortemContent,
)


class ReviewerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class PostmortemCreateForm(forms.Form):
    template = TemplateChoiceField(
        queryset=PostmortemTemplate.objects.order_by("-is_default", "name"),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    reviewers = ReviewerChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Reviewers of the incident's team (or admins) approve the "
        "postmortem; you can change them later.",
    )
    draft = forms.BooleanField(
        label="Start from what Hindsight recorded",
        required=False,
        initial=True,
        help_text="Fills the sections from the timeline, the findings a reviewer "
        "confirmed or refuted, the response times and the open work of similar "
        "past incidents. Every drafted part is marked until you edit or accept it.",
    )

    def __init__(self, *args, author, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = selectors.reviewer_choices(
            team=team, exclude=author
        )
        default = PostmortemTemplate.objects.filter(is_default=True).first()
        if default is not None:
            self.fields["template"].initial = default.pk


class PostmortemEditForm(forms.Form):
    """The editor: one textarea per template section plus the structured parts.

    The list parts (five whys, contributing factors, investigation log) arrive as
    parallel lists (``why``, ``factor_kind``/``factor_description``, ``hyp_*``) so
    rows can be added and removed in the page without renumbering form prefixes.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    impact_users_affected = forms.IntegerField(
        label="Users affected", min_value=0, required=False
    )
    impact_revenue_usd = forms.DecimalField(
        label="Revenue estimate (USD)",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
    )
    impact_error_budget_pct = forms.DecimalField(
        label="Error budget consumed (%)",
        min_value=0,
        max_value=1000,
        max_digits=6,
        decimal_places=2,
        required=False,
    )
    impact_regions = forms.CharField(
        label="Regions",
        required=False,
        max_length=500,
        help_text="Comma-separated, e.g. eu-west-1, us-east-1.",
    )
    reviewers = ReviewerChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, postmortem: Postmortem, **kwargs):
        self.postmortem = postmortem
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_for(postmortem))
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = selectors.reviewer_choices(
            team=postmortem.incident.team_id, exclude=postmortem.author
        )
        self.section_names = []
        for section in postmortem.template.sections:
            name = f"section_{section['key']}"
            self.fields[name] = forms.CharField(
                label=section["title"],
                help_text=section.get("help", ""),
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 6}),
            )
            self.section_names.append((section, name))
        self.rows_errors: list[str] = []

    @staticmethod
    def initial_for(postmortem: Postmortem) -> dict:
        initial = {
            "version": postmortem.version,
            "impact_users_affected": postmortem.impact_users_affected,
            "impact_revenue_usd": postmortem.impact_revenue_usd,
            "impact_error_budget_pct": postmortem.impact_error_budget_pct,
            "impact_regions": ", ".join(postmortem.impact_regions or []),
            "reviewers": [user.pk for user in postmortem.reviewers.all()],
        }
        for key, text in (postmortem.sections or {}).items():
            initial[f"section_{key}"] = text
        return initial

    # --- the list parts -----------------------------------------------------

    @property
    def section_fields(self) -> list[dict]:
        return [
            {"section": section, "field": self[name]}
            for section, name in self.section_names
        ]

    def why_rows(self) -> list[str]:
        if self.is_bound:
            return self.data.getlist("why")
        return list(self.postmortem.five_whys or [])

    def factor_rows(self) -> list[dict]:
        if self.is_bound:
            return [
                {"id": pk, "kind": kind, "description": text}
                for pk, kind, text in self._zip(
                    "factor_id", "factor_kind", "factor_description"
                )
            ]
        return [
            {"id": f.pk, "kind": f.kind, "description": f.description}
            for f in self.postmortem.contributing_factors.all()
        ]

    def hypothesis_rows(self) -> list[dict]:
        names = ("hyp_id", "hyp_track", "hyp_status", "hyp_text", "hyp_test",
                 "hyp_settled_by", "hyp_settled_at")  # fmt: skip
        if self.is_bound:
            return [
                dict(zip([n[4:] for n in names], row, strict=True))
                for row in self._zip(*names)
            ]
        return [
            {
                "id": h.pk,
                "track": h.track,
                "status": h.status,
                "text": h.text,
                "test": h.test,
                "settled_by": h.settled_by_id or "",
                "settled_at": (
                    timezone.localtime(h.settled_at).strftime("%Y-%m-%dT%H:%M")
                    if h.settled_at
                    else ""
                ),
            }
            for h in self.postmortem.hypotheses.all()
        ]

    @staticmethod
    def blank_hypothesis_row() -> dict:
        return dict.fromkeys(
            ("id", "track", "status", "text", "test", "settled_by", "settled_at"), ""
        )

    def _zip(self, *names: str) -> list[tuple]:
        columns = [self.data.getlist(name) for name in names]
        if len({len(column) for column in columns}) > 1:
            # Only a hand-made request gets here; clean() reports it.
            return []
        return list(zip(*columns, strict=True))

    def _rows_complete(self) -> bool:
        groups = (
            ("factor_id", "factor_kind", "factor_description"),
            ("hyp_id", "hyp_track", "hyp_status", "hyp_text", "hyp_test",
             "hyp_settled_by", "hyp_settled_at"),
        )  # fmt: skip
        return all(
            len({len(self.data.getlist(name)) for name in group}) == 1
            for group in groups
        )

    def clean(self):
        cleaned = super().clean()
        self.rows_errors = []
        if not self._rows_complete():
            self.rows_errors.append(
                "Some list rows were incomplete; reload the editor."
            )
        cleaned["five_whys"] = [
            w.strip() for w in self.data.getlist("why") if w.strip()
        ]
        factors = []
        kinds = dict(ContributingFactorKind.choices)
        for number, row in enumerate(self.factor_rows(), start=1):
            description = (row["description"] or "").strip()
            if not description:
                continue  # an empty row is a removed row
            if row["kind"] not in kinds:
                self.rows_errors.append(f"Contributing factor {number}: pick a kind.")
                continue
            factors.append(
                FactorInput(
                    id=_int_or_none(row["id"]),
                    kind=row["kind"],
                    description=description,
                )
            )
        cleaned["contributing_factors"] = factors
        hypotheses = []
        for number, row in enumerate(self.hypothesis_rows(), start=1):
            if not (row["text"] or "").strip():
                continue
            row_form = HypothesisRowForm(
                {
                    k: row[k]
                    for k in ("track", "status", "test", "settled_by", "settled_at")
                }
            )
            if not row_form.is_valid():
                for field, errors in row_form.errors.items():
                    label = (
                        row_form.fields[field].label if field in row_form.fields else ""
                    )
                    self.rows_errors.append(
                        f"Hypothesis {number}: {label} {' '.join(errors)}".replace(
                            "  ", " "
                        )
                    )
                continue
            data = row_form.cleaned_data
            hypotheses.append(
                HypothesisInput(
                    id=_int_or_none(row["id"]),
                    track=data["track"],
                    status=data["status"],
                    text=row["text"].strip(),
                    test=(data["test"] or "").strip(),
                    settled_by=data["settled_by"],
                    settled_at=data["settled_at"],
                )
            )
        cleaned["hypotheses"] = hypotheses
        if self.rows_errors:
            raise forms.ValidationError(self.rows_errors)
        return cleaned

    def clean_impact_regions(self) -> list[str]:
        raw = self.cleaned_data.get("impact_regions") or ""
        return [region.strip() for region in raw.split(",") if region.strip()]

    def to_content(self) -> PostmortemContent:
        data = self.cleaned_data
        return PostmortemContent(
            sections={
                section["key"]: data.get(name) or ""
                for section, name in self.section_names
            },
            five_whys=data["five_whys"],
            impact_users_affected=data.get("impact_users_affected"),
            impact_revenue_usd=data.get("impact_revenue_usd"),
            impact_error_budget_pct=data.get("impact_error_budget_pct"),
            impact_regions=data.get("impact_regions") or [],
            contributing_factors=data["contributing_factors"],
            hypotheses=data["hypotheses"],
            reviewers=list(data.get("reviewers") or []),
        )


class HypothesisRowForm(forms.Form):
    track = forms.ChoiceField(choices=HypothesisTrack.choices)
    status = forms.ChoiceField(choices=HypothesisStatus.choices)
    test = forms.CharField(required=False)
    settled_by = forms.ModelChoiceField(
        label="settled by", queryset=get_user_model().objects.all(), required=False
    )
    settled_at = forms.DateTimeField(label="settled at", required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Markdown welcome."}),
        max_length=10000,
    )
    section = forms.CharField(required=False, max_length=64)
    parent = forms.IntegerField(required=False)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
