"""Finding 1 of the privacy review: the keys that make pseudonyms, UIDs, date shifts and the
order of quiz choices unguessable have no public default, are never weak, and `make run`
generates them once (mode 0600) and keeps them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from teaching_archive.keys import (
    KEY_NAMES,
    PUBLISHED_VALUES,
    UnusableKey,
    check_key,
    generate_keys_file,
    load_keys,
)

REPO = Path(__file__).resolve().parents[2]


def _manage_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in KEY_NAMES and k != "TA_KEYS_FILE"}
    clean.update({"TA_KEYS_FILE": str(tmp_path / "keys.env"), "DJANGO_DEBUG": "0", **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_site_refuses_to_start_without_keys(tmp_path):
    result = _manage_check(tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "make run" in result.stderr  # says what to do


@pytest.mark.parametrize("value", sorted(PUBLISHED_VALUES))
def test_published_defaults_are_refused_at_start(tmp_path, value):
    generate_keys_file(tmp_path / "keys.env")
    result = _manage_check(tmp_path, TA_DEID_PSEUDONYM_KEY=value)
    assert result.returncode != 0
    assert "TA_DEID_PSEUDONYM_KEY" in result.stderr
    assert value not in result.stderr.split("ImproperlyConfigured:")[-1]  # never echoed


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcdef",  # 16 bytes written as hex
        "correct-horse",
        "a" * 200,  # long, not random
        "ab" * 100,
        "django-insecure-" + "x1Y2z3" * 10,
    ],
)
def test_weak_keys_are_refused(value):
    with pytest.raises(UnusableKey):
        check_key("TA_DEID_UID_KEY", value)


def test_generated_keys_are_strong_private_and_kept(tmp_path):
    path = tmp_path / "var" / "keys.env"
    assert generate_keys_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = load_keys({}, path)
    assert set(keys) == set(KEY_NAMES)
    assert len(set(keys.values())) == 3  # three different keys
    before = path.read_bytes()
    assert generate_keys_file(path) is False  # a second `make run` keeps them
    assert path.read_bytes() == before
    other = tmp_path / "other.env"
    generate_keys_file(other)
    assert not set(load_keys({}, other).values()) & set(keys.values())
    result = _manage_check(path.parent)
    assert result.returncode == 0, result.stderr


def test_a_keys_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "keys.env"
    generate_keys_file(path)
    path.chmod(0o644)
    with pytest.raises(UnusableKey, match="chmod 600"):
        load_keys({}, path)


def test_the_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "keys.env"
    generate_keys_file(path)
    mine = "Zq8" + "".join(chr(ord("A") + i % 26) + str(i % 10) for i in range(40))
    assert load_keys({"TA_DEID_UID_KEY": mine}, path)["TA_DEID_UID_KEY"] == mine


def test_this_test_run_uses_no_known_key():
    for value in (settings.SECRET_KEY, settings.DEID_UID_KEY, settings.DEID_PSEUDONYM_KEY):
        assert check_key("key", value) == value
    source = (REPO / "teaching_archive" / "settings.py").read_text()
    for value in PUBLISHED_VALUES:
        assert f'"{value}"' not in source
