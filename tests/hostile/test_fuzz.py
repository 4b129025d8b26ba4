"""The fuzzer (issue #18): mutated real DICOM files through the de-identification entry point.

``deidentify_bytes`` is what the worker calls for every file (then ``to_bytes``, as here). For
every mutation of a real pydicom file with a synthetic patient (``fuzzing.mutated``) the call
must return within ``TIME_LIMIT`` seconds and ``MEMORY_LIMIT_MIB`` of peak memory, and end in
one of three ways: an anonymized file that reads back, passes the verifier again and holds
no synthetic value; a quarantine with reasons; or a ``RejectedInput`` with a reason. Never
another exception, never a hang, never an unverified output, and no log line that holds a
synthetic value (pydicom's warnings quote them: its logger is silenced in settings).

CI runs ``TA_FUZZ_EXAMPLES`` (default 2,000) examples, seeded (the same ones every run);
``make fuzz`` runs 20,000 with a seed of its own (``TA_FUZZ_SEED``) and prints the figures.
"""

from __future__ import annotations

import io
import logging
import os
import random
import signal
import time
import traceback
from collections import Counter

import pydicom
import pytest
from hypothesis import HealthCheck, given, seed, settings

from archive.deid import RejectedInput, deidentify_bytes, verify
from archive.services.policy import archive_policy
from tests.hostile.fuzzing import SEEDS, load_seed, mutated
from tests.phi import SyntheticPatient

EXAMPLES = int(os.environ.get("TA_FUZZ_EXAMPLES", "2000"))
SEED = int(os.environ.get("TA_FUZZ_SEED", "18"))
TIME_LIMIT = float(os.environ.get("TA_FUZZ_TIME_LIMIT", "30"))
MEMORY_LIMIT_MIB = 300

PATIENT = SyntheticPatient(rng=random.Random(SEED))
SEED_FILES = [load_seed(name, PATIENT) for name in SEEDS]
SECRETS = [s.upper() for s in PATIENT.secrets()]
SEED_BYTES = {seed_file.name: seed_file.data for seed_file in SEED_FILES}

pytestmark = pytest.mark.e2e


class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang


def _memory() -> tuple[float, float]:
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def _reset_peak() -> None:
    # Linux: "5" resets the peak resident set size (VmHWM) to the current one.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


FIGURES: Counter = Counter()
SLOWEST: list[tuple[float, str]] = []
FAILURES: list[str] = []


def _contains_secret(text: str) -> bool:
    upper = text.upper()
    return any(secret in upper for secret in SECRETS)


class _Logged(logging.Handler):
    """Every log record that reaches the root logger (what a worker's log would show)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not shown either
            pass


def _intact_secrets(data: bytes, seed: bytes | None) -> list[str]:
    """The synthetic values the mutation left as often in the file as in its seed.

    A mutation that damaged one occurrence (the patient's name written "QF\x93misaova") left
    the engine no way to know that the other one (in "CT for Quamisaova") is a name: the header
    no longer says so. Such a file is a limit of hint-based cleaning, not of this property
    (README: what the fuzzer found)."""
    if seed is None:
        return SECRETS
    upper, original = data.upper(), seed.upper()
    return [s for s in SECRETS if upper.count(s.encode()) >= original.count(s.encode())]


def run_one(data: bytes, seed: bytes | None = None) -> str:
    """De-identify one file as the worker does; returns the outcome or raises AssertionError."""
    policy = archive_policy()
    result = deidentify_bytes(data, policy)
    output = result.to_bytes()
    if result.status == "anonymized":
        back = pydicom.dcmread(io.BytesIO(output))
        assert verify(back, result.phi_hints) == [], "an anonymized output fails the verifier"
        upper = output.upper()
        assert not any(s.encode() in upper for s in _intact_secrets(data, seed)), (
            "synthetic PHI in the output"
        )
        return "anonymized"
    assert result.status == "quarantined" and result.reasons, "quarantined without a reason"
    assert not any(_contains_secret(r) for r in result.reasons), "PHI in a reason"
    return "quarantined"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
@seed(SEED)
@given(mutated(SEED_FILES))
def test_mutated_files_end_anonymized_quarantined_or_rejected(case):
    data = case.data
    label = repr(case)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    logged = _Logged()
    logging.getLogger().addHandler(logged)
    _reset_peak()
    before, _ = _memory()
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        outcome = run_one(data, SEED_BYTES[case.seed])
    except RejectedInput as exc:
        assert str(exc) and not _contains_secret(str(exc)), "a rejection without a clean reason"
        outcome = "rejected"
    except Hang:
        FAILURES.append(f"hang > {TIME_LIMIT} s: {label}")
        raise AssertionError(f"no answer within {TIME_LIMIT} s: {label}") from None
    except AssertionError:
        FAILURES.append(label)
        raise
    except BaseException as exc:  # a Rust codec's panic is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        FAILURES.append(f"{type(exc).__name__}: {label}\n{traceback.format_exc(limit=-4)}")
        raise AssertionError(f"{type(exc).__name__} escaped for {label}") from exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        logging.getLogger().removeHandler(logged)
    if any(_contains_secret(m) for m in logged.messages):
        FAILURES.append(f"PHI logged: {label}")
        raise AssertionError(f"a log line holds a synthetic identifying value: {label}")
    seconds = time.monotonic() - started
    _, peak = _memory()
    grown = peak - before
    FIGURES[outcome] += 1
    FIGURES["examples"] += 1
    FIGURES["peak_mib"] = max(FIGURES["peak_mib"], round(grown, 1))
    SLOWEST.append((seconds, label))
    SLOWEST.sort(reverse=True)
    del SLOWEST[5:]
    assert grown < MEMORY_LIMIT_MIB, f"{grown:.0f} MiB for {label}"


def test_zz_report_the_figures():
    """Prints what the run above did (``make fuzz`` shows it; README keeps the latest)."""
    print(
        f"\nfuzz: {FIGURES['examples']} examples (seed {SEED}): "
        f"{FIGURES['anonymized']} anonymized, {FIGURES['quarantined']} quarantined, "
        f"{FIGURES['rejected']} rejected, {len(FAILURES)} failures; peak memory growth "
        f"{FIGURES['peak_mib']} MiB; slowest {SLOWEST[0][0]:.2f} s ({SLOWEST[0][1]})"
        if SLOWEST
        else "\nfuzz: no examples ran"
    )
    for failure in FAILURES:
        print("FAILURE", failure)
