"""Suggest a contact reason for what a visitor typed: a classifier learnt from examples, and the rules it cannot learn.

Messages are read as people type them: accents dropped, SMS-speak expanded, near-miss spellings corrected. The
classifier (`model.py`, trained on `data/triage_examples.yaml`) gives a calibrated probability per reason from the
words, character n-grams and the cue concepts of `cues.py`. Then a few rules decide what a bag of words cannot:
who cancelled (the visitor: withdrawal period; the centre: cancellation, unless a transfer followed and the visitor
wants the money back), money taken with nothing received (the payment went through), a confirmation said to be
received (so not missing), a paid change of date that nothing shows (the transfer), and the withdrawal with the card
gone (the refund by bank transfer). FAQ search hits, when a search function is given, add a small vote for the
reason their entries lead to. Under `TWO_CHOICES_BELOW` the visitor is offered the two likeliest reasons instead of one.
"""
from __future__ import annotations

import re
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..content.thesaurus import Thesaurus, load_thesaurus
from . import cues
from .classifier import load_model
from .examples import DEFAULT_BANK
from .model import ReasonModel, analyse
from .reasons import REASONS_BY_ID
from .text import fold

_CONCEPTS = {name: tuple(re.compile(p) for p in patterns) for name, patterns in cues.CONCEPTS.items()}
# Words too short or too common to correct safely.
_NEVER_CORRECT = frozenset(
    "avoir etre faire suite entre autre autres notre votre leurs quand comme depuis encore apres avant toute "
    "toutes merci bonjour madame monsieur alors parce puisque quelle quels quelles cette ceci celle celui "
    "avais avait avons avez ont etais etait sommes etes sont serai serait pourrai pourrais pourriez voudrais "
    "voulais savoir dernier derniere premier premiere semaine heure heures jours mois annee lundi mardi mercredi "
    "jeudi vendredi samedi dimanche matin soir midi ville place adresse numero probleme problemes reponse".split()
)

SearchFunction = Callable[[str, int], Sequence]  # (text, limit) -> FAQ entries, best first


# Below this confidence the form offers the two likeliest reasons instead of one. On out-of-fold predictions over
# the example bank, suggestions above it are right about 19 times in 20 (bench/RESULTS-triage.md).
TWO_CHOICES_BELOW = 0.7


@dataclass(frozen=True)
class Suggestion:
    reason: str
    confidence: float  # 0..1, calibrated: the probability that `reason` is the visitor's reason
    scores: dict[str, float]  # the calibrated probability of every reason
    concepts: tuple[str, ...]  # the cue concepts found in the message (why, in words)
    faq: tuple = ()  # FAQ entries matching the message (Entry objects), best first
    alternatives: tuple[tuple[str, float], ...] = ()  # the next likeliest reasons, with their probability
    rule: str | None = None  # the rule that overrode the classifier, if any
    terms: tuple[str, ...] = field(default=(), compare=False)  # content words of the message the model knows

    @property
    def uncertain(self) -> bool:
        """Too close to call: offer the two likeliest reasons."""
        return self.confidence < TWO_CHOICES_BELOW and bool(self.alternatives)


@dataclass(frozen=True)
class _Reading:
    """How the triage reads typed text: the thesaurus's SMS table and forms, plus the cues' own spellings."""

    sms: dict[str, str]
    lexicon: tuple[str, ...]
    lexicon_set: frozenset[str]
    starts: frozenset[str]
    thesaurus: Thesaurus  # read once per process: the model's key holds its digest


@lru_cache(maxsize=1)
def _reading() -> _Reading:
    thesaurus = load_thesaurus()
    sms = {fold(token): fold(words) for token, words in thesaurus.sms.items() if fold(token)}
    for concept_id, word in cues.PATTERN_WORDS.items():
        for form in thesaurus.concept(concept_id).all_forms:
            folded = fold(form)
            if folded and " " not in folded and folded != word:
                sms.setdefault(folded, word)
    sms.update(cues.CUE_SPELLINGS)
    words = {w for c in thesaurus.concepts for form in c.all_forms for w in [fold(form)] if " " not in w}
    lexicon = tuple(sorted({w for w in words if len(w) >= 5 and w.isalpha()} | set(cues.CUE_WORDS)))
    return _Reading(sms, lexicon, frozenset(lexicon), frozenset(w[:5] for w in lexicon), thesaurus)


