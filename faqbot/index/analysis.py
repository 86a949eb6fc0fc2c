"""The French analyzer shared by indexing, querying, typo correction and snippet highlighting.

Visitors write colloquial French on phones: no accents, elisions with either apostrophe, SMS abbreviations,
negations that carry the meaning ("pas reçu"). The same chain runs on the FAQ and on the query so both sides
meet on the same normalised terms:

    tokenize -> elision -> lowercase + accent folding -> SMS/abbreviation expansion -> stopwords (negation kept)
    -> Snowball French stem + light normalisation (codes and numbers untouched) -> domain synonyms
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.lang.snowball.french import FrenchStemmer

# Bump when the chain changes in a way that needs a reindex (the index folder name includes it).
ANALYZER_VERSION = "fr-4"

APOSTROPHES = "'\u2019\u2018\u02bc\u00b4`"
# A word keeps its inner apostrophes and digits ("aujourd'hui", "48SI"); hyphens and everything else split.
_WORD = re.compile(r"[^\W_]+(?:[" + APOSTROPHES + r"][^\W_]+)*")
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

# SMS-speak and everyday abbreviations, expanded to the words the FAQ is written in (folded, before stemming).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "pk": ("pourquoi",), "pq": ("pourquoi",), "pkoi": ("pourquoi",), "pourkoi": ("pourquoi",),
    "koi": ("quoi",), "kwa": ("quoi",), "qd": ("quand",), "kan": ("quand",), "kand": ("quand",),
    "cmt": ("comment",), "cmnt": ("comment",), "komen": ("comment",), "komment": ("comment",),
    "bcp": ("beaucoup",), "tt": ("tout",), "ts": ("tous",), "tjs": ("toujours",), "tjrs": ("toujours",),
    "tjr": ("toujours",), "jms": ("jamais",), "dc": ("donc",), "pr": ("pour",), "ds": ("dans",),
    "vs": ("vous",), "ns": ("nous",), "ke": ("que",), "ki": ("qui",), "mm": ("meme",), "nn": ("non",),
    "pa": ("pas",), "jai": ("j", "ai"), "jsuis": ("je", "suis"), "chui": ("je", "suis"),
    "jsui": ("je", "suis"), "chuis": ("je", "suis"), "cest": ("c", "est"), "jpeux": ("je", "peux"),
    "jpe": ("je", "peux"), "jveux": ("je", "veux"), "jve": ("je", "veux"), "jsais": ("je", "sais"),
    "nai": ("ne", "ai"), "ya": ("il", "y", "a"), "yen": ("il", "y", "en"), "quest": ("qu", "est"),
    "jarrive": ("j", "arrive"), "paske": ("parce", "que"), "pcq": ("parce", "que"), "psk": ("parce", "que"),
    "pb": ("probleme",), "pbm": ("probleme",), "pblm": ("probleme",), "prob": ("probleme",),
    "rdv": ("rendez", "vous"), "msg": ("message",), "dispo": ("disponible",), "dispos": ("disponibles",),
    "info": ("information",), "infos": ("informations",), "mdp": ("mot", "de", "passe"),
    "pts": ("points",), "pt": ("point",), "nbr": ("nombre",), "nb": ("nombre",), "tel": ("telephone",),
    "tél": ("telephone",), "appli": ("application",), "app": ("application",), "ordi": ("ordinateur",),
    "pv": ("proces", "verbal"), "asap": ("rapidement",), "urgt": ("urgent",), "rembour": ("rembourser",),
    "rembourssement": ("remboursement",), "inscri": ("inscrit",), "oqp": ("occupe",), "auj": ("aujourd'hui",),
    "ajd": ("aujourd'hui",), "dmain": ("demain",), "2main": ("demain",), "we": ("week", "end"),
    # "g" alone is "j'ai" in SMS ("g payé", "g perdu"); no FAQ question uses a lone "g".
    "g": ("j", "ai"), "jme": ("je", "me"), "jen": ("j", "en"),
    # Everyday slang for the FAQ's words.
    "paume": ("perdu",), "paumee": ("perdue",), "paumes": ("perdus",), "paumer": ("perdre",),
    "recup": ("recuperation",),
    "doc": ("document",), "docs": ("documents",), "num": ("numero",),
    # Apostrophe skipped inside the word.
    "quelquun": ("quelqu'un",), "aujourdhui": ("aujourd'hui",),
}

# Domain synonyms: every phrase of a group also yields the group's token, at index and query time, so
# "CB", "carte bleue" and "carte bancaire" meet. Phrases are written in plain French and analysed like text.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "cartebancaire": ("cb", "carte bancaire", "carte bleue", "carte de credit", "carte de paiement", "visa",
                      "mastercard", "carte visa", "carte de debit"),
    "annulation": ("retractation", "retracter", "annulation", "annuler", "changer d'avis", "change d'avis",
                   "desistement", "desister", "renoncer", "renonciation", "plus venir"),
    "remboursement": ("rembourser", "remboursement", "rendre l'argent", "recuperer mon argent",
                      "recuperer l'argent", "argent rendu", "remboursable"),
    "rii": ("rii", "releve d'information integral", "releve integral", "releve de points", "solde de points",
            "solde de point", "combien de points il me reste", "nombre de points", "consulter mes points"),
    "48n": ("48n", "48 n", "lettre 48n", "jeune conducteur", "permis probatoire", "periode probatoire",
            "jeune permis", "probatoire"),
    "48si": ("48si", "48 si", "invalidation", "invalide", "solde nul", "zero point", "0 point", "plus de point",
             "plus aucun point", "perdu tous mes points", "perte totale des points"),
    "48m": ("48m",),
    "ants": ("ants", "agence nationale des titres securises", "titres securises"),
    "cpf": ("cpf", "compte personnel de formation", "compte formation", "mon compte formation"),
    "courriel": ("mail", "email", "e mail", "courriel", "mel", "adresse electronique", "adresse mail", "gmail",
                 "boite mail"),
    "telephone": ("telephone", "portable", "mobile", "smartphone", "iphone", "android", "tablette"),
    "sms": ("sms", "texto", "message texte"),
    "especes": ("especes", "liquide", "cash", "argent liquide", "billets"),
    "plusieursfois": ("plusieurs fois", "2 fois", "3 fois", "4 fois", "10 fois", "deux fois", "trois fois",
                      "quatre fois", "paiement echelonne", "echelonner", "fractionne", "fractionner",
                      "mensualite", "mensualites", "facilite de paiement", "facilites de paiement"),
    "identifiant": ("identifiant", "identifiants", "mot de passe", "code d'acces", "login", "connexion",
                    "se connecter", "connecter"),
    "amende": ("amende", "contravention", "proces verbal", "prune", "avis de contravention"),
    "dejeuner": ("dejeuner", "repas", "manger", "repas de midi", "pause dejeuner", "pause midi"),
    "pieceidentite": ("piece d'identite", "carte d'identite", "cni", "passeport", "titre de sejour"),
    "espacestagiaire": ("espace stagiaire", "espace client", "espace personnel", "espace perso",
                        "compte client"),
    "changerdate": ("changer de date", "changer la date", "modifier la date", "reporter", "report", "decaler",
                    "changer de stage", "transferer", "autre date", "nouvelle date"),
    "delai": ("delai", "delais", "combien de temps", "combien de jours", "sous combien de temps",
              "au bout de combien de temps", "en combien de temps", "temps de traitement"),
    "prix": ("prix", "tarif", "tarifs", "cout", "coute", "coutent", "combien ca coute", "montant", "cher"),
    "attestation": ("attestation", "attestation de stage", "certificat de stage", "certificat"),
    "facture": ("facture", "factures", "recu de paiement", "justificatif de paiement", "note de frais"),
    "centre": ("centre", "centres", "organisme", "organisateur", "salle", "lieu du stage"),
    "duplicata": ("duplicata", "copie", "egare", "egaree", "nouvel exemplaire"),
    "employeur": ("employeur", "patron", "entreprise", "societe", "travail", "boulot", "taf"),
    "conjoint": ("mari", "femme", "epoux", "epouse", "conjoint", "conjointe", "compagnon", "compagne", "proche",
                 "enfant", "fils", "fille", "pere", "mere", "ami", "quelqu'un d'autre", "une autre personne",
                 "tierce personne"),
    "retard": ("retard", "en retard", "arriver en retard", "arrive en retard"),
    "absence": ("absence", "absent", "absente", "pas pu venir", "pas venir", "pas venu", "pas venue",
                "rate le stage", "manque le stage", "louper", "loupe"),
    "justice": ("juge", "tribunal", "procureur", "justice", "judiciaire", "ordonnance penale", "composition penale"),
    "etranger": ("etranger", "etrangere", "autre pays", "pays europeen", "europe", "union europeenne"),
    "departement": ("departement", "region", "ville", "pres de chez moi", "proche de chez moi", "autre ville"),
    "examen": ("examen", "test", "evaluation", "controle", "note", "echouer", "rater"),
    "francais": ("francais", "langue francaise", "traducteur", "interprete", "parler francais"),
    # Sent away from the session; "virement" (bank transfer) has its own stem, see STEM_EXCEPTIONS.
    "exclusion": ("exclu", "exclue", "exclusion", "exclure", "vire", "viree", "virer", "renvoye", "renvoyee",
                  "mis dehors", "mise dehors", "jete dehors", "jete du stage", "mis a la porte", "expulse"),
    "complet": ("complet", "complets", "plein", "pleine", "plus de place", "pas de place", "surbooke"),
    "animateur": ("animateur", "animateurs", "animatrice", "formateur", "formateurs", "formatrice", "intervenant",
                  "intervenants", "moniteur", "psychologue", "prof"),
    "anneeprochaine": ("annee prochaine", "an prochain", "annee suivante", "l'an prochain"),
    "illisible": ("illisible", "endommage", "corrompu", "s'ouvre pas", "ouvre pas", "impossible d'ouvrir",
                  "arrive pas a ouvrir", "page blanche"),
    "doubleprelevement": ("double prelevement", "deux prelevements", "2 prelevements", "preleve deux fois",
                          "preleve 2 fois", "debite deux fois", "debite 2 fois", "paye deux fois", "paye 2 fois",
                          "double paiement", "double debit"),
    "documents": ("document", "documents", "papiers", "pieces justificatives", "justificatif", "justificatifs"),
    "utilite": ("utile", "inutile", "sert", "servir", "sert a rien", "vaut le coup"),
    "depasse": ("depasse", "depassee", "depasser", "trop tard", "hors delai", "delai passe", "delai ecoule"),
    "recredit": ("recredit", "recredite", "recredites", "recrediter", "credite", "credites", "reviennent",
                 "revenir", "regagner"),
}

# Phrases made of words the stopword list removes ("c'est quoi", "la même chose"): matched on the folded words
# before stopwords go, so they can still name what a question asks. Each yields its group token.
FUNCTION_PHRASES: dict[str, tuple[str, ...]] = {
    # Written as typed, before SMS expansion: "qu'est-ce que" must stay apart from "est-ce que" (a yes/no).
    "definition": ("qu'est ce que", "qu'est ce qu", "quest ce que", "kesako", "c'est quoi", "cest quoi", "c quoi",
                   "c'est koi", "cest koi", "c koi", "ca veut dire quoi", "ca veut dire koi", "que veut dire",
                   "que signifie", "ca signifie quoi", "definition"),
    # "What do I do now": many FAQ questions end so, and the visitor's "que faire" must not weigh as "faire".
    # "How often" is the delay between two sessions.
    "delai": ("tous les combien", "a quelle frequence", "combien de fois par an", "tous les ans"),
    "quefaire": ("que faire", "quoi faire", "comment faire", "que dois je faire", "que doit on faire",
                 "que faut il faire", "je fais comment", "je fais quoi", "on fait comment", "on fait quoi",
                 "je dois faire quoi", "que se passe t il", "qu'est ce qui se passe", "il se passe quoi",
                 "ca se passe comment"),
    "pareil": ("la meme chose", "meme chose", "c'est pareil", "pareil", "identique", "identiques"),
    "prix": ("c'est combien", "cest combien", "c combien", "ca coute combien", "combien ca coute", "combien coute", "combien il coute",
             "combien pour un stage", "combien pour le stage", "combien le stage", "combien un stage"),
}

_stemmer = FrenchStemmer()
_DOUBLED = re.compile(r"([a-z])\1+")


def fold(text: str) -> str:
    """Lowercase and strip accents ("Rétractation" -> "retractation"); ligatures spelled out."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_apostrophes(text: str) -> str:
    return re.sub("[" + APOSTROPHES + "]", "'", text)


