"""The French analyzer, typo correction and the index build (no Flask here: `faqbot.index` is domain code)."""
from __future__ import annotations

import pickle
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml

from faqbot.content.model import parse_faq
from faqbot.index import SearchService, ensure_index
from faqbot.index import analysis
from faqbot.index.build import READY_FILE, build_key
from faqbot.index.correct import Corrector
from faqbot.index import service as service_module

# A small FAQ written for these tests, so they do not move while the real one is being curated.
FAQ_DATA = {
    "version": 1,
    "categories": [
        {"id": "paiement", "label": "Inscription & paiement", "description": "Payer son stage."},
        {"id": "annulation", "label": "Annulation & remboursement", "description": "Changer d’avis."},
        {"id": "points", "label": "Points & permis", "description": "Récupérer ses points."},
    ],
    "entries": [
        {
            "id": "moyens-paiement",
            "question": "Quels moyens de paiement acceptez-vous ?",
            "variants": ["payer avec quelle carte"],
            "answer": "Le paiement se fait uniquement par carte bancaire (Visa, Mastercard) sur notre site sécurisé.",
            "category": "paiement",
            "tags": ["paiement", "carte bancaire"],
        },
        {
            "id": "paiement-sur-place",
            "question": "Puis-je payer sur place, en espèces ou par chèque ?",
            "answer": "Aucun règlement en espèces ni par chèque n’est accepté le jour du stage.",
            "category": "paiement",
        },
        {
            "id": "debit-sans-confirmation",
            "question": "J’ai été débité mais je n’ai reçu aucune confirmation, que faire ?",
            "answer": "Vérifiez vos spams : l’e-mail de confirmation y est souvent. Sinon, écrivez-nous.",
            "category": "paiement",
            "contact_reason": "debit-sans-confirmation",
        },
        {
            "id": "delai-remboursement",
            "question": "Combien de temps faut-il pour être remboursé ?",
            "answer": "Le remboursement est fait sur la carte bancaire utilisée, sous 8 jours ouvrés.",
            "category": "annulation",
        },
        {
            "id": "droit-retractation",
            "question": "Combien de temps ai-je pour changer d’avis après mon inscription ?",
            "answer": "Vous disposez d’un délai de rétractation de 14 jours après l’inscription.",
            "category": "annulation",
            "tags": ["rétractation"],
        },
        {
            "id": "lettre-48n",
            "question": "J’ai reçu la lettre 48N, que dois-je faire ?",
            "answer": "Le stage est obligatoire : vous avez 4 mois pour le faire après réception de la lettre 48N.",
            "category": "points",
        },
        {
            "id": "rii",
            "question": "Qu’est-ce que le relevé d’information intégral ?",
            "answer": "Le relevé d’information intégral indique votre solde de points. Demandez-le en préfecture.",
            "category": "points",
        },
        {
            "id": "balise",
            "question": "Le texte <script>alert(1)</script> est-il affiché tel quel ?",
            "answer": "Oui : <b>rien</b> n’est interprété, & tout est échappé.",
            "category": "points",
        },
    ],
}


def make_faq(data: dict | None = None):
    data = data or FAQ_DATA
    return parse_faq(data, digest=str(abs(hash(yaml.safe_dump(data, allow_unicode=True)))))


