"""Render bench/results/{search_floor,scale,tickets_http}_<label>.json as the Markdown tables of RESULTS-perf.md.

    .venv/bin/python bench/perf_report.py baseline [after]

Each label is a column; every figure is shown with its floor, the ratio, the calibration and the load average.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load(kind: str, label: str) -> dict | None:
    path = RESULTS / f"{kind}_{label}.json"
    return json.loads(path.read_text()) if path.exists() else None


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    return str(value)


def table(title: str, header: list[str], rows: list[list]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def search_floor(labels: list[str]) -> str:
    runs = [(label, load("search_floor", label)) for label in labels]
    runs = [(label, run) for label, run in runs if run]
    if not runs:
        return ""
    rows = []
    for label, run in runs:
        m = run["machine"]
        head = f"{label} ({m['utc']} UTC, {m['commit']})"
        for number, r in enumerate(run.get("http", {}).get("rounds", []), 1):
            rows.append([f"{head}, round {number}", f"{r['faqbot']['rps']:.0f}", f"{r['faqbot']['p50_ms']:.1f}",
                         f"{r['faqbot']['p95_ms']:.1f}", f"{r['floor']['rps']:.0f}", f"{r['floor']['p50_ms']:.1f}",
                         f"{r['floor']['p95_ms']:.1f}", f"**{r['rps_ratio']:.2f}**",
                         f"{r['load_before'][0]} → {r['load_after'][0]}", f"{m['calibration_ms']}"])
    out = table("HTTP `/api/search`, faqbot next to the floor (same gunicorn settings, same client)",
                ["run", "faqbot req/s", "p50 ms", "p95 ms", "floor req/s", "p50 ms", "p95 ms", "faqbot/floor req/s",
                 "load (1 min)", "calibration ms"], rows)
    rows = []
    for label, run in runs:
        ip = run["in_process"]
        rows.append([label, f"{ip['search']['p50_ms']:.2f}", f"{ip['search']['p95_ms']:.2f}",
                     f"{ip['404_api']['p50_ms']:.3f}", f"{ip['404_html']['p50_ms']:.3f}",
                     f"**{ip['search_over_404_api_p50']:.1f}×**", f"{ip['search_over_404_html_p50']:.1f}×",
                     f"{ip['search_over_404_api_best']:.1f}×" if "search_over_404_api_best" in ip else "—",
                     f"{run['load_before'][0]} → {run['load_after'][0]}"])
    out += "\n" + table("In-process (Flask test client, same app): a search against a 404",
                        ["run", "search p50 ms", "p95 ms", "404 JSON p50 ms", "404 HTML p50 ms",
                         "search / 404 JSON (p50)", "search / 404 HTML", "search / 404 JSON, best pass", "load"], rows)
    settings = "; ".join(f"{label}: {run['gunicorn']['as_run']}, {run.get('http', {}).get('client')}, "
                         f"body {run.get('http', {}).get('response_size', {}).get('faqbot_median_bytes')} B (median)"
                         for label, run in runs)
    return out + f"\nAs run — {settings}.\n"


def _ratio(a, b) -> str:
    return f"{a / b:.1f}×" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "—"


def scale(labels: list[str]) -> str:
    out = ""
    for label in labels:
        run = load("scale", label)
        if not run:
            continue
        rows = []
        for s in run["sizes"]:
            w, t, h = s.get("worker", {}), s.get("tantivy", {}), s.get("http", {})
            mem = s.get("workers_memory") or []
            rss = "/".join(f"{x['rss_mb']:.0f}" for x in mem) if mem else "—"
            pss = "/".join(f"{x['pss_mb']:.0f}" for x in mem if x.get("pss_mb") is not None) if mem else "—"
            rows.append([
                f"{s['factor']}× ({s['entries']:,} entries)".replace(",", " "),
                s.get("index_build_s", "—"), w.get("start_s", "—"), s.get("gunicorn_first_answer_s", "—"),
                f"{rss} ({pss})", w.get("http_client_p95_ms", "—"), w.get("service_p95_ms", "—"),
                h.get("p95_ms", "—"), f"{t.get('p50_ms', '—')} / {t.get('p95_ms', '—')}",
                f"**{s.get('app_over_tantivy_p95', '—')}×**", f"{s.get('service_over_tantivy_p95', '—')}×",
                _ratio(w.get("service_p50_ms"), t.get("p50_ms")),
                f"{s['service_over_tantivy_best']}×" if "service_over_tantivy_best" in s else "—",
                (f"{s['edit_under_load']['max_ms'] / 1000:.1f} s ({s['edit_under_load']['over_1s']} > 1 s)"
                 if s.get("edit_under_load") else "—"),
                f"{s['load_before'][0]} → {s['load_after'][0]}",
                s["calibration_ms"],
            ])
        m = run["machine"]
        out += table(
            f"Scale, {label} ({m['utc']} UTC, commit {m['commit']}; {run['gunicorn']['as_run']})",
            ["FAQ", "index build s", "worker start s", "gunicorn 1st answer s", "RSS/worker MB (PSS)",
             "in-process p95 ms", "service p95 ms", "HTTP p95 ms", "tantivy p50 / p95 ms", "app/tantivy p95",
             "service/tantivy p95", "service/tantivy p50", "service/tantivy best pass", "slowest request after a FAQ edit", "load",
             "calibration ms"], rows) + "\n"
    return out


def tickets(labels: list[str]) -> str:
    rows = []
    as_run: dict[str, list[str]] = {}
    for label in labels:
        run = load("tickets_http", label)
        if not run:
            continue
        for b in run["backends"]:
            f, fl, rc = b["faqbot"], b["floor"], b["reconciliation"]
            rows.append([f"{label}, {b['backend']}", f"{f['per_s']:.0f}", f"{f['p50_ms']:.0f}", f"{f['p95_ms']:.0f}",
                         f"{fl['per_s']:.0f}", f"{fl['p50_ms']:.0f}", f"{fl['p95_ms']:.0f}",
                         f"**{b['per_s_ratio']:.2f}**",
                         f"{f['acknowledged']} / {rc['rows']} / {rc['acknowledged_missing_or_wrong_ref']} / "
                         f"{rc['stored_twice']}", f"{b['load_before'][0]} → {b['load_after'][0]}", b["calibration_ms"]])
        as_run.setdefault(f"{run['gunicorn']['as_run']}; {run['client']}; CONTACT_RATE_WINDOW "
                          f"{run['contact_rate_window_s']} s", []).append(label)
    if not rows:
        return ""
    return table("`POST /api/tickets`, faqbot next to the floor (framework + one insert)",
                 ["run", "faqbot tickets/s", "p50 ms", "p95 ms", "floor/s", "p50 ms", "p95 ms", "faqbot/floor",
                  "acknowledged / rows / missing / twice", "load", "calibration ms"], rows) + \
        "\nAs run — " + "; ".join(f"{', '.join(labels)}: {text}" for text, labels in as_run.items()) + ".\n"


def main() -> None:
    labels = sys.argv[1:] or ["baseline"]
    print(search_floor(labels))
    print(scale(labels))
    print(tickets(labels))


if __name__ == "__main__":
    main()
