"""libFuzzer run of the whole client engine against fuzzed servers
(fuzz/client_fuzz.c): no crash, bounded, flash only programmed over erased
bits, an image marked only when verified."""

import pytest
from fuzzing import run_fuzzer

pytestmark = pytest.mark.external_build


def test_client_fuzz():
    log = run_fuzzer("client")
    assert "Done" in log or "stat::number_of_executed_units" in log, log[-2000:]
