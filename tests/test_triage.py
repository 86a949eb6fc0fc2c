"""Triage rules without the web: reasons as data, validation, pre-checks, IBAN/BIC, card redaction."""
from __future__ import annotations

import datetime as dt

import pytest
from builders import valid_submission
from cryptography.fernet import Fernet

from faqbot.content import load_faq
from faqbot.config import PROJECT_ROOT
from faqbot.triage import CHECKS, REASONS, REASONS_BY_ID, redact_cards, validate
from faqbot.triage.banking import bic_problem, decrypt_iban, encrypt_iban, iban_problem, mask_iban
from faqbot.triage.checks import FACTS
from faqbot.triage.reasons import FIELD_TYPES, PRIORITIES, QUEUES
from faqbot.triage.redaction import CARD_MASK

NOW = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.timezone.utc)
REASON_IDS = [reason.id for reason in REASONS]


def test_reason_ids_are_the_public_contract():
    assert REASON_IDS == [
        "debit-sans-confirmation",
        "inscription-impossible",
        "delai-retractation",
        "transfert-non-confirme",
        "remboursement-virement",
        "annulation-centre",
        "acces-refuse-jour-j",
        "points-ants",
        "autre",
    ]


@pytest.mark.parametrize("reason", REASONS, ids=REASON_IDS)
def test_every_check_queue_field_and_faq_link_a_reason_names_exists(reason):
    faq = load_faq(PROJECT_ROOT / "data" / "faq.yaml")
    assert reason.queue in QUEUES and reason.priority in PRIORITIES
    assert all(name in CHECKS for name in reason.checks)
    assert all(name in CHECKS for name in FACTS)
    missing = [entry_id for entry_id in reason.faq if entry_id not in faq.by_id]
    assert not missing, f"{reason.id} links to FAQ entries that do not exist: {missing}"
    assert all(f.type in FIELD_TYPES for f in reason.fields)
    assert all(f.choices for f in reason.fields if f.type == "choice")
    assert len({f.id for f in reason.fields}) == len(reason.fields)
    assert all(c.if_not for c in reason.confirmations), "every confirmation says what to do when it cannot be given"


def test_every_faq_contact_reason_is_a_known_reason():
    faq = load_faq(PROJECT_ROOT / "data" / "faq.yaml")
    unknown = {entry.id: entry.contact_reason for entry in faq.entries if entry.contact_reason and entry.contact_reason not in REASONS_BY_ID}
    assert not unknown


def test_priorities_follow_the_issue():
    assert REASONS_BY_ID["transfert-non-confirme"].priority == "high"
    assert REASONS_BY_ID["annulation-centre"].priority == "urgent"
    assert REASONS_BY_ID["acces-refuse-jour-j"].priority == "urgent"
    assert {r.queue for r in REASONS} == set(QUEUES)


@pytest.mark.parametrize("reason_id", REASON_IDS)
def test_every_reason_accepts_a_valid_submission(reason_id):
    result = validate(reason_id, valid_submission(reason_id, NOW), NOW)
    assert result.ok, [p.text() for p in result.problems]
    assert result.submission.reason.id == reason_id


CONFIRMATION_CASES = [(r.id, c.id) for r in REASONS for c in r.confirmations if c.required]


@pytest.mark.parametrize(("reason_id", "confirmation_id"), CONFIRMATION_CASES)
def test_each_missing_confirmation_is_refused_with_its_explanation(reason_id, confirmation_id):
    data = valid_submission(reason_id, NOW)
    data["confirmations"] = [c for c in data["confirmations"] if c != confirmation_id]
    result = validate(reason_id, data, NOW)
    assert not result.ok and result.submission is None
    problem = next(p for p in result.problems if p.field == confirmation_id)
    assert problem.message == REASONS_BY_ID[reason_id].confirmation(confirmation_id).if_not


