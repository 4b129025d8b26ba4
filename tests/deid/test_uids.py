"""Keyed UID remapping (PS3.15 E.1.1 action U, PS3.5 9.1 UID syntax)."""

from __future__ import annotations

import re

import pytest

from archive.deid import Policy, pseudonymize_uid

UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


@pytest.mark.parametrize("root", ["2.25", "1.2.826.0.1.3680043.10.1338"])
def test_uid_is_valid_deterministic_and_keyed(policy: Policy, root: str) -> None:
    pol = Policy(uid_key=policy.uid_key, pseudonym_key=policy.pseudonym_key, uid_root=root)
    original = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    new = pseudonymize_uid(original, pol)
    assert new == pseudonymize_uid(original + "\x00", pol)
    assert new.startswith(root + ".") and len(new) <= 64 and UID_RE.match(new)
    other_key = Policy(uid_key=b"another-key-0123456789", pseudonym_key=policy.pseudonym_key)
    assert pseudonymize_uid(original, other_key) != new
    assert pseudonymize_uid(original + "1", pol) != new


def test_standard_uids_are_kept(policy: Policy) -> None:
    for uid in ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.4.1.1"):
        assert pseudonymize_uid(uid, policy) == uid


def test_invalid_root_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError):
        Policy(uid_key=policy.uid_key, pseudonym_key=policy.pseudonym_key, uid_root="1.02.3")
    with pytest.raises(ValueError):
        Policy(uid_key=b"short", pseudonym_key=policy.pseudonym_key)
