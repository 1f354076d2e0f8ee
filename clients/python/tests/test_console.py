"""The web console (issue 27) in a real browser: Debian's chromium, headless, driven by selenium through
chromium-driver, against a real server's HTTP port. The page is used as a person would: a collection is
created and the committed photos and some captions are dropped on it (the file input the drop zone wraps); then
searches by typed text (keyboard only), by an uploaded photo and by an uploaded spoken clip, and a corrupt file
both indexed and searched with, which must show the server's own message.

Screenshots go to test-output/console/ at the repository root (ROSETTA_CONSOLE_SCREENSHOTS overrides it); look
at them after a change to the page. Every wait is for a condition on the page, never a fixed time."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TEXT_MODEL_ID, http_server

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"
AUDIO = REPO_ROOT / "Tests" / "Fixtures" / "audio"
SHOTS = Path(os.environ.get("ROSETTA_CONSOLE_SCREENSHOTS", REPO_ROOT / "test-output" / "console"))
# Seconds a step may take: the first image, audio and search load their models' caches on 2 cores.
STEP_TIMEOUT = 300
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def test_the_embedded_console_is_the_committed_one():
    stale = subprocess.run(["python3", str(REPO_ROOT / "scripts" / "embed-static"), "--check"])
    assert stale.returncode == 0, "Sources/HTTPAPI/ConsoleFiles.swift is stale: run scripts/embed-static"


@pytest.fixture(scope="module")
def console_server():
    with http_server("console", ["--in-memory"]) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; "
                    "`make test` installs them)", pytrace=False)
    options = Options()
    options.binary_location = CHROMIUM
    # The fake media device: the microphone is a generated tone, and no permission prompt is shown.
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--lang=en-US", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, condition, what: str, timeout: float = STEP_TIMEOUT):
    return WebDriverWait(driver, timeout).until(condition, message=f"waiting for {what}")


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def upsert_message(server, collection: str, item: dict) -> str:
    """What the server says about one item upserted over the HTTP API directly."""
    request = urllib.request.Request(
        f"{server.http_url}/v1/collections/{collection}/upsert", data=json.dumps({"items": [item]}).encode(),
        headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["results"][0]["status"]["message"]


def search_and_wait(driver, start) -> str:
    """Runs `start` (which starts a search) and waits until the search finished; returns the error shown, or ""."""
    driver.execute_script("document.getElementById('search-status').textContent = '';"
                          "document.getElementById('message').hidden = true;")
    start()
    wait(driver, lambda d: d.find_element(By.ID, "message").is_displayed()
         or "results in" in text_of(d, "search-status") or "Nothing found" in text_of(d, "search-status"),
         "the search to finish")
    message = driver.find_element(By.ID, "message")
    return message.text if message.is_displayed() else ""


def result_ids(driver):
    return [card.get_attribute("data-id") for card in driver.find_elements(By.CSS_SELECTOR, "#results > li")]


def test_index_and_search_through_the_page(console_server, browser, text_model, tmp_path):
    driver = browser
    driver.get(console_server.http_url + "/")

    # Every control has a label (or is a button with its own text).
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label') && !e.closest('label'))
            .map(e => e.id || e.name);""")
    assert unlabelled == []

    # A new collection (previews kept), from the page's own form, with the keyboard.
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#new-model option")) > 0, "the models")
    driver.find_element(By.CSS_SELECTOR, "#new-collection summary").click()
    name = driver.find_element(By.ID, "new-name")
    name.send_keys("photos", Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "collection").get_attribute("value") == "photos", "the new collection")

    # Drop the photos, spoken-clip captions and a corrupt file on the page's drop zone (its file input).
    captions = {c["id"]: c["caption"] for c in json.loads((AUDIO / "captions.json").read_text())}
    files = sorted(PHOTOS.glob("*.jpg"))
    for clip in ("dog", "train", "rain", "pasta"):
        path = tmp_path / f"{clip}.txt"
        path.write_text(captions[clip])
        files.append(path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"this is not the rest of a JPEG" * 4)
    files.append(broken)
    driver.find_element(By.CSS_SELECTOR, "a[data-tab=index]").click()
    driver.find_element(By.ID, "index-files").send_keys("\n".join(str(f) for f in files))
    wait(driver, lambda d: text_of(d, "index-status").startswith("Done"), "the files to be indexed")
    progress = driver.find_element(By.ID, "index-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(len(files))
    assert text_of(driver, "index-status") == f"Done: {len(files) - 1} added, 1 failed (see below)."
    failed = driver.find_element(By.CSS_SELECTOR, "#index-log li.error")
    expected = upsert_message(console_server, "photos", {
        "id": "broken.jpg", "input": {"image": {"data": base64.b64encode(broken.read_bytes()).decode(), "mime_type": "image/jpeg"}}})
    assert failed.text == f"broken.jpg: {expected}" and "JPEG" in expected
    shot(driver, "1-indexed")

    # Typed text, submitted with Enter: the first thumbnail is the clock's.
    driver.find_element(By.CSS_SELECTOR, "a[data-tab=search]").click()
    query = driver.find_element(By.ID, "query-text")
    assert search_and_wait(driver, lambda: query.send_keys("a clock on a wall", Keys.ENTER)) == ""
    ids = result_ids(driver)
    assert ids[0] == "clock.jpg", ids
    first = driver.find_element(By.CSS_SELECTOR, "#results > li img")
    with console_server.client() as c:
        clock = c.get("photos", ["clock.jpg"], include_previews=True)[0][0].preview
    assert first.get_attribute("src") == "data:image/jpeg;base64," + base64.b64encode(clock.thumbnail_jpeg).decode()
    assert driver.execute_script("return arguments[0].naturalWidth", first) == clock.thumbnail_width
    shot(driver, "2-text-query")

    # An uploaded photo: the same photo first (the text box is left empty).
    query.clear()
    driver.find_element(By.ID, "query-file").send_keys(str(PHOTOS / "chelsea.jpg"))
    assert "chelsea.jpg" in text_of(driver, "query-chosen-name")
    assert search_and_wait(driver, lambda: driver.find_element(By.ID, "search-button").click()) == ""
    assert result_ids(driver)[0] == "chelsea.jpg"
    shot(driver, "3-photo-query")

    # An uploaded spoken clip, only texts asked for: its caption first.
    driver.find_element(By.ID, "query-clear").click()
    driver.find_element(By.ID, "query-file").send_keys(str(AUDIO / "speech" / "dog-en-us.ogg"))
    driver.find_element(By.CSS_SELECTOR, ".options summary").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=modality][value=MODALITY_TEXT]").click()
    assert search_and_wait(driver, lambda: driver.find_element(By.ID, "search-button").click()) == ""
    ids = result_ids(driver)
    assert ids[0] == "dog.txt" and all(i.endswith(".txt") for i in ids), ids
    assert captions["dog"] in driver.find_element(By.CSS_SELECTOR, "#results > li .snippet").text
    shot(driver, "4-spoken-query")
    driver.find_element(By.CSS_SELECTOR, "input[name=modality][value=MODALITY_TEXT]").click()

    # A corrupt file as the query: the server's message, as the API gives it.
    driver.find_element(By.ID, "query-clear").click()
    driver.find_element(By.ID, "query-file").send_keys(str(broken))
    shown = search_and_wait(driver, lambda: driver.find_element(By.ID, "search-button").click())
    assert shown.startswith("400: ") and expected in shown, shown
    shot(driver, "5-corrupt-query")

    # The server page: models with their spaces, collections, limits.
    driver.find_element(By.CSS_SELECTOR, "a[data-tab=server]").click()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#models tbody tr")) > 0, "the models table")
    models = text_of(driver, "models")
    assert TEXT_MODEL_ID in models
    assert "photos" in text_of(driver, "collections") and "max top k" in text_of(driver, "limits")
    shot(driver, "6-server")