# Snowball conflates words that mean different things here: "virement" (bank transfer) and "viré" (sent away)
# both give "vir".
STEM_EXCEPTIONS = {"virement": "virement", "virements": "virement"}


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


class FrenchTokenizer(Tokenizer):
    """Words with their character offsets; elided articles split off ("l’annulation" -> "annulation")."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in _WORD.finditer(value):
            word = match.group(0)
            start = match.start()
            # An elided particle may repeat ("qu'l'…" never does, but "jusqu'à l'…" spans two words anyway).
            elision = _ELISION.match(word)
            particle = ""
            if elision:
                particle = elision.group(1).lower()
                if particle == "n":  # "n’ai pas" -> keep the negation as "ne"
                    yield from self._emit(token, "ne", pos, start + start_char, start + start_char + 2,
                                          positions, chars, keeporiginal)
                    pos += 1
                word = word[elision.end():]
                start += elision.end()
            yield from self._emit(token, word, pos, start + start_char, start + len(word) + start_char,
                                  positions, chars, keeporiginal, particle)
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


class FoldFilter(Filter):
    """Lowercase, accents off, one kind of apostrophe."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = normalise_apostrophes(fold(token.text))
            yield token


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
    # Doubled letters collapsed, as in stems: "combbien" still says "c'est combien".
    particle = getattr(token, "elided", "")
    word = _DOUBLED.sub(r"\1", token.text)
    return f"{fold(particle)}'{word}" if particle else word


