"""Checks the shipped translation modules and the option catalogue against the seed document.

The translation files are JavaScript ES modules (`export default { 'key': 'text', ... };`) with
single-quoted strings and `//` comments, so they are not JSON; the small parser below reads exactly
that subset and rejects anything else, so a malformed file fails here rather than in the browser.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ZH_JS = REPO / "python" / "dros" / "i18n" / "zh_CN" / "zh.js"
EN_JS = REPO / "python" / "dros" / "i18n" / "en_US" / "en.js"
OPTIONS_TOML = REPO / "python" / "dros" / "domain" / "resource" / "options.toml"
SEED_DIR = REPO.parent / "shared" / "seed"
SEED_FILE = SEED_DIR / "000_73829cc51c6b5555.txt"
SEED_ZH_LINE = 19  # 1-based; the seed prints the whole zh.js module on this one line

PRODUCTS = {"DROS", "VETDROS"}


@dataclass(frozen=True)
class Item:
    kind: str  # "entry" (active), "commented" (a `// 'k': 'v',` line) or "comment" (section comment)
    key: str
    text: str


_STRING = r"'((?:[^'\\\n]|\\.)*)'"
_KEY = rf"(?:{_STRING}|([A-Za-z_$][A-Za-z0-9_$]*))"
_ENTRY_RE = re.compile(rf"\s*{_KEY}\s*:\s*{_STRING}\s*(,?)")
_WS_RE = re.compile(r"\s*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw)


def parse_js_module(text: str, *, one_line: bool = False) -> list[Item]:
    """Parses `export default { ... };` into its entries and comments, in file order.

    With one_line=True the input is the seed's flattened copy of the module, where every comment
    shares the line with the code after it: a comment is then either one commented-out entry
    (`// 'k': 'v',`) or a section label that runs up to the next quote.
    """
    head = re.match(r"\s*export\s+default\s*\{", text)
    assert head, "module must start with `export default {`"
    pos = head.end()
    items: list[Item] = []
    while True:
        pos = _WS_RE.match(text, pos).end()
        if text.startswith("//", pos):
            pos += 2
            if one_line:
                m = _ENTRY_RE.match(text, pos)
                if m:
                    key = _unescape(m.group(1)) if m.group(1) is not None else m.group(2)
                    items.append(Item("commented", key, _unescape(m.group(3))))
                    pos = m.end()
                    continue
                end = text.find("'", pos)
                assert end != -1, f"unterminated comment at offset {pos}"
            else:
                end = text.find("\n", pos)
                end = len(text) if end == -1 else end
            body = text[pos:end].strip()
            m = _ENTRY_RE.fullmatch(body)
            if m:
                key = _unescape(m.group(1)) if m.group(1) is not None else m.group(2)
                items.append(Item("commented", key, _unescape(m.group(3))))
            else:
                items.append(Item("comment", "", body))
            pos = end
            continue
        if text.startswith("}", pos):
            tail = text[pos + 1 :].strip()
            assert tail in ("", ";"), f"unexpected text after the object: {tail[:40]!r}"
            return items
        m = _ENTRY_RE.match(text, pos)
        assert m, f"cannot parse entry at offset {pos}: {text[pos : pos + 60]!r}"
        key = _unescape(m.group(1)) if m.group(1) is not None else m.group(2)
        items.append(Item("entry", key, _unescape(m.group(3))))
        pos = m.end()
        if not m.group(4):  # no comma: only the closing brace may follow
            after = _WS_RE.match(text, pos).end()
            assert text.startswith("}", after), f"missing comma after {key!r}"


def active(items: list[Item]) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items:
        if it.kind == "entry":
            assert it.key not in out, f"key defined twice: {it.key}"
            out[it.key] = it.text
    return out


@pytest.fixture(scope="module")
def seed_items() -> list[Item]:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed folder {SEED_DIR} is absent; the reference zh.js cannot be read")
    line = SEED_FILE.read_text(encoding="utf-8").splitlines()[SEED_ZH_LINE - 1]
    return parse_js_module(line, one_line=True)


@pytest.fixture(scope="module")
def zh_items() -> list[Item]:
    return parse_js_module(ZH_JS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def en_items() -> list[Item]:
    return parse_js_module(EN_JS.read_text(encoding="utf-8"))


# --- the parser itself: a checker that accepts anything would make every test below vacuous ---


def test_parser_reads_both_layouts_and_rejects_garbage():
    multi = "export default {\n  a: 'x',\n  // Section\n  // 'b.c': 'it\\'s',\n  'd.e': 'y',\n};\n"
    assert parse_js_module(multi) == [
        Item("entry", "a", "x"),
        Item("comment", "", "Section"),
        Item("commented", "b.c", "it's"),
        Item("entry", "d.e", "y"),
    ]
    flat = "export default { a: 'x', // Section 'd.e': 'y', // 'b': 'z', f: 'w', };"
    assert [i.kind for i in parse_js_module(flat, one_line=True)] == ["entry", "comment", "entry", "commented", "entry"]
    for bad in (
        "{ a: 'x' }",
        'export default { a: "x" };',
        "export default { a: 'x' b: 'y' };",
        "export default { a: 'x', ; };",
        "export default { a: 'x', }; extra",
    ):
        with pytest.raises(AssertionError):
            parse_js_module(bad)


def test_seed_reference_has_the_documented_shape(seed_items):
    keys = active(seed_items)
    assert len(keys) == 180
    assert sum(i.kind == "commented" for i in seed_items) == 12
    assert sum(i.kind == "comment" for i in seed_items) == 8
    assert keys["worklistTable.patientId"] == "患者编号22"


# --- zh.js ---


def test_zh_matches_seed_exactly(seed_items, zh_items):
    zh = active(zh_items)
    seed = active(seed_items)
    assert set(zh) == set(seed), (sorted(set(seed) - set(zh)), sorted(set(zh) - set(seed)))
    assert {k: v for k, v in zh.items() if seed[k] != v} == {}
    # Order, commented-out entries and section comments too: the file is the seed, re-laid out.
    assert zh_items == seed_items


def test_zh_is_one_entry_per_line():
    lines = ZH_JS.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "export default {" and lines[-1] == "};"
    for line in lines[1:-1]:
        assert line.startswith("  ") and (line.endswith(",") or line.lstrip().startswith("//")), line


# --- en.js ---


# Keys that are themselves the English word (the patient_size values), so key == text is correct.
SELF_NAMED = {"Small", "Medium", "Large"}
PLACEHOLDERS = {
    "",
    "todo",
    "tbd",
    "fixme",
    "xxx",
    "placeholder",
    "lorem ipsum",
    "...",
    "?",
    "-",
    "n/a",
    "text",
    "label",
    "translation",
    "untranslated",
}


def test_en_has_same_layout_as_zh(zh_items, en_items):
    assert [(i.kind, i.key) for i in en_items] == [(i.kind, i.key) for i in zh_items]
    assert [i.text for i in en_items if i.kind == "comment"] == [i.text for i in zh_items if i.kind == "comment"]


def test_en_values_are_real_english(zh_items, en_items):
    zh = {i.key: i.text for i in zh_items if i.kind != "comment"}
    for it in en_items:
        if it.kind == "comment":
            continue
        v = it.text
        assert v and v == v.strip(), (it.key, v)
        assert all(32 <= ord(c) < 127 for c in v), (it.key, v)
        assert v.lower() not in PLACEHOLDERS and "todo" not in v.lower(), (it.key, v)
        if it.key not in SELF_NAMED:
            assert v != it.key, f"{it.key}: untranslated fallback"
        assert v != zh[it.key], it.key
        if it.key.endswith(".placeholder"):
            assert v.startswith(("Enter ", "Select ")), (it.key, v)


def test_en_spot_values(en_items):
    en = active(en_items)
    assert en["workstation.table"] == "Table"
    assert en["bin.diskCapacity"] == "Disk capacity:"
    assert en["greeting"] == "Hello, world!"
    assert en["name"] == "John Doe"
    # Labels that end in a colon in Chinese keep it in English.
    zh_colon = {"bin.diskCapacity", "bin.freeSpace", "bin.binCapacity"}
    assert {k for k, v in en.items() if v.endswith(":")} == zh_colon


# --- options.toml ---


@pytest.fixture(scope="module")
def options() -> dict:
    with OPTIONS_TOML.open("rb") as fh:
        return tomllib.load(fh)


def test_options_shape(options):
    assert set(options) == {"basic", "apr_cbo"}
    for group, flags in options.items():
        assert isinstance(flags, dict) and flags, group
        for flag, opts in flags.items():
            assert isinstance(opts, list) and opts, (group, flag)
            values = [o["value"] for o in opts]
            assert len(values) == len(set(values)), (group, flag, values)
            for o in opts:
                assert set(o) <= {"value", "text_en", "text_zh", "products"}, (group, flag, o)
                for field in ("value", "text_en", "text_zh"):
                    assert isinstance(o.get(field), str) and o[field].strip(), (group, flag, o)
                assert all(32 <= ord(c) < 127 for c in o["value"]), o
                if "products" in o:
                    assert o["products"] and set(o["products"]) <= PRODUCTS, o


def test_options_flags(options):
    assert set(options["basic"]) == {
        "sex_full",
        "sex",
        "patient_size",
        "pregnancy_status",
        "study_type",
        "study_status",
        "sex_neutered",
        "work_station",
        "laterality",
        "view_position",
        "age_unit",
        "priority",
    }
    assert set(options["apr_cbo"]) == {
        "focus",
        "grid",
        "aec_field",
        "kv_step",
        "density",
        "patient_size",
        "work_station",
        "exposure_mode",
    }
    assert "patient_type" not in options["basic"]  # comes from the protocol catalogue


def _values(options, group, flag, product=None):
    return [o["value"] for o in options[group][flag] if product is None or product in o.get("products", PRODUCTS)]


def test_options_use_the_api_spellings(options):
    assert _values(options, "basic", "sex") == ["M", "F", "O", "U"]
    assert _values(options, "basic", "sex_full", "DROS") == ["M", "F", "O", "U"]
    assert _values(options, "basic", "sex_full", "VETDROS") == ["M", "F", "O", "U", "CM", "SF"]
    assert _values(options, "basic", "pregnancy_status") == ["0001", "0002", "0003", "0004"]
    assert _values(options, "basic", "study_type") == ["Normal", "Emergency"]
    assert _values(options, "basic", "study_status") == ["Arrived", "InProgress", "Completed"]
    assert _values(options, "basic", "sex_neutered") == ["ALTERED", "UNALTERED"]
    assert _values(options, "basic", "work_station") == ["0", "1"]
    assert set(_values(options, "basic", "laterality")) == {"L", "R", "B", "U"}
    assert set(_values(options, "basic", "age_unit")) == {"D", "W", "M", "Y"}
    assert {"AP", "LAT", "Axial", "OBL"} <= set(_values(options, "basic", "view_position"))
    assert "Medium" in _values(options, "basic", "priority")  # the send queue's observed value
    for group in ("basic", "apr_cbo"):
        assert _values(options, group, "patient_size") == ["Small", "Medium", "Large", "Paediatric"]
    assert _values(options, "apr_cbo", "work_station") == _values(options, "basic", "work_station")
    assert "010" in _values(options, "apr_cbo", "aec_field")  # the APR examples' AECField
    assert all(re.fullmatch(r"[01]{3}", v) and v != "000" for v in _values(options, "apr_cbo", "aec_field"))
    assert "0" in _values(options, "apr_cbo", "density")  # the APR examples' AECDensity
    assert "0" in _values(options, "apr_cbo", "focus") and "0" in _values(options, "apr_cbo", "exposure_mode")
    for v in _values(options, "apr_cbo", "kv_step"):
        assert float(v) > 0


def test_product_specific_options(options):
    human_only = {("basic", "pregnancy_status")}
    vet_only = {("basic", "sex_neutered")}
    for group, flag in human_only | vet_only:
        want = ["DROS"] if (group, flag) in human_only else ["VETDROS"]
        assert all(o.get("products") == want for o in options[group][flag]), (group, flag)
    vet_sex = [o for o in options["basic"]["sex_full"] if o["value"] in ("CM", "SF")]
    assert [o.get("products") for o in vet_sex] == [["VETDROS"], ["VETDROS"]]


def test_options_agree_with_the_translation_files(options, zh_items, en_items):
    zh, en = active(zh_items), active(en_items)
    sizes = {o["value"]: o for o in options["basic"]["patient_size"]}
    for size in ("Small", "Medium", "Large"):
        assert sizes[size]["text_zh"] == zh[size] and sizes[size]["text_en"] == en[size]
    ws = {o["value"]: o for o in options["basic"]["work_station"]}
    assert ws["0"]["text_zh"] == zh["workstation.table"] and ws["0"]["text_en"] == en["workstation.table"]
    assert ws["1"]["text_zh"] == zh["workstation.wall"]
    sex = {o["value"]: o for o in options["basic"]["sex"]}
    assert sex["M"]["text_zh"] == zh["register.gender.male"] and sex["F"]["text_zh"] == zh["register.gender.female"]
