"""The one privacy policy of the archive: what a user may see.

Every surface asks here, and nowhere else: case pages, the home page and lists, search results
and autocomplete, DICOMweb (QIDO-RS, WADO-RS, metadata, bulk data, rendered frames), file and
zip downloads, the editor's and the admin's previews. ``tests/privacy/test_surfaces.py`` walks
every URL of the project against these rules; a URL without a row there fails it.

Two questions are answered:

* **May this user see this case (its instances, its upload)?** Published cases: every signed-in
  user. Anything else: its author and curators only; to everyone else it does not exist (the
  views answer 404, never 403). Querysets use :func:`case_filter` so lists, search re-checks and
  DICOMweb queries apply the same rule in SQL.
* **What must stay hidden from this user on this case?** While a quiz case is unanswered (for a
  user who is neither its author nor may edit it), or while the case waits for the student's
  answer in an assignment of their class that is not past due, every way of writing its
  diagnosis: name, synonyms and abbreviations (the case's own and the curated vocabulary of
  search, with their spellings, plurals and forms without diacritics), Czech name and Czech
  synonyms, ICD-10 code (with and without its dot) and its parent category. :class:`CaseView`
  masks them in every text the user gets (titles, history, descriptions, captions, tags, DICOM
  headers) and says that the answer fields (diagnosis, findings, differential, discussion,
  teaching points) are withheld.

The teaching loop (``teaching``) asks here too: who sees a collection (its owner, the teachers it
is shared with, or everyone signed in), who may present and export it (teachers who see it: the
projector shows every answer), what an entry "shown as unknown" and conference mode withhold
until the reveal (:func:`unknown_view`), who sees a class, its assignments and results (results:
its teachers only), and whose answers a user may read (their own, and as a teacher of a class the
answers given in its assignments: never another student's).

Search indexes may lag behind the database (a worker indexes on commit), so search results are
re-checked here against the database at query time: an unpublished case is dropped whatever the
index says, and a case's quiz state is the database's.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from pydicom import Dataset

from archive.models import Case, CaseRevision, Diagnosis, QuizAnswer, Tag, Upload
from teaching.models import Assignment, Attempt, Collection, CollectionEntry, TeachingClass

if TYPE_CHECKING:
    from search.synonyms import SynonymTable

__all__ = [
    "can_comment_case",
    "can_curate_case",
    "can_edit_key_images",
    "can_edit_revision",
    "can_revise_case",
    "can_view_revision",
    "REDACTED",
    "CaseView",
    "UserPolicy",
    "assignment_pending_cases",
    "attempt_filter",
    "can_edit_collection",
    "can_present_collection",
    "can_view_assignment",
    "can_view_attempt",
    "can_view_class",
    "can_view_collection",
    "can_view_results",
    "class_filter",
    "collection_filter",
    "entry_view",
    "is_class_student",
    "is_class_teacher",
    "is_teacher",
    "presenter_view",
    "shown_entries",
    "unknown_view",
    "can_edit_case",
    "can_export_case",
    "can_view_case",
    "can_view_upload",
    "case_filter",
    "diagnosis_terms",
    "hidden_terms",
    "is_curator",
    "mentions",
    "normalise",
    "published_ids",
    "redact",
    "shown_in_search",
    "redact_dataset",
    "visible_cases",
    "visible_collections",
]

REDACTED = "▇▇▇"
_PUNCT_RE = re.compile(r"[^\w]+", re.UNICODE)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_ICD10_RE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$")
#: A term of more than this many characters also hides its inflected forms ("pneumothoraxes").
_STEM_MIN = 4
_TEXT_VRS = {"AE", "CS", "DS", "IS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"}


# --- Who may see and change a case ------------------------------------------------------------


def is_curator(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("archive.publish_case"))


def case_filter(user, prefix: str = "") -> Q:
    """The cases ``user`` may see, as a filter on a queryset whose path to Case is ``prefix``
    (``""`` for Case itself, ``"series__study__case__"`` for Instance, ...)."""
    if not user.is_authenticated:
        return Q(**{f"{prefix}pk__in": []})
    if is_curator(user):
        return Q()
    return Q(**{f"{prefix}status": Case.Status.PUBLISHED}) | Q(**{f"{prefix}owner": user})


def visible_cases(user) -> QuerySet[Case]:
    return Case.objects.filter(case_filter(user))


def can_view_case(user, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    return case.is_published or case.owner_id == user.pk or is_curator(user)


def can_edit_case(user, case: Case) -> bool:
    """Curators edit any case; an author edits their own while it is a draft or returned."""
    if is_curator(user):
        return True
    return (
        user.is_authenticated
        and case.owner_id == user.pk
        and case.status in {Case.Status.DRAFT, Case.Status.RETURNED}
    )


def can_revise_case(user, case: Case) -> bool:
    """The author of a published case changes it as a new revision (students keep the
    published text until a curator publishes the revision); curators edit it directly."""
    return bool(
        user.is_authenticated
        and case.owner_id == user.pk
        and case.is_published
        and not can_edit_case(user, case)
    )


def can_view_revision(user, revision: CaseRevision) -> bool:
    """A revision in progress or in the history: the case's author and curators only; to
    everyone else (students above all) it does not exist."""
    case = revision.case
    return bool(
        user.is_authenticated
        and can_view_case(user, case)
        and (case.owner_id == user.pk or is_curator(user))
    )


def can_edit_revision(user, revision: CaseRevision) -> bool:
    """Its author, while it is a draft or returned (not while a curator reviews it)."""
    return bool(
        can_view_revision(user, revision)
        and revision.case.owner_id == user.pk
        and revision.state in {CaseRevision.State.DRAFT, CaseRevision.State.RETURNED}
    )


def can_edit_key_images(user, case: Case) -> bool:
    """Key images: whoever may edit the case, and its author in every state (after submitting
    and after publishing too: like a curator's changes to a published case's images, they
    apply at once and are recorded as case events)."""
    return can_edit_case(user, case) or bool(user.is_authenticated and case.owner_id == user.pk)


def can_curate_case(user, case: Case) -> bool:
    """Publish, return with a comment, unpublish: curators, on any case they can see."""
    return is_curator(user) and can_view_case(user, case)


def can_comment_case(user, case: Case) -> bool:
    """Peer review: whoever sees the case and teaches or curates (never students)."""
    return can_view_case(user, case) and (user.has_perm("archive.add_case") or is_curator(user))


def can_export_case(user, case: Case) -> bool:
    """A case package (the anonymized images with the whole case text, diagnosis included):
    teachers and curators, of a published case whose diagnosis they may see (not a quiz they
    have not answered, unless it is theirs)."""
    if not (user.is_authenticated and user.has_perm("archive.add_case")):
        return False
    if not case.is_published:
        return False
    return not UserPolicy(user).view(case).hidden


def can_view_upload(user, upload: Upload) -> bool:
    """An upload's per-file report: whoever sent it, and curators; nobody while a DICOM
    association is still sending it (it is not filed into a case before the release, and an
    abort deletes it: ``archive.dimse.receiving``)."""
    if upload.status == Upload.Status.RECEIVING:
        return False
    return user.is_authenticated and (upload.uploaded_by_id == user.pk or is_curator(user))


def published_ids(case_ids: Iterable[int]) -> set[int]:
    """Which of ``case_ids`` are published now, by the database (not by a search index)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(Case.objects.published().filter(pk__in=ids).values_list("pk", flat=True))


