from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive import privacy


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AssignmentForm(forms.Form):
    collection = forms.ModelChoiceField(label=_("Collection"), queryset=None)
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("Default: the collection's.")
    )
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DateTimeLocalInput())
    due_at = forms.DateTimeField(label=_("Due"), widget=DateTimeLocalInput())

    def __init__(self, *args, user, **kwargs):
        now = timezone.localtime().replace(second=0, microsecond=0)
        kwargs.setdefault("initial", {"opens_at": now, "due_at": now + dt.timedelta(days=7)})
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = privacy.visible_collections(user).order_by("title")
