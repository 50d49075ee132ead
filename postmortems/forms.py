"""HTML forms for the postmortem document: start one, edit it, discuss it."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import QueryDict

from postmortems import selectors
from postmortems.models import (
    ContributingFactor,
    Hypothesis,
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


class WhyForm(forms.Form):
    text = forms.CharField(
        label="Why",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 1,
                "placeholder": "Why did checkout fail?",
                "aria-label": "Why",
            }
        ),
    )


class RowsMixin:
    """Formset helpers shared by the editor's lists."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if self.can_delete:
            form.fields["DELETE"].label = "Remove"
        if self.can_order:
            form.fields["ORDER"].label = "Position"

    def kept_forms(self) -> list[forms.Form]:
        """The rows to save, in the page's order: not removed, not left blank."""
        if self.can_order:
            return self.ordered_forms
        return [
            form
            for number, form in enumerate(self.forms)
            if not self._should_delete_form(form)
            and (number < self.initial_form_count() or form.has_changed())
        ]


class WhysFormSet(RowsMixin, forms.BaseFormSet):
    pass


# Five whys are a list on the postmortem, not rows of their own: a plain formset.
WhyFormSet = forms.formset_factory(
    WhyForm, formset=WhysFormSet, extra=0, can_order=True, can_delete=True
)


