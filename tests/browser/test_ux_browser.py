"""The visitor's experience in Chromium: axe-core at zero serious/critical findings on every page at phone and
desktop size, the flows with the keyboard alone, focus after a refusal, what only a browser shows (wrapping,
the header on a phone), gunicorn's own errors in French, and the help embedded on another site."""
from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request

import pytest

from faqbot import knowledge
from ux_support import (
    ADMIN_EMAIL, DESKTOP, PHONE, SIZES, axe_findings, paris_now, seed, start_host_site, walk,
)

pytestmark = pytest.mark.browser

NBSPS = str.maketrans({"\u00a0": " ", "\u202f": " "})


@pytest.fixture(scope="module")
def host_site():
    site = start_host_site("localhost")
    yield site
    site.stop()


@pytest.fixture(scope="module")
def ux_server(tmp_path_factory, shared_index_dir, host_site):
    """gunicorn with the host site allowed to embed the panel, an admin and a ticket for the staff pages."""
    from browser_support import start_live_server

    server = start_live_server(
        tmp_path_factory.mktemp("ux"), shared_index_dir, EMBED_ORIGINS=host_site.url, CONTACT_RATE_LIMIT="1000",
        CONTACT_MIN_FILL_SECONDS="0",  # Playwright types faster than a person; the spam rule has its own tests
    )
    host_site.widget_base = server.url
    server.ticket_ref = seed(server)
    yield server
    server.stop()


def _context(browser_context, size: str):
    context, probe = browser_context(**SIZES[size])
    page = context.new_page()
    page.probe = probe
    return page


def _tab_to(page, selector: str, limit: int = 80, frame=None) -> None:
    """Press Tab until the element matching `selector` has the focus (what a keyboard user does)."""
    target = frame or page
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(s) => { const a = document.activeElement; return !!a && a.matches(s); }", selector):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


def _active(target) -> str:
    return target.evaluate("() => { const a = document.activeElement; return a ? (a.id || a.className || a.tagName) : ''; }")


# --- Accessibility gate ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["telephone", "bureau"])
def test_axe_finds_nothing_serious_on_any_page(ux_server, browser_context, size):
    page = _context(browser_context, size)
    findings: dict[str, list] = {}
    visited: list[str] = []

    def visit(name, current):
        visited.append(name)
        found = axe_findings(current)
        if found:
            findings[name] = found

    walk(page, ux_server, ux_server.ticket_ref, visit)
    assert len(visited) >= 33
    assert findings == {}, findings
    assert page.probe.server_errors == [] and page.probe.page_errors == []


def test_axe_finds_nothing_serious_on_the_host_page_with_the_panel_open(ux_server, host_site, browser_context):
    for size in ("telephone", "bureau"):
        page = _context(browser_context, size)
        page.goto(host_site.url + "/")
        page.get_by_role("button", name="Aide et support : ouvrir").click()
        page.frame_locator("iframe[title='Aide et support']").locator("#q").wait_for()
        assert axe_findings(page) == []


# --- Keyboard and focus ---------------------------------------------------------------------------------------


def test_contact_flow_with_the_keyboard_alone_and_focus_on_the_refusal(ux_server, browser_context):
    page = _context(browser_context, "telephone")
    page.goto(ux_server.url + "/")
    _tab_to(page, "a.header-contact", limit=5)  # the header's link comes right after the skip link and brand
    page.keyboard.press("Enter")
    page.wait_for_url("**/contact")
    _tab_to(page, "a.reason-card[data-reason='autre']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contact?reason=autre")
    _tab_to(page, "textarea[name='message']")
    page.keyboard.type("Puis-je venir au stage avec mon chien d’assistance ?")
    _tab_to(page, "button[type='submit']")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Je dois quand même vous contacter").wait_for()
    _tab_to(page, "form.outcome button:not([formaction])")
    page.keyboard.press("Enter")
    page.locator("form.contact-form").wait_for()
    # Refused (the box is not ticked): the focus lands on the summary, not on <body>.
    _tab_to(page, "form.contact-form button[type='submit']")
    page.keyboard.press("Enter")
    page.locator(".error-summary").wait_for()
    # autofocus applies once the document is parsed: wait for it (fails after 5 s if focus never lands there).
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('error-summary')", timeout=5000)
    # From the summary, one Tab and Enter reach the unticked box; Space ticks it.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert _active(page) == "c_aucune_reponse_faq"
    page.keyboard.press("Space")
    _tab_to(page, "form.contact-form button[type='submit']")
    page.keyboard.press("Enter")
    page.locator("#summary-title").wait_for()
    _tab_to(page, "#name")
    page.keyboard.type("Noé Garnier")
    page.keyboard.press("Tab")
    page.keyboard.type("noe.garnier@example.test")
    _tab_to(page, "form.contact-form > button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contact/merci/**")
    ref = page.url.rsplit("/", 1)[-1]
    assert ref in page.locator(".ref").inner_text()


