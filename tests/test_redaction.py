"""Card redaction, the one choke point: generated formats (hypothesis) and what must never be taken for a card."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlalchemy import select
from sqlalchemy import text as sa_text

from faqbot.triage.redaction import CARD_MASK, looks_like_card, redact_cards, redact_value

# Issuer prefixes and lengths the generator draws from (Visa/CB, Mastercard, Amex, Diners, Discover, JCB, Maestro, UnionPay).
ISSUERS = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15), ("37", 15),
           ("36", 14), ("300", 14), ("6011", 16), ("65", 19), ("3530", 16), ("62", 17), ("6759", 18), ("50", 13)]
SEPARATORS = [" ", "  ", "\t", "\n", "\u00a0", "\u202f", ".", "-", "/", "_", " - ", "–", "—", ",", " \n ", ". ", "_-"]


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes `partial` Luhn-valid."""
    for check in "0123456789":
        candidate = partial + check
        total = 0
        for position, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError


@st.composite
def cards(draw) -> str:
    prefix, length = draw(st.sampled_from(ISSUERS))
    body = draw(st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1))
    return luhn_complete(prefix + body)


@st.composite
def written(draw, digits: str) -> str:
    """The card's digits cut in groups of 1–6, each gap filled with a separator (mixtures allowed)."""
    out, index = [], 0
    while index < len(digits):
        size = draw(st.integers(1, 6))
        out.append(digits[index : index + size])
        index += size
    mixed = draw(st.booleans())
    one = draw(st.sampled_from(SEPARATORS))
    text = out[0]
    for group in out[1:]:
        text += (draw(st.sampled_from(SEPARATORS)) if mixed else one) + group
    return text


NEIGHBOURS = ["", "carte", "visa", "EUR", "€", ",", ";", "(", ")", "n°", "option 2 ", "le 12/03/2026 ", "CB:", "«", "»", "\n"]
AFTER = ["", " exp 12/27", " 12/2027 cvv 123", " (123)", " EUR", "visa", " et 229,50 €", " 4 billets", ".", "\n06 12 34 56 78"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_written_card_is_masked_whatever_separates_or_touches_it(data):
    card = data.draw(cards())
    text = data.draw(st.sampled_from(NEIGHBOURS)) + data.draw(written(card)) + data.draw(st.sampled_from(AFTER))
    redacted = redact_cards(text)
    assert redacted.count >= 1 and CARD_MASK in redacted.text
    remaining = re.sub(r"\D", "", redacted.text)
    assert card not in remaining
    # No more than three of its digits in a row survive anywhere (the neighbours' own numbers are short).
    assert not any(card[i : i + 8] in remaining for i in range(len(card) - 7))


@settings(max_examples=200, deadline=None)
@given(card=cards())
def test_expiry_and_cvv_written_after_a_card_go_with_it(card):
    redacted = redact_cards(f"ma carte {card} exp 09/28 cvv 731 merci")
    assert "09/28" not in redacted.text and "731" not in redacted.text and redacted.text.endswith("merci")


@settings(max_examples=200, deadline=None)
@given(first=cards(), second=cards())
def test_two_cards_side_by_side_are_both_masked(first, second):
    redacted = redact_cards(f"{first} {second}")
    assert redacted.count == 2 and not re.search(r"\d", redacted.text)


@settings(max_examples=300, deadline=None)
@given(digits=st.text("0123456789", min_size=8, max_size=8))
def test_french_phone_numbers_are_never_cards(digits):
    for phone in (f"06{digits}", f"01 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}", f"+33 7{digits}"):
        assert redact_cards(f"appelez le {phone}").count == 0


@settings(max_examples=200, deadline=None)
@given(day=st.integers(1, 28), month=st.integers(1, 12), year=st.integers(2000, 2035), euros=st.integers(0, 99999), cents=st.integers(0, 99))
def test_dates_and_amounts_are_never_cards(day, month, year, euros, cents):
    text = f"payé le {day:02d}/{month:02d}/{year} à 17:30, {euros} {cents:02d} € puis {euros},{cents:02d} EUR le {year}-{month:02d}-{day:02d}"
    assert redact_cards(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "SIRET 732 829 320 00074",
        "siret: 73282932000074",
        "SIREN 732 829 320",
        "société n° 362 521 879 00034",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "iban fr7630006000011234567890189",
        "DE89 3704 0044 0532 0130 00",
        "réservation RP-2024-123456",
        "dossier 20240312-4587",
        "commande 1234567890123456",  # Luhn-invalid
        "06 12 34 56 78 / 01 23 45 67 89",
        "du 12/03/2026 au 15/03/2026",
    ],
)
def test_known_non_cards_are_kept(text):
    assert redact_cards(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "carte4970101234567893visa",
        "4970101234567893EUR",
        "x,4970101234567893,",
        "4970.1012.3456.7893",
        "4970\n1012\n3456\n7893",
        "4970  1012  3456  7893",
        "4970\t1012\t3456\t7893",
        "4970\u00a01012\u00a03456\u00a07893",
        "4970/1012/3456/7893",
        "4970_1012_3456_7893",
        "4970 - 1012 - 3456 - 7893",
        "4970 1012.3456-7893",
        "option 2 4970 1012 3456 7893",
        "４９７０１０１２３４５６７８９３",  # full-width digits
    ],
)
def test_red_team_placements_are_masked(text):
    redacted = redact_cards(text)
    assert redacted.count == 1 and "7893" not in redacted.text


