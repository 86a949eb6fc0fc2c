"""The French analyzer shared by indexing, querying, typo correction and snippet highlighting.

Visitors write colloquial French on phones: no accents, elisions with either apostrophe, SMS abbreviations,
negations that carry the meaning ("pas reçu"). The same chain runs on the FAQ and on the query so both sides
meet on the same normalised terms:

    tokenize -> elision -> lowercase + accent folding -> thesaurus idioms -> SMS expansion (queries)
    -> stopwords (negation kept) -> Snowball French stem + light normalisation (codes and numbers untouched)
    -> thesaurus concepts (each form adds its concept's token, unless a negative form vetoes it)

The vocabulary is data (data/thesaurus.yaml, faqbot.content.thesaurus); this module only derives its tables.

The chain is a Whoosh analyzer (`ANALYZER`, stored in the schema); the index build and the queries run the same
rules, from the same helper functions, in one pass over plain tuples (`_analysed`): a test proves both give the same
tokens.
"""
from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.lang.snowball.french import FrenchStemmer

from ..content.text import APOSTROPHES
from ..content.text import fold as _thesaurus_fold
from ..content.thesaurus import load_thesaurus

# Bump when the chain changes in a way that needs a reindex (the index folder name includes it).
ANALYZER_VERSION = "fr-8"

# A word keeps its inner apostrophes and digits ("aujourd'hui", "48SI"); hyphens and everything else split.
# The euro sign is a word too: « 3 € » and « 10 euros » are amounts of the same kind.
_WORD = re.compile(r"[^\W_]+(?:[" + APOSTROPHES + r"][^\W_]+)*|€")
_ELISION = re.compile(r"^(l|d|j|n|s|c|m|t|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)[" + APOSTROPHES + r"](?=\w)", re.I)
_HAS_DIGIT = re.compile(r"\d")

# Negation changes the meaning ("pas reçu", "je n'ai aucun mail"): those words are never stopped.
NEGATIONS = frozenset({"ne", "n", "pas", "non", "aucun", "aucune", "jamais", "rien", "sans", "ni", "plus"})

_FRENCH_STOPWORDS = """
a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez aurions aurons auront aux
avaient avais avait avec avez aviez avions avons ayant ayez ayons c ce ces cet cette ceci cela ca d dans de des
du elle elles en es est et etaient etais etait etant ete etes etre eu eue eues eus eut eux il ils j je l la le
les leur leurs lui m ma mais me mes moi mon meme nos notre nous on ont ou par pour qu que qui quoi s sa se sera
serai seraient serais serait seras serez seriez serions serons seront ses soient sois soit sommes son sont soyez
soyons suis sur t ta te tes toi ton tu un une vos votre vous y
fait faut peut peux puis dois doit quel quelle quels quelles lequel laquelle alors donc tres
bonjour bonsoir merci svp stp slt cdt cordialement salut hello madame monsieur mme mr
""".split()
STOPWORDS = frozenset(w for w in _FRENCH_STOPWORDS if w not in NEGATIONS)

# The vocabulary (SMS-speak, concepts and their surface forms, idioms, negative forms) is data: data/thesaurus.yaml,
# loaded and validated by faqbot.content.thesaurus. The tables below are derived from it once per process.
THESAURUS = load_thesaurus()

_stemmer = FrenchStemmer()
_DOUBLED = re.compile(r"([a-z])\1+")


def fold(text: str) -> str:
    """Lowercase and strip accents ("Rétractation" -> "retractation"); ligatures spelled out (the thesaurus's fold)."""
    return _fold_word(text) if len(text) <= 32 else _thesaurus_fold(text)


@lru_cache(maxsize=200_000)
def _fold_word(text: str) -> str:
    # Words repeat: indexing a FAQ folds the same few thousand words hundreds of thousands of times.
    return _thesaurus_fold(text)


_APOSTROPHE = str.maketrans({mark: "'" for mark in APOSTROPHES})


def normalise_apostrophes(text: str) -> str:
    return text.translate(_APOSTROPHE)  # every token passes here: a table, not a regex looked up in re's cache


