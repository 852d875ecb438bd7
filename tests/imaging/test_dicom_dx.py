"""DX Part-10 files from `dros._core.write_dicom`: dciodvfy finds no errors (For Presentation,
For Processing, Explicit VR LE and RLE Lossless, human and veterinary patients), pydicom reads
back the same pixels and attributes, bad metadata or arrays fail with clear exceptions, and a
real DICOM peer (DCMTK storescp) accepts the files in both transfer syntaxes."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes
from pydicom.uid import (
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    ExplicitVRLittleEndian,
    RLELossless,
)

from dros import _core
from dros.dx_metadata import VIEW_CODES, Code, DxMetadata
from tests.ports import free_port

DCIODVFY = shutil.which("dciodvfy")
STORESCP = shutil.which("storescp")
TS_UID = {"explicit": ExplicitVRLittleEndian, "rle": RLELossless}


def synthetic_frame(rows: int, cols: int, bits: int = 14, seed: int = 0) -> np.ndarray:
    """Smooth anatomy-like gradients plus noise, within `bits` bits."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    smooth = 0.5 + 0.3 * np.sin(x / cols * 5.0) * np.cos(y / rows * 3.0) + 0.1 * (y / rows)
    top = (1 << bits) - 1
    img = smooth * top + rng.normal(0.0, top * 0.01, (rows, cols))
    return np.clip(img, 0, top).astype(np.uint16)


def human(**over: object) -> DxMetadata:
    fields: dict[str, object] = dict(
        patient_name="Müller^Hans",
        patient_id="DRTEST-0001",
        patient_birth_date="19700101",
        patient_sex="M",
        patient_age="056Y",
        patient_weight=72.5,
        patient_size=1.78,
        accession_number="ACC0001",
        study_id="1",
        referring_physician_name="Wang^Li",
        study_description="Chest PA",
        series_description="PA",
        body_part_examined="CHEST",
        view_position="PA",
        positioner_type="NONE",
        image_laterality="U",
        anatomic_region=Code(code_value="51185008", code_meaning="Chest"),
        protocol_name="Chest PA adult",
        operators_name="Tech^One",
        manufacturer="DRTEST",
        institution_name="DROS test clinic",
        station_name="DROS01",
        manufacturer_model_name="DROS console",
        device_serial_number="SN-42",
        detector_type="SCINTILLATOR",
        detector_id="DET-7",
        detector_manufacturer_name="DRTEST detectors",
        detector_manufacturer_model_name="FPD 4343",
        imager_pixel_spacing=(0.139, 0.139),
        kvp=125.0,
        exposure_mas=2.5,
        exposure_time_ms=8.0,
        xray_tube_current_ma=320.0,
        distance_source_to_detector=1800.0,
        distance_source_to_patient=1650.0,
        image_and_fluoroscopy_area_dose_product=0.0123,
        window_center=8192.0,
        window_width=16000.0,
        exposure_index=250.0,
        target_exposure_index=300.0,
        deviation_index=-0.79,
        bits_stored=14,
        acquisition_datetime="20260115101112",
    )
    fields.update(over)
    return DxMetadata.new(**fields)


def vet(**over: object) -> DxMetadata:
    fields: dict[str, object] = dict(
        patient_name="Rex^Smith",
        patient_age="004Y",
        patient_sex="M",
        patient_species_description="Canine species",
        patient_species_code=Code(code_value="448771007", code_meaning="Canis lupus familiaris"),
        patient_breed_description="Beagle",
        responsible_person="Smith^John",
        responsible_person_role="OWNER",
        responsible_organization="Happy Paws Kennel",
        patient_sex_neutered="ALTERED",
        body_part_examined="CHEST",
        view_position="VD",
    )
    fields.update(over)
    return human(**fields)


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """Errors and warnings that dicom3tools' validator reports for a file."""
    assert DCIODVFY, "dciodvfy missing: run ./scripts/setup (Debian package dicom3tools)"
    out = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=120)
    lines = (out.stdout + out.stderr).splitlines()
    return [ln for ln in lines if ln.startswith("Error")], [ln for ln in lines if ln.startswith("Warning")]


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    # Non-square and odd-sized so rows/columns mix-ups and odd lengths cannot hide.
    return synthetic_frame(517, 389)


