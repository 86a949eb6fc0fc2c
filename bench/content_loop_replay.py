"""Replay a day of logged searches through the content loop and measure the search before and after.

    .venv/bin/python bench/content_loop_replay.py [--day bench/content_day.yaml] [--faq data/faq.yaml] [--json]

1. A fresh app (temporary instance, SQLite, a copy of the FAQ) receives `day1` through the search page, as
   visitors would: a visitor opens the first result when it is the right entry (the click is logged), otherwise
   leaves — so the log holds zero-result searches and searches whose results nobody opened.
2. The console's lists are computed from that log (`content_signals`, junk filtered); a simulated agent attaches
   each listed query to the entry that answers it (`propose_variant`), an admin accepts every proposal
   (`review_change`); the app reloads the overlay.
3. `day1` and `day2` (the same needs in other words) are measured before and after through /api/search
   (with suggest=1, so measuring does not log): share of searches with no result, recall@1 and recall@3.

Day 1 after is the loop's direct effect (those exact wordings now find their entry); day 2 is the honest part: what
the added variants teach the search about wordings nobody typed yet.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from faqbot import create_app, knowledge  # noqa: E402
from faqbot.content.overlay import normalise_query, overlay_version, propose_variant, review_change  # noqa: E402
from faqbot.content.model import load_faq_data  # noqa: E402
from faqbot.db import utcnow  # noqa: E402
from faqbot.models import StaffUser  # noqa: E402
from faqbot.staff import accounts  # noqa: E402
from faqbot.staff.content_signals import content_signals  # noqa: E402

FIRST_HIT = re.compile(r'href="/faq/([^"?]+)\?s=(\d+)"')


def measure(client, cases: list[dict]) -> dict:
    ranks, zero = [], 0
    for case in cases:
        results = client.get("/api/search", query_string={"q": case["q"], "limit": 10, "suggest": "1"}).get_json()["results"]
        ids = [r["id"] for r in results]
        zero += not ids
        ranks.append(ids.index(case["entry"]) + 1 if case["entry"] in ids else None)
    n = len(cases)
    return {
        "searches": n,
        "no_result_percent": round(100 * zero / n, 1),
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "recall@3": round(sum(1 for r in ranks if r and r <= 3) / n, 3),
    }


def replay_day(client, day: list[dict]) -> None:
    """Visitors search; each opens the first result only when it answers them (that click is logged)."""
    for case in day:
        page = client.get("/recherche", query_string={"q": case["q"]}).get_data(as_text=True)
        first = FIRST_HIT.search(page)
        if first and case.get("entry") and first.group(1) == case["entry"]:
            client.get(f"/faq/{first.group(1)}", query_string={"s": first.group(2)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--day", default=str(ROOT / "bench" / "content_day.yaml"))
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()
    days = yaml.safe_load(Path(args.day).read_text(encoding="utf-8"))
    day1 = [c for c in days["day1"] if c.get("entry")]
    day2 = [c for c in days["day2"] if c.get("entry")]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        faq_path = folder / "faq.yaml"
        shutil.copy(args.faq, faq_path)
        app = create_app({
            "TESTING": True, "INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "INDEX_DIR": str(folder / "index"), "FAQ_PATH": str(faq_path), "SECRET_KEY": "bench", "FAQ_WATCH": False,
        })
        client = app.test_client()
        before = {"day1": measure(client, day1), "day2": measure(client, day2)}
        replay_day(client, days["day1"])
        database = app.extensions["faqbot.db"]
        truth = {normalise_query(c["q"]): c["entry"] for c in day1}
        with database.transaction() as session:
            agent = accounts.create_staff(session, "agent@bench.test", "un mot de passe solide 2026", "agent", utcnow())
            admin = accounts.create_staff(session, "admin@bench.test", "un mot de passe solide 2026", "admin", utcnow())
        with database.transaction() as session:
            faq = knowledge.faq(app)
            signals = content_signals(session, faq, 1, utcnow())
            listed = signals.zero + signals.unclicked + signals.contact
            proposals, refused = [], []
            for item in listed:
                entry_id = truth.get(item.query)
                try:
                    proposals.append(propose_variant(session, faq, session.get(StaffUser, agent.id), entry_id, item.query, query=item.query, signal="zero", now=utcnow()).id)
                except Exception as error:  # noqa: BLE001 — reported, the bench goes on
                    refused.append((item.query, str(error)))
        data, _digest = load_faq_data(faq_path)
        started = time.perf_counter()
        accepted = 0
        for change_id in proposals:
            with database.transaction() as session:
                try:
                    review_change(session, data, session.get(StaffUser, admin.id), change_id, accept=True, now=utcnow())
                    accepted += 1
                except Exception as error:  # noqa: BLE001 — a proposal the FAQ's rules refuse is reported
                    refused.append((change_id, str(error)))
        with database.transaction() as session:
            version = overlay_version(session)
        knowledge.store(app).check(force=True)
        served_after = time.perf_counter() - started
        after = {"day1": measure(client, day1), "day2": measure(client, day2)}
        figures = {
            "faq_entries": len(knowledge.faq(app).entries),
            "logged_searches_day1": len(days["day1"]),
            "junk_left_out": signals.junk_hidden,
            "listed": {"zero": len(signals.zero), "unclicked": len(signals.unclicked), "contact": len(signals.contact)},
            "variants_proposed": len(proposals),
            "variants_accepted": accepted,
            "refused": refused,
            "overlay_version": version,
            "accept_to_served_seconds": round(served_after, 2),
            "before": before,
            "after": after,
        }
        app.extensions["faqbot.db"].engine.dispose()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(json.dumps({k: v for k, v in figures.items() if k not in ("before", "after")}, ensure_ascii=False))
    print("| jour | mesure | avant | après |\n|---|---|---|---|")
    for day in ("day1", "day2"):
        for key in ("no_result_percent", "recall@1", "recall@3"):
            print(f"| {day} | {key} | {figures['before'][day][key]} | {figures['after'][day][key]} |")


if __name__ == "__main__":
    main()