@pytest.mark.parametrize("reason_id", REASON_IDS)
def test_forged_confirmations_and_fields_are_refused(reason_id):
    data = valid_submission(reason_id, NOW)
    data["confirmations"] = list(data["confirmations"]) + ["je-certifie-tout"]
    data["fields"] = dict(data["fields"], champ_pirate="x")
    codes = {p.code for p in validate(reason_id, data, NOW).problems}
    assert {"confirmation-inconnue", "champ-inconnu"} <= codes


@pytest.mark.parametrize("reason_id", REASON_IDS)
def test_each_required_field_is_required(reason_id):
    reason = REASONS_BY_ID[reason_id]
    for field in [f for f in reason.fields if f.required] + []:
        data = valid_submission(reason_id, NOW)
        data["fields"] = {k: v for k, v in data["fields"].items() if k != field.id}
        problems = validate(reason_id, data, NOW).problems
        assert any(p.field == field.id and p.code == "champ-requis" for p in problems), field.id
    for key in ("name", "email"):
        problems = validate(reason_id, valid_submission(reason_id, NOW, **{key: "  "}), NOW).problems
        assert any(p.field == key for p in problems)


def test_unknown_reason_is_refused():
    result = validate("remboursement-immediat", valid_submission("autre", NOW), NOW)
    assert [p.code for p in result.problems] == ["motif-inconnu"]


def test_autre_needs_a_message():
    problems = validate("autre", valid_submission("autre", NOW, message=""), NOW).problems
    assert [(p.field, p.code) for p in problems] == [("message", "champ-requis")]


def test_payment_less_than_15_minutes_ago_is_blocked_with_the_time_to_wait():
    paid = dt.datetime(2026, 3, 10, 13, 50, tzinfo=dt.timezone.utc)  # 14:50 in Paris
    data = valid_submission("debit-sans-confirmation", NOW)
    data["fields"]["paiement_le"] = paid.isoformat()
    result = validate("debit-sans-confirmation", data, NOW)
    [problem] = result.problems
    assert problem.blocking and problem.code == "paiement-trop-recent"
    assert "15:05" in problem.text()
    data["fields"]["paiement_le"] = "2026-03-10T14:44"  # Paris wall clock, 16 minutes before NOW (15:00 Paris)
    assert validate("debit-sans-confirmation", data, NOW).ok


def test_payment_in_the_future_is_refused():
    data = valid_submission("debit-sans-confirmation", NOW)
    data["fields"]["paiement_le"] = "11/03/2026 10:00"
    assert [p.code for p in validate("debit-sans-confirmation", data, NOW).problems] == ["date-future"]


@pytest.mark.parametrize(
    ("field_id", "value", "code"),
    [
        ("email_inscription", "camille@", "email-invalide"),
        ("telephone", "12 34", "telephone-invalide"),
        ("montant", "beaucoup", "montant-invalide"),
        ("montant", "-3", "montant-invalide"),
        ("date_stage", "31/02/2026", "date-invalide"),
        ("paiement_le", "hier", "date-heure-invalide"),
    ],
)
def test_typed_fields_are_checked(field_id, value, code):
    data = valid_submission("debit-sans-confirmation", NOW)
    data["fields"][field_id] = value
    assert [(p.field, p.code) for p in validate("debit-sans-confirmation", data, NOW).problems] == [(field_id, code)]


def test_french_formats_are_understood():
    data = valid_submission("debit-sans-confirmation", NOW)
    data["fields"].update(paiement_le="10/03/2026 à 11h30", montant="229,50 €", date_stage="04/04/2026", telephone="+33 (0)6 12 34 56 78")
    result = validate("debit-sans-confirmation", data, NOW)
    assert result.ok
    values = result.submission.values
    assert values["paiement_le"] == dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.timezone.utc)  # 11:30 Paris (UTC+1)
    assert str(values["montant"]) == "229.50"
    assert values["date_stage"] == dt.date(2026, 4, 4)
    assert values["telephone"] == "06 12 34 56 78"


def test_choice_must_be_one_of_the_choices():
    data = valid_submission("delai-retractation", NOW)
    data["fields"]["annulation_centre"] = "peut-etre"
    assert [p.code for p in validate("delai-retractation", data, NOW).problems] == ["choix-invalide"]


