"""SHA-256 from the C core against hashlib and the FIPS 180-4 vectors."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import m2mfota

NIST = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
        b"lmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]


@pytest.mark.parametrize("message,digest", NIST)
def test_nist_vectors(message, digest):
    assert m2mfota.sha256(message).hexdigest() == digest


def test_every_length_around_block_boundaries():
    for n in range(0, 260):
        data = bytes(range(n % 256)) * 1 + b"x" * (n - n % 256)
        assert m2mfota.sha256(data).digest() == hashlib.sha256(data).digest(), n


@given(data=st.binary(max_size=4000), cuts=st.lists(st.integers(0, 4000), max_size=8))
def test_streaming_at_random_splits(data, cuts):
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    h = m2mfota.sha256()
    for a, b in zip(points, points[1:]):
        h.update(data[a:b])
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_copy_forks_and_digest_does_not_finish():
    h = m2mfota.sha256(b"abc")
    fork = h.copy()
    assert h.digest() == h.digest()
    h.update(b"def")
    assert fork.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    assert h.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
    assert (h.name, h.digest_size, h.block_size) == ("sha256", 32, 64)
