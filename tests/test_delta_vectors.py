"""The C self-tests' delta vectors (tests/c/delta_vectors.h) are what detools
makes today from the pair in tests/delta_vectors.py, and that pair really
differs by a small change (so the C suite checks a real patch, not a copy)."""

import io

import delta_vectors
import detools


def test_header_matches_detools_output():
    assert delta_vectors.HEADER.read_text() == delta_vectors.render(), (
        "run: python tests/delta_vectors.py")


def test_vectors_are_real_patches():
    old, new = delta_vectors.source(), delta_vectors.new_image()
    assert old != new
    for compression in ("heatshrink", "none"):
        patch = delta_vectors.patch(compression)
        out = io.BytesIO()
        detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), out)
        assert out.getvalue() == new
    assert len(delta_vectors.patch("heatshrink")) < len(new) // 4