def normalize(text: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """Fold, expand SMS-speak and correct near-misses of domain words ("rembourssement" -> "remboursement")."""
    reading = _reading()
    tokens: list[str] = []
    for token in fold(text).split():
        token = re.sub(r"(.)\1{2,}", r"\1", token)  # "stageee" -> "stage"
        expanded = reading.sms.get(token)
        if expanded is not None:
            tokens.extend(expanded.split())
            continue
        tokens.extend(_split_elision(token).split() if token not in reading.lexicon_set else [token])
    return " ".join(_correct(token, vocabulary) for token in tokens)


def _split_elision(token: str) -> str:
    """An apostrophe left out glues the article to the word ("minscrire", "lespace"): split it back."""
    starts = _reading().starts
    for prefix in ("qu", "m", "l", "d", "j", "n", "s", "t"):
        rest = token[len(prefix):]
        if token.startswith(prefix) and len(rest) >= 5 and rest[:5] in starts:
            return f"{prefix} {rest}"
    return token


def _correct(token: str, vocabulary: frozenset[str]) -> str:
    if (len(token) < 5 or token.isdigit() or token in _reading().lexicon_set or token in _NEVER_CORRECT
            or token in vocabulary):
        return token
    return _closest(token)


@lru_cache(maxsize=8192)
def _closest(token: str) -> str:
    allowed = 1 if len(token) < 9 else 2  # two edits only in long words, where they cannot make another word
    match = process.extractOne(token, _reading().lexicon, scorer=Levenshtein.distance, score_cutoff=allowed)
    if not match:
        return token
    candidate = match[0]
    # In a short word one letter swapped for another mostly makes another real word ("manque" / "banque",
    # "femme" / "ferme"): there, only a letter left out, doubled or transposed counts as a typo.
    if len(token) < 7 and len(token) == len(candidate) and sorted(token) != sorted(candidate):
        return token
    # Same word, other ending ("changer" / "change", "payes" / "paye"): an inflection, not a typo; the cues'
    # patterns already accept endings, and "correcting" it would lose the grammar some cues rely on.
    stem = min(len(token), len(candidate)) - 2
    if token[:stem] == candidate[:stem]:
        return token
    return candidate


def concepts_in(normalized: str) -> set[str]:
    return {name for name, patterns in _CONCEPTS.items() if any(p.search(normalized) for p in patterns)}


def rule_concepts(normalized: str) -> list[str]:
    """The cue concepts of a normalized text: situations (money taken, who cancelled…), fed to the classifier."""
    return sorted(concepts_in(normalized))


def thesaurus_concepts(clause: str) -> list[str]:
    """The domain thesaurus's concepts named in a clause (the same vocabulary search uses)."""
    return _reading().thesaurus.concepts_in(clause)


def featurize(text: str, protected: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The classifier's features of a message (see `model.analyse`); `protected` words are never "corrected"."""
    return analyse(text, lambda clause: normalize(clause, protected), rule_concepts, thesaurus_concepts)


def protected_words(words: Iterable[str]) -> frozenset[str]:
    """The real words that typo correction would turn into a domain word ("information" -> "formation",
    "simplement" -> "complement"): kept with the model, so a worker never loads a dictionary."""
    from rapidfuzz.process import cdist

    candidates = sorted(word for word in words if len(word) >= 5 and word.isalpha())
    lexicon = _reading().lexicon
    near: list[str] = []
    for start in range(0, len(candidates), 5000):  # one C call per chunk: within two edits of a domain word?
        chunk = candidates[start:start + 5000]
        distances = cdist(chunk, lexicon, scorer=Levenshtein.distance, score_cutoff=2, workers=1)
        near.extend(word for word, row in zip(chunk, distances.min(axis=1)) if row <= 2)
    return frozenset(word for word in near if _correct(word, frozenset()) != word)


def features_key() -> str:
    """Everything the fitted model depends on besides the bank — the code that reads messages and fits — hashed:
    editing a cue, the features or the training retrains the model at the next start."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _FEATURE_SOURCES:
        digest.update((here / name).read_bytes())
    digest.update((here.parent / "content" / "thesaurus.py").read_bytes())  # how concepts are found...
    digest.update(_reading().thesaurus.digest.encode())  # ... and the thesaurus file itself
    return digest.hexdigest()


_FEATURE_SOURCES = ("suggest.py", "cues.py", "text.py", "model.py", "training.py")


def default_model(bank_path: Path | str = DEFAULT_BANK, cache_dir: Path | str | None = None) -> ReasonModel:
    """The classifier for the bank at `bank_path` (loaded once per process, trained once per bank)."""
    return load_model(features_key(), bank_path, Path(cache_dir) if cache_dir else None)


def score(concepts: Iterable[str]) -> dict[str, float]:
    """The cue rules' own score per reason (used for the situations a classifier cannot decide)."""
    present = set(concepts)
    scores = {reason_id: 0.0 for reason_id in REASONS_BY_ID}
    for reason_id, needed, weight in cues.SCORES:
        if present.issuperset(needed):
            scores[reason_id] += weight
    return scores


# Words that say nothing about a reason: a message made only of these gets "autre", with no confidence.
_EMPTY_WORDS = frozenset(
    "bonjour bonsoir salut madame monsieur merci svp stp cordialement question demande aide besoin probleme "
    "j ai je une un de la le les des du a et est il y help urgent info information renseignement".split()
)


def _override(probabilities: dict[str, float], concepts: set[str]) -> str | None:
    """Move the probability of a reason the rules rule out onto the one they point to; return the rule's name."""

    def move(source: str, target: str | None) -> None:
        if target is None:
            rest = {k: v for k, v in probabilities.items() if k != source}
            target = max(rest, key=rest.__getitem__)
        probabilities[target] += probabilities[source]
        probabilities[source] = 0.0

    top = max(probabilities, key=probabilities.__getitem__)
    cues_scores = score(concepts)
    # Who cancelled: the visitor wanting out is the withdrawal period, whatever the words about cancelling.
    if top == "annulation-centre" and "veut-annuler" in concepts and cues_scores["delai-retractation"] > cues_scores["annulation-centre"]:
        move("annulation-centre", "delai-retractation")
        return "visiteur-annule"
    # Cancelled by the centre, moved to another stage, and wanting the money back (not merely offered it): the new
    # withdrawal period that a transfer opens.
    if (top == "annulation-centre" and {"annulation", "changement-date", "remboursement"} <= concepts
            and "offre" not in concepts):
        move("annulation-centre", "delai-retractation")
        return "transfert-puis-retractation"
    # Paid for another date or stage and nothing shows it (no e-mail, the Espace still on the old one), not asking
    # out: the transfer is not confirmed — whatever led to it (the visitor's choice or the centre's cancellation).
    if (top in ("debit-sans-confirmation", "annulation-centre", "delai-retractation")
            and {"changement-date", "argent-pris"} <= concepts and concepts & {"pas-de-confirmation", "espace-pas-a-jour"}
            and not concepts & {"veut-annuler", "remboursement", "offre", "pas-de-changement"}):
        move(top, "transfert-non-confirme")
        return "changement-paye-non-confirme"
    # Cancelled by the centre, said so, and the visitor is not asking out: a cancellation, not a withdrawal.
    if (top == "delai-retractation" and {"annulation", "centre-ou-sur-place"} <= concepts
            and not concepts & {"veut-annuler", "retractation-explicite", "remboursement"}):
        move("delai-retractation", "annulation-centre")
        return "centre-annule"
    # Withdrawal asked (or done) and the card paid with is gone: how the refund arrives is the question.
    if top == "delai-retractation" and "carte-expiree" in concepts:
        move("delai-retractation", "remboursement-virement")
        return "carte-expiree"
    # Money taken and nothing received: the payment went through, whatever the page did.
    if top == "inscription-impossible" and {"argent-pris", "pas-de-confirmation"} <= concepts:
        move("inscription-impossible", "debit-sans-confirmation")
        return "paiement-passe"
    # A confirmation said to be received is not a missing one ("j'ai bien reçu le mail", not "pas reçu").
    if top == "debit-sans-confirmation" and "confirmation-recue" in concepts and "pas-de-confirmation" not in concepts:
        move("debit-sans-confirmation", None)
        return "confirmation-recue"
    return None


def suggest(
    message: str,
    *,
    search: SearchFunction | None = None,
    faq_limit: int = 3,
    model: ReasonModel | None = None,
) -> Suggestion:
    """The most likely reason for `message`, with its calibrated confidence, the runners-up and matching FAQ entries."""
    model = model or default_model()
    blocks = featurize(message or "", model.protected)
    concepts = {name.removeprefix("k:") for name in blocks["k"]}
    terms = tuple(sorted({f[2:] for f in blocks["w"] if f.startswith("w:") and " " not in f
                          and f[2:] not in _EMPTY_WORDS and len(f) > 4 and f in model.vocabulary}))
    if not terms and not concepts:
        return Suggestion("autre", 0.0, {reason_id: 0.0 for reason_id in REASONS_BY_ID}, (), ())
    probabilities = {reason_id: 0.0 for reason_id in REASONS_BY_ID}
    probabilities.update(model.probabilities(blocks))
    entries: tuple = ()
    if search is not None:
        entries = tuple(search(message, max(faq_limit, 5)))
        # The FAQ's own link from an entry to a reason: a small vote, decisive only between close probabilities.
        for rank, entry in enumerate(entries[:3]):
            linked = getattr(entry, "contact_reason", None)
            if linked in probabilities:
                probabilities[linked] *= math.exp(SEARCH_VOTE / (rank + 1))
        total = sum(probabilities.values())
        probabilities = {k: v / total for k, v in probabilities.items()}
    rule = _override(probabilities, concepts)
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    best, confidence = ranked[0]
    alternatives = tuple((reason_id, round(p, 3)) for reason_id, p in ranked[1:3])
    return Suggestion(
        best, round(min(max(confidence, 0.0), 1.0), 3), {k: round(v, 4) for k, v in probabilities.items()},
        tuple(sorted(concepts)), entries[:faq_limit], alternatives, rule, terms,
    )


# How much the FAQ entry ranked first multiplies the odds of the reason it links to (halved for the second…).
SEARCH_VOTE = 0.5


def rules_reason(message: str) -> str:
    """The reason the cue rules alone would pick (the suggester before the classifier; kept for comparison)."""
    scores = score(concepts_in(normalize(message or "")))
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= cues.MIN_SCORE else "autre"


def suggest_by_rules(message: str) -> Suggestion:
    """The cue rules alone, when no classifier can be loaded (training failed): a reason, never a refusal."""
    reason = rules_reason(message)
    return Suggestion(reason, 0.5 if reason != "autre" else 0.0, {}, tuple(sorted(concepts_in(normalize(message or "")))),
                      (), (), "regles-seules")
