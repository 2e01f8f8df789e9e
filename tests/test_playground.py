"""The playground, driven in real headless Chromium: click through a journey and read the page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_local import chromium
from pathways.cli import main

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from pathways.playground import Playground, serve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "definitions"
    (out / "houses").mkdir(parents=True)
    for f in (ROOT / "definitions").glob("*.yaml"):
        shutil.copy(f, out / f.name)
    for f in (ROOT / "definitions" / "houses").glob("*.yaml"):
        shutil.copy(f, out / "houses" / f.name)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(1400, 1100)


@pytest.fixture
def page(folder: Path, browser: Any) -> Iterator[Any]:
    server = serve(folder, lang="da")
    assert server.url.startswith("http://127.0.0.1:")
    try:
        browser.get(server.url)
        _until(browser, lambda b: b.find_element("id", "pathway").find_elements("tag name", "option"))
        yield browser
    finally:
        server.stop()


def _until(browser: Any, condition: Any, timeout: float = 10) -> Any:
    """Wait for ``condition``; the page redraws after every answer, so stale elements are retried."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    return wait.until(condition)


def _state(browser: Any, expected: str) -> None:
    _until(browser, lambda b: b.find_element("id", "state").get_attribute("data-state") == expected,)


def _press(browser: Any, selector: str) -> None:
    """Click what ``selector`` finds, again if the page was redrawn in between."""
    from selenium.common.exceptions import StaleElementReferenceException

    def clicked(b: Any) -> bool:
        try:
            b.find_element("css selector", selector).click()
        except StaleElementReferenceException:
            return False
        return True

    _until(browser, clicked)


def _click(browser: Any, role: str, trigger: str, kind: str = "fire") -> None:
    """Click a role's option and wait until the step shows in the history."""
    from selenium.common.exceptions import StaleElementReferenceException

    n = len(browser.find_elements("css selector", "#history li"))
    selector = f'.role[data-role="{role}"] button[data-trigger="{trigger}"][data-kind="{kind}"]'

    def clicked(b: Any) -> bool:
        try:
            b.find_element("css selector", selector).click()
        except StaleElementReferenceException:  # the page was redrawn between finding and clicking
            return False
        return True

    _until(browser, clicked)
    _until(browser, lambda b: len(b.find_elements("css selector", "#history li")) == n + 1)


def _start(browser: Any, pathway: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "pathway")).select_by_value(pathway)
    browser.find_element("id", "start").click()
    _until(browser, lambda b: b.find_element("id", "case").is_displayed())


def _highlighted(browser: Any) -> list[str]:
    """The diagram's nodes drawn in the highlight colour (the current state)."""
    return list(browser.execute_script("""
        const out = [];
        for (const node of document.querySelectorAll('#diagram g.node')) {
          const shape = node.querySelector('path, polygon, ellipse');
          if (shape && shape.getAttribute('stroke') === '#cc0000') out.push(node.querySelector('title').textContent);
        }
        return out;"""))


def test_a_designer_plays_an_overnight_stay_and_saves_it_as_a_journey(page: Any, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _start(page, "overnight_stay")
    _state(page, "at_door")
    assert _until(page, lambda b: b.find_element("id", "state").text) == "Borgeren er ankommet (selv, med kontrakt eller ledsaget af Udrykningsteamet) [at_door]"
    assert _highlighted(page) == ["at_door"]
    why = _until(page, lambda b: b.find_element("css selector", '.role[data-role="citizen"] .option[data-trigger="assess"] .why-not').text)
    assert why == "hvorfor ikke: denne rolle må ikke gøre det (role)"
    _click(page, "nurse", "assess")
    _state(page, "admission_assessment")
    _click(page, "nurse", "admit")
    last = _until(page, lambda b: b.execute_script(
        "const li = [...document.querySelectorAll('#history li')].pop(); return li && {cls: li.className, text: li.textContent};"))
    assert last["cls"] == "refused"
    assert last["text"] == "Sygeplejerske (Regionspsykiatrien) [nurse] udfører 'admit' — afvist (guard: en betingelse er ikke opfyldt) — betingelsen 'consent_given' er ikke opfyldt"
    assert "en betingelse er ikke opfyldt (guard)" in _until(page, lambda b: b.find_element("css selector", '.role[data-role="nurse"] .option[data-trigger="admit"]').text)
    _press(page, 'input[data-fact="consent_given"]')
    _until(page, lambda b: b.find_element("css selector", 'input[data-fact="consent_given"]').is_selected()
           and len(b.find_elements("css selector", "#history li")) == 3)
    _click(page, "nurse", "admit")
    _state(page, "staying")
    assert _highlighted(page) == ["staying"]
    _click(page, "nurse", "stay_review")
    _click(page, "nurse", "request_extension")
    _until(page, lambda b: b.find_element("id", "pending").is_displayed())
    _click(page, "leader_region", "request_extension", "approve")
    _click(page, "leader_municipality", "request_extension", "approve")
    _state(page, "extended_stay")
    page.find_element("id", "wait-duration").clear()
    page.find_element("id", "wait-duration").send_keys("P2D")
    page.find_element("id", "wait").click()
    _state(page, "discharge_due")
    page.find_element("id", "save").click()
    _until(page, lambda b: b.find_element("id", "saved").text.endswith("played-1.yaml"))
    saved = folder / "journeys" / "played-1.yaml"
    capsys.readouterr()
    assert main(["test", str(saved), "--lang", "en"]) == 0, capsys.readouterr().out


def test_a_hand_over_is_followed_into_the_receiving_pathway(page: Any) -> None:
    _start(page, "walk_in")
    _click(page, "social_duty_worker", "start_conversation")
    _click(page, "social_duty_worker", "refer_overnight")
    _state(page, "awaiting_place_answer")
    _press(page, 'button[data-follow="overnight_stay"]')
    _state(page, "referred")
    _click(page, "nurse", "accept")
    _state(page, "admission_assessment")
    _press(page, 'button[data-follow="walk_in"]')
    _state(page, "referred_overnight")
    assert _highlighted(page) == ["referred_overnight"]


def test_editing_the_yaml_reloads_the_page_with_the_loaders_errors_at_their_line(page: Any, folder: Path) -> None:
    walk_in = folder / "walk_in.yaml"
    good = walk_in.read_text(encoding="utf-8")
    walk_in.write_text(good.replace("initial: arrived", "initial: arived"), encoding="utf-8")
    shown = _until(page, lambda b: b.execute_script("""
        const p = document.querySelector('#errors:not([hidden]) #problems .problem');
        return p && {where: p.querySelector('.where').textContent, text: p.querySelector('.text').textContent,
                     bad: p.querySelector('.bad').textContent};"""))
    assert "initial" in shown["where"]
    assert "'arived'" in shown["text"]
    assert "initial: arived" in shown["bad"]
    walk_in.write_text(good, encoding="utf-8")
    _until(page, lambda b: b.execute_script("return document.querySelector('#errors').hidden && document.querySelectorAll('#pathway option').length > 0"))
    _start(page, "walk_in")
    _state(page, "arrived")


def test_the_page_loads_nothing_from_the_network(folder: Path) -> None:
    from pathways.playground import asset

    for name in ("play.html", "play.js", "play.css"):
        text = asset(name).decode("utf-8")
        assert "http://" not in text and "https://" not in text, name
    assert Playground(folder).view()["problems"] == []
