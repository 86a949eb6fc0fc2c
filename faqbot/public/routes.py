"""Routes of the public site: thin — parse, call the search service, log, render."""
from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import quote, urlencode

from flask import (
    Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_from_directory, session, url_for,
)
from flask_babel import gettext as _

from .. import db, knowledge
from ..index.service import MAX_QUERY_CHARS
from ..throttle import throttle_for, window_counter_for
from . import searchlog
from .forms import VoteForm

bp = Blueprint("public", __name__)

HOME_POPULAR = 6
PAGE_RESULTS = 10
API_DEFAULT_LIMIT = 10
API_MAX_LIMIT = 50
RELATED = 4
# Votes remembered in the visitor's own cookie so a double click does not count twice (nothing stored server-side).
VOTES_REMEMBERED = 50


def _faq():
    return knowledge.faq()


def _search():
    return knowledge.search()


def _log():
    return current_app.extensions["faqbot.searchlog"]


def _log_search(outcome, clicked_entry_id: str | None = None) -> str | None:
    # One client cannot pad the statistics: past SEARCH_LOG_RATE_LIMIT a minute, searches are served, not logged.
    client = request.remote_addr or "inconnue"
    if not window_counter_for(current_app).allow("search-log", client, int(current_app.config["SEARCH_LOG_RATE_LIMIT"]), 60, time.time()):
        return None
    return _log().record_search(
        outcome.query, outcome.corrected_query, len(outcome.hits),
        outcome.hits[0].entry.id if outcome.hits else None, clicked_entry_id=clicked_entry_id,
    )


def contact_url(reason: str | None, search: str | None = None) -> str:
    """The contact form opened on a reason; `search` (a logged search's reference) says which search failed."""
    args = {key: value for key, value in (("reason", reason), ("s", search)) if value}
    if "contact.start" in current_app.view_functions:
        return url_for("contact.start", **args)
    return "/contact" + (("?" + urlencode(args)) if args else "")


@bp.app_context_processor
def _helpers():
    return {"contact_url": contact_url}


@bp.get("/")
def home():
    outcome = _search().search("", limit=HOME_POPULAR)
    return render_template("public/home.html", popular=outcome.hits, categories=_faq().categories, faq=_faq())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for /favicon.ico whatever the page says: answer it rather than log a 404 per page."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/recherche")
def search_page():
    query = request.args.get("q", "")
    outcome = _search().search(query, limit=PAGE_RESULTS)
    # The results' links carry the search's reference so the click lands on its log row.
    log_id = _log_search(outcome) if outcome.query else None
    return render_template(
        "public/search.html", outcome=outcome, log_id=log_id, categories=_faq().categories, faq=_faq(),
        # A long paste is searched on its first characters only: the page says so instead of cutting silently.
        shortened=len(" ".join(query.split())) > MAX_QUERY_CHARS, max_query=MAX_QUERY_CHARS,
    )


@bp.get("/faq/<entry_id>")
def entry(entry_id: str):
    faq = _faq()
    item = faq.by_id.get(entry_id)
    if item is None:
        merged_into = faq.resolve(entry_id)  # an entry merged into another: old links keep working
        if merged_into is not None:
            return redirect(url_for("public.entry", entry_id=merged_into.id, **request.args), code=301)
        abort(404)
    _log_opening(item.id)
    category = faq.category_by_id.get(item.category)
    voted = item.id in session.get("faq_votes", [])
    return render_template(
        "public/entry.html",
        entry=item,
        category=category,
        related=_search().related(item, limit=RELATED),
        form=VoteForm(),
        voted=voted,
        snippets=[faq.snippets[s] for s in item.snippets if s in faq.snippets],
    )


def _log_opening(entry_id: str) -> None:
    """Link an opening to its search: `s` names a logged search (results page), `q` a live-search query."""
    reference = request.args.get("s", "")
    live_query = request.args.get("q", "").strip()
    if reference:
        _log().record_click(reference, entry_id)
    elif live_query:
        # Live-search keystrokes are not logged: the search that led here is logged now, with its click.
        outcome = _search().search(live_query, limit=PAGE_RESULTS)
        if outcome.query:
            _log_search(outcome, clicked_entry_id=entry_id)


