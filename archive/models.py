"""Domain models of the teaching archive.

A ``Case`` is what a teacher writes and a student studies. It owns anonymized imaging
(``Study`` → ``Series`` → ``Instance``) produced by ``Upload`` jobs, one ``UploadItem`` per file
received. Raw bytes live only in the holding storage while an item is pending; nothing here
stores an original identifier in clear: UIDs and patient IDs are the pseudonymous ones.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from archive import storage
from archive.dimse.peers import (
    address_allowed,
    normalized_networks,
    parse_networks,
    validate_peer_networks,
)


def raw_holding_storage():
    return storage.raw_holding


def quarantine_storage():
    return storage.quarantine


class Modality(models.TextChoices):
    CT = "CT", _("CT")
    MR = "MR", _("MR")
    US = "US", _("Ultrasound")
    CR = "CR", _("Radiography (CR)")
    DX = "DX", _("Radiography (DX)")
    MG = "MG", _("Mammography")
    NM = "NM", _("Nuclear medicine")
    PT = "PT", _("PET")
    XA = "XA", _("Angiography")
    RF = "RF", _("Fluoroscopy")
    OT = "OT", _("Other")


class BodyRegion(models.TextChoices):
    HEAD = "head", _("Head")
    NECK = "neck", _("Neck")
    CHEST = "chest", _("Chest")
    CARDIAC = "cardiac", _("Heart")
    ABDOMEN = "abdomen", _("Abdomen")
    PELVIS = "pelvis", _("Pelvis")
    SPINE = "spine", _("Spine")
    UPPER_LIMB = "upper_limb", _("Upper limb")
    LOWER_LIMB = "lower_limb", _("Lower limb")
    BREAST = "breast", _("Breast")
    WHOLE_BODY = "whole_body", _("Whole body")
    # What an import from another system could not place (see search/importing.py).
    OTHER = "other", _("Other")


class OrganSystem(models.TextChoices):
    NEURO = "neuro", _("Neuroradiology")
    HEAD_NECK = "head_neck", _("Head and neck")
    CHEST = "chest", _("Chest")
    CARDIOVASCULAR = "cardiovascular", _("Cardiovascular")
    GASTROINTESTINAL = "gastrointestinal", _("Gastrointestinal")
    GENITOURINARY = "genitourinary", _("Genitourinary")
    MUSCULOSKELETAL = "musculoskeletal", _("Musculoskeletal")
    BREAST = "breast", _("Breast")
    PAEDIATRIC = "paediatric", _("Paediatric")
    OTHER = "other", _("Other")


class Level(models.TextChoices):
    STUDENT = "student", _("Medical student")
    RESIDENT = "resident", _("Resident")
    SPECIALIST = "specialist", _("Specialist")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "O", _("Other")
    UNKNOWN = "", _("Unknown")


class AgeGroup(models.TextChoices):
    NEONATE = "neonate", _("Neonate (< 1 month)")
    CHILD = "child", _("Child (1 month – 17 years)")
    ADULT = "adult", _("Adult (18 – 64 years)")
    ELDERLY = "elderly", _("Elderly (65+ years)")
    UNKNOWN = "", _("Unknown")


class Certainty(models.TextChoices):
    PATHOLOGY = "pathology", _("Confirmed by pathology")
    CONFIRMED = "confirmed", _("Confirmed clinically / by follow-up")
    TYPICAL = "typical", _("Typical imaging")
    PROBABLE = "probable", _("Probable")
    POSSIBLE = "possible", _("Possible")


#: Certainties that still ask the author for proof (pathology, follow-up): reminded by
#: ``archive.case_reminders`` every ``TA_PROOF_REMINDER_DAYS``.
UNCONFIRMED_CERTAINTIES = (Certainty.PROBABLE, Certainty.POSSIBLE)


def _lines(text: str) -> list[str]:
    return [s.strip() for s in (text or "").splitlines() if s.strip()]


class Diagnosis(models.Model):
    """A diagnosis cases are filed under: picked from the ICD-10 catalogue (with its code) or
    typed freely by a teacher (no code until a curator links one)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    icd10 = models.CharField(_("ICD-10 code"), max_length=16, blank=True, db_index=True)
    synonyms = models.TextField(
        _("synonyms and abbreviations"), blank=True, help_text=_("One per line, e.g. HCC.")
    )
    name_cs = models.CharField(_("Czech name"), max_length=200, blank=True)
    synonyms_cs = models.TextField(
        _("Czech synonyms"),
        blank=True,
        help_text=_("One per line, as Czech doctors write them, e.g. PNO."),
    )
    # Every name and the code, folded (no case, diacritics or punctuation) with a space before
    # each word and " | " between names: what the editor's autocomplete matches word starts in.
    folded_names = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")

    def save(self, *args, **kwargs):
        self.refresh_folded()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "folded_names" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "folded_names"]
        super().save(*args, **kwargs)

    def refresh_folded(self) -> None:
        """Recompute ``folded_names`` (``save`` does; call it before a ``bulk_create``)."""
        from archive.vocabulary.selectors import fold

        names = [*self.names(), self.icd10]
        self.folded_names = " | ".join(" " + fold(n) for n in names if fold(n))

    def __str__(self) -> str:
        return f"{self.name} ({self.icd10})" if self.icd10 else self.name

    @property
    def synonym_list(self) -> list[str]:
        return _lines(self.synonyms)

    @property
    def synonym_list_cs(self) -> list[str]:
        return _lines(self.synonyms_cs)

    def names(self) -> list[str]:
        """Every name the record gives the diagnosis, English and Czech (no code)."""
        czech = [self.name_cs] if self.name_cs else []
        return [self.name, *self.synonym_list, *czech, *self.synonym_list_cs]