def write_faq(path: Path, data: dict | None = None) -> Path:
    path.write_text(yaml.safe_dump(data or FAQ_DATA, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    built = SearchService(make_faq(), tmp_path_factory.mktemp("index"))
    yield built
    built.close()


# -- analyzer ---------------------------------------------------------------------------------------------------


def test_elision_with_both_apostrophes():
    typographic = analysis.analyze("l’annulation d’un stage")
    straight = analysis.analyze("l'annulation d'un stage")
    assert typographic == straight
    assert analysis.stem("annulation") in typographic
    assert "l" not in typographic and "d" not in typographic and "l'annulation" not in typographic


@pytest.mark.parametrize("particle", ["l", "d", "j", "s", "c", "qu", "jusqu", "lorsqu", "m", "t"])
def test_every_elided_particle_is_removed(particle):
    assert analysis.analyze(f"{particle}'inscription") == analysis.analyze("inscription")
    assert analysis.analyze(f"{particle}\u2019inscription") == analysis.analyze("inscription")


def test_accents_and_case_are_folded():
    assert analysis.analyze("Rétractation ÉCHÉANCE") == analysis.analyze("retractation echeance")
    assert analysis.fold("Œuvre à côté") == "oeuvre a cote"


def test_french_stemming_groups_word_forms():
    forms = ["remboursement", "rembourser", "remboursé", "remboursée", "remboursements"]
    stems = {analysis.stem(analysis.fold(word)) for word in forms}
    assert len(stems) == 1
    assert analysis.stem("stages") == analysis.stem("stage")
    # Light normalisation: a doubled letter typed once still meets the word.
    assert analysis.stem("adresse") == analysis.stem("adrese")


@pytest.mark.parametrize(
    "forms",
    [["reçu", "reçue", "reçois", "recevoir", "recevrai"], ["perdu", "perdre", "perte"],
     ["reviennent", "revenir", "revenu"], ["mis", "mise", "mettre"]],
)
def test_irregular_verbs_meet_their_infinitive(forms):
    assert len({analysis.analyze(word)[0] for word in forms}) == 1, forms


def test_negation_is_kept():
    assert "pas" in analysis.analyze("pas reçu")
    assert "ne" in analysis.analyze("je n’ai rien reçu")
    assert "rien" in analysis.analyze("je n’ai rien reçu")
    assert "aucun" in analysis.analyze("aucun mail")
    # Ordinary stopwords go.
    assert analysis.analyze("le la les de des du") == []


def test_numbers_and_codes_stay_tokens():
    terms = analysis.analyze("lettre 48N, lettre 48SI, 2024, cas 3")
    for code in ("48n", "48si", "2024", "3"):
        assert code in terms


@pytest.mark.parametrize(
    "words, group",
    [
        (["CB", "carte bleue", "carte bancaire", "carte de crédit"], "cartebancaire"),
        (["rétractation", "changer d'avis", "changer d’avis", "je change d'avis"], "retractation"),
        (["annulation", "annuler", "se désister"], "annulation"),
        (["rembourser", "remboursement"], "remboursement"),
        (["RII", "relevé d'information intégral", "relevé d’information intégral"], "rii"),
        (["48N", "48 N", "lettre 48N"], "lettre48n"),
        (["48SI", "48 SI"], "lettre48si"),
        (["carton rose", "permis de conduire"], "permisconduire"),
        (["pas venu", "absent", "raté le stage"], "absence"),
        (["tribunal", "juge", "juridiction", "ordonnance pénale"], "justice"),
        (["relevé intégral", "RII"], "rii"),
        (["jeune conducteur", "permis probatoire", "permis de moins de 3 ans"], "probatoire"),
        (["ANTS", "Agence nationale des titres sécurisés"], "ants"),
        (["CPF", "compte personnel de formation"], "cpf"),
        (["mail", "e-mail", "email", "courriel"], "courriel"),
    ],
)
def test_domain_synonyms_meet_on_one_token(words, group):
    for text in words:
        assert analysis.SYNONYM_PREFIX + group in analysis.analyze(text), text


@pytest.mark.parametrize(
    "words, group",
    [
        (["un stage le soir", "stage en soirée", "cours du soir", "stage le dimanche"], "horsjournee"),
        (["mon compte stagiaire", "mon compte en ligne"], "espacestagiaire"),
        (["erreur d'adresse mail", "erreur dans mon mail", "mauvais mail"], "adressemailerronee"),
        (["l'heure d'arrivée", "une arrivée tardive", "arriver après le début"], "retard"),
        (["il me reste peu de points", "mon capital est presque vide", "plus que 2 points"], "peudepoints"),
        (["l'historique de mon permis", "historique des points"], "rii"),
        (["l'établissement", "l'école de conduite", "le prestataire"], "centre"),
        (["j'ai séché le stage"], "absence"),
        (["pas réveillé", "panne de réveil"], "retard"),
        (["je veux mon argent", "revoir mon argent"], "remboursement"),
        (["avis de réception", "le facteur est passé"], "recommande"),
        (["cour d'appel", "le JAP", "le SPIP"], "justice"),
        (["ils ont pris mon permis"], "suspension"),
        (["je veux plus y aller", "je ne veux plus le faire"], "annulation"),
        (["pas assez d'inscrits", "trop peu d'inscrits"], "annulationcentre"),
        (["combien il me reste"], "solde"),
        (["est-ce que je peux encore conduire", "continuer à rouler"], "permisvalide"),
        (["combien vous gardez"], "fraisdossier"),
        (["le stage m'a rien rapporté", "j'ai pas récupéré de points", "aucun point récupéré"], "pointsnonrecuperes"),
        (["il n'y a plus de dates", "aucun stage dispo", "pas de session"], "pasdedates"),
        (["rouler avec un permis invalidé", "conduire sans permis", "j'ai continué à conduire sans permis"], "conduiresansdroit"),
    ],
)
def test_everyday_words_name_their_concept(words, group):
    """How drivers say it in their own words: each form names the concept the FAQ's wording names."""
    for text in words:
        assert analysis.SYNONYM_PREFIX + group in analysis.analyze(text), text


@pytest.mark.parametrize(
    "text, group",
    [
        ("c'est quoi le RII", "definition"), ("Qu’est-ce que le stage volontaire ?", "definition"),
        ("c koi le cas 3", "definition"), ("kesako", "definition"),
        ("stage de sensibilisation ou de récupération, c'est la même chose ?", "terminologie"),
        ("un stage c'est combien", "prix"), ("ça coûte combien", "prix"),
        # How often: the one-year-and-a-day rule, not any delay.
        ("on peut en faire tous les combien", "unanunjour"), ("à quelle fréquence peut-on faire un stage", "unanunjour"),
    ],
)
def test_phrases_of_stopwords_still_say_what_is_asked(text, group):
    assert analysis.SYNONYM_PREFIX + group in analysis.analyze(text), text


@pytest.mark.parametrize(
    "text, group",
    [("est-ce que je peux payer par chèque", "definition"), ("combien de points ai-je", "prix"),
     ("quoi faire si je suis en retard", "definition"), ("même si je suis absent", "terminologie")],
)
def test_function_phrases_need_their_whole_phrase(text, group):
    """A yes/no "est-ce que" is not "qu'est-ce que"; "combien" alone is not a price."""
    assert analysis.SYNONYM_PREFIX + group not in analysis.analyze(text), text


def test_what_to_do_phrases_are_not_searched_as_words():
    assert analysis.analyze("le centre a annulé mon stage, que faire ?") == analysis.analyze("le centre a annulé mon stage")
    assert analysis.analyze("comment faire pour payer") == analysis.analyze("payer")
    assert analysis.stem("faire") in analysis.analyze("faire un stage")  # "faire" itself is still a word
    assert analysis.analyze("que faire ?")  # alone, the phrase is what there is to search
    # and the index keeps everything: a question saying "que faire" still has it.
    assert analysis.SYNONYM_PREFIX + "quefaire" in analysis.analyze("Que dois-je faire ?", mode="index")


def test_collapsing_double_letters_never_yields_a_stopword_or_negation():
    assert analysis.stem("passe") != "pas" and analysis.stem("passe") == analysis.stem("passer")


@pytest.mark.parametrize(
    "one, other",
    [("département", "départ"), ("devis", "vous devez"), ("attention", "attente"), ("exclusivement", "exclusion"),
     ("au-delà", "délai")],
)
def test_snowball_collisions_are_split(one, other):
    assert not set(analysis.analyze(one)) & set(analysis.analyze(other)), (one, other)


def test_stem_exceptions_keep_distinct_meanings_apart():
    assert analysis.analyze("virement")[0] != analysis.analyze("viré")[0]
    assert analysis.SYNONYM_PREFIX + "exclusion" in analysis.analyze("on m'a viré du stage")
    assert analysis.SYNONYM_PREFIX + "exclusion" not in analysis.analyze("remboursement par virement")


def test_knowing_is_not_typing_in():
    # Snowball gives « sais » (je sais) and « saisir » one stem: « je ne sais pas » is no question about a form field.
    assert analysis.SYNONYM_PREFIX + "saisie" not in analysis.analyze("je ne sais pas quel cas choisir")
    assert analysis.SYNONYM_PREFIX + "saisie" in analysis.analyze("je n'arrive pas à saisir mon nom")


def test_sms_interrogatives_and_glued_pronouns_expand():
    assert analysis.analyze("jsai pa kel stage", mode="query") == analysis.analyze("je sais pas quel stage", mode="query")
    assert analysis.analyze("mon permis e ma carte", mode="query") == analysis.analyze("mon permis et ma carte")
    assert analysis.analyze("cmb de tps pour qqn", mode="query") == analysis.analyze("combien de temps pour quelqu'un")
    # An SMS key is folded: none may fold onto an ordinary word of the language (« jé » would rewrite every « je »).
    assert not set(analysis.ABBREVIATIONS) & {"je", "de", "le", "la", "et", "a", "ou", "en", "un", "une"}


def test_sms_speak_expands_in_queries_only():
    assert "pourquoi" in analysis.analyze("pk", mode="query")
    assert analysis.analyze("jsuis", mode="query") == []  # "je suis": both stopwords
    assert analysis.stem("telephone") in analysis.analyze("tel", mode="query")
    # The FAQ's own "tel" means "tel que", not "téléphone".
    assert analysis.stem("telephone") not in analysis.analyze("tel", mode="index")


def test_spans_point_at_the_source_text():
    text = "La carte bleue est expirée"
    spans = analysis.analyze_with_spans(text)
    by_term = {term: text[start:end] for term, start, end in spans}
    assert by_term["~cartebancaire"] == "carte bleue"
    assert by_term[analysis.stem("expiree")] == "expirée"


def test_thesaurus_forms_never_shrink_to_a_common_word():
    """A multi-word form reduced to one term would tag every use of that word (e.g. "48 si" -> "48"), unless that
    word is itself a form of the same concept (then the file says so explicitly)."""
    for concept in analysis.THESAURUS.concepts:
        single = {analysis._phrase_terms(f) for f in concept.all_forms if len(analysis.surface_words(f)) == 1}
        for form in concept.all_forms:
            terms = analysis._phrase_terms(form)
            if len(analysis.surface_words(form)) > 1 and len(terms) < 2:
                assert terms in single, (concept.id, form)


def test_a_negative_form_vetoes_its_concept():
    """« annulé par le centre » is not the visitor cancelling; the centre's cancellation is read instead."""
    terms = analysis.analyze("mon stage a été annulé par le centre")
    assert "~annulationcentre" in terms and "~annulation" not in terms
    assert "~annulation" in analysis.analyze("je veux annuler mon stage")


def test_few_points_left_is_not_none_left():
    assert analysis.SYNONYM_PREFIX + "peudepoints" not in analysis.analyze("je n'ai plus un seul point")
    assert analysis.SYNONYM_PREFIX + "peudepoints" not in analysis.analyze("j'ai perdu 2 points")


def test_a_proof_asked_by_the_employer_is_the_attendance_certificate():
    # Combination (thesaurus `implied_by`): the employer and a proof or certificate, named close together.
    assert analysis.SYNONYM_PREFIX + "justificatifabsence" in analysis.analyze("mon patron me demande une preuve")
    assert analysis.SYNONYM_PREFIX + "justificatifabsence" in analysis.analyze("une attestation pour le boulot")
    assert analysis.SYNONYM_PREFIX + "justificatifabsence" not in analysis.analyze("une preuve de paiement")


def test_everyday_words_do_not_name_an_unrelated_concept():
    # « dès réception de la lettre » is receiving a letter, not the hotel's reception desk (the course's room);
    # a bank is no course centre; oversleeping is no case of force majeure.
    assert analysis.SYNONYM_PREFIX + "salle" not in analysis.analyze("dès réception de la lettre 48N")
    assert analysis.SYNONYM_PREFIX + "centre" not in analysis.analyze("mon établissement bancaire")
    assert analysis.SYNONYM_PREFIX + "forcemajeure" not in analysis.analyze("panne de réveil")
    # A sick note is no court ruling (« arrêt ») nor the course's certificate; a cancelled licence is not the
    # visitor cancelling; a cancelled course is not a document deleted.
    assert analysis.SYNONYM_PREFIX + "jurisprudence" not in analysis.analyze("je suis en arrêt maladie")
    assert analysis.SYNONYM_PREFIX + "sante" in analysis.analyze("j'ai un arrêt de travail")
    assert analysis.SYNONYM_PREFIX + "attestation" not in analysis.analyze("j'ai un certificat médical")
    assert analysis.SYNONYM_PREFIX + "annulation" not in analysis.analyze("mon permis est annulé")
    assert analysis.SYNONYM_PREFIX + "corbeille" not in analysis.analyze("mon stage a été supprimé")
    # « en cas de retard » is no course case (« case » alone had the stem of « cas »); road safety is no payment security.
    assert analysis.SYNONYM_PREFIX + "casdestage" not in analysis.analyze("en cas de retard", mode="index")
    assert analysis.SYNONYM_PREFIX + "casdestage" in analysis.analyze("quel cas cocher")
    assert analysis.SYNONYM_PREFIX + "securite" not in analysis.analyze("la sécurité routière")
    assert analysis.SYNONYM_PREFIX + "securite" in analysis.analyze("le paiement est-il sécurisé")
    # « notez que », « notamment » are no exam grade; « pris en charge » is no page loading forever; a phone line is
    # not « en ligne »; a workstation is no post office.
    for text, concept in [("notez que vous", "examen"), ("notamment", "examen"), ("pris en charge par le CPF", "mouline"),
                          ("une ligne téléphonique", "enligne"), ("mon poste de travail", "recommande")]:
        assert analysis.SYNONYM_PREFIX + concept not in analysis.analyze(text, mode="index"), text
    assert analysis.SYNONYM_PREFIX + "mouline" in analysis.analyze("la page qui charge indéfiniment")
    # Points taken off the licence are no licence suspension.
    assert analysis.SYNONYM_PREFIX + "suspension" not in analysis.analyze("les points sont retirés du permis")
    # Completing one's file is no full session; taking part and « effectivement » are no group size.
    for text, concept in [("compléter mon dossier", "complet"), ("mon dossier est complet", "complet"),
                          ("participer au stage", "participants"), ("effectivement", "participants")]:
        assert analysis.SYNONYM_PREFIX + concept not in analysis.analyze(text, mode="index"), text
    assert analysis.SYNONYM_PREFIX + "complet" in analysis.analyze("le stage est affiché complet")
    assert analysis.SYNONYM_PREFIX + "complet" in analysis.analyze("annulé ou complet ?")
    assert analysis.SYNONYM_PREFIX + "participants" in analysis.analyze("combien de personnes par stage")
    # Loading one's documents is uploading them, not a page that hangs.
    assert analysis.SYNONYM_PREFIX + "mouline" not in analysis.analyze("je n'arrive pas à charger mes documents")
    assert analysis.SYNONYM_PREFIX + "telechargement" in analysis.analyze("je n'arrive pas à charger mes documents")
    # Dates or seats available are not the visitor being available.
    assert analysis.SYNONYM_PREFIX + "disponibilite" not in analysis.analyze("y a-t-il des dates disponibles")
    assert analysis.SYNONYM_PREFIX + "disponibilite" in analysis.analyze("je ne suis plus disponible ce jour-là")
    # A list of documents or of courses is not the attendance list.
    assert analysis.SYNONYM_PREFIX + "listepresence" not in analysis.analyze("la liste des pièces à fournir")
    assert analysis.SYNONYM_PREFIX + "listepresence" in analysis.analyze("mon nom n'est pas sur la liste de présence")


def test_an_email_address_is_not_the_place_of_the_course():
    assert analysis.SYNONYM_PREFIX + "adresse" not in analysis.analyze("mon adresse mail est fausse")
    assert analysis.SYNONYM_PREFIX + "adresse" not in analysis.analyze("j'ai changé d'adresse")
    assert analysis.SYNONYM_PREFIX + "adresse" not in analysis.analyze("la lettre est partie à mon ancienne adresse")
    assert analysis.SYNONYM_PREFIX + "adresse" in analysis.analyze("l'adresse du stage")


def test_a_concept_is_read_once_over_overlapping_forms():
    assert analysis.analyze("je veux annuler mon stage").count("~annulation") == 1


# -- the one-pass analysis equals the Whoosh chain ----------------------------------------------------------------

# Pieces the generated texts are made of: elisions of every kind and case with both apostrophes, the "n’" that keeps
# a negation, codes and numbers, the euro sign, hyphens, doubled letters, SMS-speak, emojis, ligatures, accents typed
# as combining marks, scripts and signs the tokenizer splits on.
NASTY_PIECES = (
    "l’", "l'", "L’", "d'", "D’", "qu’", "Qu'", "QU’", "n’", "N'", "jusqu’", "lorsqu'", "puisqu’", "presqu'", "j'",
    "s’", "c'", "m’", "t'", "n’ai", "n'est", "qu’est-ce que", "est-ce que", "aujourd’hui", "aujourd'hui", "l’l’",
    "48N", "48 N", "48SI", "48si", "2024", "3 €", "10€", "€€", "12,50 €", "1er", "n°3", "½", "²",
    "rendez-vous", "peut-être", "-t-il", "a-t-on", "e-mail", "--", "'", "’", "‘", "''", "’’", "_", "__init__",
    "combbien", "adreesse", "courrier", "courier", "passe", "reçu", "recu", "RECU", "Reçue", "débité", "Débité",
    "pk", "jsuis", "mdp", "tel", "svp", "stp", "cb", "ds", "pr", "bcp", "jpp", "tkt", "mrc", "kestion", "koi",
    "😀", "👍🏽", "🚗💨", "Œuvre", "œ", "Æ", "ß", "ﬁn", "e\u0301te\u0301", "É", "ÉCHÉANCE", "日本", "Ω", "ı",
    "pas", "ne", "non", "aucun", "jamais", "rien", "sans", "ni", "plus", "je", "le", "la", "les", "que", "quoi",
    "stage", "stages", "annuler", "annulé par le centre", "carte bleue", "carte bancaire", "remboursement",
    "lettre", "points", "permis", "probatoire", "recommandée", "employeur", "attestation", "ordonnance pénale",
    "virement", "viré", "délai", "délit", "au-delà", "département", "départ", "volant", "vol", "compléter",
)
SEPARATORS = (" ", " ", " ", "  ", "\n", ", ", ". ", " ? ", "!", "-", "’", "'", "", " (", ") ", "…", "\t", " : ")


def _nasty_texts(count: int = 400) -> list[str]:
    import random

    chance = random.Random(13)
    texts = ["", " ", "\n\n", "?!", "’", "l’", "n’", "qu’", "€", "~", "~stage", "ne ne ne", "pas pas"]
    texts += [piece for piece in NASTY_PIECES]
    for number in range(count):
        length = chance.choice((2, 3, 5, 8, 13, 40)) if number % 20 else 400  # every 20th text a long one
        texts.append("".join(chance.choice(NASTY_PIECES) + chance.choice(SEPARATORS) for _ in range(length)))
    return texts


def _texts_the_build_analyses() -> list[str]:
    """Every text `tables.derive` analyses for data/faq.yaml (fields, questions, each variant, each sentence)."""
    from faqbot.content import load_faq
    from faqbot.index import tables

    faq = load_faq(Path(__file__).resolve().parent.parent / "data" / "faq.yaml")
    texts: dict[str, None] = {}
    for entry in faq.entries:
        fields = tables.entry_fields(faq, entry)
        for text in (*fields.values(), entry.question, *faq.variants_of(entry, strict=True), *entry.tags,
                     *tables.split_sentences(entry.answer_plain)):
            texts[text] = None
    return list(texts)


def _thesaurus_texts() -> list[str]:
    thesaurus = analysis.THESAURUS
    texts = [text for concept in thesaurus.concepts for text in (*concept.all_forms, *concept.negatives, *concept.idioms)]
    return texts + [text for pair in thesaurus.sms.items() for text in pair]


@pytest.mark.parametrize("source", [_texts_the_build_analyses, _thesaurus_texts, _nasty_texts],
                         ids=["faq", "thesaurus", "generated"])
def test_the_one_pass_analysis_gives_exactly_the_whoosh_chain_tokens(source):
    """Issue 13, index build time: `index_tokens` (and the query-time analysis) reads plain tuples in one pass instead
    of running the Whoosh filters token object by token object; every token is the same — term, boost (repr: same
    float), first position, position, characters, order — for every text the build analyses, every thesaurus form
    and negative, and generated texts full of elisions, codes, SMS-speak and signs."""
    texts = source()
    assert len(texts) > 100
    for mode in ("index", "query"):
        different = [text for text in texts if repr(analysis._analysed(text, mode))
                     != repr(analysis.chain_tokens(text, mode))]
        assert not different, (mode, different[:3])
    assert all(analysis.index_tokens(text) == analysis.chain_tokens(text) for text in texts)
    # What the query, the highlighting and `analyze` read of it equals what they read of the chain with their own
    # options (positions only, characters only, neither).
    analyzer = analysis.ANALYZER
    for text in texts:
        for mode in ("index", "query"):
            assert [(term, first, pos) for term, _b, first, pos, _s, _e in analysis._analysed(text, mode)] == [
                (t.text, getattr(t, "first_pos", t.pos) if t.text.startswith(analysis.SYNONYM_PREFIX) else t.pos, t.pos)
                for t in analyzer(text, positions=True, mode=mode)
            ]
            assert analysis.analyze_with_spans(text, mode) == [
                (t.text, t.startchar, t.endchar) for t in analyzer(text, chars=True, mode=mode)]
        assert analysis.analyze(text, "index") == [t.text for t in analyzer(text, mode="index")]
    # The generated texts do reach what they are made for: concepts over several words, idioms, SMS expansions.
    tokens = [token for text in texts for token in analysis._analysed(text, "query")]
    assert any(term.startswith(analysis.SYNONYM_PREFIX) and first < pos for term, _b, first, pos, _s, _e in tokens)


# -- correction -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corrector(service):
    return service.corrector


def test_correction_fixes_one_typo_from_five_letters(corrector):
    assert corrector.correct("remboursment").text == "remboursement"
    assert corrector.correct("confirmtion cb").text == "confirmation cb"


def test_correction_allows_two_edits_from_seven_letters(corrector):
    assert corrector.correct("rembourcemant").text == "remboursement"
    assert corrector.correct("pqiemnt").text == "paiement"
    # Under seven letters, two edits are too many: "pqiemt" is left alone.
    assert corrector.correct("pqiemt").changed is False


def test_a_capitalised_word_inside_a_sentence_is_a_name_not_a_typo(corrector):
    """Towns and names in a story (« l'hôtel de Chambéry ») are not corrected into FAQ words; the same word typed in
    lower case, or opening a sentence, still is."""
    typed = "remboursment"
    assert corrector.correct(f"Le stage de {typed.capitalize()} est loin").changed is False
    assert corrector.correct(f"le stage de {typed} est loin").text == "le stage de remboursement est loin"
    assert corrector.correct(f"Bonjour. {typed.capitalize()} svp").text.lower() == "bonjour. remboursement svp"


def test_correction_ties_prefer_a_swap_then_the_same_first_letter():
    corrector = Corrector({"portable": ("portable", 1), "probable": ("probable", 5), "centre": ("centre", 1),
                           "etre": ("être", 9)}, set())
    assert corrector.correct_word("protable") == "portable"
    assert corrector.correct_word("cetre") == "centre"


def test_correction_keeps_elision_and_apostrophes(corrector):
    result = corrector.correct("l’inscirption")
    assert result.changed and result.text == "l’inscription"


def test_glued_particle_is_split(corrector):
    assert corrector.correct("lannulation").text == "l'annulation"


def test_a_glued_particle_is_split_even_when_the_faq_has_the_glued_spelling():
    # A FAQ variant typed the visitors' way (« linscription ») must not keep the glued word whole, nor its misspelling;
    # a real French word that starts like a particle stays a word.
    corrector = Corrector({"inscription": ("inscription", 30), "linscription": ("linscription", 1),
                           "avantage": ("avantage", 2)}, set())
    assert corrector.correct_word("linscription") == "l'inscription"
    assert corrector.correct_word("linscripsion") == "l'inscription"
    assert corrector.correct_word("davantage") is None
    assert corrector.correct_word("narrive") is None  # SMS-speak, expanded by the analyzer as written in the thesaurus


def test_correction_leaves_short_words_codes_and_real_words(corrector):
    for text in ("cas", "48sl", "48NN", "2025", "reviennent", "femme"):
        assert corrector.correct(text).changed is False, text


def test_correction_of_known_words_changes_nothing(corrector):
    outcome = corrector.correct("remboursement par carte bancaire")
    assert outcome.changed is False
    assert outcome.text == "remboursement par carte bancaire"


@pytest.mark.parametrize("typed, meant", [("kestion", "question"), ("kestions", "questions"), ("quelle", None)])
def test_sms_k_for_qu_is_read_as_qu_never_as_another_word(service, typed, meant):
    """Issue 14: « kestion » is « question », never « gestion » (one edit away)."""
    outcome = service.correct(f"une {typed} sur mon stage")
    assert "gestion" not in outcome.text
    assert analysis.stem("question") in analysis.analyze(outcome.text) or meant is None
    assert service.corrector.correct_word("kelconque") == "quelconque"  # « kelle » etc. are in the SMS table


@pytest.mark.parametrize(
    "typed, meant",
    [("paiman", "paiement"), ("remboursman", "remboursement"), ("atestasion", "attestation"), ("prochene", "prochaine")],
)
def test_words_written_as_they_sound_meet_the_faq_word(typed, meant):
    from faqbot.index.correct import phonetic_key

    assert phonetic_key(typed) == phonetic_key(meant)
    corrector = Corrector({meant: (meant, 3), "parement": ("parement", 1)}, known_terms=set())
    assert corrector.correct_word(typed) == meant


def test_corrector_prefers_frequent_words_on_ties():
    corrector = Corrector({"stage": ("stage", 40), "stade": ("stade", 1)}, known_terms=set())
    assert corrector.correct_word("stagz") in {"stage"}


# -- index build ------------------------------------------------------------------------------------------------


def test_index_is_built_once_per_content(tmp_path):
    faq = make_faq()
    first = ensure_index(faq, tmp_path)
    assert (first / READY_FILE).exists()
    mtime = (first / READY_FILE).stat().st_mtime_ns
    assert ensure_index(faq, tmp_path) == first
    assert (first / READY_FILE).stat().st_mtime_ns == mtime  # not rebuilt


def test_index_rebuilds_when_content_changes(tmp_path):
    first = ensure_index(make_faq(), tmp_path)
    changed = dict(FAQ_DATA, entries=FAQ_DATA["entries"][:-1])
    second = ensure_index(make_faq(changed), tmp_path)
    assert second != first
    assert build_key(make_faq(changed)) == second.name


def test_concurrent_builders_build_once(tmp_path):
    faq = make_faq()
    results, errors = [], []

    def build():
        try:
            results.append(ensure_index(faq, tmp_path))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == [results[0]]


def test_plural_verb_forms_unknown_to_the_index_meet_the_verb(service):
    """Snowball keeps "-ent" ("argent"); a plural the index does not know is tried as an -er verb."""
    assert service._known_form(analysis.stem("remboursent")) == analysis.stem("rembourser")
    assert service._known_form("zorglubent") == "zorglubent"  # no such verb in the FAQ: left alone
    assert service.search("ils me remboursent quand", limit=1).hits[0].entry.id == "delai-remboursement"


def test_each_thread_gets_its_own_searcher(service):
    searchers = []

    def grab():
        searchers.append(service.searcher())

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in searchers}) == 3
    assert service.searcher() is service.searcher()  # same thread, same searcher