@bp.post("/faq/<entry_id>/avis")
def vote(entry_id: str):
    item = _faq().by_id.get(entry_id)
    if item is None:
        abort(404)
    form = VoteForm()
    if not form.validate_on_submit() or not (form.yes.data or form.no.data):
        abort(400)
    voted = list(session.get("faq_votes", []))
    if item.id not in voted:
        # Per client for the whole server: a script dropping its cookie cannot pad the votes (thanked, not counted).
        verdict = throttle_for(current_app).check_and_hit(
            "vote", request.remote_addr or "inconnue", int(current_app.config["VOTE_RATE_LIMIT"]), dt.timedelta(hours=1), db.utcnow()
        )
        if verdict.allowed:
            with db.get_db().transaction() as tx:
                searchlog.record_vote(tx, item.id, helpful=bool(form.yes.data))
        session["faq_votes"] = (voted + [item.id])[-VOTES_REMEMBERED:]
    # Shown by the vote section itself (category "feedback"), in place of the form: one thank-you, where the click was.
    if form.yes.data:
        flash(_("Merci pour votre avis : nous sommes ravis que cette réponse vous ait aidé."), "feedback")
    else:
        flash(_("Merci pour votre avis : nous allons améliorer cette réponse."), "feedback")
    return redirect(url_for("public.entry", entry_id=item.id, _anchor="avis"))


@bp.get("/categorie/<category_id>")
def category(category_id: str):
    faq = _faq()
    item = faq.category_by_id.get(category_id)
    if item is None:
        abort(404)
    return render_template("public/category.html", category=item, entries=faq.in_category(item.id), categories=faq.categories)


@bp.get("/api/search")
def api_search():
    query = request.args.get("q", "")
    raw_limit = request.args.get("limit", "")
    limit = API_DEFAULT_LIMIT
    if raw_limit != "":
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= API_MAX_LIMIT:
            return jsonify({"error": _("Le paramètre limit doit être un entier entre 1 et 50."), "status": 422}), 422
    outcome = _search().search(query, limit=limit)
    # The live search of the home page asks with suggest=1: keystrokes are not searches worth logging.
    if outcome.query and request.args.get("suggest") != "1":
        _log_search(outcome)
    faq = _faq()
    # One URL built per script root, the others by substitution: url_for costs as much as the search itself.
    urls = current_app.extensions.setdefault("faqbot.public.entry_url", {})
    entry_url = urls.get(request.script_root)
    if entry_url is None:
        entry_url = urls[request.script_root] = url_for("public.entry", entry_id="ENTRY").rsplit("/", 1)[0] + "/"
    # Each entry's fixed fields are serialised once per FAQ version: the answers are most of the response; the
    # marked excerpts come from the search's own cache, so their JSON is kept too.
    # Pieces joined once (the answers are long: concatenating them hit by hit copies each several times).
    pieces = ['{"query":', json.dumps(outcome.query), ',"corrected_query":', json.dumps(outcome.corrected_query),
              ',"results":[']
    for number, hit in enumerate(outcome.hits):
        pieces += [
            "," if number else "", _entry_json_open(faq, hit.entry, entry_url),
            ',"score":', float.__repr__(hit.score),  # what json.dumps writes for a finite float
            _excerpts_json(hit.question_html, hit.snippet_html),  # extra, for the live search: escaped excerpts
        ]
    pieces.append("]}")
    return current_app.response_class("".join(pieces), mimetype="application/json")


_ENTRY_JSON: dict[tuple[str, str, str], str] = {}
_EXCERPTS_JSON: dict[tuple[str, str], str] = {}


def _excerpts_json(question_html: str, snippet_html: str) -> str:
    """The hit's "question_html" and "snippet_html" members and its closing brace, kept for the excerpts that come
    back query after query."""
    key = (question_html, snippet_html)
    cached = _EXCERPTS_JSON.get(key)
    if cached is None:
        if len(_EXCERPTS_JSON) > 20_000:
            _EXCERPTS_JSON.clear()
        cached = _EXCERPTS_JSON[key] = (
            ',"question_html":' + json.dumps(question_html) + ',"snippet_html":' + json.dumps(snippet_html) + "}"
        )
    return cached


def _entry_json_open(faq, entry, entry_url: str) -> str:
    """{"id", "question", "answer", "category", "url"} of one entry as JSON without its closing brace (the search
    adds its own fields), cached per FAQ version and URL root."""
    key = (faq.digest, entry.id, entry_url)
    cached = _ENTRY_JSON.get(key)
    if cached is None:
        if len(_ENTRY_JSON) > 20_000:
            _ENTRY_JSON.clear()
        cached = json.dumps(
            {
                "id": entry.id,
                "question": entry.question,
                "answer": entry.answer_plain,
                "category": entry.category if entry.category in faq.category_by_id else None,
                "url": entry_url + quote(entry.id, safe=""),
            }
        )[:-1]
        _ENTRY_JSON[key] = cached
    return cached
