"""Every public function and method of the package, sent wrong types and
sizes: only TypeError or ValueError come out, naming the argument -- never
AttributeError, OverflowError, a cffi error, a read past a buffer or a crash.

The public callables are enumerated from the modules, so a new one (or a new
parameter) without an entry in SPECS fails test_every_public_callable_has_a_spec.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import m2mfota
from m2mfota import _checksums, client, flash, flash_sim, hal, senml, things, url
from m2mfota.flash import DictKV, FlashWriter, Journal, JournalRecord, NorFlash

download = importlib.import_module("m2mfota.download")  # m2mfota.download is the function

MODULES = ["m2mfota._checksums", "m2mfota.senml", "m2mfota.things", "m2mfota.url",
           "m2mfota.download", "m2mfota.flash", "m2mfota.flash_sim", "m2mfota.client",
           "m2mfota.hal"]

# Plain result records: the API returns them, their constructors call no C.
RECORDS = {
    "m2mfota.url.URL", "m2mfota.things.FotaCommand", "m2mfota.things.UplinkResponse",
    "m2mfota.download.DownloadResult", "m2mfota.download.Plan", "m2mfota.download.Response",
    "m2mfota.flash.ImageReport", "m2mfota.flash.JournalRecord", "m2mfota.flash.McubootImage",
    "m2mfota.client.Event", "m2mfota.client.HttpStatus", "m2mfota.client.Outcome",
    "m2mfota.flash_sim.Outcome",
    "m2mfota.flash_sim.Device",
}
# Not called by users with arguments of their own.
EXEMPT = {
    "m2mfota.flash.FlashDevice": "a typing Protocol",
    "m2mfota.flash.KeyValueStore": "a typing Protocol",
    "m2mfota.hal.TransportLike": "a typing Protocol",
    "m2mfota.hal.ClockLike": "a typing Protocol",
    "m2mfota.flash_sim.add_arguments": "CLI plumbing (argparse checks the values)",
    "m2mfota.flash_sim.run": "CLI plumbing (argparse checks the values)",
}

U8, U16, U32, U64 = 0xFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
INT_MAX = 0x7FFFFFFF
SECONDS = U32 / 1000


def public_callables() -> dict[str, Any]:
    """qualified name -> object, for functions, classes, methods and property setters."""
    out: dict[str, Any] = {}
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != modname:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            qual = f"{modname}.{name}"
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            if qual in EXEMPT:
                continue
            if inspect.isclass(obj):
                if qual not in RECORDS:
                    out[qual] = obj
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, property):
                        if member.fset is not None:
                            out[f"{qual}.{attr}="] = member
                    elif isinstance(member, (classmethod, staticmethod)) or inspect.isfunction(
                            member):
                        out[f"{qual}.{attr}"] = member
            else:
                out[qual] = obj
    return out


# ---- wrong values by kind ---------------------------------------------------------


class _Obj:
    """An object with no useful attribute at all."""


def _flash_like(**over: Any) -> Any:
    f = NorFlash(8192)
    for k, v in over.items():
        setattr(f, k, v)
    return f


class _NullTransport:
    def connect(self, host: str, port: int) -> None:
        raise ConnectionRefusedError(host)

    def send(self, data: bytes) -> int:
        return len(data)

    def recv(self, cap: int, timeout_ms: int) -> bytes:
        return b""

    def close(self) -> None:
        pass


class _NullClock:
    def now_ms(self) -> int:
        return 0


class _NoErase:
    size, sector_size, program_size, erased_value = 8192, 4096, 8, 0xFF

    def read(self, offset: int, size: int) -> bytes:
        return b"\xff" * size

    def program(self, offset: int, data: bytes) -> None:
        pass


NONCONTIGUOUS = memoryview(b"abcdefgh")[::2]
COMMON = [_Obj(), [1, 2], {"a": 1}, 1j]


def wrong_int(lo: int | None, hi: int | None, optional: bool) -> list:
    vals = [True, 1.5, "3", b"3", math.nan, *COMMON]
    if not optional:
        vals.append(None)
    if lo is not None:
        vals += [lo - 1, -(2**80)]
    if hi is not None:
        vals += [hi + 1, 2**80]
    return vals


def wrong_num(lo: float | None, hi: float | None, lo_open: bool, optional: bool) -> list:
    vals = [True, "1", b"1", math.nan, math.inf, -math.inf, 10**400, *COMMON]
    if not optional:
        vals.append(None)
    if lo is not None:
        vals += [lo if lo_open else lo - 1, lo - 1e9]
    if hi is not None:
        vals += [hi * 2 + 1]
    return vals


BUF_WRONG = [None, 5, 0, -1, 2**70, 1.5, "text", [1, 2], _Obj(), NONCONTIGUOUS]
KINDS: dict[str, list] = {
    "buf": BUF_WRONG,
    "buf?": [v for v in BUF_WRONG if v is not None],
    "text|buf": [None, 5, 0, 1.5, [1], _Obj(), NONCONTIGUOUS],
    "str": [None, 5, b"bytes", 1.5, [1], _Obj(), "a\0b", "\ud800"],
    "str?": [5, b"bytes", 1.5, [1], _Obj(), "a\0b", "\ud800"],
    "ascii": [None, 5, b"bytes", 1.5, [1], _Obj(), "\u00e9", "a\0b"],
    "bool": [None, 1, 0, "yes", b"", _Obj()],
    "bool?": [1, 0, "yes", b"", _Obj()],
    "callable?": [5, "f", b"", _Obj()],
    "iterable": [None, 5, "abc", b"abc", bytearray(b"ab"), _Obj()],
    "flash": [None, 5, b"x", "flash", _Obj(), _NoErase(), _flash_like(size="big"),
              _flash_like(size=2**40), _flash_like(program_size=-1),
              _flash_like(erased_value=256), _flash_like(read=None)],
    "flash?": [5, b"x", "flash", _Obj(), _NoErase(), _flash_like(sector_size=1.5)],
    "kv?": [5, "kv", _Obj()],
    "journal?": [5, "j", _Obj(), NorFlash(8192)],
    "record?": [5, _Obj(), JournalRecord(0, 0, 0, 0, 0, False, True)],
    "device": [None, 5, NorFlash(8192), _Obj()],
    "outcome?": [5, _Obj(), {}],
    "transport?": [5, "t", _Obj(), NorFlash(8192)],
    "clock?": [5, "t", _Obj(), NorFlash(8192)],
    "transport_obj": [None, 5, "t", _Obj(), NorFlash(8192)],
    "clock_obj": [None, 5, "t", _Obj()],
    "transports?": [5, "t", (1, 2), [_Obj(), _Obj()], (_Obj(),), (_Obj(), _Obj())],
    "keys?": [5, "not a key", [b"junk"], [5], [None]],
    "bootloader": ["uboot", "", 5, None, _Obj(), NorFlash(8192)],
    "crc_impl": ["nope", 5, None, b"bitwise"],
    "sha_impl": ["nope", 5, None, b"portable"],
}
for _size in (32,):
    _bad = [b"", b"abc", bytes(31), bytes(33), bytearray(64), memoryview(bytes(16))]
    KINDS[f"buf{_size}?"] = KINDS["buf?"] + _bad
    KINDS[f"buf{_size}"] = KINDS["buf"] + _bad


def wrong_values(kind: Any) -> list:
    if isinstance(kind, tuple):
        if kind[0] in ("int", "int?"):
            return wrong_int(kind[1], kind[2], kind[0] == "int?")
        if kind[0] in ("num", "num?"):
            lo_open = len(kind) > 3 and kind[3]
            return wrong_num(kind[1], kind[2], lo_open, kind[0] == "num?")
    return KINDS[kind]


_NOT_INT = st.one_of(st.floats(), st.text(max_size=3), st.binary(max_size=3),
                     st.lists(st.integers(), max_size=2))


def wrong_strategy(kind: Any) -> st.SearchStrategy:
    """The fixed wrong values of a kind, and generated ones beside them."""
    extra: list[st.SearchStrategy] = []
    if isinstance(kind, tuple) and kind[0] in ("int", "int?"):
        lo, hi = kind[1], kind[2]
        extra.append(_NOT_INT)
        if lo is not None:
            extra.append(st.integers(max_value=lo - 1))
        if hi is not None:
            extra.append(st.integers(min_value=hi + 1))
    elif isinstance(kind, tuple):
        lo, hi = kind[1], kind[2]
        extra.append(st.one_of(st.text(max_size=3), st.binary(max_size=3), st.none()
                               if kind[0] == "num" else st.just("x")))
        if lo is not None:
            extra.append(st.floats(max_value=lo, exclude_max=not (len(kind) > 3 and kind[3])))
        if hi is not None:
            extra.append(st.floats(min_value=hi, exclude_min=True))
    elif kind.startswith("buf"):
        extra.append(st.one_of(st.integers(), st.text(max_size=4), st.floats(),
                               st.lists(st.integers(0, 255), max_size=3)))
        if kind.startswith("buf32"):
            extra.append(st.binary(max_size=64).filter(lambda b: len(b) != 32))
            extra.append(st.binary(max_size=64).filter(lambda b: len(b) != 32).map(bytearray))
    elif kind in ("str", "str?", "ascii"):
        extra.append(st.one_of(st.integers(), st.binary(max_size=4), st.floats()))
        extra.append(st.text(max_size=4).map(lambda t: t + "\0"))
    elif kind == "text|buf":
        extra.append(st.one_of(st.integers(), st.floats(), st.lists(st.integers(0, 255))))
    elif kind in ("bool", "bool?"):
        extra.append(st.one_of(st.integers(), st.text(max_size=2), st.floats()))
    return st.one_of(st.sampled_from(wrong_values(kind)), *extra)


# ---- valid calls -------------------------------------------------------------------

IMEI = "356938035643809"
URL = "http://127.0.0.1:9/f"  # discard port: a missing check fails fast, not hangs


def nor(size: int = 16 * 4096) -> NorFlash:
    return NorFlash(size)


def a_client() -> client.Client:
    return client.Client(imei=IMEI, secret=b"s", version="1.0", server="http://127.0.0.1:9",
                         flash=nor())


def a_writer() -> FlashWriter:
    return FlashWriter(nor())


def a_journal() -> Journal:
    return Journal(nor(2 * 4096))


def a_region() -> flash.FlashRegion:
    return flash.FlashRegion(nor(), 4096, 8192)


def a_bootloader() -> flash.McubootBootloader:
    return flash.McubootBootloader(nor(), nor())


def fn(f: Callable, **params: Any) -> tuple[Callable[[], Callable], dict]:
    return (lambda: f), params


def method(make: Callable[[], Any], name: str, **params: Any):
    return (lambda: getattr(make(), name)), params


def setter(make: Callable[[], Any], name: str, kind: Any):
    def make_call():
        obj = make()
        return lambda **kw: setattr(obj, name, kw[name])
    return make_call, {name: kind}


CRC_IMPL = next(iter(_checksums.CRC32_IMPLS))
SHA_IMPL = next(iter(_checksums.SHA256_IMPLS))

VALID: dict[str, Any] = {
    "data": b"abc", "value": 0, "url": URL, "token": "t", "imei": IMEI, "secret": b"s",
    "host": "m.m", "records": [], "body": b"[]", "chunks": [b"HTTP/1.1 200 OK\r\n"],
    "text": "1.5", "impl": None, "flash": None, "version": "1.0",
}

# name -> (make the callable, {parameter: kind}, valid values for the call)
SPECS: dict[str, tuple] = {
    # checksums
    "m2mfota._checksums.crc32": (*fn(_checksums.crc32, data="buf", value=("int", None, None)),
                                 {}),
    "m2mfota._checksums.crc32_combine": (*fn(
        _checksums.crc32_combine, crc_a=("int", None, None), crc_b=("int", None, None),
        len_b=("int", 0, U64)), {"crc_a": 1, "crc_b": 2, "len_b": 3}),
    "m2mfota._checksums.crc32_with": (*fn(_checksums.crc32_with, impl="crc_impl", data="buf",
                                          value=("int", None, None)), {"impl": CRC_IMPL}),
    "m2mfota._checksums.sha256_with": (*fn(_checksums.sha256_with, impl="sha_impl", data="buf"),
                                       {"impl": SHA_IMPL}),
    "m2mfota._checksums.crc32_available": (*fn(_checksums.crc32_available), {}),
    "m2mfota._checksums.crc32_active": (*fn(_checksums.crc32_active), {}),
    "m2mfota._checksums.sha256_available": (*fn(_checksums.sha256_available), {}),
    "m2mfota._checksums.sha256_active": (*fn(_checksums.sha256_active), {}),
    "m2mfota._checksums.sha256": (*fn(_checksums.sha256, data="buf"), {}),
    "m2mfota._checksums.sha256.update": (*method(_checksums.sha256, "update", data="buf"), {}),
    "m2mfota._checksums.sha256.digest": (*method(_checksums.sha256, "digest"), {}),
    "m2mfota._checksums.sha256.hexdigest": (*method(_checksums.sha256, "hexdigest"), {}),
    "m2mfota._checksums.sha256.copy": (*method(_checksums.sha256, "copy"), {}),
    # senml
    "m2mfota.senml.loads": (*fn(senml.loads, data="text|buf", lenient="bool", thingsml="bool"),
                            {"data": "[]", "lenient": False, "thingsml": False}),
    "m2mfota.senml.iter_records": (*fn(senml.iter_records, data="text|buf", lenient="bool",
                                       base_only="bool", thingsml="bool"),
                                   {"data": "[]", "lenient": False, "base_only": False,
                                    "thingsml": False}),
    "m2mfota.senml.dumps": (*fn(senml.dumps, records="iterable", base_name="str?",
                                base_time=("num?", None, None)),
                            {"base_name": None, "base_time": None}),
    "m2mfota.senml.parse_number": (*fn(senml.parse_number, text="text|buf"), {}),
    "m2mfota.senml.format_number": (*fn(senml.format_number, value=("num", None, None)),
                                    {"value": 1.5}),
    "m2mfota.senml.error_name": (*fn(senml.error_name, code=("int", -(2**31), 2**31 - 1)),
                                 {"code": -1}),
    # things
    "m2mfota.things.parse_downlink": (*fn(things.parse_downlink, body="text|buf", imei="ascii"),
                                      {}),
    "m2mfota.things.uplink_token": (*fn(things.uplink_token, body="buf", secret="text|buf"), {}),
    "m2mfota.things.build_uplink": (*fn(things.build_uplink, records="iterable", imei="ascii",
                                        secret="text|buf", host="ascii"), {}),
    "m2mfota.things.status_records": (*fn(
        things.status_records, firmware="str?", state="str?", progress=("int?", 0, INT_MAX),
        result=("int?", 0, INT_MAX), error="str?"),
        {"firmware": None, "state": None, "progress": None, "result": None, "error": None}),
    "m2mfota.things.parse_uplink_response": (*fn(things.parse_uplink_response, raw="buf",
                                                 max_body=("int", 0, 1 << 24), eof="bool"),
                                             {"raw": b"HTTP/1.1 200 OK\r\n\r\n", "max_body": 9,
                                              "eof": True}),
    # url
    "m2mfota.url.parse_url": (*fn(url.parse_url, url="text|buf"), {}),
    # Python transports and clocks
    "m2mfota.hal.PythonTransport": (*fn(hal.PythonTransport, obj="transport_obj"),
                                    {"obj": _NullTransport()}),
    "m2mfota.hal.PythonClock": (*fn(hal.PythonClock, obj="clock_obj"),
                                {"obj": _NullClock()}),
    # download
    "m2mfota.download.download": (*fn(
        download.download, url="ascii", token="text|buf", part_size=("int", 1, U32),
        offset=("int", 0, U64), timeout=("num", 0, SECONDS, True),
        requests_used=("int", 0, U32), total=("int?", 0, U64), validator=("int?", 0, U32),
        align=("int?", 1, U32), budget=("int?", 0, U32), reserve=("int?", 0, U32),
        per_connection=("int?", 0, U32), max_retries=("int?", 0, U32),
        max_retry_after=("int?", 0, U32), max_restarts=("int?", 0, U32),
        accept_whole_body="bool", pipeline="bool?", rx_size=("int", 64, 1 << 24),
        size=("int?", 0, U32), crc32=("int?", 0, U32), sha256="buf32?",
        max_time=("num?", 0, 4e6, True), max_size=("int?", 1, U64), modem_socket="transport?",
        transport="transport?", clock="clock?"),
        {"max_time": None, "max_size": None, "modem_socket": None, "transport": None,
         "clock": None,
         "part_size": 1024, "offset": 0, "timeout": 0.5, "requests_used": 0, "total": None,
         "validator": None, "align": None, "budget": None, "reserve": None,
         "per_connection": None, "max_retries": 0, "max_retry_after": None,
         "max_restarts": None, "accept_whole_body": True, "pipeline": None, "rx_size": 4096,
         "size": None, "crc32": None, "sha256": None}),
    "m2mfota.download.parse_response": (*fn(download.parse_response, chunks="iterable",
                                            eof="bool"), {"eof": False}),
    "m2mfota.download.plan_parts": (*fn(
        download.plan_parts, total=("int", 0, U64), offset=("int", 0, U64),
        part_size=("int", 1, U32), align=("int?", 1, U32), budget=("int", 0, U32),
        reserve=("int", 0, U32), per_connection=("int", 0, U32),
        requests_used=("int", 0, U32)),
        {"total": 10, "offset": 0, "part_size": 4, "align": None, "budget": 100, "reserve": 1,
         "per_connection": 100, "requests_used": 0}),
    "m2mfota.download.request_bytes": (*fn(download.request_bytes, url="ascii",
                                           token="text|buf", first=("int?", 0, U32 - 1),
                                           last=("int?", 0, U32 - 1)),
                                       {"first": 0, "last": 9}),
    # flash: the NOR model and regions
    "m2mfota.flash.NorFlash": (*fn(NorFlash, size=("int", 1, U32), sector_size=("int", 1, U32),
                                   program_size=("int", 1, U32), erased_value=("int", 0, U8),
                                   cut_after=("int?", 0, None)),
                               {"size": 8192, "sector_size": 4096, "program_size": 8,
                                "erased_value": 255, "cut_after": None}),
    "m2mfota.flash.NorFlash.power_on": (*method(nor, "power_on", cut_after=("int?", 0, None)),
                                        {"cut_after": None}),
    "m2mfota.flash.NorFlash.read": (*method(nor, "read", offset=("int", 0, None),
                                            size=("int", 0, None)), {"offset": 0, "size": 8}),
    "m2mfota.flash.NorFlash.program": (*method(nor, "program", offset=("int", 0, None),
                                               data="buf"), {"offset": 0, "data": bytes(8)}),
    "m2mfota.flash.NorFlash.erase": (*method(nor, "erase", offset=("int", 0, None)),
                                     {"offset": 0}),
    "m2mfota.flash.FlashRegion": (*fn(flash.FlashRegion, flash="flash", offset=("int", 0, U32),
                                      size=("int", 1, U32)), {"offset": 0, "size": 4096}),
    "m2mfota.flash.FlashRegion.read": (*method(a_region, "read", offset=("int", 0, 8192),
                                               size=("int", 0, 8192)),
                                       {"offset": 0, "size": 8}),
    "m2mfota.flash.FlashRegion.program": (*method(a_region, "program", offset=("int", 0, 8192),
                                                  data="buf"),
                                          {"offset": 0, "data": bytes(8)}),
    "m2mfota.flash.FlashRegion.erase": (*method(a_region, "erase", offset=("int", 0, 8192)),
                                        {"offset": 0}),
    "m2mfota.flash.DictKV": (*fn(DictKV), {}),
    "m2mfota.flash.DictKV.get": (*method(DictKV, "get"), {}),
    "m2mfota.flash.DictKV.set": (*method(DictKV, "set", value="buf"), {"value": b"v"}),
    # journal and writer
    "m2mfota.flash.Journal": (*fn(Journal, region="flash", kv="kv?",
                                  interval_sectors=("int", 1, U32)),
                              {"kv": None, "interval_sectors": 1}),
    "m2mfota.flash.Journal.load": (*method(a_journal, "load"), {}),
    "m2mfota.flash.Journal.restart": (*method(a_journal, "restart"), {}),
    "m2mfota.flash.Journal.begin": (*method(a_journal, "begin", url="str",
                                            total_size=("int", 0, U32), validator="str?",
                                            crc32=("int?", 0, U32), sha256="buf32?"),
                                    {"total_size": 100, "validator": None, "crc32": None,
                                     "sha256": None}),
    "m2mfota.flash.Journal.requests=": (*setter(a_journal, "requests", ("int", 0, U32)),
                                        {"requests": 1}),
    "m2mfota.flash.FlashWriter": (*fn(FlashWriter, flash="flash", offset=("int", 0, None),
                                      size=("int?", 0, None), journal="journal?",
                                      verify="bool"),
                                  {"offset": 0, "size": None, "journal": None, "verify": True}),
    "m2mfota.flash.FlashWriter.begin": (*method(a_writer, "begin", size=("int", 0, U32),
                                                resume="record?"),
                                        {"size": 100, "resume": None}),
    "m2mfota.flash.FlashWriter.write": (*method(a_writer, "write", offset=("int", 0, U32),
                                                data="buf"), {"offset": 0}),
    "m2mfota.flash.FlashWriter.part_commit": (*method(
        a_writer, "part_commit", offset=("int", 0, U32), length=("int", 0, U32),
        crc=("int?", 0, U32)), {"offset": 0, "length": 0, "crc": None}),
    "m2mfota.flash.FlashWriter.part_abort": (*method(a_writer, "part_abort",
                                                     first_offset=("int", 0, U32)),
                                             {"first_offset": 0}),
    "m2mfota.flash.FlashWriter.flush": (*method(a_writer, "flush"), {}),
    "m2mfota.flash.FlashWriter.verify": (*method(a_writer, "verify", size=("int?", 0, U32),
                                                 crc32=("int?", 0, U32), sha256="buf32?"),
                                         {"size": None, "crc32": None, "sha256": None}),
    "m2mfota.flash.verify_image": (*fn(
        flash.verify_image, flash="flash", size=("int", 0, U32), parts_crc32=("int", 0, U32),
        offset=("int", 0, None), slot_size=("int?", 0, None), expect_size=("int?", 0, U32),
        crc32=("int?", 0, U32), sha256="buf32?"),
        {"size": 0, "parts_crc32": 0, "offset": 0, "slot_size": None, "expect_size": None,
         "crc32": None, "sha256": None}),
    # MCUboot
    "m2mfota.flash.mcuboot_info": (*fn(flash.mcuboot_info, image="buf"), {"image": b"x"}),
    "m2mfota.flash.mcuboot_check": (*fn(flash.mcuboot_check, flash="flash",
                                        limit=("int", 0, U32), offset=("int", 0, None),
                                        slot_size=("int?", 0, None)),
                                    {"limit": 100, "offset": 0, "slot_size": None}),
    "m2mfota.flash.mcuboot_mark_pending": (*fn(
        flash.mcuboot_mark_pending, flash="flash", image_size=("int", 0, U32),
        permanent="bool", offset=("int", 0, None), slot_size=("int?", 0, None)),
        {"image_size": 100, "permanent": False, "offset": 0, "slot_size": None}),
    "m2mfota.flash.mcuboot_clear_pending": (*fn(flash.mcuboot_clear_pending, flash="flash",
                                                offset=("int", 0, None),
                                                slot_size=("int?", 0, None)),
                                            {"offset": 0, "slot_size": None}),
    "m2mfota.flash.mcuboot_confirm": (*fn(flash.mcuboot_confirm, flash="flash",
                                          offset=("int", 0, None), slot_size=("int?", 0, None)),
                                      {"offset": 0, "slot_size": None}),
    "m2mfota.flash.McubootBootloader": (*fn(flash.McubootBootloader, primary="flash",
                                            secondary="flash", keys="keys?"), {"keys": None}),
    "m2mfota.flash.McubootBootloader.mark_pending": (*method(
        a_bootloader, "mark_pending", image_size=("int", 0, U32), permanent="bool"),
        {"image_size": 100, "permanent": False}),
    "m2mfota.flash.McubootBootloader.check_image": (*method(
        a_bootloader, "check_image", image_size=("int", 0, U32)), {"image_size": 0}),
    "m2mfota.flash.McubootBootloader.confirm": (*method(a_bootloader, "confirm"), {}),
    "m2mfota.flash.McubootBootloader.running_version": (*method(a_bootloader,
                                                                "running_version"), {}),
    # flash_sim
    "m2mfota.flash_sim.Device.make": (*fn(flash_sim.Device.make, slot_size=("int", 1, U32),
                                          sector_size=("int", 1, U32 // 4),
                                          program_size=("int", 1, U32)),
                                      {"slot_size": 8192, "sector_size": 4096,
                                       "program_size": 8}),
    "m2mfota.flash_sim.run_update": (*fn(
        flash_sim.run_update, dev="device", image="buf", part_size=("int", 1, U32), url="str",
        mcuboot="bool", permanent="bool", corrupt="callable?", interval_sectors=("int", 1, U32),
        out="outcome?"),
        {"image": b"x" * 100, "part_size": 64, "mcuboot": False, "permanent": False,
         "corrupt": None, "interval_sectors": 1, "out": None}),
    # client
    "m2mfota.client.Client": (*fn(
        client.Client, imei="ascii", secret="text|buf", version="str", server="ascii",
        flash="flash", journal="flash?", bootloader="bootloader", on_event="callable?",
        part_size=("int", 1, U32), io_timeout=("num", 0, SECONDS, True),
        progress_step=("int", 0, 100), progress_interval=("num", 0, SECONDS),
        retry_base=("num", 0, SECONDS), retry_max=("num", 0, SECONDS),
        max_retries=("int", 0, U16), check_mcuboot="bool", permanent="bool",
        seed=("int", None, None), keys="keys?", transports="transports?",
        delta_source="flash?", delta_source_offset=("int", 0, U32)),
        {"keys": None, "transports": None, "delta_source": None, "delta_source_offset": 0,
         "server": "http://127.0.0.1:9", "journal": None, "bootloader": "mcuboot",
         "on_event": None, "part_size": 4096, "io_timeout": 1.0, "progress_step": 10,
         "progress_interval": 30.0, "retry_base": 0.2, "retry_max": 2.0, "max_retries": 4,
         "check_mcuboot": True, "permanent": False, "seed": 0}),
    "m2mfota.client.Client.run": (*method(a_client, "run", timeout=("num", 0, SECONDS, True)),
                                  {"timeout": 1.0}),
    "m2mfota.client.Client.confirm_boot": (*method(a_client, "confirm_boot",
                                                   timeout=("num", 0, SECONDS, True)),
                                           {"timeout": 1.0}),
    "m2mfota.client.Client.downlink": (*method(a_client, "downlink", body="buf",
                                               timeout=("num", 0, SECONDS, True)),
                                       {"timeout": 1.0}),
    "m2mfota.client.Client.feed_downlink": (*method(a_client, "feed_downlink", body="buf"), {}),
}


def valid_value(name: str, param: str, kind: Any, overrides: dict) -> Any:
    if param in overrides:
        return overrides[param]
    if kind == "flash":
        return nor()
    if kind == "device":
        return flash_sim.Device.make(8192)
    return VALID[param]


def test_every_public_callable_has_a_spec():
    found = public_callables()
    assert set(found) - set(SPECS) == set(), "public callables without argument checks/specs"
    assert set(SPECS) - set(found) == set(), "specs for names that are no longer public"
    for name, obj in found.items():
        if name.endswith("="):
            continue
        target = obj.__func__ if isinstance(obj, (classmethod, staticmethod)) else obj
        params = [p for p in inspect.signature(target).parameters if p not in ("self", "cls")]
        assert set(params) == set(SPECS[name][1]), f"{name}: parameters {params}"


def test_the_package_exports_only_covered_names():
    found = public_callables()
    for name in m2mfota.__all__:
        obj = getattr(m2mfota, name)
        qual = f"{obj.__module__}.{obj.__qualname__}"
        assert qual in found or qual in RECORDS or issubclass(obj, BaseException), qual


ARGUMENTS = sorted((name, param) for name, spec in SPECS.items() for param in spec[1])


@pytest.mark.parametrize("name,param", ARGUMENTS, ids=[f"{n[8:]}:{p}" for n, p in ARGUMENTS])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_wrong_arguments_raise_type_or_value_error_naming_them(name, param, data):
    make, kinds, overrides = SPECS[name]
    bad = data.draw(wrong_strategy(kinds[param]), label="value")
    kwargs = {p: valid_value(name, p, k, overrides) for p, k in kinds.items()}
    kwargs[param] = bad
    call = make()
    try:
        call(**kwargs)
    except (TypeError, ValueError) as exc:
        assert param in str(exc), f"{name}({param}={bad!r}): {exc!r} does not name {param}"
        return
    except BaseException as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{name}({param}={bad!r}) raised {type(exc).__name__}: {exc}")
    pytest.fail(f"{name}({param}={bad!r}) was accepted")


@pytest.mark.parametrize("name", sorted(n for n, s in SPECS.items() if s[1]))
def test_valid_calls_pass_the_checks(name):
    """The valid values the wrong ones replace really are accepted (so every
    failure above is the wrong value's), up to the C core's own verdict."""
    make, kinds, overrides = SPECS[name]
    kwargs = {p: valid_value(name, p, k, overrides) for p, k in kinds.items()}
    try:
        make()(**kwargs)
    except (TypeError, ValueError) as exc:
        if not isinstance(exc, m2mfota.M2mfotaError):
            raise
    except (m2mfota.M2mfotaError, OSError):
        pass  # e.g. the discard port refuses, a blank slot has no image


# ---- argument cases: one test each -------------------------------------------------


def test_an_int_is_never_a_length():
    with pytest.raises(TypeError, match="secret"):
        client.Client(imei=IMEI, secret=5, version="1", server="http://127.0.0.1:9",
                      flash=nor())
    with pytest.raises(TypeError, match="data"):
        m2mfota.crc32(5)
    with pytest.raises(TypeError, match="secret"):
        things.build_uplink([], imei=IMEI, secret=5)


def test_fixed_size_bytes_are_checked_not_read_past():
    j = a_journal()
    with pytest.raises(ValueError, match="sha256"):
        j.begin("http://a/b", 100, sha256=b"abc")
    assert j.load() is None  # nothing reached the journal
    rec = j.begin("http://a/b", 100, sha256=bytearray(range(32)))
    assert bytes(rec._c.expect_sha256) == bytes(range(32))


def test_bytes_like_and_str_accepted_where_they_make_sense():
    data = b"hello world"
    assert m2mfota.crc32(bytearray(data)) == m2mfota.crc32(memoryview(data)) == m2mfota.crc32(data)
    assert m2mfota.sha256(memoryview(data)).digest() == m2mfota.sha256(data).digest()
    by_bytes = things.build_uplink([], imei=IMEI, secret=b"s\xc3\xa9cret")
    assert things.build_uplink([], imei=IMEI, secret="s\u00e9cret") == by_bytes
    assert things.build_uplink([], imei=IMEI, secret=bytearray(b"s\xc3\xa9cret")) == by_bytes
    assert things.uplink_token(b"x", "k") == things.uplink_token(memoryview(b"x"), b"k")
    assert senml.loads(bytearray(b'[{"n":"a","v":1}]')) == senml.loads('[{"n":"a","v":1}]')
    assert url.parse_url(bytearray(b"http://1.2.3.4/x")).host == "1.2.3.4"
    w = a_writer()
    w.begin(8)
    w.write(0, memoryview(bytes(range(8))))


def test_records_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"records\[1\]"):
        senml.dumps([{"n": "a", "v": 1}, 5])
    with pytest.raises(ValueError, match=r"records\[0\]\.n"):
        senml.dumps([{"n": 5, "v": 1}])
    with pytest.raises(ValueError, match=r"records\[1\]\.v"):
        things.build_uplink([{"n": "a", "v": 1}, {"n": "b", "v": "x"}], imei=IMEI, secret=b"s")
    with pytest.raises(ValueError, match="base_name"):
        senml.dumps([], base_name="\ud800")


def test_spec_records_are_dataclasses():
    for qual in RECORDS:
        modname, _, name = qual.rpartition(".")
        assert dataclasses.is_dataclass(getattr(importlib.import_module(modname), name)), qual


@pytest.mark.parametrize("argv,words", [
    (["flash-sim", "--image-size", "300000", "--slot-size", "262144"], "image"),
    (["flash-sim", "--program-size", "3"], "program-size"),
    (["flash-sim", "--part-size", "0"], "part-size"),
])
def test_cli_reports_wrong_values_without_a_traceback(argv, words, capsys):
    from m2mfota import cli

    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse's own checks end the same way
        rc = exc.code
    assert rc == 1  # the CLI's one error path: a line, exit 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and words in err and err.startswith("m2mfota flash-sim: error:")


@pytest.mark.parametrize("server,code", [("ftp://1.2.3.4", "MFOTA_ERR_URL_SCHEME"),
                                         ("http://0x7f.1:80", "MFOTA_ERR_URL_HOST"),
                                         ("http://1.2.3.4:0", "MFOTA_ERR_URL_PORT")])
def test_client_server_url_errors_name_server(server, code):
    with pytest.raises(url.URLError) as exc:
        client.Client(imei=IMEI, secret=b"s", version="1", server=server, flash=nor())
    assert exc.value.code == code and "server" in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_region_access_stays_inside_the_region():
    dev = nor(4 * 4096)
    region = flash.FlashRegion(dev, 4096, 4096)
    for call in (lambda: region.read(4090, 8), lambda: region.program(4096, bytes(8)),
                 lambda: region.erase(4096), lambda: region.read(-8, 8)):
        with pytest.raises(flash.FlashViolation, match="outside the region"):
            call()
    assert dev.programs == dev.erases == 0 and dev.reads == 0
