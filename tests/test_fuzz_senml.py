"""libFuzzer runs (ASan + UBSan) of the SenML decoder and the downlink extractor."""

import pytest
from fuzzing import run_fuzzer


@pytest.mark.external_build
@pytest.mark.parametrize("name", ["senml", "downlink"])
def test_fuzz(name):
    log = run_fuzzer(name)
    assert "Done" in log or "DONE" in log or "stat::" in log, log[-2000:]