# --- What a quiz hides ------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Fold case, diacritics, punctuation: ``"Pneumotórax, L."`` → ``"pneumotorax l"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_PUNCT_RE.sub(" ", stripped.casefold()).replace("_", " ").split())


def _fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def icd10_forms(code: str) -> list[str]:
    """The ways an ICD-10 code gives a diagnosis away: ``J93.1``, ``J931`` and ``J93``."""
    code = (code or "").strip().upper()
    match = _ICD10_RE.match(code)
    if not match:
        return [code] if code else []
    category, detail = match.groups()
    if not detail:
        return [category]
    return [f"{category}.{detail}", f"{category}{detail}", category]


def diagnosis_terms(diagnosis: Diagnosis | None) -> list[str]:
    """Every way the diagnosis's own record writes it: name, synonyms, Czech name and Czech
    synonyms, ICD-10 code."""
    if diagnosis is None:
        return []
    terms = [*diagnosis.names(), diagnosis.icd10]
    seen, out = set(), []
    for t in terms:
        t = (t or "").strip()
        if t and normalise(t) not in seen:
            seen.add(normalise(t))
            out.append(t)
    return out


def hidden_terms(diagnosis: Diagnosis | None, synonyms: SynonymTable | None = None) -> list[str]:
    """What a quiz hides: :func:`diagnosis_terms`, the synonyms and abbreviations that search
    knows for any of them (``synonyms``, default: the current table), and every form of the
    ICD-10 code with its parent category."""
    if diagnosis is None:
        return []
    from search.synonyms import synonym_table

    own = diagnosis_terms(diagnosis)
    names = [t for t in own if t != diagnosis.icd10]
    table = synonyms or synonym_table()
    terms = [*own, *table.terms_for(names), *icd10_forms(diagnosis.icd10)]
    seen, out = set(), []
    for t in terms:
        key = normalise(t)
        if key and key not in seen:
            seen.add(key)
            out.append(t)
    return out


