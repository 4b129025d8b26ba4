"""The study zip: streamed, sequence names, README, only for those who may view the case."""

from __future__ import annotations

import io

import pydicom
from django.test import Client

from tests.viewer.factories import ct_stack, make_case, read_zip_members, rgb_multiframe


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_zip_has_sequence_names_readme_and_the_anonymized_files(teacher, student, patient):
    case = make_case(teacher, ct_stack(3, patient=patient) + [rgb_multiframe(patient=patient)])
    response = _client(student).get(f"/cases/{case.pk}/download.zip")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert (
        response["Content-Disposition"] == f'attachment; filename="case-{case.pk}-anonymized.zip"'
    )
    body = b"".join(response.streaming_content)
    members = read_zip_members(body)
    names = sorted(members)
    assert names[0] == "README.txt"
    assert sorted(n for n in names if n.startswith("series-")) == sorted(
        [
            "series-01/image-0001.dcm",
            "series-01/image-0002.dcm",
            "series-01/image-0003.dcm",
            "series-02/image-0001.dcm",
        ]
    ) or sorted(n for n in names if n.startswith("series-")) == sorted(
        [
            "series-01/image-0001.dcm",
            "series-02/image-0001.dcm",
            "series-02/image-0002.dcm",
            "series-02/image-0003.dcm",
        ]
    )
    readme = members["README.txt"].decode()
    assert "PS3.15" in readme and "pseudonymous" in readme
    stored = {i.sop_uid: i for i in case.instances()}
    for name in names[1:]:
        ds = pydicom.dcmread(io.BytesIO(members[name]))
        assert ds.SOPInstanceUID in stored  # the anonymized file, unchanged
        assert members[name] == stored[ds.SOPInstanceUID].file.open("rb").read()
    text = body.decode("latin-1")
    for secret in patient.secrets():
        assert secret not in text


def test_zip_is_behind_the_case_permission(teacher, student, other_teacher, curator):
    draft = make_case(teacher, ct_stack(1), publish=False)
    url = f"/cases/{draft.pk}/download.zip"
    assert _client().get(url).status_code == 302
    assert _client(student).get(url).status_code == 404
    assert _client(other_teacher).get(url).status_code == 404
    assert _client(teacher).get(url).status_code == 200
    assert _client(curator).get(url).status_code == 200
    assert _client(student).get("/cases/999999/download.zip").status_code == 404
