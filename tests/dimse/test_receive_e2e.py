"""From a PACS to a draft case with real components: dcmtk/pynetdicom peer → listener → a real
Celery worker → anonymized instances; IHE TCE key objects pre-fill the case."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)
from pynetdicom import AE, build_context

from archive.dimse.key_objects import KEY_OBJECT_SELECTION_SOP_CLASS
from archive.dimse.teaching_files import key_image_instances
from archive.models import Case, Instance, KeyObjectImport, Upload
from tests.conftest import dicom_bytes, wait_for
from tests.dimse.conftest import CALLED_AET, CALLING_AET, holding_files, storescu, write_series

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _done() -> bool:
    upload = Upload.objects.first()
    return upload is not None and upload.status == Upload.Status.DONE


def _assert_no_phi(instance: Instance, patient) -> None:
    with instance.file.open("rb") as fh:
        data = fh.read()
    text = data.decode("latin-1").upper()
    for secret in patient.secrets():
        assert secret.upper() not in text, "a synthetic identifier survived"
    ds = pydicom.dcmread(instance.file.path)
    assert ds.PatientIdentityRemoved == "YES"


def test_storescu_study_arrives_anonymized_in_the_teachers_draft_case(
    celery_worker_process, listener, node, tmp_path, patient, storage_dirs
):
    ct = write_series(tmp_path / "ct", "CT_small.dcm", patient, count=3)
    mr = write_series(tmp_path / "mr", "MR_small.dcm", patient)
    result = storescu(listener.port, [*ct, *mr])
    assert result.returncode == 0, result.stderr

    wait_for(_done, timeout=120, message="the worker to finish the received study")
    upload = Upload.objects.get()
    assert upload.source == "dicom"
    assert [i.status for i in upload.items.all()] == ["anonymized"] * 4, [
        i.reason for i in upload.items.all()
    ]
    case = upload.case
    assert case.owner == node.teacher and case.status == Case.Status.DRAFT
    assert not any(s.upper() in case.title.upper() for s in patient.secrets())
    instances = list(case.instances())
    assert len(instances) == 4
    assert {i.series.modality for i in instances} == {"CT", "MR"}
    for instance in instances:
        _assert_no_phi(instance, patient)
    assert not holding_files(storage_dirs), "raw files must be deleted after processing"


def _phi_dataset(name: str, patient) -> Dataset:
    from tests.dimse.conftest import phi_dataset

    return phi_dataset(name, patient)


def test_pynetdicom_multiframe_and_jpeg2000_into_the_nodes_target_case(
    celery_worker_process, listener, node, teacher, patient
):
    target = Case.objects.create(
        owner=teacher, title="Colour and J2K", modality="OT", body_region="chest"
    )
    node.target_case = target
    node.save()
    multiframe = _phi_dataset("SC_rgb_rle_2frame.dcm", patient)
    j2k = _phi_dataset("JPEG2000.dcm", patient)

    ae = AE(ae_title=CALLING_AET)
    # One context per transfer syntax: each file is sent as it is compressed.
    ae.requested_contexts = [
        build_context(multiframe.SOPClassUID, ts)
        for ts in (RLELossless, JPEG2000, ImplicitVRLittleEndian)
    ]
    assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.is_established
    try:
        assert assoc.send_c_store(multiframe).Status == 0x0000
        assert assoc.send_c_store(j2k).Status == 0x0000
    finally:
        assoc.release()

    wait_for(_done, timeout=120, message="the worker to finish")
    upload = Upload.objects.get()
    assert upload.case == target
    assert [i.status for i in upload.items.all()] == ["anonymized", "anonymized"], [
        i.reason for i in upload.items.all()
    ]
    frames = sorted(i.frames for i in target.instances())
    assert frames == [1, 2]
    for instance in target.instances():
        _assert_no_phi(instance, patient)


def _key_object(referenced: list[Dataset], patient, text: str) -> Dataset:
    """A Key Object Selection document (PS3.3 A.35.4, TID 2010) as a PACS sends it for TCE."""
    first = referenced[0]
    ds = Dataset()
    ds.SOPClassUID = KEY_OBJECT_SELECTION_SOP_CLASS
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = first.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "KO"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = "F"
    ds.StudyDate = first.get("StudyDate", "20240101")
    ds.StudyTime = "120000"
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = "120000"
    ds.AccessionNumber = patient.accession
    ds.ReferringPhysicianName = patient.physician
    ds.StudyID = "1"
    ds.SeriesNumber = 99
    ds.InstanceNumber = 1
    ds.Manufacturer = "PACS"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    title = Dataset()
    title.CodeValue, title.CodingSchemeDesignator = "113004", "DCM"
    title.CodeMeaning = "For Teaching"
    ds.ConceptNameCodeSequence = Sequence([title])
    description = Dataset()
    description.RelationshipType = "CONTAINS"
    description.ValueType = "TEXT"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = "113012", "DCM"
    concept.CodeMeaning = "Key Object Description"
    description.ConceptNameCodeSequence = Sequence([concept])
    description.TextValue = text
    items = [description]
    for image in referenced:
        item = Dataset()
        item.RelationshipType = "CONTAINS"
        item.ValueType = "IMAGE"
        ref = Dataset()
        ref.ReferencedSOPClassUID = image.SOPClassUID
        ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
        item.ReferencedSOPSequence = Sequence([ref])
        items.append(item)
    ds.ContentSequence = Sequence(items)
    series = Dataset()
    series.SeriesInstanceUID = first.SeriesInstanceUID
    series.ReferencedSOPSequence = Sequence([item.ReferencedSOPSequence[0] for item in items[1:]])
    evidence = Dataset()
    evidence.StudyInstanceUID = first.StudyInstanceUID
    evidence.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


# Batches of 2: the images and the key object are de-identified while the association is open,
# and the key object's text is still cleaned with the hints of every header received.
@pytest.mark.parametrize("batch", [8, 2], ids=["filed-on-release", "filed-while-receiving"])
def test_tce_key_object_prefills_the_draft_case_with_deidentified_text_and_key_images(
    celery_worker_process, listener, node, tmp_path, patient, settings, batch
):
    settings.TA_DICOM_BATCH_FILES = batch
    paths = write_series(tmp_path / "ct", "CT_small.dcm", patient, count=3)
    images = [pydicom.dcmread(p) for p in paths]
    born = patient.birth_date
    text = (
        f"title=Tension pneumothorax in {patient.given} {patient.family}\n"
        f"history: {patient.family.upper()}, born {born[6:8]}.{born[4:6]}.{born[:4]} "
        f"(ID {patient.patient_id}), acute dyspnoea\n"
        "after central line insertion on 2024-03-05.\n"
        f"findings=Large right pneumothorax, accession {patient.accession}; referred by "
        f"Dr {patient.physician.split('^')[0]}.\n"
        "diagnosis=Tension pneumothorax\n"
    )
    kos = _key_object(images[:2], patient, text)
    kos_path = tmp_path / "kos.dcm"
    kos_path.write_bytes(dicom_bytes(kos))
    result = storescu(listener.port, [*paths, kos_path])
    assert result.returncode == 0, result.stderr

    def applied() -> bool:
        row = KeyObjectImport.objects.first()
        return row is not None and row.applied_at is not None

    wait_for(applied, timeout=120, message="the key objects to be applied")
    case = Upload.objects.get().case
    case.refresh_from_db()
    assert case.title == "Tension pneumothorax in [removed] [removed]"
    assert "acute dyspnoea" in case.history and "after central line insertion" in case.history
    assert "Large right pneumothorax" in case.findings
    assert case.diagnosis is not None and case.diagnosis.name == "Tension pneumothorax"
    stored = KeyObjectImport.objects.get()
    everything = " ".join(
        [
            case.title,
            case.history,
            case.findings,
            stored.title,
            stored.history,
            stored.findings,
            stored.diagnosis,
        ]
    ).upper()
    for secret in [*patient.secrets(), "2024-03-05", f"{born[6:8]}.{born[4:6]}.{born[:4]}"]:
        assert secret.upper() not in everything
    keys = set(key_image_instances(case))
    assert len(keys) == 2
    # The referenced originals, now under their pseudonymous UIDs.
    assert keys < set(case.instances())
    assert not {str(i.SOPInstanceUID) for i in images} & {k.sop_uid for k in keys}