@dataclass(frozen=True)
class _Term:
    words: tuple[str, ...]
    stem: bool  # the last word may go on ("pneumothorax" hides "pneumothoraxes")


def _compile_terms(terms: Iterable[str]) -> tuple[_Term, ...]:
    # A view masks its title and every highlight with the same terms: compile them once.
    return _compile_term_tuple(terms if isinstance(terms, tuple) else tuple(terms))


@functools.lru_cache(maxsize=512)
def _compile_term_tuple(terms: tuple[str, ...]) -> tuple[_Term, ...]:
    compiled = set()
    for term in terms:
        words = tuple(_fold_word(w) for w in _WORD_RE.findall(term or ""))
        if not words or (len(words) == 1 and len(words[0]) < 2):
            continue
        compiled.add(_Term(words, stem=len("".join(words)) > _STEM_MIN))
    # Longest first, so "J93.1" is hidden whole rather than as "J93" + ".1".
    return tuple(sorted(compiled, key=lambda t: (-len(t.words), -len("".join(t.words)))))


def redact(text: str, terms: Iterable[str], replacement: str = REDACTED) -> str:
    """``text`` with every occurrence of the terms replaced.

    Words are compared folded (case and diacritics), whatever separates them (spaces,
    hyphens, dots: "J93.1", "pneumo-thorax" written as two words); a term longer than four
    letters also hides its inflections.
    """
    if not text:
        return text
    compiled = _compile_terms(terms)
    if not compiled:
        return text
    tokens = list(_WORD_RE.finditer(text))
    folded = [_fold_word(m.group()) for m in tokens]
    out, cursor, i = [], 0, 0
    while i < len(tokens):
        for term in compiled:
            n = len(term.words)
            window = folded[i : i + n]
            if len(window) < n or window[:-1] != list(term.words[:-1]):
                continue
            last, want = window[-1], term.words[-1]
            if last == want or (term.stem and last.startswith(want)):
                out.append(text[cursor : tokens[i].start()])
                out.append(replacement)
                cursor = tokens[i + n - 1].end()
                i += n
                break
        else:
            i += 1
    out.append(text[cursor:])
    return "".join(out)


def mentions(text: str, terms: Iterable[str]) -> bool:
    return redact(text, terms, "\x00") != text


def redact_dataset(ds: Dataset, terms: Iterable[str]) -> int:
    """Remove the terms from every text element of a DICOM dataset, nested sequences included
    (descriptions the Clean Descriptors option kept because they looked clinical, such as
    "CT chest pneumothorax"). Returns how many elements changed."""
    terms = list(terms)
    if not terms:
        return 0
    changed = 0

    def callback(dataset: Dataset, elem) -> None:
        nonlocal changed
        if elem.VR not in _TEXT_VRS or elem.value in (None, "", b""):
            return
        values = list(elem.value) if elem.VM > 1 else [elem.value]
        cleaned = [redact(str(v), terms, "").strip() for v in values]
        if cleaned != [str(v) for v in values]:
            elem.value = cleaned if elem.VM > 1 else cleaned[0]
            changed += 1

    ds.walk(callback)
    return changed