class Icd10Kind(models.TextChoices):
    CHAPTER = "chapter", _("Chapter")
    BLOCK = "block", _("Block")
    CATEGORY = "category", _("Category")
    SUBCATEGORY = "subcategory", _("Subcategory")


class Icd10Code(models.Model):
    """One entry of the ICD-10 catalogue (WHO 2019): reference data, never edited here.

    Loaded by ``manage.py load_icd10`` (and by migration 0008) from the pinned packages'
    data (``archive.vocabulary.catalogue``). The table is not managed by Django's model
    machinery (``managed = False``; migration 0008 creates it) so that a test database flush
    leaves the 12,500 rows alone, as it leaves the built-in tables of PostgreSQL.
    """

    code = models.CharField(_("code"), max_length=16, primary_key=True)
    kind = models.CharField(max_length=12, choices=Icd10Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    title_cs = models.CharField(_("Czech title"), max_length=300, blank=True)
    parent = models.CharField(max_length=16, blank=True)
    chapter = models.CharField(max_length=8, blank=True)
    block = models.CharField(max_length=16, blank=True)
    position = models.IntegerField(default=0)

    class Meta:
        managed = False
        db_table = "archive_icd10_code"
        ordering = ["position"]
        verbose_name = _("ICD-10 code")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Icd10Term(models.Model):
    """A phrase that finds a catalogue entry in the editor's autocomplete: its title, an
    inclusion or narrower term of ICD-10-CM, a synonym or Czech name of the curated vocabulary.
    ``folded`` is the phrase lower-cased without diacritics or punctuation, with a space before
    every word, so ``LIKE '% pneu%'`` finds a word that starts with "pneu"."""

    code = models.CharField(max_length=16)
    term = models.CharField(max_length=300)
    folded = models.CharField(max_length=320)
    kind = models.CharField(max_length=12)
    language = models.CharField(max_length=2, default="en")
    # For a term of the curated vocabulary: the English name of its concept ("Non small cell
    # lung cancer" for "NSCLC", code C34.9), which a diagnosis picked by this term is called.
    concept = models.CharField(max_length=200, blank=True)

    class Meta:
        managed = False
        db_table = "archive_icd10_term"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet):
    def published(self) -> CaseQuerySet:
        return self.filter(status=Case.Status.PUBLISHED)


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        PUBLISHED = "published", _("Published")
        RETURNED = "returned", _("Returned to the author")

    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("author"),
    )
    history = models.TextField(_("clinical history"), blank=True)
    findings = models.TextField(_("findings"), blank=True)
    diagnosis = models.ForeignKey(
        Diagnosis,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("diagnosis"),
    )
    certainty = models.CharField(
        _("diagnostic certainty"), max_length=16, choices=Certainty.choices, blank=True
    )
    differential = models.TextField(_("differential diagnosis"), blank=True)
    discussion = models.TextField(_("discussion"), blank=True)
    teaching_points = models.TextField(_("teaching points"), blank=True)
    references = models.TextField(_("references"), blank=True)
    modality = models.CharField(_("modality"), max_length=4, choices=Modality.choices)
    body_region = models.CharField(_("body region"), max_length=16, choices=BodyRegion.choices)
    organ_system = models.CharField(
        _("organ system"), max_length=20, choices=OrganSystem.choices, blank=True
    )
    level = models.CharField(
        _("difficulty"), max_length=12, choices=Level.choices, default=Level.STUDENT
    )
    age_group = models.CharField(
        _("patient age group"), max_length=8, choices=AgeGroup.choices, blank=True
    )
    sex = models.CharField(_("patient sex"), max_length=1, choices=Sex.choices, blank=True)
    # What the anonymized headers say (valid values only), kept apart from the teacher's fields:
    # they only fill an empty field and are shown next to it when they disagree.
    header_age_group = models.CharField(
        max_length=8, choices=AgeGroup.choices, blank=True, editable=False
    )
    header_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True, editable=False)
    # The series and image a student sees first (the viewer opens there; search thumbnails).
    lead_series = models.ForeignKey(
        "Series", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead_instance = models.ForeignKey(
        "Instance", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: When the author was last reminded to attach proof of an unconfirmed diagnosis.
    proof_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Guidelines change: the author is asked to check the case this many years after
    #: publishing (and as often again); empty: never.
    rereview_years = models.PositiveSmallIntegerField(
        _("re-review after (years)"),
        null=True,
        blank=True,
        help_text=_("Guidelines change: you are reminded to check the case after this many years."),
    )
    rereview_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases", verbose_name=_("tags"))
    quiz_mode = models.BooleanField(
        _("quiz mode"), default=False, help_text=_("Hide the diagnosis until the student answers.")
    )
    is_normal = models.BooleanField(
        _("normal study"),
        default=False,
        help_text=_(
            "No abnormality to find. Normal studies are mixed into students' reviews so that "
            "“abnormal” is never a safe guess."
        ),
    )
    is_demo = models.BooleanField(_("demo case"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [("publish_case", "Can publish and unpublish cases")]
        indexes = [
            # The cases that show their diagnosis to students (published, not a quiz), by
            # diagnosis: every search page asks, per diagnosis, whether one exists
            # (``privacy.shown_in_search``), and a diagnosis whose cases are all quizzes or
            # unpublished must cost one probe, not a walk over its cases.
            models.Index(
                fields=["diagnosis"],
                condition=models.Q(status="published", quiz_mode=False),
                name="case_shown_by_diagnosis",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("case-detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def instances(self) -> models.QuerySet[Instance]:
        return Instance.objects.filter(series__study__case=self)


class Study(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="studies")
    study_uid = models.CharField(_("Study Instance UID"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    study_date = models.DateField(
        _("study date"), null=True, blank=True, help_text=_("Shifted date.")
    )
    pseudonymous_patient_id = models.CharField(
        _("pseudonymous patient ID"), max_length=64, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "study_uid"], name="unique_study_per_case")
        ]
        verbose_name = _("study")
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return gettext("Study %(study)s of case %(case)s") % {
            "study": self.pk,
            "case": self.case_id,
        }


class Series(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="series")
    series_uid = models.CharField(max_length=64)
    modality = models.CharField(max_length=16, blank=True)
    body_part = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200, blank=True)
    number = models.IntegerField(null=True, blank=True)
    #: The teacher's order of the case's series (0 for all: the order of the files).
    position = models.PositiveIntegerField(default=0)
    #: axial, coronal, sagittal, oblique or "" (no orientation), read once from the first
    #: image's header when the viewer first shows the series; None until then.
    plane = models.CharField(max_length=10, null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "series_uid"], name="unique_series_per_study")
        ]
        ordering = ["position", "number", "pk"]
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return gettext("Series %(number)s (%(modality)s)") % {
            "number": self.number or self.pk,
            "modality": self.modality,
        }


def instance_upload_to(instance: Instance, filename: str) -> str:
    return storage.instance_file_name(instance.series.study.case_id, instance.sop_uid)


class Instance(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="instances")
    sop_uid = models.CharField(max_length=64)
    sop_class_uid = models.CharField(max_length=64, blank=True)
    instance_number = models.IntegerField(null=True, blank=True)
    file = models.FileField(upload_to=instance_upload_to, max_length=255)
    rows = models.IntegerField(default=0)
    columns = models.IntegerField(default=0)
    frames = models.IntegerField(default=1)
    photometric = models.CharField(max_length=16, blank=True)
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    has_pixels = models.BooleanField(default=True)
    audit = models.JSONField(default=list, blank=True)
    pixel_report = models.JSONField(default=dict, blank=True)
    #: The teacher's caption (checked for personal data like any text the teacher types).
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "sop_uid"], name="unique_instance_per_series")
        ]
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["instance_number", "pk"]

    def __str__(self) -> str:
        return f"Instance {self.instance_number or self.pk}"

    def get_frame_url(self, frame: int = 0, preset: str = "default") -> str:
        return reverse("instance-frame", args=[self.pk, frame]) + f"?preset={preset}"


class Upload(models.Model):
    class Status(models.TextChoices):
        # A DICOM association still open: its instances are de-identified as they arrive, but
        # nothing of it is filed into a case (or shown to anyone) before the peer releases it.
        RECEIVING = "receiving", _("Receiving")
        PENDING = "pending", _("Waiting for the worker")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Finished")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Empty only while receiving: the case is chosen (or created) when the association is released.
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="uploads",
        null=True,
        blank=True,
        verbose_name=_("case"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="uploads",
        verbose_name=_("uploaded by"),
    )
    source = models.CharField(max_length=16, default="browser")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The worker whose finalizer ran (once: the status change to "done" is the guard).
    finished_by = models.CharField(max_length=100, blank=True, editable=False)
    # While receiving: when the last batch was filed (a receiving upload left by a killed
    # listener is recognised by its age and discarded).
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self) -> str:
        return gettext("Upload %(id)s (%(status)s)") % {
            "id": self.public_id,
            "status": self.get_status_display(),
        }

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in UploadItem.Status.values}
        for row in self.items.values("status").annotate(n=models.Count("id")):
            out[row["status"]] = row["n"]
        out["total"] = sum(out.values())
        return out


