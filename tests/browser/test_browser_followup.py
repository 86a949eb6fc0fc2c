"""The whole conversation in real Chromium against gunicorn, with the trainee's answer going through Dovecot:
ticket filed → agent replies → trainee answers by e-mail → agent sees it → resolves → trainee rates it."""
from __future__ import annotations

import imaplib
import os
import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import select

from browser_support import add_staff, login_staff, start_live_server, wait_for_mail
from faqbot.db import utcnow
from faqbot.models import Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.environ.get("FAQBOT_TEST_IMAP_HOST"), reason="no test IMAP server (run through scripts/test.sh)"),
]
IMAP = {key: os.environ.get(f"FAQBOT_TEST_IMAP_{key}", "") for key in ("HOST", "PORT", "USER", "PASSWORD")}
AGENT = ("agent.suivi@example.test", "Correct-Horse-Battery-43")
TRAINEE = "noe.bernard@example.test"
TOKEN = re.compile(r"/suivi/([a-z2-7]{32})")


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory, shared_index_dir):
    folder = f"parcours-{uuid.uuid4().hex[:8]}"
    client = imaplib.IMAP4(IMAP["HOST"], int(IMAP["PORT"]))
    client.login(IMAP["USER"], IMAP["PASSWORD"])
    client.create(folder)
    client.logout()
    server = start_live_server(
        tmp_path_factory.mktemp("live-suivi"),
        shared_index_dir,
        MAIL_REPLY_TO="support@exemple.fr",
        IMAP_HOST=IMAP["HOST"],
        IMAP_PORT=IMAP["PORT"],
        IMAP_USER=IMAP["USER"],
        IMAP_PASSWORD=IMAP["PASSWORD"],
        IMAP_SECURITY="none",
        IMAP_FOLDER=folder,
        IMAP_DONE_FOLDER=folder + "-traites",
    )
    yield server
    server.stop()


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_ticket_reply_email_answer_resolution_and_rating(mail_server, browser_context):
    live = mail_server
    trainee_context, trainee_probe = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    trainee = trainee_context.new_page()
    trainee.probe = trainee_probe
    agent_context, agent_probe = browser_context(viewport={"width": 1366, "height": 768})
    agent = agent_context.new_page()
    agent.probe = agent_probe

    # 1. The trainee files a request from the contact form.
    trainee.goto(live.url + "/contact?reason=autre")
    trainee.locator("textarea[name='message']").fill("Je n’ai pas reçu ma convocation pour le stage de samedi.")
    trainee.get_by_role("button", name="Voir les réponses").click()
    trainee.get_by_role("button", name="Je dois quand même vous contacter").click()
    trainee.get_by_role("heading", name="Avant d’écrire, vérifions ensemble").wait_for()
    trainee.get_by_label("J’ai lu les réponses proposées et aucune ne répond à ma demande.").check()
    trainee.get_by_role("button", name="Continuer").click()
    trainee.get_by_role("heading", name="Vos informations").wait_for()
    trainee.get_by_label("Nom et prénom").fill("Noé Bernard")
    trainee.get_by_label("Adresse e-mail pour vous répondre").fill(TRAINEE)
    trainee.locator("textarea[name='message']").fill("Je n’ai pas reçu ma convocation pour le stage de samedi.")
    trainee.get_by_role("button", name="Envoyer ma demande").click()
    trainee.wait_for_url("**/contact/merci/**")
    ref = trainee.url.rsplit("/", 1)[-1]
    [ack] = wait_for_mail(live, lambda m: ref in str(m["Subject"]))
    assert TOKEN.search(_text(ack)) and ack["Reply-To"].startswith("support+")

    # 2. The agent (a 1366-pixel laptop) claims and replies, waiting for the trainee.
    add_staff(live, AGENT[0], AGENT[1], role="agent", name="Inès Agent")
    login_staff(agent, live, *AGENT)
    agent.goto(f"{live.url}/staff/tickets/{ref}")
    agent.get_by_role("button", name="Prendre en charge").click()
    agent.wait_for_url(f"**/staff/tickets/{ref}")
    # The request panel reads well at 1366 px: every value keeps a real column (not 60 pixels).
    widths = agent.eval_on_selector_all("#h-demande ~ dl.facts dd", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and min(widths) >= 200, widths
    agent.get_by_label("Réponse envoyée par e-mail au stagiaire").fill("Bonjour Noé,\n\nÀ quelle adresse e-mail vous êtes-vous inscrit ?\n\nInès")
    agent.get_by_label("Ensuite, passer le ticket en").select_option("attente_stagiaire")
    agent.get_by_role("button", name="Envoyer la réponse").click()
    agent.wait_for_url(f"**/staff/tickets/{ref}")
    [reply] = wait_for_mail(live, lambda m: f"[{ref}] Réponse" in str(m["Subject"]))
    assert "À quelle adresse e-mail" in _text(reply)

    # 3. The trainee answers the e-mail from their mailbox; the mail server delivers it into Dovecot.
    answer = EmailMessage()
    answer["From"] = f"Noé Bernard <{TRAINEE}>"
    answer["To"] = reply["Reply-To"]
    answer["Subject"] = "Re: " + str(reply["Subject"])
    answer["Date"] = format_datetime(utcnow())
    answer["Message-ID"] = make_msgid(domain="boite.example")
    answer["In-Reply-To"] = reply["Message-ID"]
    answer.set_content(
        "Bonjour, avec noe.perso@example.test.\n\nEnvoyé de mon iPhone\n\n"
        f"Le 26 nov. 2026 à 10:00, Support <support@exemple.fr> a écrit :\n> {_text(reply).splitlines()[0]}"
    )
    client = imaplib.IMAP4(IMAP["HOST"], int(IMAP["PORT"]))
    client.login(IMAP["USER"], IMAP["PASSWORD"])
    assert client.append(live.app.config["IMAP_FOLDER"], None, None, bytes(answer))[0] == "OK"
    client.logout()
    result = live.app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code == 0 and "1 rattaché(s)" in result.output, result.output

    # 4. The agent sees it: flagged in the list, in the ticket's history, without the quoted e-mail.
    agent.goto(f"{live.url}/staff/tickets?status=reponse_stagiaire")
    agent.get_by_role("link", name=ref).click()
    agent.wait_for_url(f"**/staff/tickets/{ref}")
    assert "réponse du stagiaire" in agent.locator(".ticket-head").inner_text()
    history = agent.locator(".history").inner_text()
    assert "avec noe.perso@example.test" in history and "par e-mail" in history and "Envoyé de mon iPhone" not in history

    # 5. The agent resolves; the trainee is asked « Votre problème est-il résolu ? » by e-mail.
    agent.get_by_label("Nouveau statut").select_option("resolu")
    agent.get_by_role("button", name="Changer le statut").click()
    agent.wait_for_url(f"**/staff/tickets/{ref}")
    [resolved] = wait_for_mail(live, lambda m: f"[{ref}] Votre demande est résolue" in str(m["Subject"]))
    token = TOKEN.search(_text(resolved)).group(1)

    # 6. The trainee opens the private link and rates it (a POST; opening the link alone counts nothing).
    trainee.goto(f"{live.url}/suivi/{token}")
    assert "Résolue." in trainee.locator("main").inner_text()
    assert "avec noe.perso@example.test" in trainee.locator(".exchange").inner_text()
    overflow = trainee.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the follow-up page is {overflow}px wider than the phone screen"
    with live.db.sessions() as session:
        assert session.scalar(select(Ticket.csat).where(Ticket.ref == ref)) is None
    trainee.get_by_role("button", name="Oui, c’est réglé").click()
    trainee.get_by_text("Merci pour votre réponse.").wait_for()
    with live.db.sessions() as session:
        assert session.scalar(select(Ticket.csat).where(Ticket.ref == ref)) == "oui"

    for page in (trainee, agent):
        hits, violations = page.probe.page_hits(page)
        assert hits == [] and violations == [] and page.probe.page_errors == [] and page.probe.server_errors == []
    live.assert_no_server_errors()