# --- One user's view ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """What one user gets of one case."""

    case: Case
    visible: bool
    editable: bool
    #: True while the case is a quiz the user has not answered: the answer fields are withheld
    #: and :attr:`terms` are masked everywhere.
    hidden: bool
    terms: tuple[str, ...] = ()
    #: May pick and annotate key images (see :func:`can_edit_key_images`).
    key_images: bool = False

    def text(self, value: str) -> str:
        """A text the teacher or the scanner wrote, safe for this user."""
        return redact(value, self.terms) if self.hidden else value

    def shows(self, value: str) -> bool:
        """False for a short label (a tag) that would name the hidden diagnosis."""
        return not (self.hidden and mentions(value, self.terms))

    @property
    def title(self) -> str:
        return self.text(self.case.title)

    def tags(self) -> list[Tag]:
        return [t for t in self.case.tags.all() if self.shows(t.name)]


@dataclass
class UserPolicy:
    """The policy applied to one user, remembering per request what it looked up."""

    user: object
    _answered: set[int] | None = None
    _pending: set[int] | None = None
    _views: dict[int, CaseView] = field(default_factory=dict)

    def pending(self, case: Case) -> bool:
        """Whether the case waits for this student's answer in an assignment."""
        if self._pending is None:
            self._pending = assignment_pending_cases(self.user)
        return case.pk in self._pending

    def answered(self, case: Case) -> bool:
        if self._answered is None:
            self._answered = (
                set(
                    QuizAnswer.objects.filter(user_id=self.user.pk).values_list(
                        "case_id", flat=True
                    )
                )
                if self.user.is_authenticated
                else set()
            )
        return case.pk in self._answered

    def view(self, case: Case) -> CaseView:
        cached = self._views.get(case.pk)
        if cached is not None and cached.case is case:
            return cached
        visible = can_view_case(self.user, case)
        editable = visible and can_edit_case(self.user, case)
        author = case.owner_id == self.user.pk
        hidden = bool(
            visible
            and not (author or editable)
            and ((case.quiz_mode and not self.answered(case)) or self.pending(case))
        )
        terms = tuple(hidden_terms(case.diagnosis)) if hidden else ()
        view = CaseView(
            case=case,
            visible=visible,
            editable=editable,
            hidden=hidden,
            terms=terms,
            key_images=visible and can_edit_key_images(self.user, case),
        )
        self._views[case.pk] = view
        return view

    def forget_answers(self) -> None:
        """Call after the user answered a quiz in this request."""
        self._answered = None
        self._pending = None
        self._views.clear()


def policy_for(user) -> UserPolicy:
    return UserPolicy(user)


def case_view(user, case: Case) -> CaseView:
    return UserPolicy(user).view(case)


def diagnosis_hidden(user, case: Case) -> bool:
    return case_view(user, case).hidden


# --- Search: the index may lag, the database decides --------------------------------------------


def search_views(user, case_ids: Iterable[int]) -> dict[int, CaseView]:
    """The search hits ``case_ids`` that may be shown: published cases only, by the database
    whatever the index says, each as ``user`` sees it (``None``: as a student who has answered
    no quiz, the strictest view).

    Only what the policy decides on is read (status, owner, quiz state, the diagnosis's names
    and code): a result row shows the index's text, masked with the view's terms, never the
    case's own columns, so the case's long texts are not loaded for every hit."""
    ids = list(case_ids)
    if not ids:
        return {}
    cases = (
        Case.objects.published()
        .filter(pk__in=ids)
        .select_related("diagnosis")
        .only(*_POLICY_FIELDS)
        .order_by()
        .in_bulk()
    )
    if user is not None:
        policy = UserPolicy(user)
        return {pk: policy.view(case) for pk, case in cases.items()}
    terms = _TermsByDiagnosis()
    return {
        pk: CaseView(
            case=case,
            visible=True,
            editable=False,
            hidden=case.quiz_mode,
            terms=terms(case.diagnosis) if case.quiz_mode else (),
        )
        for pk, case in cases.items()
    }


#: The columns :meth:`UserPolicy.view` and :func:`hidden_terms` read of a case.
_POLICY_FIELDS = (
    "id",
    "status",
    "owner_id",
    "quiz_mode",
    "diagnosis__id",
    "diagnosis__name",
    "diagnosis__icd10",
    "diagnosis__synonyms",
    "diagnosis__name_cs",
    "diagnosis__synonyms_cs",
)


