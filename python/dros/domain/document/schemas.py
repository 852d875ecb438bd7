"""Bodies and replies of `study/portrait` and `image/post_proc` (API.md §11.8, §12.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile

Uid = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


class PortraitBody(msgspec.Struct):
    # the seed describes it as the study id while its example looks like a UID: a study_id, a
    # Study Instance UID and the SOP Instance UID of one of the study's images are all accepted
    instance_uid: Uid
    data: str  # PNG as base64, optionally a data: URL


@dataclass
class PostProcForm:
    """multipart/form-data with the seed's field names; `window_wdith` is the seed's spelling,
    `window_width` is accepted as well."""

    instance_uid: str
    data: UploadFile
    window_center: Int32
    window_wdith: Int32 | None = None
    window_width: Int32 | None = None


class DcmPath(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default="type.googleapis.com/dr.task.DcmPath", name="@type")
    path: str
