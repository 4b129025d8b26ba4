"""Login throttling tests hash with a counting PBKDF2 (tests/security/hashers.py)."""

from __future__ import annotations

import pytest

from tests.security.hashers import CountingPBKDF2PasswordHasher


@pytest.fixture(autouse=True)
def counting_hasher(settings) -> type[CountingPBKDF2PasswordHasher]:
    # Autouse, so it is in place before the user fixtures store their passwords.
    settings.PASSWORD_HASHERS = [
        "tests.security.hashers.CountingPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    CountingPBKDF2PasswordHasher.runs = 0
    return CountingPBKDF2PasswordHasher
