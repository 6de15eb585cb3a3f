"""Each run tests the build it claims to: the sanitizer run really loads the
ASan+UBSan module, and the normal run the optimised one."""

import os

import m2mfota._native as native


def test_module_build_matches_the_run():
    with open(native.__file__, "rb") as f:
        sanitized = b"__asan" in f.read()
    assert sanitized == bool(os.environ.get("MFOTA_EXPECT_SANITIZED")), native.__file__