class _TermsByDiagnosis:
    """:func:`hidden_terms` once per diagnosis within one request (a page of quiz hits often
    shares a diagnosis; the synonym table is read once)."""

    def __init__(self) -> None:
        self._terms: dict[int | None, tuple[str, ...]] = {}
        self._table: SynonymTable | None = None

    def __call__(self, diagnosis: Diagnosis | None) -> tuple[str, ...]:
        key = diagnosis.pk if diagnosis is not None else None
        found = self._terms.get(key)
        if found is None:
            if self._table is None:
                from search.synonyms import synonym_table

                self._table = synonym_table()
            found = self._terms[key] = tuple(hidden_terms(diagnosis, self._table))
        return found


@dataclass(frozen=True)
class ShownVocabulary:
    """What of the index's open vocabulary students are shown now (:func:`shown_in_search`)."""

    diagnoses: set[str]
    tags: set[str]
    icd10_groups: set[str]


def shown_in_search(
    *, diagnoses: Iterable[str] = (), tags: Iterable[str] = (), icd10_groups: Iterable[str] = ()
) -> ShownVocabulary:
    """Which of these diagnosis names, tag names and ICD-10 chapters and blocks ("X",
    "J90-J94") students are shown now, by the database, whatever the index holds:

    * a diagnosis while some published case that is not a quiz has it;
    * an ICD-10 chapter or block while it is above the code of such a diagnosis;
    * a tag while some published case shows it (a quiz case hides a tag that names its
      diagnosis).

    Autocomplete and the open-vocabulary search facets pass through here. The diagnoses and
    the tags are checked in one SQL statement (a search page asks for all three at once)."""
    names, tags, groups = set(diagnoses), set(tags), set(icd10_groups)
    # Groups need the codes of every shown diagnosis, not only of those on the page.
    rows = _shown_vocabulary_rows(sorted(names), sorted(tags), with_codes=bool(groups))
    shown_names, shown_tags, codes = set(), set(), set()
    for kind, name, code in rows:
        if kind == "t":
            shown_tags.add(name)
            continue
        if name in names:
            shown_names.add(name)
        if code:
            codes.add(code)
    return ShownVocabulary(
        diagnoses=shown_names,
        tags=shown_tags | _tags_shown_by_quizzes(tags - shown_tags),
        icd10_groups=_groups_above(codes) & groups,
    )


def _shown_vocabulary_rows(
    names: list[str], tags: list[str], *, with_codes: bool
) -> list[tuple[str, str, str]]:
    """("d", name, code) of the diagnoses named in ``names`` (and with ``with_codes`` of every
    diagnosis with a code) that some published case that is not a quiz has, and ("t", name, "")
    of the tags in ``tags`` that such a case has.

    One statement, one index probe per diagnosis or tag that stops at the first such case (a
    scalar LIMIT 1; PostgreSQL reads every case of a tag for the same EXISTS): a broad search
    lists names and tags that tens of thousands of cases share. The diagnoses' probe reads the
    partial index of shown cases by diagnosis (``case_shown_by_diagnosis``), so a diagnosis
    whose cases are all quizzes or unpublished costs one probe, not a walk over its cases.
    Written as SQL rather than built with the ORM: building and compiling the querysets cost
    twice what the database needs to answer them, on every search page."""
    case, diagnosis, tag = Case._meta, Diagnosis._meta, Tag._meta
    through = Case.tags.through._meta
    case_col = Case.tags.field.m2m_column_name()
    tag_col = Case.tags.field.m2m_reverse_name()
    shown = f"c.status = %s AND NOT c.{case.get_field('quiz_mode').column}"
    parts, params = [], []
    if names or with_codes:
        wanted = [f"d.name IN ({', '.join(['%s'] * len(names))})"] if names else []
        if with_codes:
            wanted.append("d.icd10 <> ''")
        parts.append(
            f"SELECT 'd', d.name, d.icd10 FROM {diagnosis.db_table} d "
            f"WHERE ({' OR '.join(wanted)}) AND (SELECT c.id FROM {case.db_table} c "
            f"WHERE c.{case.get_field('diagnosis').column} = d.id AND {shown} LIMIT 1) "
            "IS NOT NULL"
        )
        params += [*names, Case.Status.PUBLISHED]
    if tags:
        parts.append(
            f"SELECT 't', t.name, '' FROM {tag.db_table} t "
            f"WHERE t.name IN ({', '.join(['%s'] * len(tags))}) AND (SELECT c.id "
            f"FROM {through.db_table} ct JOIN {case.db_table} c ON c.id = ct.{case_col} "
            f"WHERE ct.{tag_col} = t.id AND {shown} LIMIT 1) IS NOT NULL"
        )
        params += [*tags, Case.Status.PUBLISHED]
    if not parts:
        return []
    with connections[router.db_for_read(Case)].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