class UploadItem(models.Model):
    """One file received in an upload (a zip contributes one item per member)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ANONYMIZED = "anonymized", _("Anonymized")
        DUPLICATE = "duplicate", _("Already in this case")
        REJECTED = "rejected", _("Rejected")
        QUARANTINED = "quarantined", _("Quarantined")

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="items")
    # A neutral label ("File 3", "archive.zip › entry 12"): original names may carry PHI.
    label = models.CharField(max_length=120)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    raw_file = models.FileField(storage=raw_holding_storage, max_length=255, blank=True)
    quarantined_file = models.FileField(storage=quarantine_storage, max_length=255, blank=True)
    # Received while the association was open: the de-identified output waits here (holding
    # storage, never served) with its pixel report until the release files it into the case.
    deidentified_file = models.FileField(storage=raw_holding_storage, max_length=255, blank=True)
    pixel_report = models.JSONField(default=dict, blank=True)
    # ... and the de-identified header values its Study/Series/Instance rows need
    # (``processing.filing_header``), so the release files it without reading it back.
    header = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    instance = models.ForeignKey(
        Instance, on_delete=models.SET_NULL, null=True, blank=True, related_name="upload_items"
    )
    audit = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # When a worker took the item to de-identify it (outside any transaction); a claim older
    # than TA_ITEM_CLAIM_SECONDS is a killed worker's, and the item is taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # How many runs claimed the item (more than one: a worker was lost, or its claim expired),
    # and the worker whose result was kept; both for operators and the scale-out tests.
    attempts = models.PositiveIntegerField(default=0, editable=False)
    processed_by = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")

    def __str__(self) -> str:
        return f"{self.shown_label}: {self.get_status_display()}"

    @property
    def shown_label(self) -> str:
        """The label in the reader's language (stored in English: the browser matches it)."""
        from archive.services.intake import display_label

        return display_label(self.label)

    def mark(self, status: str, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        self.processed_at = timezone.now()


class RemoteNode(models.Model):
    """A PACS or modality allowed to send studies to the archive's DICOM listener.

    Associations are accepted only from the calling AE titles registered here (and active) and,
    when ``allowed_addresses`` is filled in, only from those peer addresses. What a node sends
    lands in its teacher's ``target_case`` while that case is still a draft, or in a new draft
    case otherwise.
    """

    ae_title = models.CharField(
        _("calling AE title"),
        max_length=16,
        unique=True,
        help_text=_("The AE title the PACS or modality calls from (at most 16 characters)."),
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remote_nodes"
    )
    target_case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="remote_nodes",
        help_text=_("Draft case that receives the studies; empty: a new draft per association."),
    )
    allowed_addresses = models.TextField(
        _("allowed peer addresses"),
        blank=True,
        validators=[validate_peer_networks],
        help_text=_(
            "IP addresses or networks (CIDR) this node connects from, one per line, such as "
            "192.0.2.10 or 10.20.0.0/16. An association with this AE title from any other "
            "address is refused. Recommended: an AE title is easy to imitate. Empty: any "
            "address is accepted with this AE title."
        ),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ae_title"]
        verbose_name = _("remote DICOM node")

    def __str__(self) -> str:
        return self.ae_title

    def clean(self) -> None:
        try:
            self.allowed_addresses = normalized_networks(self.allowed_addresses)
        except ValidationError:
            pass  # reported on the field by its validator

    def admits(self, address: str) -> bool:
        """Whether an association from ``address`` may use this node's AE title."""
        networks = parse_networks(self.allowed_addresses)
        return not networks or address_allowed(address, networks)


class ReceivedStudyFailure(models.Model):
    """A study the DICOM listener received in full but could not file into an upload.

    The peer was told every instance was stored (C-STORE success) before the filing failed
    (database refused, storage unwritable, the target case deleted meanwhile, ...), so the
    received files are never deleted: they wait in the quarantine storage, readable by
    curators only, who retry the filing once the cause is fixed, download or discard them.
    """

    class Status(models.TextChoices):
        KEPT = "kept", _("Kept for a curator")
        FILED = "filed", _("Filed on retry")
        DISCARDED = "discarded", _("Discarded by a curator")

    # The association's id: names the folder its files are kept in.
    public_id = models.UUIDField(unique=True, editable=False)
    node = models.ForeignKey(
        RemoteNode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="filing_failures",
        verbose_name=_("remote DICOM node"),
    )
    calling_ae_title = models.CharField(_("calling AE title"), max_length=16)
    peer_address = models.GenericIPAddressField(_("peer address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.KEPT
    )
    instance_count = models.PositiveIntegerField(_("instances"), default=0)
    error_type = models.CharField(_("error type"), max_length=100, blank=True)
    reason = models.TextField(_("reason"))
    # What the association delivered, in order: {"file", "storage", "size", "sha256"} for a
    # kept instance, {"rejected": reason} for a dataset refused at receipt. Neutral names only.
    entries = models.JSONField(default=list, blank=True)
    # Set when the study was filed; also when it was filed but could not be queued.
    upload = models.ForeignKey(
        Upload,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("upload"),
    )
    attempts = models.PositiveIntegerField(_("filing attempts"), default=1)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("received study not filed")
        verbose_name_plural = _("received studies not filed")

    def __str__(self) -> str:
        return f"{self.calling_ae_title} {self.received_at:%Y-%m-%d %H:%M} ({self.status})"


class KeyObjectImport(models.Model):
    """What an IHE TCE Key Object Selection document sent with an upload asks for.

    Text is stored only after de-identification against the PHI found in the received headers;
    key images are the pseudonymous SOP Instance UIDs of the referenced instances.
    """

    upload = models.OneToOneField(
        Upload, on_delete=models.CASCADE, related_name="key_object_import"
    )
    title = models.CharField(max_length=200, blank=True)
    history = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    diagnosis = models.CharField(max_length=200, blank=True)
    key_image_uids = models.JSONField(default=list, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("key object import")
        verbose_name_plural = _("key object imports")

    def __str__(self) -> str:
        return gettext("Key objects of upload %(upload)s") % {"upload": self.upload_id}


class KeyImage(models.Model):
    """A frame a teacher or curator picked to show first, with optional annotations.

    Annotations are data drawn by the viewer as an overlay, never burned into pixels: a list of
    ``{"type": "arrow", "x1", "y1", "x2", "y2", "label"}`` (tail → tip) or
    ``{"type": "circle", "cx", "cy", "r", "label"}``, coordinates normalised to 0..1 of the
    image's width (x, r) and height (y).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="key_images")
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="key_images")
    frame = models.PositiveIntegerField(default=0)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    annotations = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "frame"], name="unique_key_image_frame")
        ]

    def __str__(self) -> str:
        return f"Key image {self.order} of case {self.case_id}"


class QuizAnswer(models.Model):
    """A student's answer to a quiz case. The first answer counts; it reveals the diagnosis."""

    class Mode(models.TextChoices):
        TEXT = "text", _("Free text")
        CHOICE = "choice", _("Multiple choice")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_answers"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="quiz_answers")
    answer_text = models.CharField(_("answer"), max_length=300)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.TEXT)
    correct = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="one_quiz_answer_per_case")
        ]

    def __str__(self) -> str:
        return f"Answer of user {self.user_id} to case {self.case_id}"


