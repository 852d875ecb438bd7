"""`DxMetadata` exists twice: the msgspec Struct callers fill (python/dros/dx_metadata.py) and the
Rust struct the DX writer extracts attribute by attribute (rust_core/src/dicom/dx/mod.rs). A field
added on one side only is either an AttributeError at write time or, worse, a value silently
never written. This test keeps the two field lists, their order and their optionality equal."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import msgspec

from dros.dx_metadata import Code, DxMetadata

RUST_DX = Path(__file__).resolve().parents[2] / "rust_core" / "src" / "dicom" / "dx" / "mod.rs"


def rust_fields(struct: str) -> list[tuple[str, str]]:
    text = RUST_DX.read_text()
    body = re.search(r"pub struct " + struct + r" \{(.*?)\n\}", text, re.S)
    assert body, f"struct {struct} not found in {RUST_DX}"
    return re.findall(r"^\s*pub (\w+): ([^,]+),", body.group(1), re.M)


def python_optional(annotation: object) -> bool:
    return type(None) in typing.get_args(annotation)


def test_dx_metadata_fields_match_the_rust_writer() -> None:
    rust = rust_fields("DxMetadata")
    python = msgspec.structs.fields(DxMetadata)
    assert [name for name, _ in rust] == [f.name for f in python]
    hints = typing.get_type_hints(DxMetadata)
    for name, rust_type in rust:
        assert rust_type.startswith("Option<") == python_optional(hints[name]), name


def test_code_item_fields_match() -> None:
    # read by name, so only the set matters here
    assert {name for name, _ in rust_fields("CodeItem")} == {f.name for f in msgspec.structs.fields(Code)}