def test_threads_searching_at_once_get_the_right_results(service):
    queries = {
        "remboursement": "delai-remboursement",
        "lettre 48N": "lettre-48n",
        "espèces": "paiement-sur-place",
        "rétractation": "droit-retractation",
    }
    expected = {q: service.search(q).hits[0].entry.id for q in queries}
    assert expected == queries
    failures = []

    def hammer(query):
        for _ in range(40):
            top = service.search(query).hits[0].entry.id
            if top != queries[query]:
                failures.append((query, top))

    threads = [threading.Thread(target=hammer, args=(q,)) for q in queries for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize(
    "query", ["remboursement carte bleue", "lettre 48N", "pas reçu de mail", "délai rétractation 14 jours", "stage"]
)
def test_in_memory_scores_equal_whoosh_bm25f(service, query):
    terms = analysis.analyze(query)
    ours = service._score(terms, 20)
    reference = service.whoosh_scores(terms, 20)
    assert ours, query
    assert {i: round(s, 4) for i, s in ours} == {i: round(s, 4) for i, s in reference}


# -- tables built with the index ----------------------------------------------------------------------------------


def test_index_artefacts_load_identical_scores_to_a_fresh_analysis(tmp_path):
    """What a worker loads from disk is exactly what analysing the FAQ again gives, and Whoosh agrees."""
    import numpy as np

    from faqbot.index import tables
    from faqbot.index.build import reference_index

    faq = make_faq()
    folder = ensure_index(faq, tmp_path)
    stored = tables.SearchTables.load(folder)
    assert isinstance(stored.details, tables.MappedDetails)  # read from the mapped file, not held per worker
    fresh = tables.derive(faq)
    # The build analyses each text once and computes BM25F itself: bit for bit what Whoosh's own index and
    # scorer give for the same fields (field weights, float32 term weights, byte-encoded field lengths).
    index = reference_index(faq, folder)
    try:
        reference, reference_terms = tables.whoosh_postings(index)
    finally:
        index.close()
    slices, docs, scores = tables._flatten(reference)
    assert fresh.term_slices == slices and list(fresh.term_slices) == list(slices)
    assert np.array_equal(fresh.post_docs, docs) and np.array_equal(fresh.post_scores, scores)
    assert fresh.known_terms == reference_terms
    assert stored.doc_ids == fresh.doc_ids
    assert stored.term_slices == fresh.term_slices and stored.passage_slices == fresh.passage_slices
    for name in tables.ARRAYS:  # postings, passages and the phrasings' words
        assert np.array_equal(getattr(stored, name), getattr(fresh, name)), name
    assert stored.phrase_tokens == fresh.phrase_tokens
    assert [stored.detail(i) for i in range(stored.entry_count)] == [fresh.detail(i) for i in range(fresh.entry_count)]
    assert stored.vocabulary == fresh.vocabulary and stored.known_terms == fresh.known_terms
    # And a service reading those tables scores like the fresh analysis, term for term.
    service = SearchService(faq, tmp_path)
    for query in ("remboursement carte bleue", "lettre 48N", "c koi le RII", "j'ai changé d'avis"):
        terms = analysis.analyze(query)
        totals = np.zeros(fresh.entry_count)
        for term, count in Counter(terms).items():
            postings = fresh.postings(term)
            if postings is not None:
                totals[postings[0]] += service_module.term_weight(term, count) * postings[1]
        expected = {fresh.doc_ids[d]: float(totals[d]) for d in np.flatnonzero(totals)}
        assert expected, query
        # Summed in one bincount, in the same order: the same floats, not merely close ones.
        assert dict(service._score(terms, 50)) == expected
    service.close()


def test_phrasing_precision_reads_what_each_phrasing_says(real_service):
    """The precision arrays give, for every entry, exactly the best share of one phrasing (question or variant) that a
    query's terms say, computed here from the phrasings themselves: each word's idf, a word said by its term or one
    of its concepts counted once, added in the phrasing's word order."""
    import dataclasses
    import math

    import numpy as np

    service = real_service
    tables = service.tables
    count = tables.entry_count

    def idf(term):
        frequency = tables.document_frequency(term)
        return math.log(1 + count / frequency) if frequency else 0.0

    def expected(entry, query_terms):
        best = 0.0
        for text in (entry.question, *entry.variants):
            units = analysis.analyze_units(text, mode="index")
            weights = [idf(term) for term, _groups in units]
            mass = sum(weights)
            if not mass:
                continue
            covered = 0.0
            for (term, groups), weight in zip(units, weights):
                if term in query_terms or groups & query_terms:
                    covered += weight
            best = max(best, covered / mass)
        return best

    docnums = np.arange(count)
    checked = 0
    for query in ("remboursement carte bleue", "j'ai perdu mon permis", "annulation du stage par le centre",
                  "combien de points je récupère", "c koi le RII", "attestation de stage"):
        _corrected, weights, _units, plan = service._read(query)
        got = tables.phrasing_precisions(docnums, plan.phrase_tokens)
        for docnum in range(count):
            entry = service._entries[docnum]
            assert got[docnum] == expected(entry, frozenset(weights)), (query, entry.id)
            assert 0.0 <= got[docnum] <= 1.0
        checked += int((got > 0).sum())
        # Keys stored as 64-bit integers (a FAQ too large for 32-bit ones) read the same.
        wide = dataclasses.replace(tables, phrase_keys=tables.phrase_keys.astype(np.int64))
        assert np.array_equal(wide.phrasing_precisions(docnums, plan.phrase_tokens.astype(np.int64)), got)
    assert checked > 50  # the queries do reach many phrasings
    # Every word said: the share is exactly 1 (the same words added in the same order as the total).
    entry = service._entries[0]
    every_term = frozenset(term for text in (entry.question, *entry.variants)
                           for term, _groups in analysis.analyze_units(text, mode="index"))
    tokens = np.asarray(sorted(tables.phrase_tokens[t] for t in every_term if t in tables.phrase_tokens),
                        dtype=tables.phrase_keys.dtype)
    assert tables.phrasing_precisions(np.asarray([0]), tokens)[0] == 1.0


def test_coverage_past_the_presence_bits_ranks_the_same(real_service, monkeypatch):
    """A query's unit terms each get a presence bit (52 fit a float exactly); terms past them are looked up one by
    one: with only two bits, every query ranks exactly as with all of them."""
    queries = ["remboursement carte bleue", "j'ai perdu mon permis et je ne retrouve plus ma lettre 48N",
               "Bonjour, ma fille a son permis depuis peu et elle a reçu une lettre recommandée. Est-ce qu'elle doit "
               "faire un stage ?", "annulation du stage par le centre"]
    for query in queries:
        _corrected, weights, units, plan = real_service._read(query)
        monkeypatch.setattr(service_module, "PRESENCE_BITS", 2)
        narrow = real_service._plan(weights, units)
        monkeypatch.undo()
        assert narrow.overflow and not plan.overflow, query
        assert real_service._ranked(weights, units, 10, narrow) == real_service._ranked(weights, units, 10, plan)


def test_a_warm_service_answers_exactly_like_a_cold_one(real_service, tmp_path):
    """The per-version caches (query readings, idf, marked excerpts, decoded details) never change an answer:
    queries run in another order on a service whose caches are full give what a fresh service gives."""
    queries = ["remboursement carte bleue", "rembourser", "lettre 48N", "pas reçu de mail", "c koi le RII",
               "délai rétractation 14 jours", "annulation stage", "stage annulé par le centre", "carte bleue"]
    for query in reversed(queries * 2):
        real_service.search(query, limit=5)
    warm = {query: real_service.search(query, limit=10) for query in queries}
    cold_service = SearchService(real_service.faq, tmp_path)
    try:
        for query in queries:
            cold_service.tables.__dict__.pop("_detail_cache", None)
            cold = cold_service.search(query, limit=10)
            assert cold.hits, query
            assert cold == warm[query], query
    finally:
        cold_service.close()


def test_the_build_keeps_the_parsed_faq_for_the_next_worker(tmp_path):
    from faqbot.content import load_faq
    from faqbot.content.overlay import load_served_faq
    from faqbot.index.build import FAQ_FILE, load_saved_faq, save_faq

    path = tmp_path / "faq.yaml"
    path.write_text(yaml.safe_dump(FAQ_DATA, allow_unicode=True), encoding="utf-8")
    faq = load_faq(path)
    service = SearchService(faq, tmp_path / "index")
    assert load_saved_faq(tmp_path / "index", faq.digest) is None  # nothing saved yet: the YAML is parsed
    faq.entries[0].answer_plain  # a property cached by the build is not saved (recomputed on demand)
    save_faq(faq, service.folder, {"RII_URL": "https://example.org/rii"})
    assert "answer_plain" not in pickle.loads((service.folder / FAQ_FILE).read_bytes())[-1].entries[0].__dict__
    assert load_saved_faq(tmp_path / "index", faq.digest) is None  # saved with other links: not this one
    assert load_saved_faq(tmp_path / "index", faq.digest, {"RII_URL": "https://example.org/rii"}) == faq
    save_faq(faq, service.folder)
    # Saved by another version of the parser (content/model.py, overlay.py): parsed again, never served stale.
    version, _parser, links, saved_faq = pickle.loads((service.folder / FAQ_FILE).read_bytes())
    (service.folder / FAQ_FILE).write_bytes(pickle.dumps((version, "another parser", links, saved_faq)))
    assert load_saved_faq(tmp_path / "index", faq.digest) is None
    save_faq(faq, service.folder)
    calls = []

    def saved(digest):
        calls.append(digest)
        return load_saved_faq(tmp_path / "index", digest)

    again = load_served_faq(path, None, saved=saved)
    assert calls == [faq.digest] and again == faq and again.digest == faq.digest
    assert [e.answer_plain for e in again.entries] == [e.answer_plain for e in faq.entries]
    path.write_text(path.read_text(encoding="utf-8") + "# édité\n", encoding="utf-8")
    edited = load_served_faq(path, None, saved=saved)  # another digest: no saved copy, parsed from the file
    assert edited.digest != faq.digest and calls[-1] == edited.digest and edited.entries == faq.entries
    service.close()


def test_a_build_holds_its_tables(tmp_path):
    from faqbot.index.tables import TABLES_FILE, SearchTables

    folder = ensure_index(make_faq(), tmp_path)
    assert SearchTables.load(folder).doc_ids == [e["id"] for e in FAQ_DATA["entries"]]
    (folder / TABLES_FILE).write_bytes(b"not a pickle of ours")
    with pytest.raises(Exception):
        SearchTables.load(folder)


# -- rankings pinned on the project's own bench cases (bench/search_cases.py, never evaluation wording) ----------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def real_service(tmp_path_factory):
    from faqbot.content import load_faq

    built = SearchService(load_faq(ROOT / "data" / "faq.yaml"), tmp_path_factory.mktemp("real-index"))
    yield built
    built.close()


def _bench_cases():
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import search_cases

    return [("heldout", search_cases.HELDOUT), ("heldout2", search_cases.HELDOUT_2), ("heldout3", search_cases.HELDOUT_3)]


# Cases of bench/search_cases.py whose first result is not among their answers today (ranked 2nd or 3rd):
# pinned too, so that a change which fixes one shows here and is recorded.
KNOWN_MISSES = {
    "heldout": 5, "heldout2": 1, "heldout3": 2,
}
# Round 3 (1,228 visitor variants written from the answers, 8 same-question merges) traded 4 of these team-written
# cases (2 → 5 and 1 → 2 answered second) for +0.07 on the blind development sets (round 3 dev: 0.76 → 0.84; large
# dev set 0.69 → 0.77); a second pass of situation and deep-paraphrase variants traded one more (heldout3 2 → 3
# answered second, one heldout case 4th) for large dev 0.787 → 0.813: see bench/RESULTS-search.md. Round 6
# (contrastive variants for the sibling pairs that self-retrieval confuses, fact questions) won back three of them
# (heldout 5 → 3, heldout3 3 → 2); its 12 merges of entries answering one question gave one back (heldout 3 → 4:
# « y a t il un controle a la fin » now finds the merged « dossier » entry first) for large dev 0.827 → 0.847; its
# second contrastive pass one more (4 → 5, as at the start of round 6: « pk je recois rien apres mon inscription »
# finds the entry on an inscription cancelled just after booking first), blind development sets unchanged.
# Cases whose answer is not even in the top 3: heldout2's « d'autres formations que la recup de points », since the
# curators rewrote that entry's question (« Le stage que je cherche n'est pas proposé sur votre site »).
KNOWN_OUTSIDE_TOP3 = {"heldout": 1, "heldout2": 1, "heldout3": 0}


@pytest.mark.parametrize("name, cases", _bench_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_rankings_of_the_bench_cases_are_pinned(real_service, name, cases):
    """Issue 13: relevance unchanged by the speed work. Every case keeps its answer in the top 3, and the number
    answered first does not fall (a FAQ merge that renames entries must update bench/search_cases.py)."""
    faq = real_service.faq
    misses, outside_top3 = [], []
    for query, wanted in cases:
        # An id merged into another entry counts as that entry (its `aliases`), as old links do on the site.
        wanted = [faq.resolve(w).id for w in wanted if faq.resolve(w) is not None]
        if not wanted:
            continue
        ids = [hit.entry.id for hit in real_service.search(query, limit=10).hits]
        if ids[:1] != [] and ids[0] not in wanted:
            misses.append(query)
        if not set(ids[:3]) & set(wanted):
            outside_top3.append(query)
    assert len(misses) <= KNOWN_MISSES[name], misses
    assert len(outside_top3) <= KNOWN_OUTSIDE_TOP3[name], outside_top3


def test_the_euro_sign_is_an_amount_word():
    assert analysis.analyze("un stage à 3 €") == analysis.analyze("un stage à 3 euros")
    spans = analysis.analyze_with_spans("à 3 € près", mode="query")
    assert ("euro", 4, 5) in spans


def test_a_worker_keeps_only_a_few_variants_in_memory_and_reads_the_rest_when_needed(real_service):
    """Issue 13, memory at scale: the FAQ a worker unpickles keeps KEPT_VARIANTS variants per entry (what `related`
    reads); everything that needs them all — the build, the Whoosh reference, a staff duplicate check — reads the
    full lists through `variants_of`, and a light copy derives exactly the tables of the full one."""
    import numpy as np

    from faqbot.index import tables
    from faqbot.index.build import KEPT_VARIANTS, VARIANTS_FILE, load_saved_faq, save_faq

    faq = real_service.faq
    save_faq(faq, real_service.folder)
    light = load_saved_faq(real_service.folder.parent, faq.digest)
    assert light is not None and light.variants_loader.args == (real_service.folder / VARIANTS_FILE,)
    assert sum(len(e.variants) for e in light.entries) < sum(len(e.variants) for e in faq.entries) / 4
    for full_entry, light_entry in zip(faq.all_entries, light.all_entries):
        assert light_entry.variants == full_entry.variants[:KEPT_VARIANTS]
        assert light.variants_of(light_entry) == full_entry.variants
    full_tables, light_tables = tables.derive(faq), tables.derive(light)
    assert light_tables.term_slices == full_tables.term_slices
    for name in tables.ARRAYS:
        assert np.array_equal(getattr(light_tables, name), getattr(full_tables, name)), name
    # The related entries read the kept variants: the same as from the full FAQ.
    entry = faq.by_id["changer-date-stage"]
    assert [e.id for e in real_service.related(entry)] == [e.id for e in real_service.related(light.by_id[entry.id])]


def test_an_index_is_never_built_from_the_kept_variants_alone(real_service, tmp_path):
    """If a light FAQ's variants file is gone, a duplicate check falls back to the kept variants, but a build
    refuses (it would index 3 variants per entry and serve worse results without a word)."""
    import shutil

    from faqbot.index import tables
    from faqbot.index.build import FAQ_FILE, VARIANTS_FILE, load_saved_faq, save_faq

    faq = real_service.faq
    copy = tmp_path / real_service.folder.name
    copy.mkdir()
    save_faq(faq, copy)
    light = load_saved_faq(tmp_path, faq.digest)
    (copy / VARIANTS_FILE).unlink()
    entry = light.entries[0]
    assert light.variants_of(entry) == entry.variants  # the kept ones
    with pytest.raises(ValueError):
        tables.derive(light)
    shutil.rmtree(copy)
    assert load_saved_faq(tmp_path, faq.digest) is None and not (copy / FAQ_FILE).exists()