# Snowball conflates words that mean different things here: "virement" (bank transfer) and "viré" (sent away)
# both give "vir"; "délai" and "délit" both give "del".
# The verb « attester » (a doctor attests) is not the course's « attestation ».
STEM_EXCEPTIONS = {
    "virement": "virement", "virements": "virement", "delit": "delit", "delits": "delit", "euros": "euro",
    **{form: "attester" for form in "atteste attestes attestent attester attestez attestait attestant".split()},
    # Snowball also joins « département » and « départ » (anticipé), « devis » and « devez », « attention » and
    # « attente », « exclusivement » and « exclusion », « au-delà » and « délai ».
    "departement": "departement", "departements": "departement", "devis": "devis", "attention": "attention",
    "exclusivement": "exclusivement", "dela": "dela",
    # « au volant » (the steering wheel) is no « vol » (a theft).
    "volant": "volant", "volants": "volant",
    # « compléter » a file is not a full (« complet ») session.
    **{form: "completer" for form in "completer completez completons completant completera completerez completeront".split()},
}


def _forms(infinitive: str, forms: str) -> dict[str, str]:
    return {form: infinitive for form in forms.split()}


# Irregular verbs Snowball cannot join ("reçu", "reçois" and "recevoir" give three stems); the FAQ says "J'ai reçu
# la lettre", visitors "je reçois", "pas reçue". Each form is stemmed as its infinitive.
IRREGULAR_FORMS: dict[str, str] = {
    **_forms("recevoir", "recu recue recus recues recois recoit recoivent recevez recevons recevrai recevras "
                         "recevra recevrez recevront recevrais recevrait recevais recevait recevant"),
    **_forms("perdre", "perdu perdue perdus perdues perd perds perdent perte pertes"),
    **_forms("revenir", "reviens revient reviennent revenu revenus revenue revenues reviendra reviendront"),
    **_forms("venir", "viens vient viennent venu venue venus venues viendra viendrai"),
    **_forms("prendre", "pris prise prend prends prennent prendra prenez"),
    **_forms("mettre", "mis mise mets met mettent mettra"),
    **_forms("ouvrir", "ouvert ouverte ouvre ouvrent"),
    # « je sais » is knowing, not « saisir » (Snowball gives "sais" to both).
    **_forms("savoir", "sais sait savent savez savons saurai saura saurais saurait sauriez"),
    # Snowball gives "envoi" for "envoyer" but "envoy" for "envoyé".
    **_forms("envoyer", "envoye envoyee envoyes envoyees envoyons envoyait envoyant"),
    **_forms("transmettre", "transmis transmise transmises transmet transmets transmettent transmettra"),
}


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Snowball French stem plus a light normalisation; numbers and codes ("48si", "2024") stay as they are."""
    if _HAS_DIGIT.search(word) or len(word) <= 2:
        return word
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    word = IRREGULAR_FORMS.get(word, word)
    stemmed = _stemmer.stem(word)
    collapsed = _DOUBLED.sub(r"\1", stemmed)  # "adresse"/"adrese", "courrier"/"courier" meet
    # ...but "passe" must not become the negation "pas" (nor any other stopword).
    stemmed = stemmed if collapsed in NEGATIONS or collapsed in STOPWORDS else collapsed
    if len(stemmed) > 5 and stemmed.endswith("er"):
        stemmed = stemmed[:-2]
    elif len(stemmed) > 4 and stemmed.endswith("e"):
        stemmed = stemmed[:-1]
    return stemmed


def _word_pieces(word: str) -> tuple[tuple[str, str, int, int], ...]:
    """The tokens of one matched word: (text, elided particle, start, end), offsets within the word.

    "l’annulation" -> ("annulation", "l", 2, 12); "n’ai" -> ("ne", "", 0, 2), ("ai", "n", 2, 4): the negation is kept.
    """
    # An elided particle may repeat ("qu'l'…" never does, but "jusqu'à l'…" spans two words anyway).
    elision = _ELISION.match(word)
    if not elision:
        return ((word, "", 0, len(word)),)
    particle = elision.group(1).lower()
    rest = (word[elision.end():], particle, elision.end(), len(word))
    return (("ne", "", 0, 2), rest) if particle == "n" else (rest,)


class FrenchTokenizer(Tokenizer):
    """Words with their character offsets; elided articles split off ("l’annulation" -> "annulation")."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in _WORD.finditer(value):
            start = match.start() + start_char
            for text, particle, first, last in _word_pieces(match.group(0)):
                yield from self._emit(token, text, pos, start + first, start + last, positions, chars, keeporiginal,
                                      particle)
                pos += 1

    @staticmethod
    def _emit(token, text, pos, startchar, endchar, positions, chars, keeporiginal, particle=""):
        token.text = text
        token.elided = particle  # FunctionPhraseFilter tells "qu'est-ce que" from "est-ce que" with it
        token.boost = 1.0
        token.stopped = False
        if keeporiginal:
            token.original = text
        if positions:
            token.pos = pos
        if chars:
            token.startchar = startchar
            token.endchar = endchar
        yield token


