"""Shared by the accessibility gate (test_ux_browser.py) and scripts/screenshots.py: axe-core injected by
Playwright, a host page on another loopback origin that embeds the widget, and a walk through every public,
contact, widget and staff page, each reached the way a person reaches it."""
from __future__ import annotations

import datetime as dt
import http.server
import threading
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
AXE_PATH = HERE / "node_modules" / "axe-core" / "axe.min.js"

PHONE = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SIZES = {"telephone": PHONE, "bureau": DESKTOP}

ADMIN_EMAIL = "chef.equipe@example.test"
ADMIN_PASSWORD = "Phrase-de-passe-2026!"

# Evaluated in the page: only the serious and critical findings, with where they are.
AXE_RUN = """async (options) => {
  const result = await axe.run(document, options);
  return result.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious').map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))
  }));
}"""


def axe_source() -> str:
    if not AXE_PATH.exists():
        raise RuntimeError(f"axe-core is missing: run `npm ci --prefix {HERE}` (scripts/test.sh does)")
    return AXE_PATH.read_text(encoding="utf-8")


def axe_findings(page, *, iframes: bool = False) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now (axe injected through DevTools: the
    page's CSP, which forbids inline scripts, does not apply to it)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(AXE_RUN, {"iframes": iframes, "resultTypes": ["violations"]})


def paris_now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo("Europe/Paris"))


# --- A host page on another origin ----------------------------------------------------------------------------


@dataclass
class HostSite:
    """A stand-in for the booking site: its own HTTP server on loopback, one page that includes /widget.js."""

    url: str
    server: http.server.ThreadingHTTPServer
    widget_base: str = ""  # faqbot's address, known once faqbot runs (it needs the host's origin first)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def host_page_html(widget_base: str) -> str:
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Réserver un stage · site de réservation</title></head>
<body>
<header><h1>Stages de récupération de points</h1></header>
<main><p>Choisissez votre stage près de chez vous.</p>
<form><label for="ville">Ville</label> <input id="ville" name="ville"> <button type="button">Chercher</button></form>
<p><a href="#">Mes réservations</a></p></main>
<script src="{widget_base}/widget.js" async></script>
</body></html>"""


def start_host_site(hostname: str = "localhost") -> HostSite:
    """Serve the host page on a free port; `hostname` localhost makes it another site than 127.0.0.1."""
    site: HostSite

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = host_page_html(site.widget_base).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = HostSite(url=f"http://{hostname}:{server.server_address[1]}", server=server)
    return site


# --- Seeding and walking ------------------------------------------------------------------------------------


def followup_token(live, ref: str) -> str:
    """A fresh link to the trainee's follow-up page of a ticket (as the acknowledgment e-mail carries)."""
    from sqlalchemy import select

    from faqbot.db import utcnow
    from faqbot.models import Ticket
    from faqbot.triage.followup import issue_token

    with live.db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
        return issue_token(session, ticket.id, utcnow())


def seed(live) -> str:
    """An admin account and one ticket for the staff pages; returns the ticket's reference."""
    from browser_support import add_staff, store_ticket_directly
    from faqbot.db import utcnow

    add_staff(live, ADMIN_EMAIL, ADMIN_PASSWORD, role="admin", name="Chef d’équipe")
    paid = utcnow() - dt.timedelta(hours=3)
    return store_ticket_directly(live, "debit-sans-confirmation", {
        "name": "Léa Morel", "email": "lea.morel@example.test",
        "message": "Débitée hier soir de 229,50 €, aucun e-mail ni SMS reçu. Que dois-je faire ?",
        "confirmations": ["debit-stage-permis", "spams-verifies", "adresse-verifiee"],
        "fields": {"paiement_le": paid.isoformat(), "email_inscription": "lea.morel@example.test",
                   "telephone": "06 12 34 56 78", "montant": "229,50", "ville_stage": "Lyon",
                   "date_stage": (utcnow() + dt.timedelta(days=20)).date().isoformat()},
    })


