"""The dashboard in a real headless Chromium: start a campaign through the form, watch a
device's progress bar move while it updates, and check the final state."""

from __future__ import annotations

import hashlib
import time
import zlib
from pathlib import Path

import pytest
from conftest import require_tool
from emulator_harness import API_KEY, ServerThread, SimDevice, register, request, sign

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def browser():
    chromium = require_tool("chromium")
    chromedriver = require_tool("chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to see CSP reports
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something true.  The page re-renders its
    tables every second, so an element found a moment ago may be gone: retry then."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def click(browser, css: str) -> None:
    """Click what ``css`` finds, again if a re-render replaced it meanwhile."""
    from selenium.webdriver.common.by import By

    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, css).click() or True, what=css)


@pytest.mark.external_build
def test_campaign_form_and_live_progress(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with ServerThread() as srv:
        port = srv.port
        devices = []
        for i, imei in enumerate(("356938035643809", "356938035643810")):
            devices.append(register(port, imei, type="sensor", client=f"c{i}"))
        dev = devices[0]
        dev.downlink(firmware="1.0.0")
        fw_file = tmp_path / "app-2.0.0.bin"
        fw_file.write_bytes(bytes(range(256)) * 40)

        # The dashboard wants the API key: a wrong one is refused, the right one lets in.
        browser.get(f"{srv.base}/")
        wait_for(lambda: browser.find_element(By.ID, "view-login").is_displayed(),
                 what="the login form")
        assert not browser.find_element(By.ID, "view-devices").is_displayed()
        key_box = browser.find_element(By.ID, "login-key")
        key_box.send_keys("wrong-key-0123456789")
        browser.find_element(By.ID, "login-submit").click()
        wait_for(lambda: "wrong API key" in browser.find_element(By.ID, "login-result").text,
                 what="wrong key refused")
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard_login.png"))
        key_box.clear()
        key_box.send_keys(API_KEY)
        browser.find_element(By.ID, "login-submit").click()
        wait_for(lambda: browser.find_elements(By.ID, f"device-row-{devices[0].imei}"),
                 what="devices table after login")
        assert browser.find_element(By.ID, "nav-logout").is_displayed()

        browser.get(f"{srv.base}/#/new")
        browser.find_element(By.ID, "cf-file").send_keys(str(fw_file))
        browser.find_element(By.ID, "cf-version").send_keys("2.0.0")
        browser.find_element(By.ID, "cf-name").send_keys("sensors to 2.0.0")
        Select(browser.find_element(By.ID, "cf-target")).select_by_value("type")
        browser.find_element(By.ID, "cf-value").send_keys("sensor")
        browser.find_element(By.ID, "cf-submit").click()
        wait_for(lambda: browser.current_url.split("#", 1)[1].startswith("/campaign/"),
                 what="the campaign page")
        campaign_id = int(browser.current_url.rsplit("/", 1)[1])
        c = request(port, "GET", f"/api/campaigns/{campaign_id}").json()
        assert c["name"] == "sensors to 2.0.0" and c["firmware"]["version"] == "2.0.0"
        assert c["counts"]["pending"] == 2

        def count(kind: str) -> int:
            el = browser.find_elements(By.CSS_SELECTOR, f".count-{kind}")
            return int(el[0].get_attribute("data-count")) if el else -1

        wait_for(lambda: count("pending") == 2, what="2 pending")
        cmd = dev.downlink(firmware="1.0.0")
        assert cmd is not None and cmd["version"] == "2.0.0"
        wait_for(lambda: count("downloading") == 1, what="1 downloading")

        bar_id = f"progress-{dev.imei}"
        widths = []
        for pct in (5, 30, 60, 90, 100):
            assert dev.downlink(firmware="1.0.0", state="downloading", progress=pct) is None
            wait_for(lambda p=pct: browser.find_element(By.ID, bar_id)
                     .get_attribute("data-progress") == str(p), what=f"bar at {pct}%")

            def fill_width(p=pct):
                # Let the CSS transition settle, then read the rendered width.
                width = browser.find_element(By.CSS_SELECTOR, f"#{bar_id} .fill").size["width"]
                return (width,) if abs(width - 160 * p / 100) < 2 else None

            widths.append(wait_for(fill_width, what=f"fill width at {pct}%")[0])
            if pct == 60:
                ARTIFACTS.mkdir(exist_ok=True)
                browser.save_screenshot(str(ARTIFACTS / "dashboard_campaign_progress.png"))
        assert widths == sorted(widths) and widths[0] < widths[-1]

        assert dev.downlink(firmware="1.0.0", state="updating") is None
        assert dev.downlink(firmware="2.0.0", state="idle", result=1) is None
        wait_for(lambda: count("done") == 1, what="1 done")
        assert wait_for(lambda: (count("pending"), count("failed"), count("downloading"))) \
            == (1, 0, 0)

        def row_text(cls: str) -> str:
            row = browser.find_element(By.ID, f"campaign-row-{dev.imei}")
            return row.find_element(By.CSS_SELECTOR, cls).text

        assert wait_for(lambda: row_text(".status")) == "done"
        assert wait_for(lambda: row_text(".reported")) == "2.0.0"
        browser.save_screenshot(str(ARTIFACTS / "dashboard_campaign_done.png"))

        # Campaign faults set through the form reach the API.
        box = browser.find_element(By.CSS_SELECTOR, "#campaign-faults-form textarea")  # static
        box.send_keys('{"omit_digest": true}')
        browser.find_element(By.CSS_SELECTOR, "#campaign-faults-form button").click()
        wait_for(lambda: request(port, "GET", f"/api/campaigns/{campaign_id}").json()["faults"]
                 == {"omit_digest": True}, what="campaign faults")
        wait_for(lambda: "omit_digest" in browser.find_element(By.ID, "campaign-faults").text,
                 what="faults shown")
        box.clear()
        box.send_keys('{"no_such_fault": 1}')
        browser.find_element(By.CSS_SELECTOR, "#campaign-faults-form button").click()
        wait_for(lambda: "faults.no_such_fault" in
                 browser.find_element(By.ID, "campaign-faults-result").text, what="form error")

        # The device page lists its last uplinks, newest first, with the FOTA command.
        # The devices table re-renders every second: retry a click on a stale link.
        wait_for(lambda: browser.find_element(By.LINK_TEXT, dev.imei).click() or True,
                 what="device link")
        wait_for(lambda: "firmware=2.0.0" in browser.find_element(By.ID, "device-uplinks").text,
                 what="uplink history")
        assert "FOTA command" in wait_for(
            lambda: browser.find_element(By.ID, "device-uplinks").text)
        # The secret is masked until revealed (the reveal asks the API, with the key).
        assert browser.find_element(By.ID, "device-secret").text == "********"
        browser.find_element(By.ID, "reveal-secret").click()
        wait_for(lambda: browser.find_element(By.ID, "device-secret").text == dev.secret,
                 what="revealed secret")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_device.png"))
        browser.get(f"{srv.base}/#/devices")
        wait_for(lambda: browser.find_elements(By.ID, f"device-row-{devices[1].imei}"),
                 what="devices table")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_devices.png"))
        # Nothing the page does breaks its own Content-Security-Policy.
        csp = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
        assert csp == []
        # Logging out forgets the key: the next view asks for it again.
        browser.find_element(By.ID, "nav-logout").click()
        wait_for(lambda: browser.find_element(By.ID, "view-login").is_displayed(),
                 what="login after logout")
        assert browser.execute_script("return sessionStorage.length") == 0


@pytest.mark.external_build
def test_event_log_and_firmware_page(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    from test_emulator_operator import _sign

    signed, signer = _sign(tmp_path, "ecdsa-p256", "app")  # imgtool, version 1.2.3
    with ServerThread(mcuboot_keys=[signer]) as srv:
        port = srv.port
        dev = register(port, "356938035643811", type="meter")
        assert dev.uplink(firmware="1.0.0").status == 204
        body = b'[{"bn":"urn:dev:IMEI:356938035643811:","n":"firmware","v":"x"}]'
        request(port, "POST", "/ingestion/m2m/senml/v1", body=body,
                headers={"Things-Message-Token": "0" * 64})
        SimDevice(port, dev.imei, "wrong").uplink(firmware="1.0.0")
        SimDevice(port, "999999999999999", "x").uplink(firmware="1.0.0")
        # a ThingsML record as KPN's SDK writes it: shown resolved (name and unit)
        things = f'[{{"bn":"urn:dev:IMEI:{dev.imei}:","i_":-24,"v":21.5}}]'.encode()
        assert request(port, "POST", "/ingestion/m2m/senml/v1", body=things,
                       headers={"Things-Message-Token": sign(things, dev.secret)}).status == 204

        browser.get(f"{srv.base}/")
        browser.execute_script(f"sessionStorage.setItem('m2mfota-api-key', '{API_KEY}')")
        browser.get(f"{srv.base}/#/events")

        def events_text() -> str:
            return browser.find_element(By.ID, "events-table").text

        for needle in ("bad Things-Message-Token", "unknown IMEI 999999999999999",
                       "MFOTA_ERR_SENML_TYPE at byte 58", "1 record"):
            wait_for(lambda n=needle: n in events_text(), what=needle)
        assert "1 records" not in events_text()
        # read in one script: the table re-renders every second, so element
        # handles found a moment ago may already be stale
        kinds = set(browser.execute_script(
            "return Array.from(document.querySelectorAll('#events-table tr.event'),"
            " e => e.getAttribute('data-kind'))"))
        assert kinds == {"uplink", "refused"}
        # A registered device's IMEI links to its page; the unknown one is plain text.
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                               f"#events-table a[href='#/device/{dev.imei}']"),
                 what="link to the registered device")
        assert not browser.find_elements(By.CSS_SELECTOR,
                                         "#events-table a[href='#/device/999999999999999']")
        devices_cells = [t.strip() for t in browser.execute_script(
            "return Array.from(document.querySelectorAll("
            "'#events-table tr.event td.mono:nth-child(3)'), c => c.innerText)")]
        assert "999999999999999" in devices_cells
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard_events.png"))
        browser.get(f"{srv.base}/#/device/{dev.imei}")
        wait_for(lambda: "temperature=21.5 Cel" in
                 browser.find_element(By.ID, "device-uplinks").text, what="resolved ThingsML")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_thingsml_uplink.png"))

        # Firmware page: upload, list with checksums, delete; a used one cannot go.
        fw_file = tmp_path / "app-3.1.0.bin"
        fw_file.write_bytes(bytes(range(256)) * 8)
        browser.get(f"{srv.base}/#/firmware")
        browser.find_element(By.ID, "fw-file").send_keys(str(fw_file))
        browser.find_element(By.ID, "fw-version").send_keys("3.1.0")
        browser.find_element(By.ID, "fw-submit").click()
        row = wait_for(lambda: browser.find_elements(By.ID, "firmware-row-1"), what="row")[0]
        assert "3.1.0" in row.text and "2048" in row.text
        assert f"{zlib.crc32(fw_file.read_bytes()):08x}" in row.text
        browser.find_element(By.ID, "fw-file").send_keys(str(fw_file))
        browser.find_element(By.ID, "fw-version").send_keys("3.2.0")
        browser.find_element(By.ID, "fw-submit").click()
        wait_for(lambda: browser.find_elements(By.ID, "firmware-row-2"), what="second row")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_firmware.png"))
        click(browser, "#firmware-row-1 .fw-delete")
        wait_for(lambda: not browser.find_elements(By.ID, "firmware-row-1"), what="deleted")
        assert request(port, "GET", "/api/firmware/1").status == 404

        # A campaign picks its firmware from that list.
        browser.get(f"{srv.base}/#/new")
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#cf-firmware option")) == 2,
                 what="firmware choices")
        Select(browser.find_element(By.ID, "cf-firmware")).select_by_value("2")
        submit_campaign_to_meters(browser, "meters to 3.2.0")
        camp = request(port, "GET", "/api/campaigns/1").json()
        assert camp["firmware"]["version"] == "3.2.0"
        assert len(request(port, "GET", "/api/firmware").json()) == 1  # nothing uploaded

        browser.get(f"{srv.base}/#/firmware")
        wait_for(lambda: browser.find_elements(By.ID, "firmware-row-2"), what="firmware list")
        click(browser, "#firmware-row-2 .fw-inspect")
        sha = hashlib.sha256(fw_file.read_bytes()).hexdigest()
        wait_for(lambda: sha in browser.find_element(By.ID, "firmware-detail").text,
                 what="inspected firmware")
        click(browser, "#firmware-row-2 .fw-delete")
        wait_for(lambda: "campaign 1 uses firmware 2" in
                 browser.find_element(By.ID, "firmware-table-result").text, what="409 shown")
        # A failed upload (a plain binary needs a version) shows its error too...
        browser.find_element(By.ID, "fw-file").send_keys(str(fw_file))
        browser.find_element(By.ID, "fw-submit").click()
        wait_for(lambda: "version" in browser.find_element(By.ID, "firmware-form-result").text,
                 what="upload error")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_firmware_errors.png"))
        # ...and neither is still there after leaving the page and coming back in-page
        # (the nav links change the hash only: no reload clears them).
        browser.execute_script("window.sameLoad = true")
        click(browser, "#nav-devices")
        wait_for(lambda: browser.find_element(By.ID, "view-devices").is_displayed(),
                 what="devices view")
        click(browser, "#nav-firmware")
        wait_for(lambda: browser.find_elements(By.ID, "firmware-row-2"), what="firmware again")
        for out in ("firmware-table-result", "firmware-form-result"):
            text, cls = browser.execute_script(
                "const e = document.getElementById(arguments[0]);"
                " return [e.innerText, e.className]", out)
            assert text.strip() == "" and "error" not in cls, out
        assert browser.find_element(By.ID, "firmware-detail").text == ""  # the inspect panel
        assert browser.execute_script("return window.sameLoad") is True  # no reload
        browser.save_screenshot(str(ARTIFACTS / "dashboard_firmware_back.png"))

        # An MCUboot image: the page shows its version and the signature check
        # against the key the server was started with.
        assert request(port, "POST", "/api/firmware", body=signed).json()["id"] == 3
        browser.get(f"{srv.base}/#/firmware")
        click(browser, "#firmware-row-3 .fw-inspect")
        detail = wait_for(lambda: browser.find_elements(By.ID, "fw-signature"),
                          what="MCUboot detail")[0]
        assert detail.text == "verified (ecdsa-p256)"
        table = browser.find_element(By.ID, "firmware-detail").text
        assert "MCUboot version 1.2.3" in table
        assert browser.find_element(By.ID, "fw-hash").text == "ok"
        # uploaded through the API as a bare body: no file name, and no dangling comma
        assert browser.find_element(By.ID, "fw-title").text == "#3 1.2.3 (mcuboot)"
        browser.save_screenshot(str(ARTIFACTS / "dashboard_firmware_mcuboot.png"))

        # The OpenAPI document as a page, from the package's own assets.
        browser.get(f"{srv.base}/docs/api")
        ops = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "section.operation"),
                       what="API operations")
        assert len(ops) >= 20
        assert "GET /api/events" in " ".join(o.text for o in ops)
        browser.save_screenshot(str(ARTIFACTS / "dashboard_api_docs.png"))
        csp = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
        assert csp == []