def _function_phrase_table() -> tuple[dict[tuple[str, ...], str], int]:
    chain = FrenchTokenizer() | FoldFilter()
    table = {}
    for group, phrases in FUNCTION_PHRASES.items():
        for phrase in phrases:
            table.setdefault(tuple(_surface_key(t) for t in chain(phrase)), group)
    return table, max(len(key) for key in table)


class FunctionPhraseFilter(Filter):
    """Add the group token of a FUNCTION_PHRASES phrase ending at this word, before stopwords remove its words."""

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
            for size in range(len(window), 0, -1):
                group = _FUNCTION_TABLE.get(tuple(window[-size:]))
                if group is None:
                    continue
                extra = token.copy()
                extra.text = SYNONYM_PREFIX + group
                extra.boost = 0.7
                extra.elided = ""
                first_pos, first_char = first_positions[-size]
                if first_pos is not None:
                    extra.first_pos = first_pos
                if first_char is not None:
                    extra.startchar = first_char
                break
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


class FrenchStemFilter(Filter):
    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped and not token.text.startswith(SYNONYM_PREFIX):
                token.text = stem(token.text)
            yield token


def _base_chain():
    return (FrenchTokenizer() | FoldFilter() | FunctionPhraseFilter() | AbbreviationFilter() | FrenchStopFilter()
            | FrenchStemFilter())


