"""In Chromium: the "Mots de passe" page used with a keyboard and a mouse, checked by axe-core,
and the tested password gone from the page once judged."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from test_web_browser import axe_violations, browser, first_run, menu, page, server, shot
from web_helpers import Server

pytestmark = pytest.mark.browser
__all__ = ["browser", "page", "server"]  # fixtures used by name below


def test_the_passwords_page_tests_and_generates_without_keeping_the_password(page: Page, server: Server) -> None:
    first_run(page, server)
    menu(page, "Mots de passe").click()
    expect(page.get_by_role("heading", name="Mots de passe", level=1)).to_be_visible()
    page.get_by_label("Mot de passe à tester").fill("Tilleuls2024!!")
    page.get_by_role("button", name="Tester").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("À changer")
    expect(verdict).to_contain_text("des mots de la pharmacie elle-même")
    expect(page.get_by_label("Mot de passe à tester")).to_have_value("")
    assert "Tilleuls2024!!" not in page.content()
    page.get_by_role("button", name="Générer une phrase de passe").click()
    expect(page.get_by_label("Proposition")).to_have_value(re.compile(r"^([a-z]+-){6}[a-z]+$"))
    shot(page, "mots-de-passe")


def test_no_serious_accessibility_violation_on_the_passwords_page(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    first_run(page, server)
    found = {}
    page.goto(server.url + "/mots-de-passe")
    found["page"] = [(v["id"], v["impact"]) for v in axe_violations(page)]
    page.get_by_label("Mot de passe à tester").fill("azerty")
    page.get_by_role("button", name="Tester").click()
    found["verdict"] = [(v["id"], v["impact"]) for v in axe_violations(page)]
    for width in (768, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.url + "/mots-de-passe")
        found[f"{width}px"] = [(v["id"], v["impact"]) for v in axe_violations(page)]
        assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"), width
    context.close()
    assert all(not v for v in found.values()), found
