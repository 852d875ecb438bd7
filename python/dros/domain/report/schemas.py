"""Report bodies as the seed shapes them (§13.1, §13.2) and the reply of a save."""

from __future__ import annotations

from typing import Annotated

import msgspec

Line = Annotated[str, msgspec.Meta(max_length=128)]
ShortLine = Annotated[str, msgspec.Meta(max_length=32)]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]


class ReportHeaders(msgspec.Struct, kw_only=True):
    """The source marks every field required although some are human-only (medical record, inpatient
    and bed numbers) or pet-only (`patient_type`, `owner_name`): each may be left out (empty).
    `name` is declared an object by the source while its example is a string: a string it is."""

    name: Line = ""
    sex: ShortLine = ""
    age: ShortLine = ""
    medical_record_number: Line = ""
    hospitalization_number: Line = ""
    bed_number: Line = ""
    requesting_department: Line = ""
    inspection_number: Line = ""
    inspection_method: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    patient_type: Line = ""
    owner_name: Line = ""


class ReportContent(msgspec.Struct, kw_only=True):
    headers: ReportHeaders
    findings: Text
    impression: Text
    radiologist: Line
    review_physician: Line


class ReportPreviewBody(ReportContent, kw_only=True):
    """`study_id` (an addition to the source's fields): when given, the page shows the study's date
    and its accepted images, as the saved report will."""

    study_id: Annotated[str, msgspec.Meta(max_length=32)] = ""


class ReportSaved(msgspec.Struct, kw_only=True):
    """The seed answers `data: {}`; the new version and its DICOM file are added for the client."""

    version: int
    path: str
    sop_instance_uid: str