_BASE = _base_chain()


def _phrase_terms(phrase: str) -> tuple[str, ...]:
    return tuple(t.text for t in _BASE(phrase))


def _synonym_table() -> tuple[dict[tuple[str, ...], str], int]:
    table: dict[tuple[str, ...], str] = {}
    for group, phrases in SYNONYMS.items():
        for phrase in phrases:
            terms = _phrase_terms(phrase)
            if terms:
                table.setdefault(terms, group)
    return table, max(len(key) for key in table)


SYNONYM_PREFIX = "~"  # group tokens can never collide with a word: the tokenizer never yields "~"
_FUNCTION_TABLE, _FUNCTION_MAX = _function_phrase_table()
_SYNONYM_TABLE, _SYNONYM_MAX = _synonym_table()


class SynonymFilter(Filter):
    """After each token, add the group token of any synonym phrase that ends there (spanning the phrase)."""

    def __call__(self, tokens):
        window: list[Token] = []
        for token in tokens:
            yield token
            if token.stopped or token.text.startswith(SYNONYM_PREFIX):
                continue
            window.append(token.copy())
            if len(window) > _SYNONYM_MAX:
                window.pop(0)
            emitted: set[str] = set()
            for size in range(1, len(window) + 1):
                key = tuple(t.text for t in window[-size:])
                group = _SYNONYM_TABLE.get(key)
                if group is None or group in emitted:
                    continue
                emitted.add(group)
                extra = window[-1].copy()
                extra.text = SYNONYM_PREFIX + group
                # A synonym weighs a little less than the word itself: the exact wording still wins ties.
                extra.boost = 0.7
                if hasattr(window[-size], "startchar") and hasattr(extra, "startchar"):
                    extra.startchar = window[-size].startchar
                if hasattr(window[-size], "pos"):
                    extra.first_pos = window[-size].pos
                yield extra


def french_analyzer():
    """The analyzer stored in the schema (index time) and used on queries."""
    return _base_chain() | SynonymFilter()


ANALYZER = french_analyzer()


# Groups that say nothing about the topic ("que faire", "que se passe-t-il"): in a query, their words are not
# searched — otherwise "que faire" would favour every entry that says "faire" and count against the rest.
NEUTRAL_GROUPS = frozenset({SYNONYM_PREFIX + "quefaire"})


def _positioned(text: str, mode: str) -> list[tuple[str, int, int]]:
    """(term, first position, last position) of each token; a query's neutral phrases left out."""
    tokens = [
        (t.text, getattr(t, "first_pos", t.pos) if t.text.startswith(SYNONYM_PREFIX) else t.pos, t.pos)
        for t in ANALYZER(text, positions=True, mode=mode)
    ]
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
        return [t.text for t in ANALYZER(text, mode=mode)]
    return [term for term, _first, _last in _positioned(text, mode)]


def analyze_units(text: str, mode: str = "query") -> list[tuple[str, frozenset[str]]]:
    """Each word's term with the synonym group tokens of the phrases it belongs to.

    "cb" -> ("cb", {"~cartebancaire"}): a word counts as matched when either its own term or one of its groups
    is found, so "CB" is answered by an entry that says "carte bancaire".
    """
    words: list[tuple[int, str]] = []
    groups: list[tuple[int, int, str]] = []
    for term, first, last in _positioned(text, mode):
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


def analyze_with_spans(text: str, mode: str = "index") -> list[tuple[str, int, int]]:
    """Terms with the character span they come from, for highlighting."""
    return [(t.text, t.startchar, t.endchar) for t in ANALYZER(text, chars=True, mode=mode)]


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