def _copy(token: Token) -> Token:
    """Token.copy() without re-running Token.__init__ (the synonym filter copies every token of every text)."""
    copy = Token.__new__(Token)
    copy.__dict__.update(token.__dict__)
    return copy


@lru_cache(maxsize=200_000)
def _folded_token(text: str) -> str:
    return "euros" if text == "€" else normalise_apostrophes(fold(text))


class FoldFilter(Filter):
    """Lowercase, accents off, one kind of apostrophe."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = _folded_token(token.text)
            yield token


def _sms_parts(words: str) -> tuple[str, ...]:
    """Tokens of an SMS expansion as the tokenizer gives them ("n'ai" -> ("ne", "ai"), "rendez-vous" -> two)."""
    return tuple(normalise_apostrophes(fold(t.text)) for t in FrenchTokenizer()(words))


# SMS-speak and glued contractions: typed token -> the words the FAQ is written in (folded, before stemming).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    token: parts for token, words in THESAURUS.sms.items() if (parts := _sms_parts(words))
}


class AbbreviationFilter(Filter):
    """Expand SMS-speak ("pk", "jsuis", "mdp") into the words the FAQ uses; all parts keep the source span.

    Queries only: the FAQ is written out in full, and "tel" there means "tel que", not "téléphone".
    """

    def __call__(self, tokens):
        for token in tokens:
            expansion = ABBREVIATIONS.get(token.text) if token.mode == "query" else None
            if expansion is None:
                yield token
                continue
            for part in expansion:
                token.text = part
                yield token


def _surface_key(token) -> str:
    return _surface(getattr(token, "elided", ""), token.text)


@lru_cache(maxsize=100_000)
def _surface(particle: str, text: str) -> str:
    # Doubled letters collapsed, as in stems: "combbien" still says "c'est combien".
    word = _DOUBLED.sub(r"\1", text)
    return f"{fold(particle)}'{word}" if particle else word


def _function_phrase_table() -> tuple[dict[tuple[str, ...], str], int]:
    chain = FrenchTokenizer() | FoldFilter()
    table = {}
    for concept in THESAURUS.concepts:
        for phrase in concept.idioms:
            table.setdefault(tuple(_surface_key(t) for t in chain(phrase)), concept.id)
    return table, max(len(key) for key in table)


def _function_phrase(keys: list[str]) -> tuple[str, int] | None:
    """(concept, number of words) of the longest thesaurus idiom ending with the last of `keys` (surface keys)."""
    if keys[-1] not in _FUNCTION_LAST:  # words that end no idiom are not looked up at all
        return None
    for size in range(min(len(keys), _FUNCTION_MAX), 0, -1):
        group = _FUNCTION_TABLE.get(tuple(keys[-size:]))
        if group is not None:
            return group, size
    return None


class FunctionPhraseFilter(Filter):
    """Add the concept token of a thesaurus idiom ending at this word, before stopwords remove its words."""

    def __call__(self, tokens):
        window: list[str] = []
        first_positions: list[tuple[int | None, int | None]] = []
        for token in tokens:
            # Read the word before yielding it: the filters downstream rewrite the shared token (stemming).
            window.append(_surface_key(token))
            first_positions.append((getattr(token, "pos", None), getattr(token, "startchar", None)))
            if len(window) > _FUNCTION_MAX:
                window.pop(0)
                first_positions.pop(0)
            extra = None
            phrase = _function_phrase(window)
            if phrase is not None:
                group, size = phrase
                extra = _copy(token)
                extra.text = SYNONYM_PREFIX + group
                extra.boost = CONCEPT_BOOST
                extra.elided = ""
                first_pos, first_char = first_positions[-size]
                if first_pos is not None:
                    extra.first_pos = first_pos
                if first_char is not None:
                    extra.startchar = first_char
            yield token
            if extra is not None:
                yield extra


class FrenchStopFilter(Filter):
    def __call__(self, tokens):
        for token in tokens:
            if token.text in STOPWORDS:
                if not token.removestops:
                    token.stopped = True
                    yield token
                continue
            token.stopped = False
            yield token


def _stemmed(text: str) -> str:
    return text if text.startswith(SYNONYM_PREFIX) else stem(text)


class FrenchStemFilter(Filter):
    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = _stemmed(token.text)
            yield token


def _base_chain():
    return (FrenchTokenizer() | FoldFilter() | FunctionPhraseFilter() | AbbreviationFilter() | FrenchStopFilter()
            | FrenchStemFilter())


_BASE = _base_chain()


def _phrase_terms(phrase: str) -> tuple[str, ...]:
    return tuple(t.text for t in _BASE(phrase))


def _synonym_tables() -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str], int]:
    """Analysed forms -> concept id, and analysed negative forms -> the concept they veto."""
    forms: dict[tuple[str, ...], str] = {}
    negatives: dict[tuple[str, ...], str] = {}
    for concept in THESAURUS.concepts:
        for phrase in concept.all_forms:
            terms = _phrase_terms(phrase)
            if terms:
                forms.setdefault(terms, concept.id)
        for phrase in concept.negatives:
            terms = _phrase_terms(phrase)
            if terms:
                negatives.setdefault(terms, concept.id)
    return forms, negatives, max(len(key) for key in (*forms, *negatives))


SYNONYM_PREFIX = "~"  # concept tokens can never collide with a word: the tokenizer never yields "~"
# A concept token weighs a little less than a word in the index: the exact wording still wins ties.
CONCEPT_BOOST = 0.7
# Words that end some phrase: any other word cannot close a match, so it is not looked up at all.
_FUNCTION_TABLE, _FUNCTION_MAX = _function_phrase_table()
_FUNCTION_LAST = frozenset(key[-1] for key in _FUNCTION_TABLE)
_SYNONYM_TABLE, _NEGATIVE_TABLE, _SYNONYM_MAX = _synonym_tables()
_PHRASE_LAST = frozenset(key[-1] for key in (*_SYNONYM_TABLE, *_NEGATIVE_TABLE))


def _phrases_by_last(table: dict[tuple[str, ...], str]) -> dict[str, tuple[str | None, tuple[int, ...]]]:
    """Last word of a table's phrases -> the concept of the phrase of that word alone (None if there is none) and the
    lengths of the longer phrases ending with it, shortest first."""
    sizes: dict[str, set[int]] = {}
    for key in table:
        sizes.setdefault(key[-1], set()).add(len(key))
    return {last: (table.get((last,)), tuple(sorted(n for n in lengths if n > 1))) for last, lengths in sizes.items()}


# Only the lengths some phrase has are tried at a word (the same matches, in the same order, for fewer lookups).
_PHRASES_BY_LAST = {id(table): _phrases_by_last(table) for table in (_SYNONYM_TABLE, _NEGATIVE_TABLE)}
_IMPLIED = [(c.id, c.implied_by) for c in THESAURUS.concepts if c.implied_by]
_BROADER = {c.id: c.broader for c in THESAURUS.concepts if c.broader}
IMPLIED_WINDOW = 15  # words: a combination's parts must be named this close to name the concept
# How much a concept token weighs against the visitor's own word (thesaurus `weight`, default 0.6).
CONCEPT_WEIGHTS: dict[str, float] = {SYNONYM_PREFIX + c.id: c.weight for c in THESAURUS.concepts}


def _matches(texts: list[str], table: dict[tuple[str, ...], str]) -> list[tuple[int, int, str]]:
    """(first index, last index, concept) of every table phrase found in the words `texts`."""
    found = []
    phrases_of = _PHRASES_BY_LAST.get(id(table))
    if phrases_of is None:
        phrases_of = _phrases_by_last(table)
    for end, text in enumerate(texts):
        phrases = phrases_of.get(text)
        if phrases is None:
            continue
        alone, sizes = phrases
        if alone is not None:
            found.append((end, end, alone))
        for size in sizes:
            if size > end + 1:
                break
            concept = table.get(tuple(texts[end - size + 1: end + 1]))
            if concept is not None:
                found.append((end - size + 1, end, concept))
    return found


def _concept_spans(texts: list[str]) -> list[tuple[int, int, str]]:
    """(first word, last word, concept) of every concept the words `texts` name, by last word then first word.

    Thesaurus forms found over the words, less those a negative form over the same words vetoes, each concept once
    over overlapping forms; then the broader concepts of those, then the concepts their combinations imply.
    """
    found = _matches(texts, _SYNONYM_TABLE)
    if not found:  # nothing named: no broader concept, no combination either
        return []
    accepted: list[tuple[int, int, str]] = []
    # Each concept's words under its vetoed and accepted spans so far (two spans of words overlap when they
    # share a word: a set per concept, not a scan of its spans, as one word may be named a hundred times).
    taken: dict[str, set[int]] = {}
    for first, last, concept in _matches(texts, _NEGATIVE_TABLE) if _NEGATIVE_TABLE else ():
        taken.setdefault(concept, set()).update(range(first, last + 1))
    # Longest forms first; a concept is read once over overlapping forms ("annuler" in "annuler mon stage").
    found.sort(key=_longest_first)
    for match in found:
        first, last, concept = match
        under = taken.get(concept)
        if first == last:  # most forms are one word
            if under is None:
                taken[concept] = {first}
            elif first in under:
                continue
            else:
                under.add(first)
        elif under is None:
            taken[concept] = set(range(first, last + 1))
        elif under.isdisjoint(range(first, last + 1)):
            under.update(range(first, last + 1))
        else:
            continue
        accepted.append(match)
    # A narrower concept also names the broader ones ("ordonnance pénale" is justice too), once per text span.
    for first, last, concept in [match for match in accepted if match[2] in _BROADER]:
        for broader in _BROADER[concept]:
            if not any(c == broader and a <= last and first <= b for a, b, c in accepted):
                accepted.append((first, last, broader))
    # Combinations that name another concept, when their parts are close (within IMPLIED_WINDOW words).
    latest = {c: (a, b) for a, b, c in accepted}  # each accepted concept's last span
    for concept, combinations in _IMPLIED:
        if concept in latest:
            continue
        for combination in combinations:
            spans = []
            for part in combination:
                span = latest.get(part)
                if span is None:
                    break
                spans.append(span)
            else:
                first, last = min(a for a, _b in spans), max(b for _a, b in spans)
                if last - first <= IMPLIED_WINDOW:
                    accepted.append((first, last, concept))
                    latest[concept] = (first, last)
                    break
    accepted.sort(key=_by_last_word)
    return accepted


def _longest_first(match: tuple[int, int, str]) -> tuple[int, int]:
    return match[0] - match[1], match[0]


def _by_last_word(match: tuple[int, int, str]) -> tuple[int, int]:
    return match[1], match[0]


class SynonymFilter(Filter):
    """After each word, add the concept token of any thesaurus form that ends there (spanning the form).

    A concept is not read where one of its negative forms matches over the same words ("annulé par le centre"
    is not the visitor cancelling). Tokens are buffered: a text is short, and a veto may come after the form.
    """

    def __call__(self, tokens):
        stream: list[Token] = []
        words: list[Token] = []
        where: list[int] = []  # index in `stream` of each word
        for token in tokens:
            copy = _copy(token)
            stream.append(copy)
            if not token.stopped and _is_word(token.text):
                where.append(len(stream) - 1)
                words.append(copy)
        extras: dict[int, list[Token]] = {}
        for first, last, concept in _concept_spans([word.text for word in words]):
            extra = _copy(words[last])
            extra.text = SYNONYM_PREFIX + concept
            extra.boost = CONCEPT_BOOST
            if hasattr(words[first], "startchar") and hasattr(extra, "startchar"):
                extra.startchar = words[first].startchar
            if hasattr(words[first], "pos"):
                extra.first_pos = words[first].pos
            extras.setdefault(where[last], []).append(extra)
        for index, token in enumerate(stream):
            yield token
            yield from extras.get(index, ())


def french_analyzer():
    """The analyzer stored in the schema (index time) and used on queries."""
    return _base_chain() | SynonymFilter()


ANALYZER = french_analyzer()


# Groups that say nothing about the topic ("que faire", "que se passe-t-il"): in a query, their words are not
# searched — otherwise "que faire" would favour every entry that says "faire" and count against the rest.
NEUTRAL_GROUPS = frozenset(SYNONYM_PREFIX + c.id for c in THESAURUS.concepts if c.neutral)


def _positioned(text: str, mode: str) -> list[tuple[str, int, int]]:
    """(term, first position, last position) of each token; a query's neutral phrases left out."""
    tokens = [(term, first, pos) for term, _boost, first, pos, _start, _end in _analysed(text, mode)]
    if mode != "query":
        return tokens
    spans = [(first, last) for term, first, last in tokens if term in NEUTRAL_GROUPS]
    if not spans:
        return tokens
    kept = [
        (term, first, last) for term, first, last in tokens
        if term not in NEUTRAL_GROUPS
        and (term.startswith(SYNONYM_PREFIX) or not any(a <= first <= b for a, b in spans))
    ]
    # "que faire ?" alone: nothing else to search, so search that.
    return kept if any(not term.startswith(SYNONYM_PREFIX) for term, _f, _l in kept) else tokens


