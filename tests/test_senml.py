"""SenML decoder and encoder of the C core against json + an independent
RFC 8428 resolver written here (the oracle)."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import m2mfota
from m2mfota import senml
from m2mfota._errors import ERR
from m2mfota._native import lib

VERSION = 10
EXT_DEPTH = lib.MFOTA_SENML_EXT_DEPTH_MAX

# ---- the oracle: RFC 8428 section 4.6 resolution over json.loads output ---------

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*\Z")
STR_FIELDS = {"bn", "bu", "n", "u", "vs", "vd"}
NUM_FIELDS = {"bt", "bv", "bs", "bver", "v", "s", "t", "ut"}
VALUE_FIELDS = ("v", "vs", "vb", "vd")
KNOWN = STR_FIELDS | NUM_FIELDS | {"vb"}


class Expected(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


def depth(x) -> int:
    """Levels of arrays/objects in a JSON value (0 for a scalar)."""
    if isinstance(x, list):
        return 1 + max(map(depth, x), default=0)
    if isinstance(x, dict):
        return 1 + max(map(depth, x.values()), default=0)
    return 0


def is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def resolve(pack, lenient: bool = False):
    """What RFC 8428 says a pack resolves to; raises Expected(code)."""
    if not isinstance(pack, list):
        raise Expected("MFOTA_ERR_SENML_TYPE")
    base = {}
    out = []
    for rec in pack:
        if not isinstance(rec, dict):
            raise Expected("MFOTA_ERR_SENML_TYPE")
        values = []
        for key, val in rec.items():
            if key not in KNOWN:
                # RFC 8428 4.4: ignored whatever the value, up to the skip depth
                if depth(val) > EXT_DEPTH:
                    raise Expected("MFOTA_ERR_SENML_DEPTH")
                if key.endswith("_"):
                    raise Expected("MFOTA_ERR_SENML_MUST_UNDERSTAND")
                continue
            if key == "v" and lenient and isinstance(val, str):
                pass
            elif key in STR_FIELDS and not isinstance(val, str):
                raise Expected("MFOTA_ERR_SENML_TYPE")
            elif key in NUM_FIELDS and not is_num(val):
                raise Expected("MFOTA_ERR_SENML_TYPE")
            elif key == "vb" and not isinstance(val, bool):
                raise Expected("MFOTA_ERR_SENML_TYPE")
            if key == "bver":
                if not (val >= 1 and val == int(val)):
                    raise Expected("MFOTA_ERR_SENML_RANGE")
                if val > VERSION:
                    raise Expected("MFOTA_ERR_SENML_BVER")
            if key in VALUE_FIELDS:
                values.append(key)
                if len(values) > 1:
                    raise Expected("MFOTA_ERR_SENML_TWO_VALUES")
        for key in ("bn", "bt", "bu", "bv", "bs"):
            if key in rec:
                base[key] = rec[key]
        has_value = bool(values) or "s" in rec
        if not has_value and (
            any(k in rec for k in ("n", "u", "t", "ut"))
            or not any(k in rec for k in ("bn", "bt", "bu", "bv", "bs", "bver"))
        ):
            raise Expected("MFOTA_ERR_SENML_NO_VALUE")
        name = base.get("bn", "") + rec.get("n", "")
        if (has_value and not name) or (name and not NAME_RE.match(name)):
            raise Expected("MFOTA_ERR_SENML_NAME")
        if not has_value:
            continue
        r = {"n": name}
        if "u" in rec:
            r["u"] = rec["u"]
        elif "bu" in base:
            r["u"] = base["bu"]
        if "v" in rec and isinstance(rec["v"], str):
            r["vs"] = rec["v"]
        elif "v" in rec:
            r["v"] = float(base.get("bv", 0)) + float(rec["v"]) if "bv" in base else float(rec["v"])
        for key in ("vs", "vb", "vd"):
            if key in rec:
                r[key] = rec[key]
        if "s" in rec:
            r["s"] = float(base["bs"]) + float(rec["s"]) if "bs" in base else float(rec["s"])
        if "t" in rec or "bt" in base:
            if "bt" in base:
                r["t"] = float(base["bt"]) + float(rec.get("t", 0))
            else:
                r["t"] = float(rec["t"])
        if "ut" in rec:
            r["ut"] = float(rec["ut"])
        if any(math.isinf(r.get(k, 0.0)) for k in ("v", "s", "t")):
            raise Expected("MFOTA_ERR_SENML_RANGE")
        out.append(r)
    return out


def check_against_oracle(text: str | bytes, pack, lenient: bool = False) -> None:
    try:
        expected = resolve(pack, lenient)
    except Expected as e:
        with pytest.raises(m2mfota.SenMLError) as info:
            senml.loads(text, lenient=lenient)
        assert info.value.code == e.code
        return
    assert senml.loads(text, lenient=lenient) == expected


# ---- strategies --------------------------------------------------------------------

name_start = st.sampled_from("abcxyzABZ019")
name_rest = st.text(alphabet="abcXYZ0189-:./_", max_size=8)
names = st.builds(lambda a, b: a + b, name_start, name_rest)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)


scalars = st.one_of(numbers, texts, st.booleans(), st.none())
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def deep_values(draw):
    """A value nested around the skip depth, arrays and objects mixed."""
    value = draw(json_values)
    for _ in range(draw(st.integers(EXT_DEPTH - 2, EXT_DEPTH + 1))):
        value = [value] if draw(st.booleans()) else {draw(texts): value}
    return value


@st.composite
def records(draw, allow_errors=False):
    rec = {}
    if draw(st.booleans()):
        rec["bn"] = draw(names)
    for key in ("bt", "bv", "bs"):
        if draw(st.integers(0, 4)) == 0:
            rec[key] = draw(numbers)
    if draw(st.integers(0, 4)) == 0:
        rec["bu"] = draw(texts)
    if draw(st.integers(0, 6)) == 0:
        rec["bver"] = draw(st.integers(1, 12 if allow_errors else VERSION))
    if draw(st.integers(0, 5)) > 0:
        rec["n"] = draw(names)
    if draw(st.booleans()):
        rec["u"] = draw(texts)
    kind = draw(st.sampled_from(["v", "v", "vs", "vb", "vd", "none"]))
    if kind == "v":
        rec["v"] = draw(numbers)
    elif kind == "vs":
        rec["vs"] = draw(texts)
    elif kind == "vb":
        rec["vb"] = draw(st.booleans())
    elif kind == "vd":
        rec["vd"] = draw(st.text(alphabet="ABCabc012-_", max_size=8))
    if allow_errors and draw(st.integers(0, 9)) == 0:
        rec["vs"] = "second value"
    for key in ("s", "t", "ut"):
        if draw(st.integers(0, 3)) == 0:
            rec[key] = draw(numbers)
    if draw(st.integers(0, 5)) == 0:
        rec[draw(st.sampled_from(["foo", "x-y", "ext", "\u00e9t\u00e9", "a_b"]))] = draw(
            json_values
        )
    if allow_errors and draw(st.integers(0, 15)) == 0:
        rec["must_"] = draw(json_values)
    if allow_errors and draw(st.integers(0, 15)) == 0:
        rec["deep"] = draw(deep_values())
    keys = draw(st.permutations(list(rec)))
    return {k: rec[k] for k in keys}


packs = st.lists(records(), max_size=6)
ws = st.text(alphabet=" \t\r\n", max_size=3)


@st.composite
def random_json(draw, obj):
    """Serialise with random whitespace and random (valid) string escaping."""
    if isinstance(obj, dict):
        parts = [
            draw(ws) + draw(random_json(k)) + draw(ws) + ":" + draw(ws) + draw(random_json(v))
            + draw(ws)
            for k, v in obj.items()
        ]
        return "{" + (",".join(parts) if parts else draw(ws)) + "}"
    if isinstance(obj, list):
        parts = [draw(ws) + draw(random_json(v)) + draw(ws) for v in obj]
        return "[" + (",".join(parts) if parts else draw(ws)) + "]"
    if isinstance(obj, str):
        out = []
        for ch in obj:
            how = draw(st.integers(0, 3))
            if ch in '"\\' or ord(ch) < 0x20:
                how = 1 if how == 0 else how
            if how in (0, 2) and ch not in '"\\' and ord(ch) >= 0x20:
                out.append(ch)
            elif how == 1 or ord(ch) > 0xFFFF:
                out.append(json.dumps(ch, ensure_ascii=True)[1:-1])
            else:
                u = f"\\u{ord(ch):04x}"
                out.append(u.upper().replace("\\U", "\\u") if draw(st.booleans()) else u)
        return '"' + "".join(out) + '"'
    return json.dumps(obj)


# ---- properties --------------------------------------------------------------------


@given(pack=packs, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 1, "\t"]),
       seps=st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :"), (",\n", ":\t")]),
       lead=ws, trail=ws)
def test_json_dumps_packs_match_oracle(pack, ensure_ascii, indent, seps, lead, trail):
    text = lead + json.dumps(pack, ensure_ascii=ensure_ascii, indent=indent,
                             separators=seps) + trail
    check_against_oracle(text.encode("utf-8"), json.loads(text))


@given(data=st.data(), pack=packs)
def test_randomly_escaped_packs_match_oracle(data, pack):
    text = data.draw(random_json(pack))
    assert json.loads(text) == pack
    check_against_oracle(text.encode("utf-8"), pack)


@given(pack=st.lists(records(allow_errors=True), max_size=5))
def test_packs_with_errors_match_oracle(pack):
    text = json.dumps(pack)
    check_against_oracle(text, json.loads(text))


@given(pack=packs, lenient=st.booleans())
def test_lenient_reads_string_v_as_vs(pack, lenient):
    pack = [dict(r) for r in pack]
    for r in pack:
        if "vs" in r and "v" not in r:
            r["v"] = r.pop("vs")
    text = json.dumps(pack)
    check_against_oracle(text, json.loads(text), lenient=lenient)


dump_records = st.lists(
    st.fixed_dictionaries(
        {"n": names},
        optional={"u": texts, "s": numbers, "t": numbers, "ut": numbers},
    ).flatmap(
        lambda r: st.one_of(
            st.builds(lambda v: {**r, "v": v}, numbers),
            st.builds(lambda v: {**r, "vs": v}, texts),
            st.builds(lambda v: {**r, "vb": v}, st.booleans()),
            st.builds(lambda v: {**r, "vd": v}, st.text(alphabet="AZaz09-_", max_size=6)),
        )
    ),
    max_size=6,
)


@given(recs=dump_records, bn=st.one_of(st.none(), names), bt=st.one_of(st.none(), numbers))
def test_dumps_round_trips_through_json_loads(recs, bn, bt):
    raw = senml.dumps(recs, base_name=bn, base_time=bt)
    parsed = json.loads(raw)
    assert isinstance(parsed, list)
    body = [dict(r) for r in parsed]
    if bn is not None or bt is not None:
        first = body[0]
        assert first.pop("bn", None) == bn
        assert first.pop("bt", None) == (None if bt is None else float(bt))
        if not recs:
            assert body == [{}]
            return
    assert body == [{k: (float(v) if k in NUM_FIELDS else v) for k, v in r.items()} for r in recs]
    # and our own decoder resolves it as the oracle does
    check_against_oracle(raw, parsed)


@given(recs=dump_records)
def test_dumps_then_loads_is_identity_without_base(recs):
    assert senml.loads(senml.dumps(recs)) == [
        {k: (float(v) if k in NUM_FIELDS else v) for k, v in r.items()} for r in recs
    ]


def test_dumps_checks_the_resolved_name():
    assert senml.loads(senml.dumps([{"v": 1}], base_name="urn:x")) == [{"n": "urn:x", "v": 1.0}]
    assert senml.loads(senml.dumps([{"n": "-a", "v": 1}], base_name="x")) == [
        {"n": "x-a", "v": 1.0}
    ]
    for records, base in [([{"v": 1}], None), ([{"n": "-a", "v": 1}], None),
                          ([{"n": "a", "v": 1}], "-x"), ([{"n": "a", "v": 1}], "x y"),
                          ([{"n": "\u00e9", "v": 1}], "x")]:
        with pytest.raises(m2mfota.SenMLError) as info:
            senml.dumps(records, base_name=base)
        assert info.value.code == "MFOTA_ERR_SENML_NAME", (records, base)


def test_dumps_escapes_every_control_character():
    text = "".join(chr(c) for c in range(0x20)) + '"\\/\u00e9\U0001f600\x7f'
    raw = senml.dumps([{"n": "x", "vs": text}])
    assert all(b >= 0x20 for b in raw)
    assert json.loads(raw)[0]["vs"] == text
    assert senml.loads(raw)[0]["vs"] == text


@pytest.mark.parametrize(
    "records,code",
    [
        ([{"n": "a", "v": 1, "vs": "x"}], "MFOTA_ERR_SENML_TWO_VALUES"),
        ([{"n": "a"}], "MFOTA_ERR_SENML_NO_VALUE"),
        ([{"n": "a b", "v": 1}], "MFOTA_ERR_SENML_NAME"),
        ([{"n": "a", "v": float("nan")}], "MFOTA_ERR_SENML_RANGE"),
        ([{"n": "a", "v": float("inf")}], "MFOTA_ERR_SENML_RANGE"),
        ([{"n": "a", "v": 10**400}], "MFOTA_ERR_SENML_RANGE"),
        ([{"n": "a", "v": "1"}], "MFOTA_ERR_SENML_TYPE"),
        ([{"n": "a", "v": True}], "MFOTA_ERR_SENML_TYPE"),
        ([{"n": "a", "vb": 1}], "MFOTA_ERR_SENML_TYPE"),
        ([{"n": "a", "vs": "\ud800"}], "MFOTA_ERR_SENML_ENCODING"),
        ([{"n": "a", "v": 1, "x": 2}], "MFOTA_ERR_INVAL"),
        # found by fuzz/senml_fuzz.c: the encoder wrote what the decoder refuses
        ([{"n": "a", "vs": "x" * 2049}], "MFOTA_ERR_SENML_STR_TOO_LONG"),
        ([{"n": "a", "vd": "A" * 2049}], "MFOTA_ERR_SENML_STR_TOO_LONG"),
    ],
)
def test_dumps_refuses(records, code):
    with pytest.raises(m2mfota.SenMLError) as info:
        senml.dumps(records)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


# ---- RFC 8428 section 5 examples ----------------------------------------------------

RFC_SINGLE = '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]'
RFC_MULTI = """[
  {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
  {"n":"current","u":"A","v":1.2}
]"""
RFC_SERIES = """[
  {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
   "bu":"A","bver":5,
   "n":"voltage","u":"V","v":120.1},
  {"n":"current","t":-5,"v":1.2},
  {"n":"current","t":-4,"v":1.3},
  {"n":"current","t":-3,"v":1.4},
  {"n":"current","t":-2,"v":1.5},
  {"n":"current","t":-1,"v":1.6},
  {"n":"current","v":1.7}
]"""
RFC_TYPES = """[
  {"bn":"urn:dev:ow:10e2073a01080063:","n":"temperature","u":"Cel","v":23.1},
  {"n":"label","vs":"Machine Room"},
  {"n":"open","vb":false},
  {"n":"nfc-reader","vd":"aGkgCg"}
]"""


def test_rfc8428_single_datapoint():
    assert senml.loads(RFC_SINGLE) == [{"n": "urn:dev:ow:10e2073a01080063", "u": "Cel", "v": 23.1}]


def test_rfc8428_multiple_datapoints():
    assert senml.loads(RFC_MULTI) == [
        {"n": "urn:dev:ow:10e2073a01080063:voltage", "u": "V", "v": 120.1},
        {"n": "urn:dev:ow:10e2073a01080063:current", "u": "A", "v": 1.2},
    ]


def test_rfc8428_series_resolves_as_section_5_1_4():
    got = senml.loads(RFC_SERIES)
    base = "urn:dev:ow:10e2073a0108006:"
    # the RFC's resolved form (section 5.1.4), times as it prints them
    times = [1.276020076001e09, 1.276020071001e09, 1.276020072001e09, 1.276020073001e09,
             1.276020074001e09, 1.276020075001e09, 1.276020076001e09]
    values = [120.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7]
    assert [r["n"] for r in got] == [base + "voltage"] + [base + "current"] * 6
    assert [r["u"] for r in got] == ["V"] + ["A"] * 6
    assert [r["v"] for r in got] == values
    assert [r["t"] for r in got] == pytest.approx(times, rel=1e-15, abs=1e-6)


def test_rfc8428_multiple_data_types():
    base = "urn:dev:ow:10e2073a01080063:"
    assert senml.loads(RFC_TYPES) == [
        {"n": base + "temperature", "u": "Cel", "v": 23.1},
        {"n": base + "label", "vs": "Machine Room"},
        {"n": base + "open", "vb": False},
        {"n": base + "nfc-reader", "vd": "aGkgCg"},
    ]


def test_base_value_and_sum_are_added():
    pack = '[{"bn":"d:","bv":10,"bs":100,"n":"a","v":1,"s":2},{"n":"b","v":-3},{"n":"c","s":0.5}]'
    assert senml.loads(pack) == [
        {"n": "d:a", "v": 11.0, "s": 102.0},
        {"n": "d:b", "v": 7.0},
        {"n": "d:c", "s": 100.5},
    ]


def test_base_only_records_are_not_measurements():
    assert senml.loads('[{"bn":"urn:dev:IMEI:1:"},{"bver":10},{"n":"x","vb":true}]') == [
        {"n": "urn:dev:IMEI:1:x", "vb": True}
    ]
    got = list(senml.iter_records('[{"bn":"urn:a:","bt":5}]', base_only=True))
    assert got == [{"n": "urn:a:", "t": 5.0}]


def test_strings_are_slices_and_decode_every_escape():
    escaped = r'"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"'
    pack = '[{"n":"x","vs":' + escaped + "}]"
    assert senml.loads(pack)[0]["vs"] == json.loads(escaped)


# ---- every decoder error, with its offset ---------------------------------------------

ERRORS = [
    ("[", "MFOTA_ERR_SENML_SYNTAX", 1),
    ("", "MFOTA_ERR_SENML_SYNTAX", 0),
    ('[{"n":"a","v":1}', "MFOTA_ERR_SENML_SYNTAX", 16),
    ('[{"n":"a","v":1,}]', "MFOTA_ERR_SENML_SYNTAX", 16),
    ('[{"n":"a" "v":1}]', "MFOTA_ERR_SENML_SYNTAX", 10),
    ('[{"n":"a","v":01}]', "MFOTA_ERR_SENML_SYNTAX", 14),
    ('[{"n":"a","v":1.}]', "MFOTA_ERR_SENML_SYNTAX", 14),
    ('[{"n":"a","v":tru}]', "MFOTA_ERR_SENML_SYNTAX", 14),
    ('[{"n":"a\\x","v":1}]', "MFOTA_ERR_SENML_SYNTAX", 8),
    ('[{"n":"a\x01","v":1}]', "MFOTA_ERR_SENML_SYNTAX", 8),
    ('[{"n":"a","v":1}}', "MFOTA_ERR_SENML_SYNTAX", 16),
    ('{"n":"a","v":1}', "MFOTA_ERR_SENML_TYPE", 0),
    ('["a"]', "MFOTA_ERR_SENML_TYPE", 1),
    ('[{"n":1,"v":1}]', "MFOTA_ERR_SENML_TYPE", 6),
    ('[{"n":"a","v":"1"}]', "MFOTA_ERR_SENML_TYPE", 14),
    ('[{"n":"a","vb":1}]', "MFOTA_ERR_SENML_TYPE", 15),
    ('[{"n":"a","v":null}]', "MFOTA_ERR_SENML_TYPE", 14),
    ('[{"n":"a","v":1,"n":"b"}]', "MFOTA_ERR_SENML_DUPLICATE", 16),
    ('[{"n":"a","v":1e999}]', "MFOTA_ERR_SENML_RANGE", 14),
    ('[{"n":"a","v":1,"bver":0}]', "MFOTA_ERR_SENML_RANGE", 23),
    ('[{"n":"a","v":1,"bver":2.5}]', "MFOTA_ERR_SENML_RANGE", 23),
    ('[{"bv":1e308,"n":"a","v":1e308}]', "MFOTA_ERR_SENML_RANGE", 1),
    ('[{"bt":-1e308,"n":"a","v":1},{"n":"b","vb":true,"t":-1e308}]', "MFOTA_ERR_SENML_RANGE", 29),
    ('[{"n":"a b","v":1}]', "MFOTA_ERR_SENML_NAME", 1),
    ('[{"n":"-a","v":1}]', "MFOTA_ERR_SENML_NAME", 1),
    ('[{"v":1}]', "MFOTA_ERR_SENML_NAME", 1),
    ('[{"n":"a","v":[1]}]', "MFOTA_ERR_SENML_NESTING", 14),
    # three levels per '{"y":[1,{"z":' (13 bytes): the 9th level opens at 20 + 26 + 8
    ('[{"n":"a","v":1,"x":' + '{"y":[1,{"z":' * 3 + "1" + "}]}" * 3 + "}]",
     "MFOTA_ERR_SENML_DEPTH", 54),
    ('[{"n":"a","v":1,"x":{"y" 1}}]', "MFOTA_ERR_SENML_SYNTAX", 25),
    ('[{"n":"a","v":1,"x":[1,]}]', "MFOTA_ERR_SENML_SYNTAX", 23),
    ('[{"n":"a","v":1,"x":[1}]', "MFOTA_ERR_SENML_SYNTAX", 22),
    ('[{"n":"a","v":1,"x":{"y":1]}]', "MFOTA_ERR_SENML_SYNTAX", 26),
    ('[{"n":"a","v":1,"x":{1:2}}]', "MFOTA_ERR_SENML_SYNTAX", 21),
    ('[{"n":"a","v":1,"x":[tru]}]', "MFOTA_ERR_SENML_SYNTAX", 21),
    ('[{"n":"a","v":1,"x":[1', "MFOTA_ERR_SENML_SYNTAX", 22),
    ('[{"n":"a","v":1,"x_":{"y":1}}]', "MFOTA_ERR_SENML_MUST_UNDERSTAND", 16),
    ('[{"n":"a","v":1,"x_":[]}]', "MFOTA_ERR_SENML_MUST_UNDERSTAND", 16),
    ("[[]]", "MFOTA_ERR_SENML_NESTING", 1),
    ('[{"n":"a","v":1}] x', "MFOTA_ERR_SENML_TRAILING", 18),
    ('[{"n":"a","v":1}][]', "MFOTA_ERR_SENML_TRAILING", 17),
    ('[{"n":"a","v":1,"ext_":2}]', "MFOTA_ERR_SENML_MUST_UNDERSTAND", 16),
    ('[{"n":"a","v":1,"ext\\u005f":2}]', "MFOTA_ERR_SENML_MUST_UNDERSTAND", 16),
    ('[{"bver":11,"n":"a","v":1}]', "MFOTA_ERR_SENML_BVER", 9),
    ('[{"n":"a"}]', "MFOTA_ERR_SENML_NO_VALUE", 1),
    ('[{"n":"a","t":1}]', "MFOTA_ERR_SENML_NO_VALUE", 1),
    ("[{}]", "MFOTA_ERR_SENML_NO_VALUE", 1),
    ('[{"n":"a","v":1,"vs":"x"}]', "MFOTA_ERR_SENML_TWO_VALUES", 16),
    ('[{"n":"a","vb":true,"vd":"x"}]', "MFOTA_ERR_SENML_TWO_VALUES", 20),
    ('[{"n":"a","vs":"' + "x" * 2049 + '"}]', "MFOTA_ERR_SENML_STR_TOO_LONG", 15),
    ("[" + ",".join(['{"n":"a","v":1}'] * 1025) + "]", "MFOTA_ERR_SENML_TOO_MANY", 1 + 16 * 1024),
    ('[{"n":"a","vs":"\\udc00"}]', "MFOTA_ERR_SENML_ENCODING", 16),
    ('[{"n":"a","vs":"\\ud800x"}]', "MFOTA_ERR_SENML_ENCODING", 16),
    (b'[{"n":"a","vs":"\xff"}]', "MFOTA_ERR_SENML_ENCODING", 16),
    (b'[{"n":"a","vs":"\xc0\x80"}]', "MFOTA_ERR_SENML_ENCODING", 16),
    (b'[{"n":"a","vs":"\xed\xa0\x80"}]', "MFOTA_ERR_SENML_ENCODING", 16),
]


@pytest.mark.parametrize(
    "text,code,offset", ERRORS, ids=[f"{i}-{c[16:]}" for i, (_, c, _) in enumerate(ERRORS)]
)
def test_decoder_errors_and_offsets(text, code, offset):
    with pytest.raises(m2mfota.SenMLError) as info:
        senml.loads(text)
    assert (info.value.code, info.value.offset) == (code, offset)
    assert isinstance(info.value, ValueError)


def test_every_senml_error_code_has_a_test():
    tested = {code for _, code, _ in ERRORS}
    defined = {name for name in ERR if name.startswith("MFOTA_ERR_SENML_")}
    # Only the integer build (MFOTA_SENML_FLOAT 0) refuses a number as
    # inexact; the bindings use doubles.  tests/c/selftest_senml.c checks it
    # (test_senml_mcu.py runs that build on the host and on the Cortex-M4).
    assert defined - {"MFOTA_ERR_SENML_INEXACT"} == tested


def test_string_at_the_limit_is_accepted():
    assert senml.loads('[{"n":"a","vs":"' + "x" * 2048 + '"}]')[0]["vs"] == "x" * 2048
    # the limit counts decoded bytes, not escapes
    assert len(senml.loads('[{"n":"a","vs":"' + "\\u0041" * 2048 + '"}]')[0]["vs"]) == 2048


def test_many_records_in_constant_memory():
    n = 1024
    text = "[" + ",".join(f'{{"n":"r{i}","v":{i}}}' for i in range(n)) + "]"
    got = senml.loads(text)
    assert [r["v"] for r in got] == list(range(n))


# ---- numbers ------------------------------------------------------------------------


def same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1, a) == math.copysign(1, b)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_repr_of_every_double(x):
    assert same_float(senml.parse_number(repr(x)), x)
    assert same_float(senml.parse_number(f"{x:.17e}"), x)


@given(
    neg=st.booleans(),
    intpart=st.text(alphabet="0123456789", min_size=1, max_size=30),
    frac=st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=40)),
    exp=st.one_of(st.none(), st.integers(-400, 400)),
    echar=st.sampled_from(["e", "E", "e+", "E-"]),
)
def test_parse_decimal_strings_like_python_float(neg, intpart, frac, exp, echar):
    intpart = intpart.lstrip("0") or "0"
    text = ("-" if neg else "") + intpart
    if frac is not None:
        text += "." + frac
    if exp is not None:
        if echar.endswith("-"):
            text += echar + str(abs(exp))
        elif echar.endswith("+"):
            text += echar + str(abs(exp))
        else:
            text += echar + str(exp)
    want = float(text)
    if math.isinf(want):
        with pytest.raises(m2mfota.SenMLError) as info:
            senml.parse_number(text)
        assert info.value.code == "MFOTA_ERR_SENML_RANGE"
    else:
        assert same_float(senml.parse_number(text), want), text


@given(st.floats(min_value=0, max_value=2.3e-308), st.integers(1, 25))
def test_parse_subnormals(x, digits):
    text = f"{x:.{digits}e}"
    assert same_float(senml.parse_number(text), float(text))


@given(st.floats(min_value=1e-300, max_value=1e300), st.integers(-1, 1), st.integers(0, 60))
def test_parse_near_halfway_points(x, nudge, extra):
    """Decimal strings within one unit in the 20th+ digit of the midpoint of
    two adjacent doubles: the cases a fast path gets wrong."""
    from decimal import Decimal, getcontext

    getcontext().prec = 1200
    up = math.nextafter(x, math.inf)
    mid = (Decimal(x) + Decimal(up)) / 2
    digits = format(mid, "f")
    if nudge:
        digits = format(mid + Decimal(nudge) * Decimal(10) ** (mid.adjusted() - 19 - extra), "f")
    assume(len(digits) < 1500)
    assert same_float(senml.parse_number(digits), float(digits))


@given(st.integers(0, 2**53), st.integers(-30, 30))
def test_parse_integers_and_short_decimals(m, e):
    text = f"{m}e{e}"
    assert same_float(senml.parse_number(text), float(text))


@pytest.mark.parametrize(
    "text",
    ["", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "--1", "0x10", "NaN", "Infinity",
     "1.2.3", "1e5.5", " 1", "1 "],
)
def test_parse_rejects_non_json_numbers(text):
    with pytest.raises(m2mfota.SenMLError) as info:
        senml.parse_number(text)
    assert info.value.code == "MFOTA_ERR_SENML_SYNTAX"


@pytest.mark.parametrize("text", ["1e309", "-1e400", "1.8e308", "1" + "0" * 400])
def test_parse_overflow_is_a_range_error(text):
    with pytest.raises(m2mfota.SenMLError) as info:
        senml.parse_number(text)
    assert info.value.code == "MFOTA_ERR_SENML_RANGE"


def test_parse_extremes():
    assert senml.parse_number("1e-400") == 0.0
    assert same_float(senml.parse_number("-1e-400"), -0.0)
    assert senml.parse_number("1.7976931348623158e308") == 1.7976931348623157e308
    assert senml.parse_number("4.9406564584124654e-324") == 5e-324
    assert senml.parse_number("2.4703282292062327e-324") == 0.0
    assert senml.parse_number("2.4703282292062328e-324") == 5e-324
    assert senml.parse_number("9007199254740993") == 9007199254740992.0
    assert senml.parse_number("0." + "0" * 500 + "1e500") == 0.1


def significant_digits(text: str) -> int:
    mant = re.split("[eE]", text)[0].replace("-", "").replace(".", "")
    return len(mant.strip("0")) or 1


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_round_trips_and_is_shortest(x):
    text = senml.format_number(x)
    assert same_float(float(text), x), text
    assert same_float(json.loads(text), x) or (x == 0 and json.loads(text) == 0)
    assert same_float(senml.parse_number(text), x)
    if not (x == int(x) and abs(x) < 2**53):
        assert significant_digits(text) == significant_digits(repr(x)), (text, repr(x))


@given(st.integers(-(2**53) + 1, 2**53 - 1))
def test_format_integers_exactly(n):
    assert senml.format_number(float(n)) == str(n)


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf])
def test_format_refuses_non_finite(x):
    with pytest.raises(m2mfota.SenMLError):
        senml.format_number(x)


def test_format_examples():
    assert senml.format_number(0.1) == "0.1"
    assert senml.format_number(-0.0) == "-0.0"
    assert senml.format_number(5e-324) == "5e-324"
    assert senml.format_number(1.7976931348623157e308) == "1.7976931348623157e308"
    assert senml.format_number(1e21) == "1e21"
    assert senml.format_number(2.0**60) == "1.152921504606847e18"
    assert senml.format_number(1e22) == "1e22"
    assert senml.format_number(123.456) == "123.456"
    assert senml.format_number(1e-7) == "1e-7"


def test_cli_decodes_and_refuses(tmp_path, capsys):
    from m2mfota.cli import main

    good = tmp_path / "pack.json"
    good.write_text(RFC_MULTI)
    assert main(["senml", str(good)]) == 0
    assert json.loads(capsys.readouterr().out) == senml.loads(RFC_MULTI)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"n":"a","v":1,"x_":1}]')
    assert main(["senml", str(bad)]) == 1
    assert "MFOTA_ERR_SENML_MUST_UNDERSTAND at byte 16" in capsys.readouterr().err
    down = tmp_path / "down.json"
    down.write_text('[{"n":"url","v":"http://1.2.3.4/f"},{"n":"token","v":"t"}]')
    assert main(["senml", str(down), "--downlink-imei", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["url"] == "http://1.2.3.4/f"


def test_loads_takes_any_buffer():
    raw = RFC_MULTI.encode()
    want = senml.loads(raw)
    assert senml.loads(bytearray(raw)) == want
    assert senml.loads(memoryview(raw)) == want
    assert senml.loads(RFC_MULTI) == want


# ---- unknown extension fields (RFC 8428 4.4) -------------------------------------


@pytest.mark.parametrize("value", [
    "{}", "[]", '{"a":1}', "[1,2.5,-3e2]", '{"a":{"b":[true,false,null,"s\\u00e9"]}}',
    '[{"n":"x","v":"fake record"},[],{}]', ' [ 1 , { "k" : [ ] } ] ',
])
def test_unknown_field_with_object_or_array_is_ignored(value):
    pack = '[{"n":"a","ext":' + value + ',"v":1},{"n":"b","v":2,"z":' + value + "}]"
    assert senml.loads(pack) == [{"n": "a", "v": 1.0}, {"n": "b", "v": 2.0}]


def test_skip_depth_limit_is_exact():
    def nested(levels: int) -> str:
        return "[" * levels + "0" + "]" * levels

    ok = '[{"n":"a","v":1,"x":' + nested(EXT_DEPTH) + "}]"
    assert senml.loads(ok) == [{"n": "a", "v": 1.0}]
    deep = '[{"n":"a","v":1,"x":' + nested(EXT_DEPTH + 1) + "}]"
    with pytest.raises(m2mfota.SenMLError) as info:
        senml.loads(deep)
    assert (info.value.code, info.value.offset) == ("MFOTA_ERR_SENML_DEPTH", 20 + EXT_DEPTH)


def test_known_fields_still_refuse_nesting():
    for key in ("bn", "bt", "u", "t", "vs", "ut"):
        for value in ("{}", "[1]"):
            with pytest.raises(m2mfota.SenMLError) as info:
                senml.loads('[{"n":"a","v":1,"' + key + '":' + value + "}]")
            assert info.value.code == "MFOTA_ERR_SENML_NESTING", key


@given(pack=st.lists(st.fixed_dictionaries(
    {"n": names, "v": st.floats(-1e6, 1e6)},
    optional={"ext": json_values, "x-y": json_values, "must_": json_values,
              "deep": deep_values()}), max_size=4))
def test_extension_values_match_oracle(pack):
    text = json.dumps(pack)
    check_against_oracle(text, json.loads(text))


# ---- loads() in one C call against the record-by-record cffi path -------------------


def per_record(text: bytes, *, lenient: bool, thingsml: bool):
    """The records through iter_records (a cffi call per record), or the
    (code, offset) of its error."""
    try:
        return list(senml.iter_records(text, lenient=lenient, thingsml=thingsml))
    except m2mfota.SenMLError as e:
        return (e.code, e.offset)


def whole_pack(text: bytes, *, lenient: bool, thingsml: bool):
    try:
        return senml.loads(text, lenient=lenient, thingsml=thingsml)
    except m2mfota.SenMLError as e:
        return (e.code, e.offset)


@given(data=st.data(), pack=st.lists(records(allow_errors=True), max_size=5),
       lenient=st.booleans(), thingsml=st.booleans(), cut=st.integers(0, 8))
def test_loads_in_one_call_equals_the_record_by_record_path(data, pack, lenient, thingsml, cut):
    text = data.draw(random_json(pack)).encode("utf-8")
    if cut:  # a truncated pack: the same error at the same offset
        text = text[: max(0, len(text) - cut)]
    got = whole_pack(text, lenient=lenient, thingsml=thingsml)
    assert got == per_record(text, lenient=lenient, thingsml=thingsml)
    if isinstance(got, list):  # same types, key order too (the stored JSON shows it)
        ref = per_record(text, lenient=lenient, thingsml=thingsml)
        assert [list(r.items()) for r in got] == [list(r.items()) for r in ref]
        assert [[type(v) for v in r.values()] for r in got] == \
            [[type(v) for v in r.values()] for r in ref]


@pytest.mark.parametrize("text", [
    b'[{"bn":"urn:dev:IMEI:1:","i_":-24,"v":21.5},{"i_":-1,"v":3}]',
    b'[{},{"bn":"urn:dev:IMEI:1:","n":"a","v":1},{"bn":"urn:dev:IMEI:2:","n":"b","vs":"x"}]',
    b'[{"bn":"a\\u00e9:","n":"b\\"c","vs":"\\ud83d\\ude00","vd":"QQ"}]',
    b'[{"i_":-24,"v":1}]',
])
def test_loads_in_one_call_thingsml_and_escapes(text):
    for lenient in (False, True):
        for thingsml in (False, True):
            assert whole_pack(text, lenient=lenient, thingsml=thingsml) == \
                per_record(text, lenient=lenient, thingsml=thingsml)


def test_loads_refuses_what_iter_records_refuses():
    with pytest.raises(TypeError):
        senml.loads(12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        senml.loads(b"[]", thingsml="yes")  # type: ignore[arg-type]
