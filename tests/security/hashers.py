"""A password hasher of our own for the tests: PBKDF2 that counts how often it hashes.

Registered first in ``PASSWORD_HASHERS`` by tests/security/conftest.py, so the test users'
passwords are stored with it and every check (and the dummy hash Django computes for unknown
usernames) goes through ``encode``: the count says how many times the hasher ran.
"""

from __future__ import annotations

import threading

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class CountingPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "counting_pbkdf2"
    # Enough work that parallel requests overlap while one hashes (~20-50 ms here), far less
    # than production's million iterations so the tests stay quick.
    iterations = 60_000
    _lock = threading.Lock()
    runs = 0

    def encode(self, password, salt, iterations=None):
        with self._lock:
            type(self).runs += 1
        return super().encode(password, salt, iterations)
