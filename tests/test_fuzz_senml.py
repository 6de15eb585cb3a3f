"""libFuzzer runs (ASan + UBSan) of the SenML decoder and the downlink extractor."""

import pytest
from fuzzing import run_fuzzer

# The microcontroller build's parsers too: the subset decoder, byte-at-a-time
# scanning and (for the downlink) fixed-point numbers.  The senml harness
# round-trips doubles, so it keeps them.
MCU = ("MFOTA_SENML_FULL=0", "MFOTA_WORD_SCAN=0")


@pytest.mark.external_build
@pytest.mark.parametrize(("name", "defines"), [
    ("senml", ()), ("downlink", ()),
    ("senml", MCU), ("downlink", (*MCU, "MFOTA_SENML_FLOAT=0")),
], ids=["senml", "downlink", "senml-mcu", "downlink-mcu"])
def test_fuzz(name, defines):
    log = run_fuzzer(name, defines=defines)
    assert "Done" in log or "DONE" in log or "stat::" in log, log[-2000:]