def submit_campaign_to_meters(browser, name: str) -> None:
    """Name the campaign on the open form, target devices of type "meter",
    submit it and wait for its page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.find_element(By.ID, "cf-name").send_keys(name)
    Select(browser.find_element(By.ID, "cf-target")).select_by_value("type")
    browser.find_element(By.ID, "cf-value").send_keys("meter")
    browser.find_element(By.ID, "cf-submit").click()
    wait_for(lambda: browser.current_url.split("#", 1)[1].startswith("/campaign/"),
             what="the campaign page")

@pytest.mark.external_build
def test_delta_campaign_form_and_firmware_page(browser):
    """A campaign "delta from 1.0.0" started through the form; the firmware
    page shows both images and the delta file; a delta error by name."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    pytest.importorskip("detools")
    v1 = bytes(range(256)) * 60 + hashlib.sha256(b"v1").digest() * 100
    v2 = v1[:5000] + b"the fix" + v1[5000:]
    v3 = v2[:9000] + b"another fix" + v2[9000:]
    with ServerThread() as srv:
        port = srv.port
        ids = [request(port, "POST", f"/api/firmware?version={ver}", body=data,
                       headers={"Content-Type": "application/octet-stream"}).json()["id"]
               for ver, data in (("1.0.0", v1), ("2.0.0", v2), ("3.0.0", v3))]
        on_v1 = register(port, "356938035643901", type="meter")
        on_v0 = register(port, "356938035643902", type="meter")
        browser.get(f"{srv.base}/")
        browser.execute_script(f"sessionStorage.setItem('m2mfota-api-key', '{API_KEY}')")
        browser.get(f"{srv.base}/#/new")
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#cf-delta-from option"))
                 == 4, what="delta source choices")
        Select(browser.find_element(By.ID, "cf-firmware")).select_by_value(str(ids[1]))
        Select(browser.find_element(By.ID, "cf-delta-from")).select_by_value("1.0.0")
        Select(browser.find_element(By.ID, "cf-others")).select_by_value("skip")
        submit_campaign_to_meters(browser, "meters, delta")
        camp = request(port, "GET", "/api/campaigns/1").json()
        delta = camp["delta"]
        assert delta["source"]["version"] == "1.0.0" and delta["others"] == "skip"
        text = wait_for(lambda: browser.find_element(By.ID, "campaign-delta").text)
        assert f"delta from 1.0.0: {delta['size']} B delta file for a {len(v2)} B image" in text
        assert "other versions: skipped" in text

        cmd = on_v1.downlink(firmware="1.0.0")
        assert cmd["size"] == delta["size"]
        assert on_v0.downlink(firmware="0.9.0") is None
        got = request(port, "GET", "/f/v1/" + cmd["url"].rsplit("/", 1)[1],
                      headers={"Authorization": f"Bearer {cmd['token']}"})
        assert got.status == 200 and got.body[:4] == b"MFDP"

        def count(kind: str) -> int:
            el = browser.find_elements(By.CSS_SELECTOR, f".count-{kind}")
            return int(el[0].get_attribute("data-count")) if el else -1

        wait_for(lambda: count("skipped") == 1 and count("downloading") == 1,
                 what="1 skipped, 1 downloading")
        assert on_v1.downlink(firmware="1.0.0", state="idle", result=5,
                              error="delta_source") is None

        def row(imei: str, cls: str) -> str:
            return browser.find_element(By.ID, f"campaign-row-{imei}").find_element(
                By.CSS_SELECTOR, cls).text

        wait_for(lambda: "delta_source" in row(on_v1.imei, ".error"), what="error in row")
        assert row(on_v1.imei, ".served") == "delta"
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard_delta_campaign.png"))
        browser.get(f"{srv.base}/#/device/{on_v1.imei}")
        wait_for(lambda: "delta_source: delta: the running image is not the delta's source"
                 in browser.find_element(By.ID, "device-state").text, what="error by name")
        # its download was withdrawn when it failed: the bytes it fetched are counted
        assert browser.find_element(By.ID, "device-bytes-sent").text.startswith(
            f"{delta['size']} bytes")
        browser.get(f"{srv.base}/#/events")
        wait_for(lambda: "fota.error delta_source (delta: the running image is not" in
                 browser.find_element(By.ID, "events-table").text, what="event by name")

        # The firmware page: the campaign's delta file, both images and the patch.
        browser.get(f"{srv.base}/#/firmware")
        wait_for(lambda: "1.0.0 → 2.0.0" in
                 browser.find_element(By.ID, "delta-row-1").text, what="delta row")
        click(browser, "#delta-row-1 .delta-show")
        detail = wait_for(lambda: browser.find_element(By.ID, "delta-1").text)
        for needle in (hashlib.sha256(v1).hexdigest(), hashlib.sha256(v2).hexdigest(),
                       delta["sha256"], f"{delta['size']} bytes, {delta['ratio'] * 100:.1f} %"):
            assert needle in detail, needle
        # "make delta" on the page: 2.0.0 to 3.0.0
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#delta-target option"))
                 == 3, what="delta choices")
        Select(browser.find_element(By.ID, "delta-source")).select_by_value(str(ids[1]))
        Select(browser.find_element(By.ID, "delta-target")).select_by_value(str(ids[2]))
        browser.find_element(By.ID, "delta-submit").click()
        made = wait_for(lambda: browser.find_elements(By.ID, "delta-2"), what="new delta")[0]
        assert hashlib.sha256(v3).hexdigest() in made.text
        wait_for(lambda: browser.find_elements(By.ID, "delta-row-2"), what="its row")
        browser.save_screenshot(str(ARTIFACTS / "dashboard_delta_firmware.png"))
        # the same pair again is an error the form shows
        Select(browser.find_element(By.ID, "delta-target")).select_by_value(str(ids[1]))
        browser.find_element(By.ID, "delta-submit").click()
        wait_for(lambda: "same image" in
                 browser.find_element(By.ID, "delta-form-result").text, what="form error")
        csp = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
        assert csp == []