class RedactionBox(models.Model):
    """A teacher's (or curator's) decision on the redaction of a series: a rectangle to blank
    in addition to what the pixel cleaner found (``BLANK``), or an automatic box that is not
    text and must be restored from the original (``KEEP``).

    It applies to every frame of every image of the series, to every frame of one image
    (``instance``), or to one frame of one image (``instance`` and ``frame``).  Coordinates are
    normalised to 0..1 of the image's width (x) and height (y), so one box fits every instance
    of the series whatever its matrix. Applied by re-running de-identification from the kept
    raw original (``archive.services.review``), never by editing the stored file; who decided
    and when is copied into the audit of each image it changed.
    """

    class Action(models.TextChoices):
        BLANK = "blank", _("blank")
        KEEP = "keep", _("keep (not text)")

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="redaction_boxes")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.BLANK)
    instance = models.ForeignKey(
        Instance, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    frame = models.PositiveIntegerField(null=True, blank=True)
    x0 = models.FloatField()
    y0 = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(x0__gte=0, y0__gte=0, x1__lte=1, y1__lte=1)
                & models.Q(x0__lt=models.F("x1"), y0__lt=models.F("y1")),
                name="redaction_box_inside_image",
            ),
            models.CheckConstraint(
                condition=models.Q(frame__isnull=True) | models.Q(instance__isnull=False),
                name="redaction_box_frame_of_an_instance",
            ),
        ]

    def __str__(self) -> str:
        return f"Redaction box {self.pk} of series {self.series_id}"

    def applies_to(self, instance_id: int) -> bool:
        return self.instance_id is None or self.instance_id == instance_id

    def pixels(self, columns: int, rows: int) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` in pixels of a ``columns`` × ``rows`` image, rounded outwards so
        the whole drawn area is covered."""
        import math

        return (
            max(0, math.floor(self.x0 * columns)),
            max(0, math.floor(self.y0 * rows)),
            min(columns, math.ceil(self.x1 * columns)),
            min(rows, math.ceil(self.y1 * rows)),
        )


class PackageImport(models.Model):
    """One case package (or one case of a package) brought into this archive.

    A package whose manifest text holds what looks like PHI is kept whole in the quarantine
    storage for curators (``status`` quarantined, ``reason`` names the field, never the text)
    and creates nothing. Otherwise each case becomes a draft of the importing teacher, its
    images go through the normal pipeline as an upload (``source="package"``), and the key
    images and annotations are attached once that upload is processed (``applied_at``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Images being processed")
        IMPORTED = "imported", _("Imported")
        QUARANTINED = "quarantined", _("Quarantined")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="package_imports"
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="package_imports"
    )
    upload = models.OneToOneField(
        Upload, on_delete=models.SET_NULL, null=True, blank=True, related_name="package_import"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    # The package as received, for curators, when it was quarantined (0600 in the quarantine).
    quarantined_file = models.FileField(storage=quarantine_storage, max_length=255, blank=True)
    # Key images to attach: [{"item": n (0-based, the upload's n-th file), "frame", "caption",
    # "annotations", "order"}], and who wrote the case in the exporting archive.
    key_images = models.JSONField(default=list, blank=True)
    author = models.CharField(_("original author"), max_length=200, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("imported case package")

    def __str__(self) -> str:
        return f"Package import {self.public_id} ({self.get_status_display()})"


class CaseEvent(models.Model):
    """What a teacher or curator did to a case's images (deleted, reordered, renamed, lead,
    caption): who and when. ``detail`` holds ids, counts and modalities, never the text of a
    description or caption (it was typed by a person and could hold what the checks missed)."""

    class Action(models.TextChoices):
        SERIES_DELETED = "series_deleted", _("Series deleted")
        IMAGE_DELETED = "image_deleted", _("Image deleted")
        SERIES_MOVED = "series_moved", _("Series moved")
        SERIES_RENAMED = "series_renamed", _("Series renamed")
        LEAD_CHOSEN = "lead_chosen", _("Lead image chosen")
        CAPTION_CHANGED = "caption_changed", _("Caption changed")
        KEY_IMAGE_SAVED = "key_image_saved", _("Key image saved")
        KEY_IMAGE_REMOVED = "key_image_removed", _("Key image removed")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.case_id})"


class CaseComment(models.Model):
    """Peer review: a comment on a case by its teacher, another teacher or a curator."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on case {self.case_id}"


class CaseCommentsSeen(models.Model):
    """When a user last read a case's comments: newer comments by others are unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="unique_comments_seen")
        ]


class CaseRevision(models.Model):
    """A change to a published case, written by its author while students keep seeing the
    published text: a snapshot of the editor's fields (``fields``: what ``CaseForm`` edits, as
    typed) and of the series list (``series``: id, description, order, lead), applied to the
    case only when a curator publishes it (``archive.services.revisions``): only what the
    author changed against ``base_fields`` / ``base_series``.

    Who may see a revision is the privacy policy's (``can_view_revision``): its author and
    curators. Nothing here reaches search, exports or DICOMweb, which read the case.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        RETURNED = "returned", _("Returned to the author")
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    #: States of the one revision a case may have in progress.
    OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.RETURNED)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    fields = models.JSONField(default=dict, blank=True)
    series = models.JSONField(default=list, blank=True)
    # What the case held when the revision was started (``fields`` and ``series`` then): the
    # base of the three-way merge on publishing, so a curator's direct edit of a field the
    # author left alone is kept and one the author changed too is not overwritten silently.
    # None: started before bases were recorded (the revision's values are applied as written).
    base_fields = models.JSONField(null=True, blank=True, editable=False)
    base_series = models.JSONField(null=True, blank=True, editable=False)
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="unique_revision_number"),
            # One revision in progress per case: the author edits it, a curator decides it.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["draft", "submitted", "returned"]),
                name="one_open_revision_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES
