"""``python manage.py anonymize IN_DIR --out OUT_DIR --report REPORT.json``.

Command-line contract used by our quality checks (keep it stable): walks IN_DIR
recursively, writes one de-identified file per accepted input into OUT_DIR,
named ``<pseudonymous SOP Instance UID>.dcm`` (nothing of the input path or
name survives), and writes a JSON report::

    {"files": [{"input": "<path>", "output": "<path or null>",
                "status": "anonymized|quarantined|rejected", "reason": "<text or null>",
                "seconds": <time spent on the file>}]}

Quarantined instances are **not** written (``output`` is null): they may still
hold identifying values and OUT_DIR is meant to be publishable as a whole.
Exit status is 0 whenever the command ran, even if files were rejected.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive.deid import DeidStatusValues, Policy, RejectedInput, deidentify_bytes
from archive.services.policy import effective_profile, input_limits, load_pixel_cleaner


def _setting_bytes(name: str) -> bytes:
    value = getattr(settings, name, None)
    if not value:
        raise CommandError(
            f"settings.{name} is not set; the de-identification keys come from the environment "
            "(see .env.example)."
        )
    return value.encode() if isinstance(value, str) else bytes(value)


def _policy(with_pixels: bool) -> Policy:
    options: dict[str, Any] = {
        "uid_key": _setting_bytes("DEID_UID_KEY"),
        "pseudonym_key": _setting_bytes("DEID_PSEUDONYM_KEY"),
        "limits": input_limits(),
    }
    root = getattr(settings, "DEID_UID_ROOT", "")
    if root:
        options["uid_root"] = root
    if with_pixels:
        try:
            options["pixel_cleaner"] = load_pixel_cleaner()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
    try:
        # The profile the archive applies (TA_DEID_PROFILE), so a batch from the command line
        # is de-identified exactly as an upload would be.
        return Policy.from_profile(effective_profile(), **options)
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc
    except ValueError as exc:
        raise CommandError(f"Invalid de-identification settings: {exc}") from exc


class Command(BaseCommand):
    help = "De-identify every DICOM file under IN_DIR into OUT_DIR and write a JSON report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("in_dir", help="folder to read (recursively)")
        parser.add_argument("--out", required=True, help="folder for de-identified files")
        parser.add_argument("--report", required=True, help="path of the JSON report to write")
        parser.add_argument(
            "--no-pixels",
            action="store_true",
            help="skip burned-in text cleaning: header de-identification only, so files with "
            "pixel data are quarantined (not written)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        in_dir = Path(options["in_dir"])
        out_dir = Path(options["out"])
        if not in_dir.is_dir():
            raise CommandError(f"{in_dir} is not a folder.")
        policy = _policy(with_pixels=not options["no_pixels"])
        out_dir.mkdir(parents=True, exist_ok=True)
        out_resolved = out_dir.resolve()
        entries: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for path in sorted(p for p in in_dir.rglob("*") if p.is_file()):
            if out_resolved in path.resolve().parents:
                continue  # OUT_DIR inside IN_DIR: never re-read our own output
            started = time.monotonic()
            entry = self._process(path, out_dir, policy)
            entry["seconds"] = round(time.monotonic() - started, 4)
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
            entries.append(entry)
        Path(options["report"]).write_text(json.dumps({"files": entries}, indent=2))
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no files"
        self.stdout.write(f"Processed {len(entries)} file(s): {summary}.")

    @classmethod
    def _process(cls, path: Path, out_dir: Path, policy: Policy) -> dict[str, Any]:
        entry: dict[str, Any] = {"input": str(path), "output": None}
        try:
            source = path.open("rb")
        except OSError:
            return {**entry, "status": "rejected", "reason": "The file could not be read."}
        # Opened, not read: a cine's Pixel Data is read from the file a frame at a time (the
        # worker's way), so the file stays open until the result is written and closed.
        with source:
            return cls._deidentify(source, entry, out_dir, policy)

    @staticmethod
    def _deidentify(source, entry: dict[str, Any], out_dir: Path, policy: Policy) -> dict[str, Any]:
        try:
            result = deidentify_bytes(source, policy)
        except RejectedInput as exc:
            return {**entry, "status": "rejected", "reason": str(exc)}
        except OSError:
            return {**entry, "status": "rejected", "reason": "The file could not be read."}
        except Exception as exc:  # one bad file must never stop the batch
            reason = f"The file could not be processed ({type(exc).__name__})."
            return {**entry, "status": "rejected", "reason": reason}
        if result.status != DeidStatusValues.ANONYMIZED:
            return {**entry, "status": "quarantined", "reason": " ".join(result.reasons)}
        target = out_dir / f"{result.sop_instance_uid}.dcm"
        try:
            # Copied from the verified file's spool a piece at a time (a cine is not in memory).
            with target.open("wb") as fh:
                shutil.copyfileobj(result.written(), fh, 4 << 20)
        except Exception as exc:
            target.unlink(missing_ok=True)
            reason = f"The de-identified file could not be encoded ({type(exc).__name__})."
            return {**entry, "status": "rejected", "reason": reason}
        finally:
            result.close()
        return {**entry, "output": str(target), "status": "anonymized", "reason": None}