def test_a_recording_from_the_microphone_reaches_the_server_as_wav(console_server, browser, text_model):
    """Chromium's fake microphone plays a tone: the page records it, encodes a WAV and searches with it, and the
    server, which decoded the WAV, says that it holds no words (the default space takes speech)."""
    driver = browser
    with console_server.client() as c:
        c.create_collection("microphone", model=TEXT_MODEL_ID, keep_previews=True)
    driver.get(console_server.http_url + "/?microphone#search")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#collection option[value=microphone]")) == 1,
         "the collections")
    Select(driver.find_element(By.ID, "collection")).select_by_value("microphone")
    record = driver.find_element(By.ID, "record")
    record.click()
    wait(driver, lambda d: record.get_attribute("aria-pressed") == "true", "the recording to start")
    wait(driver, lambda d: (lambda t: t.startswith("Stop recording (") and float(t[16:].split()[0]) >= 1.5)(record.text),
         "1.5 seconds of recording")
    record.click()
    wait(driver, lambda d: "recording.wav" in text_of(d, "query-chosen-name"), "the recording to be chosen")
    shown = search_and_wait(driver, lambda: driver.find_element(By.ID, "search-button").click())
    assert shown.startswith("400: ") and "no trustworthy words" in shown, shown


def test_readable_at_phone_width(console_server, browser, text_model):
    driver = browser
    # A phone's viewport (an iPhone's 375 CSS pixels), as the browser's device emulation gives it.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.get(console_server.http_url + "/?phone#search")  # a new page: no query file left chosen
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#new-model option")) > 0, "the models")
        assert driver.execute_script("return window.innerWidth") == 375
        query = driver.find_element(By.ID, "query-text")
        if driver.find_element(By.ID, "collection").get_attribute("value") == "photos":
            assert search_and_wait(driver, lambda: query.send_keys("a cup of coffee", Keys.ENTER)) == ""
        # Nothing wider than the screen: no sideways scrolling.
        wide = driver.execute_script("""
            return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5);""")
        assert wide == [] and driver.execute_script("return document.documentElement.scrollWidth") <= 375
        shot(driver, "7-phone")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_console_files_and_their_headers(console_server):
    with urllib.request.urlopen(console_server.http_url + "/", timeout=10) as r:
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        page = r.read().decode()
    assert page == (REPO_ROOT / "console" / "index.html").read_text()
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        with urllib.request.urlopen(f"{console_server.http_url}/console/{name}", timeout=10) as r:
            assert r.headers["content-type"].startswith(kind)
            assert r.read().decode() == (REPO_ROOT / "console" / name).read_text()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(console_server.http_url + "/console/nothing.js", timeout=10)
    assert missing.value.code == 404