def analyze(text: str, mode: str = "query") -> list[str]:
    """Terms of a text, in order (synonym group tokens included)."""
    if mode != "query":
        return [token[0] for token in _analysed(text, mode)]
    return [term for term, _first, _last in _positioned(text, mode)]


def analyze_units(text: str, mode: str = "query") -> list[tuple[str, frozenset[str]]]:
    """Each word's term with the synonym group tokens of the phrases it belongs to.

    "cb" -> ("cb", {"~cartebancaire"}): a word counts as matched when either its own term or one of its groups
    is found, so "CB" is answered by an entry that says "carte bancaire".
    """
    return units_of(_positioned(text, mode))


def units_of(positioned) -> list[tuple[str, frozenset[str]]]:
    """`analyze_units` of already analysed (term, first position, last position) tokens."""
    words: list[tuple[int, str]] = []
    groups: list[tuple[int, int, str]] = []
    for term, first, last in positioned:
        if term.startswith(SYNONYM_PREFIX):
            groups.append((first, last, term))
        else:
            words.append((last, term))
    units = [
        (term, frozenset(g for first, last, g in groups if first <= pos <= last)) for pos, term in words
    ]
    # A phrase of stopwords only ("c'est quoi") is a unit of its own: it is part of what is asked.
    positions = [pos for pos, _term in words]
    for first, last, group in groups:
        if not any(first <= pos <= last for pos in positions):
            units.append((group, frozenset({group})))
    return units