INTENTS = ["FOR PRESENTATION", "FOR PROCESSING"]


@pytest.mark.parametrize("ts", ["explicit", "rle"])
@pytest.mark.parametrize("intent", INTENTS)
@pytest.mark.parametrize("patient", ["human", "vet"])
def test_file_is_valid_and_round_trips(tmp_path: Path, frame: np.ndarray, ts: str, intent: str, patient: str) -> None:
    meta = (human if patient == "human" else vet)(presentation_intent=intent)
    path = tmp_path / "dx.dcm"
    _core.write_dicom(str(path), frame, meta, ts)

    errors, warnings = dciodvfy(path)
    assert errors == [], "\n".join(errors + warnings)
    assert warnings == [], warnings

    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == TS_UID[ts]
    sop_class = (
        DigitalXRayImageStorageForPresentation if intent == "FOR PRESENTATION" else DigitalXRayImageStorageForProcessing
    )
    assert ds.SOPClassUID == sop_class
    assert ds.file_meta.MediaStorageSOPClassUID == sop_class
    assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID == meta.sop_instance_uid
    assert ds.file_meta.ImplementationClassUID == _core.DX_IMPLEMENTATION_CLASS_UID
    assert ds.PresentationIntentType == intent
    assert (ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (517, 389, 16, 14, 13)
    assert ds.pixel_array.dtype == np.uint16
    np.testing.assert_array_equal(ds.pixel_array, frame)

    assert ds.StudyInstanceUID == meta.study_instance_uid
    assert ds.SeriesInstanceUID == meta.series_instance_uid
    assert str(ds.PatientName) == meta.patient_name
    assert ds.Modality == "DX"
    assert ds.KVP == 125.0
    assert (ds.Exposure, ds.ExposureInuAs) == (3, 2500)  # IS: mAs rounded half away from 0, exact µAs
    assert (ds.ExposureTime, float(ds.ExposureTimeInuS)) == (8, 8000.0)
    assert (ds.XRayTubeCurrent, float(ds.XRayTubeCurrentInuA)) == (320, 320000.0)
    assert (ds.ExposureIndex, ds.TargetExposureIndex, ds.DeviationIndex) == (250.0, 300.0, -0.79)
    assert list(ds.ImagerPixelSpacing) == [0.139, 0.139]
    assert list(ds.PatientOrientation) == ["L", "F"]
    assert ds.ImageLaterality == "U"
    assert "Laterality" not in ds  # forbidden next to ImageLaterality in DX
    assert ds.ViewCodeSequence[0].CodeValue == VIEW_CODES[ds.ViewPosition].code_value
    assert ds.ViewPosition == ("PA" if patient == "human" else "VD")
    assert ds.AnatomicRegionSequence[0].CodeMeaning == "Chest"
    assert ds.DetectorType == "SCINTILLATOR"
    assert ds.PresentationLUTShape == "IDENTITY"
    if intent == "FOR PRESENTATION":
        assert (ds.WindowCenter, ds.WindowWidth) == (8192.0, 16000.0)
    else:
        assert "WindowCenter" not in ds and "WindowWidth" not in ds
    if patient == "vet":
        assert ds.PatientSpeciesDescription == "Canine species"
        assert ds.PatientSpeciesCodeSequence[0].CodeValue == "448771007"
        assert ds.PatientBreedDescription == "Beagle"
        assert str(ds.ResponsiblePerson) == "Smith^John"
        assert ds.ResponsiblePersonRole == "OWNER"
        assert ds.ResponsibleOrganization == "Happy Paws Kennel"
        assert ds.PatientSexNeutered == "ALTERED"
        assert len(ds.PatientBreedCodeSequence) == 0 and len(ds.BreedRegistrationSequence) == 0
    else:
        assert "PatientSpeciesDescription" not in ds and "PatientSexNeutered" not in ds


def test_validator_is_not_blind(tmp_path: Path, frame: np.ndarray) -> None:
    """The dciodvfy runner reports the errors the checklist lists, so the clean results above
    mean something."""
    path = tmp_path / "dx.dcm"
    _core.write_dicom(path, frame, human())
    ds = pydicom.dcmread(path)
    ds.Modality = "CR"
    ds.Laterality = "L"
    del ds.ImagerPixelSpacing
    ds.save_as(tmp_path / "bad.dcm")
    errors, _ = dciodvfy(tmp_path / "bad.dcm")
    text = "\n".join(errors)
    assert "Modality" in text and "ImagerPixelSpacing" in text and "Laterality" in text, text


def test_minimal_metadata_and_defaults(tmp_path: Path, frame: np.ndarray) -> None:
    uids = {k: _core.generate_uid() for k in ("sop_instance_uid", "study_instance_uid", "series_instance_uid")}
    meta = DxMetadata(**uids)
    path = tmp_path / "min.dcm"
    _core.write_dicom(path, frame, meta, "rle")
    errors, _ = dciodvfy(path)
    assert errors == []
    ds = pydicom.dcmread(path)
    np.testing.assert_array_equal(ds.pixel_array, frame)
    # no window given: the identity window over the stored range (BitsStored 16 by default)
    assert (ds.WindowCenter, ds.WindowWidth) == (32768.0, 65536.0)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert len(ds.AnatomicRegionSequence) == 0


def test_new_generates_distinct_valid_uids_and_dates() -> None:
    a, b = DxMetadata.new(), DxMetadata.new(study_instance_uid="1.2.3.4")
    assert len({a.sop_instance_uid, a.study_instance_uid, a.series_instance_uid, b.sop_instance_uid}) == 4
    assert b.study_instance_uid == "1.2.3.4"
    assert a.sop_instance_uid.startswith("2.25.")
    assert re.fullmatch(r"\d{8}", a.study_date) and re.fullmatch(r"\d{6}", a.content_time)
    assert DxMetadata.new(view_position="LL").view_code == VIEW_CODES["LL"]
    assert DxMetadata.new(uid_root="1.2.826.0.1.3680043.10.543").sop_instance_uid.startswith(
        "1.2.826.0.1.3680043.10.543."
    )


def test_view_codes_match_the_standard() -> None:
    """VIEW_CODES against pydicom's tables generated from the DICOM standard (CID 4010)."""
    expected = {
        "AP": codes.SCT.AnteroPosterior,
        "PA": codes.SCT.PosteroAnterior,
        "LL": codes.SCT.LeftLateral,
        "RL": codes.SCT.RightLateral,
        "DV": codes.SCT.DorsoVentral,
        "VD": codes.SCT.VentroDorsal,
    }
    for view, code in expected.items():
        assert (VIEW_CODES[view].code_value, VIEW_CODES[view].code_meaning) == (code.value, code.meaning), view
        assert VIEW_CODES[view].coding_scheme_designator == code.scheme_designator


def test_non_ascii_text_round_trips(tmp_path: Path, frame: np.ndarray) -> None:
    meta = human(patient_name="张^三=チョウ^サン", institution_name="Klinik Süd", study_description="胸部 正位")
    _core.write_dicom(tmp_path / "u.dcm", frame, meta)
    ds = pydicom.dcmread(tmp_path / "u.dcm")
    assert str(ds.PatientName) == "张^三=チョウ^サン"
    assert ds.InstitutionName == "Klinik Süd"
    assert ds.StudyDescription == "胸部 正位"
    errors, _ = dciodvfy(tmp_path / "u.dcm")
    assert errors == []


def test_strided_and_read_only_arrays(tmp_path: Path, frame: np.ndarray) -> None:
    view = frame.T  # not C-contiguous
    ro = frame.copy()
    ro.flags.writeable = False
    for name, arr in [("t", view), ("ro", ro), ("step", frame[::2, ::3])]:
        for ts in ("explicit", "rle"):
            path = tmp_path / f"{name}-{ts}.dcm"
            _core.write_dicom(path, arr, human(), ts)
            np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, arr)