def _tags_shown_by_quizzes(rest: set[str]) -> set[str]:
    """Of tags no published non-quiz case has, those some published quiz case shows: one that
    does not name the quiz's diagnosis. Quiz cases are read 200 at a time with their tags
    among ``rest`` (two queries per batch) until every tag is decided."""
    if not rest:
        return set()
    from django.db.models import Prefetch

    shown: set[str] = set()
    terms = _TermsByDiagnosis()
    quiz_cases = (
        Case.objects.published()
        .filter(quiz_mode=True, tags__name__in=rest)
        .select_related("diagnosis")
        .only(*_POLICY_FIELDS)
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.filter(name__in=rest)))
        .order_by("pk")
        .distinct()
    )
    for case in quiz_cases.iterator(chunk_size=200):
        hidden = terms(case.diagnosis)
        for tag in case.tags.all():
            if tag.name in rest and not mentions(tag.name, hidden):
                shown.add(tag.name)
        rest = rest - shown
        if not rest:
            break
    return shown


def _groups_above(codes: Iterable[str]) -> set[str]:
    from archive.vocabulary.selectors import hierarchy

    tree = hierarchy()
    shown: set[str] = set()
    for code in codes:
        shown.update(tree.chapter_and_block(code))
    return shown


def shown_vocabulary(
    *, diagnoses: Iterable[str] = (), tags: Iterable[str] = ()
) -> tuple[set[str], set[str]]:
    """Which of these diagnosis names and tag names students are shown now
    (:func:`shown_in_search`)."""
    shown = shown_in_search(diagnoses=diagnoses, tags=tags)
    return shown.diagnoses, shown.tags


def shown_icd10_groups(groups: Iterable[str]) -> set[str]:
    """Which of these ICD-10 chapters and blocks students are shown now
    (:func:`shown_in_search`)."""
    return shown_in_search(icd10_groups=groups).icd10_groups


def suggestable(suggestions: list[dict[str, str]]) -> list[dict[str, str]]:
    """Autocomplete suggestions that :func:`shown_vocabulary` lets through."""
    names, tags = shown_vocabulary(
        diagnoses=[s["text"] for s in suggestions if s.get("kind") == "diagnosis"],
        tags=[s["text"] for s in suggestions if s.get("kind") == "tag"],
    )
    return [
        s
        for s in suggestions
        if (s.get("kind") == "diagnosis" and s["text"] in names)
        or (s.get("kind") == "tag" and s["text"] in tags)
    ]


# --- Teaching: collections, conference mode, classes, answers and results ----------------------


def is_teacher(user) -> bool:
    """Teachers (and curators) write cases; they may present, export and assign collections."""
    return bool(user.is_authenticated and user.has_perm("archive.add_case"))


