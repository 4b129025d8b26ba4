"""A published teaching case worth moving between archives, and ways to tamper with packages."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from archive.models import Case, KeyImage, Tag
from archive.vocabulary.services import diagnosis_for
from tests.viewer.factories import ct_stack, make_case

ANNOTATIONS = [
    {"type": "arrow", "x1": 0.2, "y1": 0.3, "x2": 0.45, "y2": 0.5, "label": "pleural line"},
    {"type": "circle", "cx": 0.6, "cy": 0.4, "r": 0.1, "label": "no lung markings"},
]


def teaching_case(owner, **fields) -> Case:
    """Three CT slices, every text field, a catalogue diagnosis with Czech names, two key images
    with annotations, tags; published."""
    defaults = dict(
        title="Sudden chest pain in a tall young man",
        history="Tall 19-year-old, sudden right-sided chest pain while at rest.",
        findings="Visceral pleural line at the right apex, no lung markings beyond it.",
        differential="Skin fold\nBulla",
        discussion="Primary spontaneous pneumothorax: look for the pleural line.",
        teaching_points="Check the apices.\nMeasure the rim at the hilum.",
        references="BTS pleural disease guideline.",
        certainty="confirmed",
        organ_system="chest",
        level="resident",
        age_group="adult",
        sex="M",
    )
    defaults.update(fields)
    case = make_case(owner, ct_stack(3), **defaults)
    case.diagnosis = diagnosis_for(name="Tension pneumothorax", icd10="J93.0")
    case.save(update_fields=["diagnosis"])
    case.tags.set([Tag.objects.get_or_create(name=n)[0] for n in ("emergency", "pleura")])
    first, _, third = case.instances().order_by("instance_number", "pk")
    KeyImage.objects.create(
        case=case, instance=first, frame=0, caption="Right apex", annotations=ANNOTATIONS, order=0
    )
    KeyImage.objects.create(case=case, instance=third, frame=0, caption="Hilum", order=1)
    return Case.objects.get(pk=case.pk)


def members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rebuilt(package: bytes, *, manifest=None, replace: dict[str, bytes] | None = None) -> bytes:
    """The package with its manifest changed by ``manifest(dict)`` and members replaced (their
    checksums updated, as a tamperer who knows the format would)."""
    files = members(package)
    data = json.loads(files.pop("manifest.json"))
    for name, content in (replace or {}).items():
        files[name] = content
        for case in data["cases"]:
            for study in case["studies"]:
                for series in study["series"]:
                    for instance in series["instances"]:
                        if instance["file"] == name:
                            instance["sha256"] = hashlib.sha256(content).hexdigest()
    if manifest is not None:
        manifest(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", json.dumps(data))
        for name, content in files.items():
            zf.writestr(name, content)
    return out.getvalue()