def walk(page, live, ticket_ref: str, visit) -> None:
    """Every public, contact, widget and staff page, reached as a person would; `visit(name, page)` at each."""
    from browser_support import login_staff
    from faqbot.triage import get_reason

    base = live.url
    from faqbot import knowledge

    faq = knowledge.faq(live.app)
    entry = faq.entries[0]
    page.goto(base + "/")
    visit("accueil", page)
    page.goto(base + "/recherche?q=remboursement")
    visit("recherche", page)
    page.goto(base + f"/faq/{entry.id}")
    visit("entree", page)
    page.goto(base + f"/categorie/{faq.categories[0].id}")
    visit("categorie", page)
    page.goto(base + "/faq/cette-page-nexiste-pas")
    visit("erreur-404", page)

    # Contact: the message, the suggestion, then a reason's four steps to the thanks page.
    page.goto(base + "/contact")
    visit("contact-1-motif", page)
    page.locator("textarea[name='message']").fill("J’ai été débité mais je n’ai reçu ni e-mail ni SMS")
    page.get_by_role("button", name="Trouver mon motif").click()
    page.wait_for_url("**/contact/suggestion")
    visit("contact-1-suggestion", page)
    page.goto(base + "/contact?reason=debit-sans-confirmation")
    visit("contact-2-reponse", page)
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    page.locator("form.contact-form").wait_for()
    visit("contact-3-verifications", page)
    page.get_by_role("button", name="Continuer").click()
    page.locator(".error-summary").wait_for()
    visit("contact-3-refus", page)
    for confirmation in get_reason("debit-sans-confirmation").confirmations:
        page.locator("#c_" + confirmation.id.replace("-", "_")).check()
    page.locator("#f_paiement_le").fill((paris_now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Continuer").click()
    page.locator("#summary-title").wait_for()
    visit("contact-4-informations", page)
    page.locator("#name").fill("Léa Morel")
    page.locator("#email").fill("lea.morel@example.test")
    page.locator("#f_email_inscription").fill("lea.morel@example.test")
    page.locator("#f_telephone").fill("06 12 34 56 78")
    page.locator("#f_montant").fill("229,50")
    page.locator("#f_ville_stage").fill("Lyon")
    page.locator("#f_date_stage").fill((paris_now() + dt.timedelta(days=20)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url("**/contact/merci/**")
    visit("contact-5-merci", page)
    page.goto(base + f"/suivi/{followup_token(live, ticket_ref)}")
    visit("suivi", page)
    page.goto(base + "/contact?reason=autre")
    visit("contact-autre", page)
    page.goto(base + "/contact?reason=delai-retractation")
    page.get_by_role("button", name="Je dois quand même vous contacter").click()
    today = paris_now().date()
    page.locator("#f_date_paiement").fill((today - dt.timedelta(days=40)).isoformat())
    page.locator("#f_premier_jour_stage").fill((today + dt.timedelta(days=10)).isoformat())
    page.locator("select[name='f_annulation_centre']").select_option("non")
    page.get_by_role("button", name="Continuer").click()
    page.locator(".problems").wait_for()
    visit("contact-refus-delai", page)

    # The panel's pages, opened directly (the host page is tested on its own).
    page.goto(base + "/widget/?q=attestation")
    visit("widget-panneau", page)
    page.goto(base + f"/widget/faq/{entry.id}")
    visit("widget-entree", page)
    page.goto(base + "/widget/contact")
    visit("widget-contact", page)
    page.goto(base + "/widget/contact/debit-sans-confirmation")
    visit("widget-formulaire", page)

    # Staff console.
    page.goto(base + "/staff/login")
    visit("staff-connexion", page)
    login_staff(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(base + "/staff/")
    visit("staff-files", page)
    page.goto(base + "/staff/tickets")
    visit("staff-tickets", page)
    page.goto(base + f"/staff/tickets/{ticket_ref}")
    visit("staff-ticket", page)
    for path, name in (("/staff/analytics", "staff-statistiques"), ("/staff/comptes", "staff-comptes"),
                       ("/staff/journal", "staff-journal"), ("/staff/mot-de-passe", "staff-mot-de-passe"),
                       ("/staff/courriels", "staff-courriels"), ("/staff/contenu", "staff-contenu"),
                       ("/staff/contenu/nouvelle", "staff-contenu-nouvelle"),
                       ("/staff/contenu/a-completer", "staff-contenu-a-completer"),
                       ("/staff/contenu/propositions", "staff-contenu-propositions"),
                       ("/staff/donnees-personnelles", "staff-donnees-personnelles")):
        page.goto(base + path)
        visit(name, page)
