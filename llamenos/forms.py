from __future__ import annotations

import zoneinfo

from django import forms

from .models import HotlineSettings


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class HotlineSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices, help_text="Shifts are read in this time zone.")

    class Meta:
        model = HotlineSettings
        fields = ["hotline_name", "time_zone", "default_language"]


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False)
    event = forms.ChoiceField(required=False)

    def __init__(self, *args, actors: list[str], events: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone"), *((name, name) for name in actors)]
        self.fields["event"].choices = [("", "Any event"), *((name, name) for name in events)]