def test_points_stage_days_must_be_in_order():
    data = valid_submission("points-ants", NOW)
    data["fields"]["second_jour_stage"] = "2025-01-01"
    assert [p.code for p in validate("points-ants", data, NOW).problems] == ["dates-stage-incoherentes"]


# --- IBAN / BIC ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    ["FR76 3000 6000 0112 3456 7890 189", "fr7630006000011234567890189", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "BE68539007547034", "MC58 1122 2000 0101 2345 6789 030"],
)
def test_valid_ibans(iban):
    assert iban_problem(iban) is None


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("FR76 3000 6000 0112 3456 7890 188", "iban-cle"),  # one digit off
        ("FR76 3000 6000 0112 3456 7890 18", "iban-longueur"),
        ("DE89 3704 0044 0532 0130 000", "iban-longueur"),
        ("ZZ12 3456 7890", "iban-pays"),
        ("3000 6000 0112 3456 7890 189", "iban-forme"),
        ("FR76-3000-6000-0112-3456-7890-1X9", "iban-cle"),
    ],
)
def test_invalid_ibans(iban, code):
    assert iban_problem(iban).code == code


@pytest.mark.parametrize(("bic", "ok"), [("AGRIFRPP", True), ("agri fr pp 882", True), ("BNPAFRPPXXX", True), ("AGR1FRPP", True), ("AGRIFRP", False), ("AGRIFRPP88", False)])
# ISO 9362:2014 allows digits in the 4-character business party prefix (schwifty follows it).
def test_bic_format(bic, ok):
    assert (bic_problem(bic) is None) is ok


def test_iban_is_encrypted_and_masked():
    key = Fernet.generate_key()
    token = encrypt_iban("FR76 3000 6000 0112 3456 7890 189", key)
    assert b"3000" not in token and b"FR76" not in token
    assert decrypt_iban(token, key) == "FR7630006000011234567890189"
    assert mask_iban("FR7630006000011234567890189") == "FR76 •••• •••• •••• •••• •••0 189"
    with pytest.raises(ValueError):
        decrypt_iban(token, Fernet.generate_key())


# --- card numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ma carte 4111 1111 1111 1111 exp 12/27",
        "4111-1111-1111-1111",
        "carte:4111111111111111.",
        "mastercard 5555 5555 5555 4444",
        "amex 3782 822463 10005",
        "diners 3056 9309 0259 04",
        "maestro 6759 6498 2643 8453",
        "visa 19 chiffres 4111 1111 1111 1111 003",
    ],
)
def test_card_numbers_are_redacted(text):
    redacted = redact_cards(text)
    assert redacted.count == 1 and CARD_MASK in redacted.text
    assert not any(run in redacted.text for run in ("1111 1111", "5555 5555", "822463", "9309", "6498"))


@pytest.mark.parametrize(
    "text",
    [
        "appelez-moi au 06 12 34 56 78",
        "mon numéro +33 6 12 34 56 78 ou 0612345678",
        "SIRET 732 829 320 00074",
        "siret: 73282932000074",
        "notre SIREN 732829320, SIRET 73282932000074",
        "réservation n° 4567891234",
        "dossier 20240312-4587",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "carte 4111 1111 1111 1112 (fausse)",  # Luhn-invalid
        "montant 229,00 € le 12/03/2026",
        "commande 123456789012",
    ],
)
def test_phones_siret_bookings_and_ibans_are_kept(text):
    assert redact_cards(text).text == text


def test_card_numbers_in_free_text_fields_are_redacted_before_validation_ends():
    data = valid_submission("inscription-impossible", NOW, message="Ma carte 4111 1111 1111 1111 ne passe pas")
    data["fields"]["erreur_affichee"] = "refus pour 5555-5555-5555-4444"
    result = validate("inscription-impossible", data, NOW)
    assert result.ok
    assert result.submission.redactions == 2
    assert "4111" not in result.submission.message and CARD_MASK in result.submission.values["erreur_affichee"]
