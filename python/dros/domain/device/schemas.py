"""Request bodies of §14. `reqParam`, `reqTransaction` and `reqClientID` are optional (empty by default):
§17 item 73 leaves them open; they are logged and echoed in the device events for correlation."""

from __future__ import annotations

from typing import Annotated

import msgspec


class DeviceOpen(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    deviceUri: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class DeviceRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    deviceUri: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    reqName: Annotated[str, msgspec.Meta(max_length=64)] = ""
    reqParam: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    reqTransaction: Annotated[str, msgspec.Meta(max_length=128)] = ""
    reqClientID: Annotated[str, msgspec.Meta(max_length=128)] = ""


class AprParam(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`SetAPR`'s reqParam (a JSON object in the string): the APR (or a view, whose APR is taken), the
    patient size and the work station of the exposure row to load."""

    apr_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    view_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    patient_size: Annotated[str, msgspec.Meta(max_length=16)] = "Medium"
    work_station_id: Annotated[int, msgspec.Meta(ge=0, le=9)] | None = None
