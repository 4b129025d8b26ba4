from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from archive import privacy
from archive.models import Case, Tag
from archive.services.tags import tags_from_text
from archive.vocabulary.selectors import catalogue_code
from archive.vocabulary.services import diagnosis_for, draft_diagnosis, update_names


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class UploadForm(forms.Form):
    files = MultipleFileField(
        label=_("DICOM files or a .zip of a study"),
        help_text=_(
            "Files are anonymized before anyone can see them. The originals are never shown "
            "and are deleted when you finish the review or submit the case."
        ),
        # An empty file must reach the pipeline to be reported per file, not fail the form.
        allow_empty_file=True,
    )

    def __init__(self, *args, **kwargs):
        from archive.services.incoming import UploadLimits

        super().__init__(*args, **kwargs)
        # The upload page refuses what the server would refuse as a whole before sending a
        # byte (static/js/upload.js), with the server's own sentences.
        limits = UploadLimits.from_settings()
        self.fields["files"].widget.attrs.update(
            {
                "data-max-files": limits.files,
                "data-max-request-bytes": limits.request_bytes,
                "data-too-many": limits.too_many_files(),
                "data-too-large": limits.request_too_large(),
            }
        )


TEXTAREA_ROWS = {
    "history": 4,
    "findings": 5,
    "differential": 3,
    "discussion": 6,
    "teaching_points": 4,
    "references": 3,
}


