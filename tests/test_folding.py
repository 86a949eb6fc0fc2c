"""One fold: search, triage, the thesaurus and the content tools compare text through faqbot.content.text."""
from __future__ import annotations

import pytest

from faqbot.content import export, text, thesaurus
from faqbot.index import analysis
from faqbot.triage import text as triage_text

SAMPLES = [
    "L’Œuvre à côté", "Débité(e) de 212 € !", "J‘ai reçu l`attestation ʼ", "ÉTÉ  ß", "Stage n°48SI — 14 jours (100 %)",
    "« Je change d’avis » ?", "1️⃣ Vérifiez **Important :**", "peut-être aujourd'hui",
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_reader_folds_through_the_one_definition(sample):
    base = text.fold(sample)
    assert thesaurus.fold(sample) == base
    assert analysis.fold(sample) == base
    assert export.fold(sample) == text.fold_words(sample)
    assert triage_text.fold(sample) == text.fold_words(sample, keep="€%")
    # Only the characters each reader keeps differ: the words themselves are the same everywhere.
    assert text.fold_words(sample).split() == [w for w in text.fold_words(sample, keep="€%").split() if w not in "€%"]


def test_fold_examples():
    assert text.fold("L’Œuvre à côté") == "l'oeuvre a cote"
    assert text.fold_words("Débité ! 3 €", keep="€") == "debite 3 €"
    assert text.fold_words("« Je change d’avis » ?") == "je change d avis"


def test_french_words_are_folded_and_shared():
    from faqbot.index import correct

    words = text.french_words()
    assert "deja" in words and "déjà" not in words
    assert correct.french_words is text.french_words and triage_text.french_words is text.french_words