def test_expired_deadline_refusal_focuses_the_explanation_and_offers_a_way_out(ux_server, browser_context):
    page = _context(browser_context, "telephone")
    page.goto(ux_server.url + "/contact?reason=delai-retractation")
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    today = paris_now().date()
    page.locator("#f_date_paiement").fill((today - dt.timedelta(days=40)).isoformat())
    page.locator("#f_premier_jour_stage").fill((today + dt.timedelta(days=10)).isoformat())
    page.locator("select[name='f_annulation_centre']").select_option("non")
    page.get_by_role("button", name="Continuer").click()
    page.locator(".problems").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "problemes"
    assert page.get_by_role("button", name="Continuer").count() == 0  # « Continuer » is no longer the way on
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Corriger une date"
    page.keyboard.press("Enter")
    assert _active(page) == "f_date_paiement"
    page.locator("#f_date_paiement").fill((today - dt.timedelta(days=3)).isoformat())
    page.locator("#c_espace_refuse").check()
    page.get_by_role("button", name="Vérifier à nouveau").click()
    page.get_by_role("heading", name="Vos informations").wait_for()
    summary = page.locator(".summary").inner_text().translate(NBSPS)
    assert "Oui" not in summary and "Non" in summary and str(today.year) in summary
    assert (today - dt.timedelta(days=3)).isoformat() not in summary  # the French date, not the ISO one


# --- What only a browser shows -------------------------------------------------------------------------------


def test_phone_header_has_the_contact_link_in_the_first_screen(ux_server, browser_context):
    page = _context(browser_context, "telephone")
    for path in ("/", f"/faq/{knowledge.faq(ux_server.app).entries[0].id}", "/recherche?q=stage"):
        page.goto(ux_server.url + path)
        box = page.locator("a.header-contact").bounding_box()
        assert box and box["y"] + box["height"] <= 844 and box["height"] >= 44


def test_phone_legends_stay_inside_their_fieldset_and_the_reference_on_one_line(ux_server, browser_context):
    page = _context(browser_context, "telephone")
    page.goto(ux_server.url + "/contact?reason=delai-retractation")
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    page.locator("form.contact-form").wait_for()
    overflow = page.evaluate("""() => Array.from(document.querySelectorAll('fieldset > legend')).map((legend) => {
        const l = legend.getBoundingClientRect(), f = legend.parentElement.getBoundingClientRect();
        return l.right - f.right; })""")
    assert overflow and max(overflow) <= 0, overflow
    overflow_x = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow_x <= 1
    page.goto(ux_server.url + f"/widget/merci/{ux_server.ticket_ref}")
    lines = page.evaluate("""() => { const r = document.querySelector('.ref'); const range = document.createRange();
        range.selectNodeContents(r); return new Set(Array.from(range.getClientRects()).map((x) => Math.round(x.top))).size; }""")
    assert lines == 1


def test_long_url_gets_a_french_page_from_gunicorn(ux_server):
    url = ux_server.url + "/recherche?q=" + "remboursement%20" * 700  # ~11,000 characters: beyond any limit
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=10)
    body = raised.value.read().decode("utf-8")
    assert raised.value.code == 414
    assert "L’adresse de cette page est trop longue" in body and 'lang="fr"' in body and "URI Too Long" not in body


def test_a_long_search_below_the_limit_is_answered_with_a_notice(ux_server, browser_context):
    page = _context(browser_context, "telephone")
    from faqbot.index.service import MAX_QUERY_CHARS

    page.goto(ux_server.url + "/recherche?q=" + "remboursement+" * 300)  # 4,200 characters
    assert f"{MAX_QUERY_CHARS} premiers caractères" in page.locator(".notice").inner_text().translate(NBSPS)
    assert len(page.locator("#results-title").inner_text()) < 300