def test_redact_value_reaches_inside_json():
    value = {"a": ["carte 4970 1012 3456 7893", 3], "b": {"c": "4970.1012.3456.7893"}}
    assert "7893" not in str(redact_value(value)) and redact_value(value)["a"][1] == 3


def test_looks_like_card_needs_an_issuer_prefix_and_luhn():
    assert looks_like_card("4970101234567893")
    assert not looks_like_card("4970101234567894")
    assert not looks_like_card("1234567890123452")  # Luhn-valid, no issuer starts with 1


def test_log_records_are_redacted(sqlite_app, caplog):
    with caplog.at_level("WARNING", logger="faqbot"):
        sqlite_app.logger.warning("paiement refusé pour %s", "4970.1012.3456.7893")
    assert caplog.records and "7893" not in caplog.text and CARD_MASK in caplog.text


def test_every_row_flushed_is_redacted_json_included(sqlite_app):
    from faqbot.db import utcnow
    from faqbot.models import AuditEvent, TicketEvent

    from builders import make_ticket

    db = sqlite_app.extensions["faqbot.db"]
    ticket = make_ticket(db, name="Léa 4970_1012_3456_7893", fields={"note": "carte4970101234567893visa"})
    with db.transaction() as session:
        session.add(AuditEvent(kind="login_failed", detail="4970101234567893@example.test", at=utcnow()))
        session.add(TicketEvent(ticket_id=ticket.id, kind="note", body="4970 1012\n3456 7893", data={"to": "x 4970-1012-3456-7893"}, at=utcnow()))
    assert "7893" not in str(ticket.name) + str(ticket.fields)
    with db.sessions() as session:
        stored = [repr(row) for row in session.execute(sa_text("SELECT * FROM audit_event")).all()]
        stored += [repr(row) for row in session.execute(sa_text("SELECT * FROM ticket_event")).all()]
        stored += [repr(row) for row in session.execute(sa_text("SELECT name, fields FROM ticket")).all()]
    assert stored and not any("7893" in row for row in stored)


def test_mail_bodies_and_subjects_are_redacted():
    from faqbot.mail import build_message

    message = build_message({"MAIL_FROM": "support@example.test"}, to="a@example.test", subject="carte 4970.1012.3456.7893", text="4970 1012 3456 7893 exp 01/29")
    assert "7893" not in message.as_string() and "01/29" not in message.get_content()


LUHN_RUN = "4539578763621486"  # 16 digits with a card issuer's prefix that pass Luhn: what a random id can hold


def test_identifiers_are_not_free_text_a_message_id_survives_the_choke_point(sqlite_app):
    """A Message-ID whose random part holds a card-like run of digits (an external mailer's, or an old uuid4 hex) is
    an identifier: masking it made « <[numéro de carte masqué]…@…> », which the e-mail library refuses, so the
    e-mail was never sent. Identifier columns and identifier keys stay as written; the free text beside them
    is still masked."""
    from faqbot.db import utcnow
    from faqbot.mail import outbox
    from faqbot.models import OutboxMessage, TicketEvent

    from builders import make_ticket

    assert looks_like_card(LUHN_RUN)
    external = f"<CAF{LUHN_RUN}x@mail.example.test>"
    db = sqlite_app.extensions["faqbot.db"]
    ticket = make_ticket(db)
    with db.transaction() as session:
        row = outbox.enqueue(session, kind=sorted(outbox.KINDS)[0], to="a@example.test", now=utcnow(), ticket_id=ticket.id)
        row.message_id = f"{LUHN_RUN}abc"
        session.add(TicketEvent(ticket_id=ticket.id, kind="trainee_message", body=f"ma carte {LUHN_RUN}", at=utcnow(),
                                data={"message_id": external, "source": f"mail {LUHN_RUN}"}))
    with db.sessions() as session:
        assert session.scalar(sa_text("SELECT message_id FROM outbox_message")) == f"{LUHN_RUN}abc"
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "trainee_message")).one()
        assert event.data["message_id"] == external
        assert LUHN_RUN not in event.body and LUHN_RUN not in event.data["source"]


def test_generated_message_ids_never_hold_a_card_like_run_of_digits():
    from faqbot.mail.transport import random_local_part

    parts = {random_local_part() for _ in range(2000)}
    assert len(parts) == 2000
    assert not any(re.search(r"\d{13}", part) for part in parts)
    assert all(re.fullmatch(r"[a-z2-7]{26}", part) for part in parts)
