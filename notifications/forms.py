from django import forms

from notifications.models import NotificationKind


class PreferencesForm(forms.Form):
    """One checkbox per kind of notification."""

    def __init__(self, *args, enabled: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, initial=kind.value in enabled
            )

    def enabled_kinds(self) -> list[str]:
        return [kind for kind, on in self.cleaned_data.items() if on]
