"""The Request Attributes Sequence item of an image (IHE Scheduled Workflow: the modality worklist
order the image fulfils) from the order kept with its study (the worklist entry registered, stored
as JSON in `worklist_study.entry_json` in the shape of the worklist API's entries)."""

from __future__ import annotations

from typing import Any

import msgspec

from dros.dx_metadata import Code, RequestAttributes


def _code(c: Any) -> Code | None:
    """A code the DX writer can carry (Code Value and Coding Scheme Designator SH, Code Meaning LO,
    all three present); others are left out rather than failing the image."""
    if not isinstance(c, dict):
        return None
    value, scheme, meaning = (str(c.get(k) or "") for k in ("code_value", "coding_scheme", "code_meaning"))
    if not (value and scheme and meaning) or len(value) > 16 or len(scheme) > 16 or len(meaning) > 64:
        return None
    return Code(code_value=value, coding_scheme_designator=scheme, code_meaning=meaning)


def request_attributes(entry_json: str | None) -> tuple[RequestAttributes, ...]:
    """One item for a study registered from the worklist; none for an unscheduled study, or for an
    order without its Requested Procedure ID or Scheduled Procedure Step ID (both are Type 1C in the
    item)."""
    if not entry_json:
        return ()
    entry = msgspec.json.decode(entry_json)
    step = entry.get("scheduled_step") or {}
    rp_id, sps_id = str(entry.get("requested_procedure_id") or ""), str(step.get("step_id") or "")
    if not rp_id or not sps_id:
        return ()
    requested = [c for c in map(_code, entry.get("requested_procedure_codes") or []) if c is not None]
    protocol = tuple(c for c in map(_code, step.get("protocol_codes") or []) if c is not None)
    return (
        RequestAttributes(
            requested_procedure_id=rp_id[:16],
            scheduled_procedure_step_id=sps_id[:16],
            accession_number=str(entry.get("accession_number") or "")[:16],
            requested_procedure_description=str(entry.get("requested_procedure_description") or "")[:64],
            requested_procedure_code=requested[0] if requested else None,
            scheduled_procedure_step_description=str(step.get("description") or "")[:64],
            scheduled_protocol_codes=protocol,
        ),
    )
