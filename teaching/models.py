"""The teaching loop: collections of published cases (lectures, playlists), classes with their
assignments, every scored answer (``Attempt``), the spaced-repetition card of each answered case
per student (``ReviewCard``) and bookmarks.

What a user may see of any of it is decided by ``archive.privacy`` (collections: owner, named
teachers or everyone signed in; a class's results: its teachers only; an answer: its student and
the teachers of the class it was given in).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from archive.models import Case, KeyImage, Series

# No 0/O, 1/I/L: a code read aloud in a lecture hall or copied from a projector.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class Collection(models.Model):
    """A teacher's ordered set of published cases: a lecture, a conference, a playlist."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private (only me)")
        SHARED = "shared", _("Shared with the teachers I name")
        PUBLIC = "public", _("Public (everyone signed in)")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    visibility = models.CharField(
        _("who may see it"),
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_collections"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "pk"]
        verbose_name = _("collection")
        verbose_name_plural = _("collections")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("teaching:collection-detail", args=[self.pk])


class CollectionEntry(models.Model):
    """One case of a collection, at a position, with the teacher's note and choices."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="collection_entries")
    position = models.PositiveIntegerField(default=0)
    note = models.TextField(_("note"), blank=True)
    show_as_unknown = models.BooleanField(
        _("show as unknown"),
        default=False,
        help_text=_("Hide the title and the answer until you reveal it (or the student answers)."),
    )
    # The image to lead with: a key image, else the middle of a series, else the case's first
    # key image (or its longest series).
    lead_key_image = models.ForeignKey(
        KeyImage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead_series = models.ForeignKey(
        Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "case"], name="one_entry_per_case")
        ]
        verbose_name = _("collection entry")
        verbose_name_plural = _("collection entries")

    def __str__(self) -> str:
        return f"Entry {self.position} of collection {self.collection_id}"


class TeachingClass(models.Model):
    """A group of students taught by one or more teachers."""

    name = models.CharField(_("name"), max_length=200)
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="taught_classes")
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="classes",
        blank=True,
    )
    join_code = models.CharField(
        _("join code"), max_length=16, unique=True, default=new_join_code, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("teaching:class-detail", args=[self.pk])


class Membership(models.Model):
    klass = models.ForeignKey(TeachingClass, on_delete=models.CASCADE, related_name="memberships")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["student__username"]
        constraints = [
            models.UniqueConstraint(fields=["klass", "student"], name="one_membership_per_class")
        ]

    def __str__(self) -> str:
        return f"Student {self.student_id} in class {self.klass_id}"


class Assignment(models.Model):
    """A collection given to a class, open from one moment until its due date."""

    klass = models.ForeignKey(TeachingClass, on_delete=models.CASCADE, related_name="assignments")
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="assignments")
    title = models.CharField(_("title"), max_length=200)
    opens_at = models.DateTimeField(_("opens"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("teaching:assignment-detail", args=[self.pk])

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.due_at

    def is_past_due(self, now=None) -> bool:
        return (now or timezone.now()) >= self.due_at


class Attempt(models.Model):
    """One timed, scored answer of a student to a case: in an assignment, in the review queue,
    or on an unknown of a collection. Opened when the case is shown (``started_at``), answered
    once (``answered_at``)."""

    class Kind(models.TextChoices):
        ASSIGNMENT = "assignment", _("Assignment")
        REVIEW = "review", pgettext_lazy("spaced repetition", "Review")
        COLLECTION = "collection", _("Collection")

    class Mode(models.TextChoices):
        TEXT = "text", _("Free text")
        CHOICE = "choice", _("Multiple choice")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts"
    )
    # The collection an unknown was answered from (its "Next case" is the collection's next).
    collection = models.ForeignKey(
        Collection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_text = models.CharField(_("answer"), max_length=300, blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.TEXT)
    correct = models.BooleanField(null=True)
    unsure = models.BooleanField(default=False)
    # The student's click on the key image (0..1 of its width and height) and how it scored.
    key_image = models.ForeignKey(
        KeyImage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    click_x = models.FloatField(null=True, blank=True)
    click_y = models.FloatField(null=True, blank=True)
    inside = models.BooleanField(null=True)
    distance_mm = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    # The FSRS rating the answer gave the student's review card (1 again … 4 easy).
    rating = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "user", "case"],
                condition=models.Q(assignment__isnull=False),
                name="one_attempt_per_assignment_case",
            )
        ]
        indexes = [models.Index(fields=["user", "case"])]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of user {self.user_id} on case {self.case_id}"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def click_point(self) -> tuple[float, float] | None:
        if self.click_x is None or self.click_y is None:
            return None
        return self.click_x, self.click_y

    @property
    def seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return max(0.0, (self.answered_at - self.started_at).total_seconds())


class ReviewCard(models.Model):
    """A student's spaced-repetition card for one case, in the FSRS scheduler's terms."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="review_cards")
    state = models.PositiveSmallIntegerField(default=1)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField(db_index=True)
    last_review = models.DateTimeField(null=True, blank=True)
    reps = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="one_review_card_per_case")
        ]

    def __str__(self) -> str:
        return f"Review card of user {self.user_id} for case {self.case_id}"


class Bookmark(models.Model):
    """A case a user saved for later."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="one_bookmark_per_case")
        ]

    def __str__(self) -> str:
        return f"Bookmark of user {self.user_id} on case {self.case_id}"
