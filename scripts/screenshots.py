"""Regenerate docs/screenshots/: the home page, an entry, each contact step, the widget on a host page and the staff
ticket page, at phone (390×844) and desktop (1366×900) size, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py

It serves the app with gunicorn on a throw-away instance folder (as the browser tests do), a stand-in booking site
on another loopback origin, and walks the pages as a visitor would (tests/browser/ux_support.py).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser")]

from browser_support import CHROMIUM_ARGS, CHROMIUM_PATH, start_live_server  # noqa: E402
from ux_support import SIZES, seed, start_host_site, walk  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# Of the pages the walk visits, those shown in the README.
WANTED = {
    "accueil", "entree", "contact-1-motif", "contact-1-suggestion", "contact-2-reponse", "contact-3-verifications",
    "contact-3-refus", "contact-4-informations", "contact-5-merci", "contact-refus-delai", "staff-ticket",
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        host = start_host_site("localhost")
        live = start_live_server(Path(folder) / "instance", Path(folder) / "index", EMBED_ORIGINS=host.url,
                                 CONTACT_RATE_LIMIT="1000", CONTACT_MIN_FILL_SECONDS="0")
        host.widget_base = live.url
        try:
            ref = seed(live)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
                for size, options in SIZES.items():
                    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", **options)
                    page = context.new_page()

                    def shoot(name, current, size=size):
                        if name in WANTED:
                            current.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=size == "bureau")
                            print(f"docs/screenshots/{name}-{size}.png")

                    walk(page, live, ref, shoot)
                    page.goto(host.url + "/")
                    page.get_by_role("button", name="Aide et support : ouvrir").click()
                    frame = page.frame_locator("iframe[title='Aide et support']")
                    frame.locator("#q").fill("remboursement carte expirée")
                    frame.locator("#live-results .hit-link").first.wait_for()
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(OUT / f"widget-site-hote-{size}.png"))
                    print(f"docs/screenshots/widget-site-hote-{size}.png")
                    context.close()
                browser.close()
        finally:
            live.stop()
            host.stop()


if __name__ == "__main__":
    main()
