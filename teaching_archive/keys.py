"""The archive's three secrets, where they come from, and how strong they must be.

``DJANGO_SECRET_KEY`` signs sessions and seeds the order of quiz choices; ``TA_DEID_UID_KEY`` and
``TA_DEID_PSEUDONYM_KEY`` key the HMACs that turn a patient ID into a pseudonym, a UID into a new
UID, and a patient into a date shift. Whoever knows a de-identification key can brute-force a
hospital's patient IDs (a 7-digit MRN space falls in well under a minute) and undo the date
shift, so there is no default for any of them, not even for development: a key is taken from the
environment, or else from the keys file that ``make run`` generates once (``var/keys.env``,
mode 0600), and the site refuses to start when a key is missing, weak, or a value that was ever
published (the defaults of earlier versions).

Run as ``python -m teaching_archive.keys PATH`` to create the keys file (only if it is absent:
the de-identification keys must stay the same for the life of the archive).
"""

from __future__ import annotations

import math
import os
import secrets
import stat
import string
import sys
from pathlib import Path

KEY_NAMES = ("DJANGO_SECRET_KEY", "TA_DEID_UID_KEY", "TA_DEID_PSEUDONYM_KEY")
MIN_BITS = 256  # 32 random bytes
MIN_DISTINCT = 8  # "aaaa…" or "abab…" is long but not random

# Every key value this project ever shipped as a default or example: public, so never accepted.
PUBLISHED_VALUES = frozenset(
    {
        "dev-only-insecure-key-change-me",
        "dev-only-uid-key",
        "dev-only-pseudonym-key",
        "build",
        "change-me",
        "changeme",
    }
)


class UnusableKey(Exception):
    """A key is missing or unusable; the message says which and what to do (never its value)."""


_HOW_TO = (
    "Run `make run` (or `make setup`) once to generate random keys into var/keys.env, or set it "
    "to at least 32 random bytes, e.g. the output of "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
)


def estimated_bits(value: str) -> float:
    """Entropy upper bound of a key, from its length and the character classes it uses.

    A hex string counts 4 bits a character, a base64/url-safe one about 6; a key that repeats a
    few characters is reported as 0 bits (it cannot be random).
    """
    if len(set(value)) < MIN_DISTINCT:
        return 0.0
    if all(c in string.hexdigits for c in value):
        pool = 16
    else:
        pool = 0
        pool += 26 if any(c in string.ascii_lowercase for c in value) else 0
        pool += 26 if any(c in string.ascii_uppercase for c in value) else 0
        pool += 10 if any(c in string.digits for c in value) else 0
        pool += 33 if any(not c.isascii() or not c.isalnum() for c in value) else 0
    return len(value) * math.log2(max(pool, 2))


def check_key(name: str, value: str) -> str:
    """Return ``value`` if it is usable as key ``name``; raise :class:`UnusableKey` otherwise."""
    if value.strip().lower() in PUBLISHED_VALUES or value.startswith("django-insecure-"):
        raise UnusableKey(f"{name} is a published example value, which anyone can know. {_HOW_TO}")
    if estimated_bits(value) < MIN_BITS:
        raise UnusableKey(
            f"{name} is too short or not random enough (at least 32 random bytes are needed). "
            f"{_HOW_TO}"
        )
    return value


def read_keys_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of the keys file. Refused if other users may read it."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UnusableKey(
            f"The keys file {path} can be read by other users of this machine; "
            f"run `chmod 600 {path}`."
        )
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        out[name.strip()] = value.strip()
    return out


def load_keys(environ: dict[str, str] | os._Environ, keys_file: Path) -> dict[str, str]:
    """Each of :data:`KEY_NAMES` from the environment, else from ``keys_file``; all checked."""
    from_file: dict[str, str] | None = None
    keys = {}
    for name in KEY_NAMES:
        value = environ.get(name, "")
        if not value:
            if from_file is None:
                from_file = read_keys_file(keys_file) if keys_file.exists() else {}
            value = from_file.get(name, "")
        if not value:
            raise UnusableKey(f"{name} is not set and {keys_file} does not provide it. {_HOW_TO}")
        keys[name] = check_key(name, value)
    return keys


def generate_keys_file(path: Path) -> bool:
    """Create ``path`` with three fresh random keys (mode 0600). Returns False if it existed:
    a de-identification key must never change under an archive that already holds data."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Secrets of this teaching archive, generated once. Back this file up apart from the",
        "# data (database, var/media): with it, pseudonyms and shifted dates can be reversed.",
        *(f"{name}={secrets.token_urlsafe(48)}" for name in KEY_NAMES),
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/keys.env")
    if generate_keys_file(target):
        print(f"keys: generated {target} (mode 0600). Back it up apart from the data.")