def index_tokens(text: str) -> list[tuple[str, float, int, int, int, int]]:
    """Every index-time token of a text from one pass of the analyzer: (term, boost, first position, position, start
    char, end char) — what the field statistics, `analyze_units(text, mode="index")` and `analyze_with_spans(text)`
    each read (the index build analyses a text once for all three)."""
    return _analysed(text, "index")


def chain_tokens(text: str, mode: str = "index") -> list[tuple[str, float, int, int, int, int]]:
    """`index_tokens` (or its query-time equivalent) read from the Whoosh chain `ANALYZER`, token object by token
    object: the reference the one-pass `_analysed` must equal (a test compares them over the whole FAQ)."""
    return [
        (t.text, t.boost, getattr(t, "first_pos", t.pos) if t.text.startswith(SYNONYM_PREFIX) else t.pos, t.pos,
         t.startchar, t.endchar)
        for t in ANALYZER(text, positions=True, chars=True, mode=mode)
    ]


def _term(folded: str) -> str | None:
    """The term of a folded word once stopwords and stemming have passed: None for a stopword."""
    return None if folded in STOPWORDS else _stemmed(folded)


@lru_cache(maxsize=200_000)
def _analysed_word(word: str) -> tuple[tuple[int, int, str, bool, str, str | None, bool], ...]:
    """Each token of one matched word as the chain sees it before concepts: (start, end, surface key, whether an
    idiom may end with it, folded text, term or None for a stopword, whether the term can be part of a thesaurus
    form). Words repeat: a build reads these from the cache for most words."""
    pieces = []
    for text, particle, first, last in _word_pieces(word):
        key = _surface(particle, folded := _folded_token(text))
        term = _term(folded)
        pieces.append((first, last, key, key in _FUNCTION_LAST, folded, term, _is_word(term)))
    return tuple(pieces)


