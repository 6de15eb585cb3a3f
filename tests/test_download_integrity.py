"""download(size=, crc32=, sha256=): the whole-file checks, and what
DownloadResult.validated says when there is none (docs/download-integrity.md).
Against the emulator's file server, which can replace the file mid-download
and can leave out its validator (ETag)."""

from __future__ import annotations

import hashlib
import random
import zlib

import pytest
from fileserver_fixture import fileserver  # noqa: F401

import m2mfota
from m2mfota.download import IntegrityError
from m2mfota.emulator.fileserver import Faults

PART = 1024
SIZE = 8 * PART


def blob(n: int = SIZE, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(n)


def fetch(running, data: bytes, faults: Faults | None = None, **kw):
    pub = running.server.publish(data, device="dev-i", faults=faults)
    kw.setdefault("part_size", PART)
    kw.setdefault("timeout", 2.0)
    return pub, m2mfota.download(running.url(pub), pub.token, **kw)


def refused(running, data: bytes, faults: Faults | None = None, **kw) -> IntegrityError:
    with pytest.raises(IntegrityError) as exc:
        fetch(running, data, faults, **kw)
    assert isinstance(exc.value, m2mfota.DownloadError)
    return exc.value


SAME_SIZE_NO_VALIDATOR = dict(replace_after_requests=3, replace_same_size=True,
                              omit_validator=True)


def test_validator_alone_validates(fileserver):  # noqa: F811
    _, r = fetch(fileserver, blob())
    assert r.validator is not None and r.validated


def test_no_validator_and_no_check_is_not_validated(fileserver):  # noqa: F811
    data = blob()
    _, r = fetch(fileserver, data, Faults(omit_validator=True))
    assert r.data == data and r.validator is None and not r.validated


@pytest.mark.parametrize("check", ["crc32", "sha256"])
def test_whole_file_check_validates(fileserver, check):  # noqa: F811
    data = blob()
    value = zlib.crc32(data) if check == "crc32" else hashlib.sha256(data).digest()
    _, r = fetch(fileserver, data, Faults(omit_validator=True), size=len(data), **{check: value})
    assert r.data == data and r.validated


def test_size_alone_does_not_validate(fileserver):  # noqa: F811
    # a same-size replacement has the right size: size proves nothing about mixing
    _, r = fetch(fileserver, blob(), Faults(omit_validator=True), size=SIZE)
    assert not r.validated


def test_same_size_replacement_without_validator_goes_unseen(fileserver):  # noqa: F811
    # The hazard the flag is for: three parts of one file, five of another,
    # every part verified by its Digest, and no error.
    data = blob()
    pub, r = fetch(fileserver, data, Faults(**SAME_SIZE_NO_VALIDATOR))
    served = fileserver.server.data(pub.file_id)
    assert fileserver.server.stats(pub.file_id)["replaced"]
    assert r.data != data and r.data != served
    assert r.data == data[: 3 * PART] + served[3 * PART :]
    assert r.restarts == 0 and not r.validated


@pytest.mark.parametrize("check,code", [("crc32", "MFOTA_ERR_IMAGE_CRC"),
                                        ("sha256", "MFOTA_ERR_IMAGE_SHA256")])
def test_same_size_replacement_caught_by_whole_file_check(fileserver, check, code):  # noqa: F811
    data = blob()
    value = zlib.crc32(data) if check == "crc32" else hashlib.sha256(data).digest()
    exc = refused(fileserver, data, Faults(**SAME_SIZE_NO_VALIDATOR), **{check: value})
    assert exc.code == code
    assert exc.result is not None and len(exc.result.data) == SIZE  # what came, for a log


def test_same_size_replacement_with_validator_restarts(fileserver):  # noqa: F811
    data = blob()
    faults = Faults(replace_after_requests=3, replace_same_size=True)
    pub, r = fetch(fileserver, data, faults)
    assert r.restarts == 1 and r.data == fileserver.server.data(pub.file_id) and r.validated


def test_wrong_size_stops_at_the_first_response(fileserver):  # noqa: F811
    pub_exc = refused(fileserver, blob(), size=SIZE + 1)
    assert pub_exc.code == "MFOTA_ERR_IMAGE_SIZE"
    assert pub_exc.result.requests == 1


def test_replacement_of_another_size_is_refused_when_size_given(fileserver):  # noqa: F811
    data = blob()
    faults = Faults(replace_after_requests=3)  # the replacement is 1000 bytes longer
    exc = refused(fileserver, data, faults, size=SIZE)
    assert exc.code == "MFOTA_ERR_IMAGE_SIZE"
    # without size the downloader starts over and takes the new file
    pub, r = fetch(fileserver, data, faults)
    assert r.restarts == 1 and r.data == fileserver.server.data(pub.file_id)


@pytest.mark.parametrize("kw,code", [
    ({"crc32": 1}, "MFOTA_ERR_IMAGE_CRC"),
    ({"sha256": bytes(32)}, "MFOTA_ERR_IMAGE_SHA256"),
])
def test_wrong_whole_file_values_are_refused(fileserver, kw, code):  # noqa: F811
    assert refused(fileserver, blob(), **kw).code == code


def test_empty_file_checks(fileserver):  # noqa: F811
    _, r = fetch(fileserver, b"", size=0, crc32=0, sha256=hashlib.sha256(b"").digest())
    assert r.data == b"" and r.validated


def test_resume_without_validator_is_not_validated(fileserver):  # noqa: F811
    data = blob()
    faults = Faults(omit_validator=True)
    _, r = fetch(fileserver, data, faults, offset=4 * PART, size=SIZE)
    assert r.data == data[4 * PART :] and not r.validated
    # a resume that carries the interrupted run's validator is held to it
    pub = fileserver.server.publish(data, device="dev-i")
    first = m2mfota.download(fileserver.url(pub), pub.token, part_size=PART)
    r = m2mfota.download(fileserver.url(pub), pub.token, part_size=PART, offset=4 * PART,
                         validator=first.validator, total=SIZE)
    assert r.data == data[4 * PART :] and r.validated


def test_whole_file_checks_need_offset_zero():
    with pytest.raises(ValueError, match="offset"):
        m2mfota.download("http://127.0.0.1:9/f", "t", offset=1, crc32=0)
    with pytest.raises(ValueError, match="sha256"):
        m2mfota.download("http://127.0.0.1:9/f", "t", sha256=b"short")