class RowsFormSet(RowsMixin, forms.BaseInlineFormSet):
    """Rows of the postmortem edited in the page: validated here, written by the
    service (postmortem_update keeps the positions, drafted marks and history), so
    ``save()`` is never called.

    The posted row id is a plain number. Rows are matched against this
    postmortem's own rows, so an id of a row someone else deleted meanwhile (or a
    forged one) makes a new row, as the service does, instead of an error that
    would hide the version conflict.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        pk = self.model._meta.pk.name
        form.fields[pk] = forms.IntegerField(
            required=False, widget=forms.HiddenInput, initial=form.fields[pk].initial
        )


def _name_or_username(user) -> str:
    return user.get_full_name() or user.get_username()


class FactorForm(forms.ModelForm):
    class Meta:
        model = ContributingFactor
        fields = ["kind", "description"]
        widgets = {
            "kind": forms.Select(attrs={"aria-label": "Kind"}),
            "description": forms.Textarea(
                attrs={
                    "rows": 1,
                    "placeholder": "e.g. The pool size was not load-tested",
                    "aria-label": "Contributing factor",
                }
            ),
        }
        labels = {"description": "Contributing factor"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A row with no description is a removed row; only a described one needs
        # a kind.
        self.fields["kind"].required = False
        self.fields["kind"].choices = [
            ("", "Pick a kind"),
            *ContributingFactor._meta.get_field("kind").choices,
        ]
        self.fields["description"].required = False

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("description") or "").strip() and not cleaned.get("kind"):
            self.add_error("kind", "Pick one.")
        return cleaned


class HypothesisForm(forms.ModelForm):
    class Meta:
        model = Hypothesis
        fields = ["track", "status", "text", "test", "settled_by", "settled_at"]
        labels = {
            "text": "Hypothesis",
            "test": "The test that settled it",
            "settled_by": "Settled by",
            "settled_at": "Settled at",
        }
        # The labels say it; a model help text would point at text not shown.
        help_texts = {"test": ""}
        widgets = {
            "text": forms.Textarea(
                attrs={
                    "rows": 1,
                    "placeholder": "e.g. The new release leaks connections",
                }
            ),
            "test": forms.Textarea(
                attrs={
                    "rows": 1,
                    "placeholder": "e.g. Rolled back one pod; its pool still saturated",
                }
            ),
            "settled_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, people: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False
        settled_by = self.fields["settled_by"]
        allowed = selectors.people_choices()
        choices = [(person.pk, _name_or_username(person)) for person in people]
        if self.instance.settled_by_id:
            # Whoever settled it stays selectable after their account is retired.
            allowed = allowed.model.objects.filter(
                Q(pk__in=allowed) | Q(pk=self.instance.settled_by_id)
            )
            if self.instance.settled_by_id not in {pk for pk, _ in choices}:
                choices.append(
                    (
                        self.instance.settled_by_id,
                        _name_or_username(self.instance.settled_by),
                    )
                )
        settled_by.queryset = allowed  # what a post may name
        # The options, listed once for every row rather than queried per row.
        settled_by.choices = [("", "—"), *choices]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("text") or "").strip() and (
            (cleaned.get("test") or "").strip()
            or cleaned.get("settled_by")
            or cleaned.get("settled_at")
        ):
            self.add_error("text", "Write the hypothesis, or remove the row.")
        return cleaned


FactorFormSet = forms.inlineformset_factory(
    Postmortem,
    ContributingFactor,
    form=FactorForm,
    formset=RowsFormSet,
    extra=0,
    can_order=True,
    can_delete=True,
)
HypothesisFormSet = forms.inlineformset_factory(
    Postmortem,
    Hypothesis,
    form=HypothesisForm,
    formset=RowsFormSet,
    extra=0,
    can_delete=True,
)


# The editor's lists, by formset prefix.
EDITOR_LISTS = ("whys", "factors", "hypotheses")


class PostmortemEditForm(forms.Form):
    """The editor: one textarea per template section plus the structured parts.

    The list parts (five whys, contributing factors, investigation log) are
    formsets (``whys``, ``factors``, ``hypotheses``). A post without a list's
    management form leaves that list as it is, as the API does.
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
        self.whys = self._formset(
            WhyFormSet,
            prefix="whys",
            initial=[{"text": why} for why in postmortem.five_whys or []],
        )
        self.factors = self._formset(
            FactorFormSet, prefix="factors", instance=postmortem
        )
        self.hypotheses = self._formset(
            HypothesisFormSet,
            prefix="hypotheses",
            instance=postmortem,
            form_kwargs={"people": list(selectors.people_choices())},
        )

    def _formset(self, formset_class, *, prefix: str, **kwargs):
        posted = self.is_bound and f"{prefix}-TOTAL_FORMS" in self.data
        formset = formset_class(self.data if posted else None, prefix=prefix, **kwargs)
        if not posted:
            # An empty list starts with one blank row to type into.
            formset.extra = 0 if formset.initial_form_count() else 1
        return formset

    @property
    def formsets(self) -> list:
        """The lists this post carries (all of them, as the page posts it)."""
        return [fs for fs in (self.whys, self.factors, self.hypotheses) if fs.is_bound]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        # Every list is checked, so each row shows its own errors at once.
        return all([formset.is_valid() for formset in self.formsets]) and valid

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(
            formset.total_error_count() for formset in self.formsets
        )

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

    @property
    def section_fields(self) -> list[dict]:
        return [
            {"section": section, "field": self[name]}
            for section, name in self.section_names
        ]

    def clean_impact_regions(self) -> list[str]:
        raw = self.cleaned_data.get("impact_regions") or ""
        return [region.strip() for region in raw.split(",") if region.strip()]

    def _five_whys(self) -> list[str]:
        if not self.whys.is_bound:
            return list(self.postmortem.five_whys or [])
        texts = (form.cleaned_data["text"].strip() for form in self.whys.kept_forms())
        return [text for text in texts if text]

    def _factors(self) -> list[FactorInput] | None:
        if not self.factors.is_bound:
            return None
        return [
            FactorInput(
                id=form.instance.pk,
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"].strip(),
            )
            for form in self.factors.kept_forms()
            # A row left without a description is a removed row.
            if form.cleaned_data["description"].strip()
        ]

    def _hypotheses(self) -> list[HypothesisInput] | None:
        if not self.hypotheses.is_bound:
            return None
        rows = []
        for form in self.hypotheses.kept_forms():
            data = form.cleaned_data
            if not data["text"].strip():
                continue  # a blank row
            rows.append(
                HypothesisInput(
                    id=form.instance.pk,
                    track=data["track"],
                    status=data["status"],
                    text=data["text"].strip(),
                    test=data["test"].strip(),
                    settled_by=data["settled_by"],
                    settled_at=data["settled_at"],
                )
            )
        return rows

    def to_content(self) -> PostmortemContent:
        data = self.cleaned_data
        return PostmortemContent(
            sections={
                section["key"]: data.get(name) or ""
                for section, name in self.section_names
            },
            five_whys=self._five_whys(),
            impact_users_affected=data.get("impact_users_affected"),
            impact_revenue_usd=data.get("impact_revenue_usd"),
            impact_error_budget_pct=data.get("impact_error_budget_pct"),
            impact_regions=data.get("impact_regions") or [],
            contributing_factors=self._factors(),
            hypotheses=self._hypotheses(),
            reviewers=list(data.get("reviewers") or []),
        )


def with_one_more_row(data: QueryDict, prefix: str) -> QueryDict:
    """The posted editor with one more blank row in list ``prefix``."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    if prefix in EDITOR_LISTS and key in data:
        try:
            data[key] = str(int(data[key]) + 1)
        except ValueError:
            pass  # a forged count: the formset reports it
    return data


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Markdown welcome."}),
        max_length=10000,
    )
    section = forms.CharField(required=False, max_length=64)
    parent = forms.IntegerField(required=False)