def _is_word(term: str | None) -> bool:
    """Whether a term that passed stopwords and stemming is a word thesaurus forms are matched on."""
    return term is not None and not term.startswith(SYNONYM_PREFIX)


def _analysed(text: str, mode: str) -> list[tuple[str, float, int, int, int, int]]:
    """What `ANALYZER` gives for a text (as `chain_tokens` reads it), in one pass over plain tuples.

    The same rules, from the same helpers, as the Whoosh filters, without a generator and a token copy per word
    per filter (index-time analysis was most of an index build): tokenizer (`_word_pieces`), folding
    (`_folded_token`), idioms (`_function_phrase` over the words' `_surface` keys), SMS-speak in queries
    (`ABBREVIATIONS`), stopwords and stems (`_term`), then thesaurus concepts (`_concept_spans`).
    """
    expand = mode == "query"
    stream: list[tuple[str, float, int, int, int, int]] = []
    words: list[str] = []  # the terms that can form a thesaurus phrase (not stopwords, not concept tokens)
    where: list[int] = []  # index in `stream` of each of them
    keys: list[str] = []  # surface key of every token of the tokenizer: the idioms' window (its index is its position)
    starts: list[int] = []  # start character of every token of the tokenizer
    pos = -1
    for match in _WORD.finditer(text):
        offset = match.start()
        for first, last, key, closes, folded, term, is_word in _analysed_word(match.group()):
            pos += 1
            start, end = offset + first, offset + last
            keys.append(key)
            starts.append(start)
            if expand and folded in ABBREVIATIONS:  # each part of the expansion keeps the typed word's place
                for part in map(_term, ABBREVIATIONS[folded]):
                    if part is not None:
                        if _is_word(part):
                            where.append(len(stream))
                            words.append(part)
                        stream.append((part, 1.0, pos, pos, start, end))
            elif term is not None:
                if is_word:
                    where.append(len(stream))
                    words.append(term)
                stream.append((term, 1.0, pos, pos, start, end))
            if closes and (phrase := _function_phrase(keys)) is not None:
                group, size = phrase
                stream.append((SYNONYM_PREFIX + group, CONCEPT_BOOST, pos - size + 1, pos, starts[pos - size + 1], end))
    spans = _concept_spans(words)
    if not spans:
        return stream
    # Each concept token right after the last word of its phrase, spanning the phrase.
    tokens: list[tuple[str, float, int, int, int, int]] = []
    done = 0
    for first, last, concept in spans:
        at = where[last] + 1
        if at > done:
            tokens.extend(stream[done:at])
            done = at
        opening, closing = stream[where[first]], stream[where[last]]
        tokens.append((SYNONYM_PREFIX + concept, CONCEPT_BOOST, opening[2], closing[3], opening[4], closing[5]))
    tokens.extend(stream[done:])
    return tokens


def analyze_with_spans(text: str, mode: str = "index") -> list[tuple[str, int, int]]:
    """Terms with the character span they come from, for highlighting."""
    return [(term, start, end) for term, _boost, _first, _pos, start, end in _analysed(text, mode)]


def surface_originals(text: str) -> list[str]:
    """Words as typed, elision removed, one kind of apostrophe ("l’Espace" -> "Espace")."""
    words = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        elision = _ELISION.match(word)
        if elision:
            word = word[elision.end():]
        words.append(normalise_apostrophes(word))
    return words


def surface_words(text: str) -> list[str]:
    """Folded words as typed, elision removed, for the correction vocabulary."""
    return [fold(word) for word in surface_originals(text)]


def word_spans(text: str):
    """(word, start, end) for every word of a text, elision included: what the corrector may rewrite."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


def split_elision(word: str) -> tuple[str, str]:
    """("l'", "annulation") for "l’annulation"; ("", word) when there is no elided particle."""
    elision = _ELISION.match(word)
    if not elision:
        return "", word
    return word[: elision.end()], word[elision.end():]
