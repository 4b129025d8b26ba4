"""QIDO-RS matching at every level (wildcards, date ranges, includefield, limit/offset), WADO-RS
content negotiation (transcoding or 406) and the absolute URLs in answers."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pydicom
import pytest
from django.test import Client
from pydicom.uid import JPEG2000Lossless

from archive.dicomweb.negotiation import frame_choice, instance_choice, parse_accept
from tests.dicomweb.conftest import basic
from tests.dicomweb.test_dicomweb import _parts

pytestmark = pytest.mark.django_db

EXPLICIT = "1.2.840.10008.1.2.1"
RLE = "1.2.840.10008.1.2.5"
JPEG = "1.2.840.10008.1.2.4.50"


def _get(url, user, **extra):
    return Client().get(url, **basic(user), **extra)


def _uids(results, tag="0020000D"):
    return [r[tag]["Value"][0] for r in results]


def test_wildcards_dates_and_paging_at_the_top_levels(student, published_case):
    ct = published_case.studies.get(series__modality="CT")
    mr = published_case.studies.get(series__modality="MR")
    ct.description, mr.description = "CT thorax native", "MR head"
    ct.study_date, mr.study_date = dt.date(2020, 1, 10), dt.date(2021, 6, 1)
    ct.save()
    mr.save()
    for query, expected in [
        ("StudyDescription=ct*", [ct]),
        ("StudyDescription=MR?head", [mr]),
        ("00081030=*thorax*", [ct]),
        ("StudyDescription=thorax", []),
        ("StudyDate=20200101-20201231", [ct]),
        ("StudyDate=20210101-", [mr]),
        ("StudyDate=-20200110", [ct]),
        ("StudyDate=20210601", [mr]),
        ("ModalitiesInStudy=CT,MR", [ct, mr]),
        ("PatientID=" + ct.pseudonymous_patient_id[:4] + "*", [ct, mr]),
    ]:
        found = _get(f"/dicomweb/studies?{query}", student).json()
        assert sorted(_uids(found)) == sorted(s.study_uid for s in expected), query
    bad = _get("/dicomweb/studies?StudyDate=2020-01", student)
    assert bad.status_code == 400 and "YYYYMMDD" in bad.content.decode()
    unknown = _get("/dicomweb/studies?Bogus=1", student)
    assert unknown.status_code == 400
    ignored = _get("/dicomweb/studies?AccessionNumber=A1*", student)
    assert ignored.status_code == 200 and "AccessionNumber" in ignored["Warning"]

    series = _get("/dicomweb/series?StudyDate=2021&Modality=MR", student)
    assert series.status_code == 400  # a date is eight digits
    series = _get("/dicomweb/series?StudyDate=20210601&Modality=MR", student).json()
    assert _uids(series, "00080060") == ["MR"]
    assert series[0]["00081030"]["Value"] == ["MR head"]  # study attributes at top level
    first = _get("/dicomweb/instances?limit=1", student).json()
    second = _get("/dicomweb/instances?limit=1&offset=1", student).json()
    third = _get("/dicomweb/instances?limit=1&offset=2", student).json()
    assert len(first) == len(second) == 1 and third == []
    assert first[0]["00080018"] != second[0]["00080018"]
    assert first[0]["00080060"]["Value"] == ["CT"]  # series attributes at top level
    assert _get("/dicomweb/instances?limit=x", student).status_code == 400


def test_includefield_adds_header_attributes(student, published_case):
    ct = published_case.studies.get(series__modality="CT")
    plain = _get(f"/dicomweb/studies/{ct.study_uid}/instances", student).json()
    assert "00180050" not in plain[0]  # Slice Thickness: not a default attribute
    one = _get(
        f"/dicomweb/studies/{ct.study_uid}/instances?includefield=SliceThickness", student
    ).json()
    assert one[0]["00180050"]["vr"] == "DS"
    everything = _get("/dicomweb/instances?includefield=all&Modality=CT", student).json()
    assert "00280030" in everything[0]  # Pixel Spacing
    assert "7FE00010" not in everything[0]
    series = _get("/dicomweb/series?includefield=00180015&includefield=ProtocolName", student)
    assert series.status_code == 200


def test_accept_negotiation_rules():
    accept = parse_accept('multipart/related; type="application/dicom"; transfer-syntax=*')
    assert instance_choice(accept, JPEG) == JPEG
    accept = parse_accept('multipart/related; type="application/dicom"')
    assert instance_choice(accept, JPEG) == EXPLICIT  # the standard's default
    accept = parse_accept(f'multipart/related; type="application/dicom"; transfer-syntax={JPEG}')
    assert instance_choice(accept, EXPLICIT) is None  # lossy: never made here
    assert instance_choice(accept, JPEG) == JPEG
    accept = parse_accept('image/png, multipart/related; type="application/dicom";q=0.5')
    assert instance_choice(accept, RLE) == EXPLICIT
    assert frame_choice(parse_accept('multipart/related; type="*/*"'), JPEG) == (
        EXPLICIT,
        "application/octet-stream",
    )
    assert frame_choice(parse_accept('multipart/related; type="image/jpeg"'), JPEG) == (
        JPEG,
        "image/jpeg",
    )
    assert frame_choice(parse_accept('multipart/related; type="image/jpeg"'), EXPLICIT) is None
    assert frame_choice(parse_accept('multipart/related; type="image/x-dicom-rle"'), JPEG) == (
        RLE,
        "image/dicom-rle",
    )
    assert frame_choice(parse_accept("text/html"), EXPLICIT) is None


def test_frames_are_transcoded_or_refused(student, draft_case, other_teacher):
    instance = draft_case.instances().get()  # RLE colour, two frames
    series = instance.series
    url = (
        f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
        f"/instances/{instance.sop_uid}/frames/1,2"
    )
    plain = _get(url, other_teacher)
    parts = _parts(plain)
    assert [p[0] for p in parts] == [f"application/octet-stream; transfer-syntax={EXPLICIT}"] * 2
    assert all(len(p[1]) == instance.rows * instance.columns * 3 for p in parts)
    with instance.file.open("rb") as fh:
        expected = pydicom.dcmread(fh).pixel_array
    assert np.array_equal(
        np.frombuffer(parts[1][1], np.uint8).reshape(instance.rows, instance.columns, 3),
        expected[1],
    )
    stored = _parts(
        _get(url, other_teacher, HTTP_ACCEPT='multipart/related; type="image/dicom-rle"')
    )
    assert stored[0][0] == f"image/dicom-rle; transfer-syntax={RLE}"
    j2k = _get(
        url,
        other_teacher,
        HTTP_ACCEPT=f'multipart/related; type="image/jp2"; transfer-syntax={JPEG2000Lossless}',
    )
    assert j2k.status_code == 200 and _parts(j2k)[0][1][:4] == b"\xff\x4f\xff\x51"
    refused = _get(url, other_teacher, HTTP_ACCEPT='multipart/related; type="image/jpeg"')
    assert refused.status_code == 406 and "Offered" in refused.content.decode()
    etag = plain["ETag"]
    again = _get(url, other_teacher, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert _get(url.replace("1,2", "3"), other_teacher).status_code == 404
    assert _get(url.replace("1,2", "1,1,2"), other_teacher).status_code == 400
    assert _get(url, student).status_code == 404  # someone else's draft


def test_instances_are_transcoded_per_accept(draft_case, other_teacher):
    instance = draft_case.instances().get()
    series = instance.series
    url = (
        f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
        f"/instances/{instance.sop_uid}"
    )
    for accept, syntax in [
        ('multipart/related; type="application/dicom"; transfer-syntax=*', RLE),
        ('multipart/related; type="application/dicom"', EXPLICIT),
        (
            'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2',
            "1.2.840.10008.1.2",
        ),
    ]:
        response = _get(url, other_teacher, HTTP_ACCEPT=accept)
        ((part_type, data),) = _parts(response)
        assert part_type == f"application/dicom; transfer-syntax={syntax}"
        ds = pydicom.dcmread(io.BytesIO(data))
        assert ds.file_meta.TransferSyntaxUID == syntax
        assert ds.pixel_array.shape == (2, instance.rows, instance.columns, 3)
    refused = _get(url, other_teacher, HTTP_ACCEPT="application/json")
    assert refused.status_code == 406


def test_absolute_urls_carry_the_port_or_the_configured_address(student, published_case, settings):
    settings.ALLOWED_HOSTS = ["archive.test"]
    ct = published_case.instances().get(series__modality="CT")
    s = ct.series
    url = f"/dicomweb/studies/{s.study.study_uid}/series/{s.series_uid}/metadata"
    # dicomweb-client sends "Host: name" without the port it connected to.
    (meta,) = _get(url, student, HTTP_HOST="archive.test", SERVER_PORT="8123").json()
    assert meta["7FE00010"]["BulkDataURI"].startswith("http://archive.test:8123/dicomweb/")
    (meta,) = _get(url, student, HTTP_HOST="archive.test:9000", SERVER_PORT="8123").json()
    assert meta["7FE00010"]["BulkDataURI"].startswith("http://archive.test:9000/dicomweb/")
    settings.TA_EXTERNAL_URL = "https://teaching.example.org"
    found = _get("/dicomweb/series", student, HTTP_HOST="archive.test").json()
    assert found[0]["00081190"]["Value"][0].startswith("https://teaching.example.org/dicomweb/")