def test_overwrites_atomically_and_reports_io_errors(tmp_path: Path, frame: np.ndarray) -> None:
    path = tmp_path / "x.dcm"
    _core.write_dicom(path, frame, human())
    _core.write_dicom(path, frame[:100], human())
    assert pydicom.dcmread(path).Rows == 100
    assert [p.name for p in tmp_path.iterdir()] == ["x.dcm"]  # no temporary left behind
    with pytest.raises(OSError, match="no-such-dir"):
        _core.write_dicom(tmp_path / "no-such-dir" / "x.dcm", frame, human())


# --- bad input ---------------------------------------------------------------------------------


def test_missing_uids_are_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"sop_instance_uid|study_instance_uid|series_instance_uid"):
        DxMetadata(patient_name="X")  # type: ignore[call-arg]


@pytest.mark.parametrize("bad", ["", "1..2", "1.02.3", "1.2.a", "1." * 40])
def test_invalid_uid_is_a_value_error(bad: str) -> None:
    uids = {k: _core.generate_uid() for k in ("sop_instance_uid", "series_instance_uid")}
    with pytest.raises(ValueError, match="study_instance_uid"):
        DxMetadata(study_instance_uid=bad, **uids)


def test_invalid_uid_is_rejected_by_the_writer_too(tmp_path: Path, frame: np.ndarray) -> None:
    """A metadata object that skipped __post_init__ (e.g. built with msgspec.structs.replace of
    a foreign type) still cannot produce an invalid file."""

    meta = human()
    fake = type("Fake", (), {f: getattr(meta, f) for f in meta.__struct_fields__})()
    fake.series_instance_uid = "1.2.03"
    with pytest.raises(ValueError, match="series_instance_uid"):
        _core.write_dicom(tmp_path / "x.dcm", frame, fake)
    with pytest.raises(TypeError, match="sop_instance_uid"):
        _core.write_dicom(tmp_path / "x.dcm", frame, object())


