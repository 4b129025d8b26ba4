"""TA_DEID_PROFILE as a privacy officer sets it: checked at start-up and by `manage.py check`,
passed into the policy every upload uses, recorded per instance and shown in the admin audit.
Full Dates and Retain UIDs start only when TA_DEID_ACCEPT_IDENTIFYING_OPTIONS names them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import Critical, Warning
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from archive.checks import deid_profile_check
from archive.deid.enums import ProfileOptionValues as O
from archive.services.policy import archive_policy, effective_profile

REPO = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_policy_is_built_from_the_setting(settings) -> None:
    settings.DEID_PROFILE = "clean-descriptors, retain-institution-identity"
    policy = archive_policy()
    assert policy.profile == (O.RETAIN_INSTITUTION_IDENTITY, O.CLEAN_DESCRIPTORS)
    assert policy.pixel_cleaner is not None  # the cleaner is never optional
    settings.DEID_PROFILE = ""
    assert archive_policy().profile == ()


@pytest.mark.parametrize(
    ("profile", "says"),
    [
        ("clean-descriptor", "option that does not exist: 'clean-descriptor'"),
        (
            "retain-longitudinal-full-dates,retain-longitudinal-modified-dates",
            "cannot be kept as they are and shifted at the same time",
        ),
        ("retain-longitudinal-full-dates", "TA_DEID_ACCEPT_IDENTIFYING_OPTIONS=full-dates"),
        ("retain-uids", "TA_DEID_ACCEPT_IDENTIFYING_OPTIONS=retain-uids"),
    ],
)
def test_a_profile_that_cannot_run_is_refused_with_a_sentence(settings, profile, says) -> None:
    settings.DEID_PROFILE = profile
    with pytest.raises(ImproperlyConfigured, match=says) as refused:
        archive_policy()
    assert str(refused.value).startswith("TA_DEID_PROFILE: ")
    [message] = deid_profile_check()
    assert isinstance(message, Critical) and message.id == "archive.E002"


@pytest.mark.parametrize(
    ("option", "word"),
    [(O.RETAIN_LONGITUDINAL_FULL_DATES, "full-dates"), (O.RETAIN_UIDS, "retain-uids")],
)
def test_an_acknowledged_identifying_option_runs_and_is_reported(settings, option, word) -> None:
    settings.DEID_PROFILE = f"clean-descriptors,{option.value}"
    settings.DEID_ACCEPT_IDENTIFYING_OPTIONS = word
    assert option in effective_profile()
    assert option in archive_policy().profile
    [message] = deid_profile_check()
    assert isinstance(message, Warning) and message.id == "archive.W002"
    assert option.value in message.msg


def test_the_default_passes_the_check(settings) -> None:
    settings.DEID_PROFILE = (
        "retain-longitudinal-modified-dates,retain-patient-characteristics,clean-descriptors,"
        "clean-structured-content,clean-graphics,retain-safe-private"
    )
    assert deid_profile_check() == []


def test_the_archive_does_not_start_with_retain_uids_unacknowledged() -> None:
    refused = _manage("check", TA_DEID_PROFILE="retain-uids,clean-descriptors")
    assert refused.returncode != 0
    assert "TA_DEID_PROFILE: The de-identification profile names retain-uids" in refused.stderr
    assert "TA_DEID_ACCEPT_IDENTIFYING_OPTIONS=retain-uids" in refused.stderr
    accepted = _manage(
        "check",
        TA_DEID_PROFILE="retain-longitudinal-full-dates",
        TA_DEID_ACCEPT_IDENTIFYING_OPTIONS="full-dates",
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "archive.W002" in accepted.stdout + accepted.stderr


@pytest.mark.django_db(transaction=True)
def test_the_admin_audit_shows_the_profile_applied(settings, curator, teacher, phi_file) -> None:
    from archive.models import Case
    from tests.editor.builders import case_with_images

    settings.DEID_PROFILE = "retain-longitudinal-modified-dates,clean-descriptors"
    case = case_with_images(teacher, [phi_file()], title="Profile case")
    Case.objects.filter(pk=case.pk).update(status="submitted")
    instance = case.instances().get()
    methods = {e["code"]: e["meaning"] for e in instance.audit if e["action"] == "applied"}
    assert set(methods) == {"113100", "113101", "113105", "113107"}
    client = Client()
    client.force_login(curator)
    html = client.get(f"/admin/archive/case/{case.pk}/change/").content.decode()
    assert "<code>113107</code> Retain Longitudinal Temporal Information Modified Dates" in html
    assert "<code>113105</code> Clean Descriptors Option" in html
    assert "113108" not in html  # Retain Patient Characteristics is not in this profile