def collection_filter(user) -> Q:
    """The collections ``user`` may see: their own, those shared with them by name (teachers),
    and public ones (everyone signed in)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    mine = Q(owner=user) | Q(visibility=Collection.Visibility.PUBLIC)
    if is_teacher(user):
        mine |= Q(visibility=Collection.Visibility.SHARED, shared_with=user)
    return mine


def visible_collections(user) -> QuerySet[Collection]:
    return Collection.objects.filter(collection_filter(user)).distinct()


def can_view_collection(user, collection: Collection) -> bool:
    if not user.is_authenticated:
        return False
    if collection.owner_id == user.pk or collection.visibility == Collection.Visibility.PUBLIC:
        return True
    return (
        collection.visibility == Collection.Visibility.SHARED
        and is_teacher(user)
        and collection.shared_with.filter(pk=user.pk).exists()
    )


def can_edit_collection(user, collection: Collection) -> bool:
    return user.is_authenticated and collection.owner_id == user.pk


def can_present_collection(user, collection: Collection) -> bool:
    """Conference mode and the PowerPoint export show every answer: teachers who see it."""
    return is_teacher(user) and can_view_collection(user, collection)


def shown_entries(user, collection: Collection) -> QuerySet[CollectionEntry]:
    """The entries anyone is shown: published cases only, whoever added them when (a case
    unpublished since drops out of every collection, its owner's too, until it is back)."""
    return (
        collection.entries.filter(case__status=Case.Status.PUBLISHED)
        .filter(case_filter(user, "case__"))
        .select_related("case", "case__diagnosis", "lead_key_image", "lead_series")
        .order_by("position", "pk")
    )


def unknown_view(view: CaseView) -> CaseView:
    """``view`` asked as an unknown: the answer withheld and its terms masked, for whoever looks
    (the teacher's own projector included) until the reveal or the answer."""
    terms = view.terms if view.hidden else tuple(hidden_terms(view.case.diagnosis))
    return CaseView(case=view.case, visible=view.visible, editable=False, hidden=True, terms=terms)


def entry_view(user, entry: CollectionEntry, policy: UserPolicy | None = None) -> CaseView:
    """An entry on a collection's page: one shown as unknown hides its answer (and the title)
    from anyone who may not present the collection, until they have answered the case."""
    policy = policy or UserPolicy(user)
    view = policy.view(entry.case)
    if (
        entry.show_as_unknown
        and not can_present_collection(user, entry.collection)
        and not policy.answered(entry.case)
    ):
        return unknown_view(view)
    return view


def presenter_view(user, collection: Collection, case: Case) -> CaseView | None:
    """What a teacher who may present ``collection`` reveals of one of its cases: everything,
    a quiz included (the projector shows the answer at the teacher's reveal, and the exported
    slides hold it). ``None`` for anyone else."""
    if not (can_present_collection(user, collection) and can_view_case(user, case)):
        return None
    return CaseView(case=case, visible=True, editable=False, hidden=False)


def class_filter(user) -> Q:
    """The classes ``user`` teaches or studies in."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(teachers=user) | Q(memberships__student=user)


def is_class_teacher(user, klass: TeachingClass) -> bool:
    return user.is_authenticated and klass.teachers.filter(pk=user.pk).exists()


def is_class_student(user, klass: TeachingClass) -> bool:
    return user.is_authenticated and klass.memberships.filter(student_id=user.pk).exists()


def can_view_class(user, klass: TeachingClass) -> bool:
    return is_class_teacher(user, klass) or is_class_student(user, klass)


def can_view_assignment(user, assignment: Assignment) -> bool:
    return can_view_class(user, assignment.klass)


def can_view_results(user, assignment: Assignment) -> bool:
    """A class's results (every student's answers): its teachers only."""
    return is_class_teacher(user, assignment.klass)


def attempt_filter(user) -> Q:
    """The answers ``user`` may read: their own, and those given in assignments of the classes
    they teach. Never another student's."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(user=user) | Q(assignment__klass__teachers=user)


def can_view_attempt(user, attempt: Attempt) -> bool:
    if not user.is_authenticated:
        return False
    if attempt.user_id == user.pk:
        return True
    return attempt.assignment_id is not None and is_class_teacher(user, attempt.assignment.klass)


def assignment_pending_cases(user, now=None) -> set[int]:
    """Cases waiting for this student's answer in an assignment of their class that is not past
    due: hidden like an unanswered quiz everywhere (case page, search, DICOMweb), so that the
    answer cannot be looked up before it is given."""
    if not user.is_authenticated:
        return set()
    now = now or timezone.now()
    rows = set(
        Assignment.objects.filter(klass__memberships__student_id=user.pk, due_at__gt=now)
        .filter(collection__entries__isnull=False)
        .values_list("pk", "collection__entries__case_id")
    )
    if not rows:
        return set()
    answered = set(
        Attempt.objects.filter(
            user_id=user.pk,
            assignment_id__in={a for a, _ in rows},
            answered_at__isnull=False,
        ).values_list("assignment_id", "case_id")
    )
    return {case for a, case in rows if (a, case) not in answered}