@pytest.mark.parametrize(
    "arr, exc, msg",
    [
        (np.zeros((64, 64), np.float32), TypeError, "uint16"),
        (np.zeros((64, 64), np.int16), TypeError, "uint16"),
        (np.zeros((64, 64), ">u2"), TypeError, "uint16"),
        ([[1, 2], [3, 4]], TypeError, "numpy.ndarray"),
        (np.zeros((2, 64, 64), np.uint16), ValueError, "2-D"),
        (np.zeros(64, np.uint16), ValueError, "2-D"),
        (np.zeros((0, 64), np.uint16), ValueError, "empty"),
        (np.zeros((70000, 1), np.uint16), ValueError, "65535"),
    ],
)
def test_bad_arrays(tmp_path: Path, arr: object, exc: type[Exception], msg: str) -> None:
    with pytest.raises(exc, match=msg):
        _core.write_dicom(tmp_path / "x.dcm", arr, human())  # type: ignore[arg-type]
    assert not (tmp_path / "x.dcm").exists()


@pytest.mark.parametrize(
    "over, field",
    [
        (dict(patient_birth_date="1970-01-01"), "patient_birth_date"),
        (dict(study_time="25:00"), "study_time"),
        (dict(patient_age="56"), "patient_age"),
        (dict(patient_sex="X"), "patient_sex"),
        (dict(image_laterality="Q"), "image_laterality"),
        (dict(patient_orientation=("L", "Q")), "patient_orientation"),
        (dict(patient_orientation=("L",)), "patient_orientation"),
        (dict(accession_number="A" * 17), "accession_number"),
        (dict(patient_id="P" * 65), "patient_id"),
        (dict(body_part_examined="chest"), "body_part_examined"),
        (dict(image_type=("ORIGINAL",)), "image_type"),
        (dict(image_type=("FOO", "PRIMARY")), "image_type"),
        (dict(window_width=0.0), "window_width"),
        (dict(window_width=None), "window_width"),
        (dict(kvp=float("nan")), "kvp"),
        (dict(exposure_mas=-1.0), "exposure_mas"),
        (dict(imager_pixel_spacing=(0.0, 0.1)), "imager_pixel_spacing"),
        (dict(bits_stored=8), "bits_stored"),
        (dict(bits_stored=12), "bits_stored"),  # the 14-bit frame does not fit in 12 bits
        (dict(patient_name="A\\B"), "patient_name"),
        (dict(specific_character_set="", patient_name="Müller"), "patient_name"),
        (dict(anatomic_region=Code(code_value="", code_meaning="Chest")), "anatomic_region"),
        (dict(responsible_person="Smith^John"), "responsible_person"),
        (dict(detector_type="CMOS"), "detector_type"),
        (dict(photometric_interpretation="RGB"), "photometric_interpretation"),
        (dict(instance_number=2**40), "instance_number"),
    ],
)
def test_bad_metadata_names_the_field(tmp_path: Path, frame: np.ndarray, over: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _core.write_dicom(tmp_path / "x.dcm", frame, human(**over))
    assert not (tmp_path / "x.dcm").exists()


def test_bad_vet_metadata(tmp_path: Path, frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="responsible_person_role"):
        _core.write_dicom(tmp_path / "x.dcm", frame, vet(responsible_person_role=""))
    with pytest.raises(ValueError, match="patient_sex_neutered"):
        _core.write_dicom(tmp_path / "x.dcm", frame, vet(patient_sex_neutered="YES"))


def test_bad_intent_and_transfer_syntax(tmp_path: Path, frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="presentation_intent"):
        human(presentation_intent="FOR VIEWING")
    with pytest.raises(ValueError, match="transfer_syntax"):
        _core.write_dicom(tmp_path / "x.dcm", frame, human(), "jpeg")


# --- a real peer ---------------------------------------------------------------------------------


@pytest.fixture
def storescp(tmp_path: Path):
    assert STORESCP, "storescp missing: run ./scripts/setup (Debian package dcmtk)"
    port = free_port()
    out = tmp_path / "received"
    out.mkdir()
    # +xa: accept every transfer syntax DCMTK supports, RLE Lossless included. (storescp 3.6.7
    # has no option to bind one address; the test only ever connects to 127.0.0.1.)
    proc = subprocess.Popen(
        [STORESCP, "+xa", "-aet", "STORESCP", "-od", str(out), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        output = proc.communicate()[0].decode(errors="replace")
        pytest.fail(f"storescp did not start on port {port} (exit {proc.returncode}): {output[-2000:]}")
    try:
        yield port, out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("ts", ["explicit", "rle"])
def test_dcmtk_storescp_accepts_the_file(tmp_path: Path, storescp, ts: str) -> None:
    from pynetdicom import AE

    port, out = storescp
    img = synthetic_frame(1024, 768, seed=3)
    meta = human()
    path = tmp_path / f"send-{ts}.dcm"
    _core.write_dicom(path, img, meta, ts)

    ae = AE(ae_title="DROS")
    # One context with exactly the file's transfer syntax: the peer cannot pick another one.
    ae.add_requested_context(DigitalXRayImageStorageForPresentation, [TS_UID[ts]])
    assoc = ae.associate("127.0.0.1", port, ae_title="STORESCP")
    assert assoc.is_established
    try:
        status = assoc.send_c_store(path)
    finally:
        assoc.release()
    assert status.Status == 0x0000

    received = list(out.iterdir())
    assert len(received) == 1
    ds = pydicom.dcmread(received[0])
    assert ds.file_meta.TransferSyntaxUID == TS_UID[ts]
    assert ds.SOPInstanceUID == meta.sop_instance_uid
    np.testing.assert_array_equal(ds.pixel_array, img)
    errors, _ = dciodvfy(received[0])
    assert errors == []
