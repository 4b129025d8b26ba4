from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from archive.models import Case, Diagnosis, Tag


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
        help_text=_("Files are anonymized before anyone can see them; originals are deleted."),
        # An empty file must reach the pipeline to be reported per file, not fail the form.
        allow_empty_file=True,
    )


class CaseForm(forms.ModelForm):
    diagnosis_name = forms.CharField(
        label=_("Diagnosis"),
        required=False,
        help_text=_("Start typing: existing diagnoses are suggested with their ICD-10 code."),
        widget=forms.TextInput(attrs={"list": "diagnosis-options", "autocomplete": "off"}),
    )
    icd10 = forms.CharField(label=_("ICD-10 code"), required=False, max_length=16)
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
            "certainty",
            "differential",
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
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in [
                "history",
                "findings",
                "differential",
                "discussion",
                "teaching_points",
                "references",
            ]
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            if self.instance.diagnosis:
                self.fields["diagnosis_name"].initial = self.instance.diagnosis.name
                self.fields["icd10"].initial = self.instance.diagnosis.icd10
            self.fields["tag_names"].initial = ", ".join(t.name for t in self.instance.tags.all())

    def clean(self):
        data = super().clean()
        name = (data.get("diagnosis_name") or "").strip()
        title = (data.get("title") or "").lower()
        if data.get("quiz_mode") and name and name.lower() in title:
            self.add_error("title", _("In quiz mode the title must not give the diagnosis away."))
        return data

    def save(self, commit: bool = True) -> Case:
        case = super().save(commit=False)
        name = self.cleaned_data.get("diagnosis_name", "").strip()
        if name:
            diagnosis = Diagnosis.objects.filter(name__iexact=name).first()
            if diagnosis is None:
                diagnosis = Diagnosis.objects.create(name=name, icd10=self.cleaned_data["icd10"])
            elif self.cleaned_data["icd10"] and not diagnosis.icd10:
                diagnosis.icd10 = self.cleaned_data["icd10"]
                diagnosis.save(update_fields=["icd10"])
            case.diagnosis = diagnosis
        else:
            case.diagnosis = None
        if commit:
            case.save()
            self.save_tags(case)
        return case

    def save_tags(self, case: Case) -> None:
        names = {t.strip().lower() for t in self.cleaned_data.get("tag_names", "").split(",")}
        tags = [Tag.objects.get_or_create(name=n[:64])[0] for n in sorted(names) if n]
        case.tags.set(tags)