class CaseForm(forms.ModelForm):
    # The editor's sections, in order: (legend, field names). Short fields sit side by side.
    SECTIONS = [
        (_("The case"), ["title", "history", "findings"]),
        (
            _("Diagnosis"),
            [
                "diagnosis_name",
                "icd10",
                "diagnosis_name_cs",
                "diagnosis_synonyms_cs",
                "certainty",
                "differential",
                "rereview_years",
            ],
        ),
        (_("Teaching"), ["discussion", "teaching_points", "references"]),
        (
            _("Classification"),
            ["modality", "body_region", "organ_system", "level", "age_group", "sex"],
        ),
        (_("Tags and quiz"), ["tag_names", "quiz_mode", "is_normal"]),
    ]

    diagnosis_name = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        max_length=200,
        help_text=_(
            "Start typing a name, an abbreviation, a Czech name or an ICD-10 code: the whole "
            "ICD-10 and the archive's diagnoses are suggested with their code. A name that is "
            "not suggested is added as typed; a curator will file it under a code."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-expanded": "false",
                "aria-controls": "diagnosis-listbox",
                "data-diagnosis-autocomplete": reverse_lazy("api-diagnoses"),
            }
        ),
    )
    icd10 = forms.CharField(
        label=_("ICD-10 code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"size": 8}),
    )
    diagnosis_name_cs = forms.CharField(
        label=_("Czech name of the diagnosis"),
        required=False,
        max_length=200,
        help_text=_("Filled in from the vocabulary when it has one; students search by it too."),
    )
    diagnosis_synonyms_cs = forms.CharField(
        label=_("Czech synonyms"),
        required=False,
        max_length=500,
        help_text=_("Other Czech names and abbreviations, separated by commas (e.g. PNO)."),
    )
    tag_names = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    class Meta:
        model = Case
        fields = [
            "title",
            "history",
            "findings",
            "diagnosis_name",
            "icd10",
            "diagnosis_name_cs",
            "diagnosis_synonyms_cs",
            "certainty",
            "differential",
            "rereview_years",
            "discussion",
            "teaching_points",
            "references",
            "modality",
            "body_region",
            "organ_system",
            "level",
            "age_group",
            "sex",
            "tag_names",
            "quiz_mode",
            "is_normal",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": rows}) for name, rows in TEXTAREA_ROWS.items()
        }
        help_texts = {
            "differential": _("One diagnosis per line; quiz mode can offer them as choices."),
            "teaching_points": _("One point per line."),
            "references": _("One reference per line (articles, guidelines, links)."),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            if self.instance.diagnosis:
                diagnosis = self.instance.diagnosis
                self.fields["diagnosis_name"].initial = diagnosis.name
                self.fields["icd10"].initial = diagnosis.icd10
                self.fields["diagnosis_name_cs"].initial = diagnosis.name_cs
                self.fields["diagnosis_synonyms_cs"].initial = ", ".join(diagnosis.synonym_list_cs)
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())
            self._show_what_the_images_say()

    def _show_what_the_images_say(self) -> None:
        """Next to age group and sex: what the anonymized headers say, when it differs from
        the case's value (the teacher's value wins; the images only fill an empty field)."""
        case = self.instance
        for field, said in (("age_group", case.header_age_group), ("sex", case.header_sex)):
            if said and said != getattr(case, field):
                label = dict(self.fields[field].choices).get(said, said)
                self.fields[field].help_text = _("The images say: %(value)s.") % {"value": label}

    def sections(self):
        """The bound fields grouped for the template: [(legend, [BoundField, ...]), ...]."""
        return [(legend, [self[name] for name in names]) for legend, names in self.SECTIONS]

    def clean_icd10(self) -> str:
        code = (self.cleaned_data.get("icd10") or "").strip()
        if not code:
            return ""
        entry = catalogue_code(code)
        if entry is None:
            raise forms.ValidationError(
                _(
                    "“%(code)s” is not an ICD-10 diagnosis code. Pick the diagnosis from the "
                    "suggestions, or leave the code empty: a curator will add it."
                ),
                params={"code": code[:16]},
            )
        return entry.code

    def clean(self):
        data = super().clean()
        name = (data.get("diagnosis_name") or "").strip()
        title = data.get("title") or ""
        if data.get("quiz_mode") and name:
            diagnosis = draft_diagnosis(name=name, icd10=data.get("icd10") or "")
            typed = [data.get("diagnosis_name_cs") or "", *self.czech_synonyms()]
            # The same terms the privacy policy hides: synonyms and the ICD-10 code count too.
            terms = [*privacy.hidden_terms(diagnosis), *(t for t in typed if t)]
            if privacy.mentions(title, terms):
                self.add_error(
                    "title", _("In quiz mode the title must not give the diagnosis away.")
                )
        # What a teacher types is searched for personal data as the headers' free text is (a
        # name or a date in the history would reach every student): on the draft as on a
        # revision of a published case.
        from archive.services.revisions import check_fields

        self.add_personal_data_errors(check_fields(data, []))
        return data

    def add_personal_data_errors(self, errors: dict) -> None:
        """Show ``check_fields``' findings at their fields (a series' at its description)."""
        for name, error in errors.items():
            field = name if name in self.fields else None
            if name.startswith("series-"):
                field = f"series_{name.removeprefix('series-')}_description"
            message = _(error.message) % {k: _(v) for k, v in (error.params or {}).items()}
            self.add_error(field, message)

    def czech_synonyms(self) -> list[str]:
        text = self.cleaned_data.get("diagnosis_synonyms_cs") or ""
        return [t.strip()[:200] for t in text.split(",") if t.strip()]

    def save(self, commit: bool = True) -> Case:
        case = super().save(commit=False)
        name = self.cleaned_data.get("diagnosis_name", "").strip()
        if name:
            diagnosis = diagnosis_for(name=name, icd10=self.cleaned_data["icd10"])
            update_names(
                diagnosis,
                name_cs=self.cleaned_data.get("diagnosis_name_cs") or "",
                synonyms_cs=self.czech_synonyms(),
            )
            case.diagnosis = diagnosis
        else:
            case.diagnosis = None
        if commit:
            case.save()
            self.save_tags(case)
        return case

    def save_tags(self, case: Case) -> None:
        case.tags.set(tags_from_text(self.cleaned_data.get("tag_names", "")))


class ReturnCaseForm(forms.Form):
    """The curator's comment when returning cases to their authors (admin action)."""

    comment = forms.CharField(
        label=_("Comment for the author"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("Say what the author should change; they see this above their editor."),
    )


class BulkTagForm(forms.Form):
    OPERATIONS = [("add", _("Add the tag")), ("remove", _("Remove the tag"))]

    operation = forms.ChoiceField(label=_("Operation"), choices=OPERATIONS, initial="add")
    tag = forms.CharField(label=_("Tag"), max_length=64)

    def clean_tag(self) -> str:
        tag = " ".join(self.cleaned_data["tag"].split())
        if not tag:
            raise forms.ValidationError(_("Enter a tag."))
        return tag


class LinkCodeForm(forms.Form):
    """The ICD-10 code a curator files free-text diagnoses under (admin action)."""

    code = forms.CharField(
        label=_("ICD-10 code"),
        max_length=16,
        help_text=_("A category or subcategory of the catalogue, e.g. J93 or J93.1."),
    )

    def clean_code(self):
        entry = catalogue_code(self.cleaned_data["code"])
        if entry is None:
            raise forms.ValidationError(
                _("That is not a category or subcategory of ICD-10: check the code.")
            )
        return entry


class RevisionForm(CaseForm):
    """The editor of a published case's revision: the case's fields and, per series, its
    description, its place in the order and whether students start with it. Validated like the
    editor (quiz title, ICD-10 code) and searched for personal data; saved into the revision,
    never into the case (``archive.services.revisions``)."""

    lead_series = forms.TypedChoiceField(
        label=_("Students start with"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, series: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.series_rows = sorted(series, key=lambda s: s["order"])
        for n, s in enumerate(self.series_rows, start=1):
            self.fields[f"series_{s['id']}_description"] = forms.CharField(
                label=_("Description of series %(n)s (%(modality)s)")
                % {"n": n, "modality": s["modality"]},
                required=False,
                max_length=200,
                initial=s["description"],
            )
            self.fields[f"series_{s['id']}_order"] = forms.IntegerField(
                label=_("Place of series %(n)s in the order") % {"n": n},
                min_value=1,
                max_value=max(len(self.series_rows), 1),
                initial=s["order"],
                widget=forms.NumberInput(attrs={"size": 3}),
            )
        self.fields["lead_series"].choices = [
            ("", _("As chosen on the images (or the longest series)")),
            *((s["id"], _("Series %(n)s") % {"n": n}) for n, s in enumerate(self.series_rows, 1)),
        ]
        self.fields["lead_series"].initial = next(
            (s["id"] for s in self.series_rows if s["lead"]), ""
        )

    def sections(self):
        out = super().sections()
        if self.series_rows:
            names = [
                name
                for s in self.series_rows
                for name in (f"series_{s['id']}_description", f"series_{s['id']}_order")
            ]
            out.append((_("Series"), [self[name] for name in [*names, "lead_series"]]))
        return out

    def clean(self):
        from archive.services.revisions import check_fields

        data = super().clean()
        orders = [data.get(f"series_{s['id']}_order") for s in self.series_rows]
        if None not in orders and len(set(orders)) != len(orders):
            self.add_error(None, _("Give each series its own place in the order."))
        # The text fields were checked by CaseForm.clean; the series' descriptions here.
        self.add_personal_data_errors(check_fields({}, self.revision_series(data)))
        return data

    def revision_series(self, data: dict | None = None) -> list[dict]:
        data = self.cleaned_data if data is None else data
        lead = data.get("lead_series")
        return [
            {
                "id": s["id"],
                "modality": s["modality"],
                "description": " ".join((data.get(f"series_{s['id']}_description") or "").split()),
                "order": data.get(f"series_{s['id']}_order") or s["order"],
                "lead": s["id"] == lead,
            }
            for s in self.series_rows
        ]

    def revision_fields(self) -> dict:
        """The editor's values as the revision keeps them: as ``case_fields`` gives a case's
        (tags and Czech synonyms written the same way), so an unchanged field compares equal."""
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["diagnosis_synonyms_cs"] = ", ".join(self.czech_synonyms())
        names: dict[str, str] = {}
        for part in (data.get("tag_names") or "").split(","):
            name = " ".join(part.split())[:64]
            if name:
                existing = Tag.objects.filter(name__iexact=name).order_by("pk").first()
                names.setdefault(name.casefold(), existing.name if existing else name)
        data["tag_names"] = ", ".join(sorted(names.values(), key=str.casefold))
        return data

    def save(self, commit: bool = True):
        raise NotImplementedError("A revision is saved by archive.services.revisions.")