def test_favicon_is_found(ux_server, browser_context):
    page = _context(browser_context, "bureau")
    response = page.goto(ux_server.url + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/")


# --- The help embedded on another site -----------------------------------------------------------------------


def test_widget_on_another_origin_with_the_keyboard_search_entry_and_contact(ux_server, host_site, browser_context):
    from sqlalchemy import select

    from faqbot.models import Ticket

    page = _context(browser_context, "bureau")
    page.goto(host_site.url + "/")
    launcher = page.get_by_role("button", name="Aide et support : ouvrir")
    launcher.wait_for()
    _tab_to(page, "button[data-faqbot='launcher']")
    page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true"
    frame_element = page.locator("iframe[title='Aide et support']")
    frame_element.wait_for()
    frame = page.frame_locator("iframe[title='Aide et support']")
    frame.locator("#q").wait_for()
    panel = frame_element.element_handle().content_frame()
    panel.wait_for_function("() => document.activeElement && document.activeElement.id === 'q'")

    # Search as you type, arrow down into the results, Enter opens the entry in the panel.
    page.keyboard.type("rembourssement")
    frame.locator("#live-results .hit-link").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    panel.wait_for_url("**/widget/faq/**")
    assert frame.locator("h1").inner_text()

    # The host page reads nothing of the panel.
    assert page.evaluate("() => document.querySelector('iframe').contentDocument") is None
    with pytest.raises(Exception):
        page.evaluate("() => window.frames[0].document.body.innerText")

    # The triaged contact form, with the server's rules.
    frame.get_by_role("link", name="Contacter le support").click()
    panel.wait_for_url("**/widget/contact**")
    if "/widget/contact/" not in panel.url:
        frame.locator("a.reason-card[href$='/autre']").click()
    else:
        panel.goto(ux_server.url + "/widget/contact/autre")
    frame.locator("form.contact-form").wait_for()
    frame.get_by_role("button", name="Envoyer ma demande").click()
    frame.locator(".error-summary").wait_for()  # nothing filled: refused, in French, focus on the summary
    panel.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('error-summary')", timeout=5000)
    frame.locator("#c_aucune_reponse_faq").check()
    frame.locator("#name").fill("Inès Robert")
    frame.locator("#email").fill("ines.robert@example.test")
    frame.locator("textarea[name='message']").fill("Le site de réservation n’affiche pas mon stage de samedi.")
    frame.get_by_role("button", name="Envoyer ma demande").click()
    panel.wait_for_url("**/widget/merci/**")
    ref = panel.url.rsplit("/", 1)[-1]
    with ux_server.db.sessions() as session:
        assert session.scalar(select(Ticket).where(Ticket.ref == ref)).email == "ines.robert@example.test"

    # Escape closes the panel and gives the focus back to the launcher.
    frame.locator("h1").focus()
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.faqbot === 'launcher'")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert not page.locator("#faqbot-aide-panel").is_visible()
    assert page.probe.page_errors == []


def test_widget_fills_a_phone_screen_and_closes(ux_server, host_site, browser_context):
    page = _context(browser_context, "telephone")
    page.goto(host_site.url + "/")
    page.get_by_role("button", name="Aide et support : ouvrir").tap()
    panel = page.locator("#faqbot-aide-panel")
    panel.wait_for()
    box = panel.bounding_box()
    assert box["width"] == 390 and box["height"] == 844
    frame = page.frame_locator("iframe[title='Aide et support']")
    frame.locator("#q").fill("attestation")
    frame.locator("#live-results .hit-link").first.wait_for()
    overflow = frame.locator("html").evaluate("(el) => el.scrollWidth - el.clientWidth")
    assert overflow <= 1
    page.get_by_role("button", name="Fermer l’aide").tap()
    assert not panel.is_visible()


def test_widget_panel_is_refused_to_a_site_that_is_not_allowed(ux_server, browser_context):
    from ux_support import start_host_site

    stranger = start_host_site("127.0.0.1")  # another origin, not in EMBED_ORIGINS
    stranger.widget_base = ux_server.url
    try:
        page = _context(browser_context, "bureau")
        blocked = []
        page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
        page.goto(stranger.url + "/")
        page.get_by_role("button", name="Aide et support : ouvrir").click()
        page.wait_for_timeout(1500)
        frame = page.locator("iframe[title='Aide et support']").element_handle().content_frame()
        assert frame is None or "/widget/" not in frame.url or frame.evaluate("() => document.body === null || !document.querySelector('#q')")
        assert blocked, "Chromium did not report the frame-ancestors refusal"
    finally:
        stranger.stop()


def test_the_gate_can_fail_axe_sees_a_planted_fault(ux_server, browser_context):
    """The gate is real: a button without a name and an image without alt are reported as serious/critical."""
    page = _context(browser_context, "bureau")
    page.goto(ux_server.url + "/")
    page.evaluate("""() => { const b = document.createElement('button'); document.querySelector('main').append(b);
        const i = document.createElement('img'); i.src = '/favicon.ico'; document.querySelector('main').append(i); }""")
    assert {"button-name", "image-alt"} <= {finding["id"] for finding in axe_findings(page)}


def test_search_and_vote_with_the_keyboard_alone(ux_server, browser_context):
    page = _context(browser_context, "bureau")
    page.goto(ux_server.url + "/")
    _tab_to(page, "#q")
    page.keyboard.type("attestation de stage")
    page.locator("#live-results .hit-link").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url("**/faq/**")
    _tab_to(page, "form.feedback-form button, form.feedback-form input[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url("**#avis")
    assert page.locator("main").inner_text().count("Merci") == 1  # one thank-you, next to the form


def test_words_typed_before_the_live_search_loads_are_searched_when_it_does(ux_server, browser_context):
    """The box is usable (and, in the widget, focused) before the deferred script runs: what was typed meanwhile is
    searched as soon as it runs, not at the next keystroke. search.js is held back until the words are in."""
    page = _context(browser_context, "bureau")
    held = []
    page.route("**/static/search.js*", lambda route: held.append(route))
    page.goto(ux_server.url + "/", wait_until="commit")
    page.locator("#q").wait_for()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked for search.js"
    page.locator("#q").click()
    page.keyboard.type("rembourssement")
    assert page.locator("#live-results").is_hidden()  # nothing listens yet
    held[0].continue_()
    page.locator("#live-results .hit-link").first.wait_for()
    assert "réponse" in page.locator("#live-results .live-status").inner_text()


def test_live_search_says_so_when_the_server_does_not_answer_and_enter_still_searches(ux_server, browser_context):
    page = _context(browser_context, "bureau")
    page.route("**/api/search*", lambda route: route.fulfill(status=503, content_type="application/json", body="{}"))
    page.goto(ux_server.url + "/")
    page.locator("#q").click()
    page.keyboard.type("attestation de stage")
    status = page.locator("#live-results .live-status")
    status.wait_for()
    page.wait_for_function("() => document.querySelector('#live-results .live-status').textContent.length > 0")
    assert "appuyez sur Entrée" in status.inner_text()
    assert page.locator("#live-results .hit-link").count() == 0
    page.keyboard.press("Enter")  # the plain form, served by the page route, not the API
    page.wait_for_url("**/recherche?**")
    assert page.locator("#page-results .hit-link").count() > 0


def test_staff_flow_with_the_keyboard_alone(ux_server, browser_context):
    from sqlalchemy import select

    from faqbot.models import Ticket
    from ux_support import ADMIN_PASSWORD

    ref = ux_server.ticket_ref
    page = _context(browser_context, "bureau")
    page.goto(ux_server.url + "/staff/login")
    _tab_to(page, "input[type='email'], input[name='email']")
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/staff/login" not in url)
    page.goto(ux_server.url + "/staff/tickets")
    _tab_to(page, f"a[href$='/staff/tickets/{ref}']", limit=200)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/tickets/{ref}")
    if page.get_by_role("button", name="Prendre en charge").count():
        _tab_to(page, f"form[action$='/staff/tickets/{ref}/claim'] button", limit=200)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    _tab_to(page, "select#canned", limit=200)
    page.keyboard.press("ArrowDown")  # a closed <select>: the arrow picks the next answer
    _tab_to(page, "form.canned button", limit=5)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector(\"textarea[name='reply-body']\").value.length > 40")
    _tab_to(page, "form.reply button[type='submit']", limit=20)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Réponse envoyée" in page.locator("main").inner_text()
    with ux_server.db.sessions() as session:
        assert session.scalar(select(Ticket).where(Ticket.ref == ref)).first_response_at is not None
