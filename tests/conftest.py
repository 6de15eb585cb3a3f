"""Shared pytest helpers.

``require_tool`` is how a test states it needs an outside program: on a
developer machine a missing tool skips the test with the reason, but under CI
(``CI=true``) it fails, so a broken install can never pass as green.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if IN_CI else "dev")


def require_tool(name: str) -> str:
    """Return the path of program ``name``; fail in CI, skip elsewhere, if missing."""
    path = shutil.which(name)
    if path is None:
        message = f"required tool {name!r} is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: missing tools fail)")
        pytest.skip(message)
    return path


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "external_build: builds and runs its own binaries (CMake, cross, QEMU, fuzzers); "
        "not repeated in the sanitizer run",
    )
