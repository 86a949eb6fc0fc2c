"""How faqbot's costs grow with the FAQ: synthetic FAQs at 1×, 10×, 100× data/faq.yaml, next to tantivy on the same
documents, in one run.

    .venv/bin/python bench/scale.py [--sizes 1,10,100] [--workers 2] [--worker-class sync] [--threads 1]
                                    [--preload] [--http-seconds 8] [--repeat 5] [--label baseline]
    .venv/bin/python bench/scale.py --generate-only 10 --out /tmp/faq-10x.yaml   # just write the FAQ

The synthetic FAQ of size k×: the real entries unchanged (so 1× is data/faq.yaml itself and the dev queries keep
their answers), plus k−1 recombined copies of every entry (deterministic seed): the same category, snippets and
contact reason; a question placed in one of 120 French towns and run by one of 12 brands (what a platform serving
several brands' sites would hold); variants drawn from the entry and from two others of its category; the answer's
paragraphs with one replaced by a paragraph of another entry of the category and its sentences reordered, plus a
line naming the centre. Real French, real vocabulary, more distinct words as the FAQ grows.

For each size, each step bounded by --step-timeout (a step that runs over is reported as such and the size ends):
- index build: wall time of `faqbot index build` (FAQ_PATH and INDEX_DIR in the environment, fresh instance whose
  schema was created beforehand with the 1× FAQ; the command creates the app, which loads the FAQ and builds the
  index, and whatever the app derives from it at start);
- worker start: wall time of a fresh Python process to `create_app()` on the built index (imports included), what
  every gunicorn worker pays unless the app is preloaded; its RSS after 5 searches;
- in-process search p50/p95 through Flask's test client (`/api/search`, the dev queries × --repeat, limit 10), and
  the search service alone when `app.extensions["faqbot.search"]` exists;
- gunicorn (settings printed): time from launch to the first answer, RSS and PSS of each worker after the load,
  HTTP p50/p95 and req/s with one connection per worker (no queueing: a request's own cost) for --http-seconds;
- a FAQ edit under load (--edit-seconds): a comment line is appended to the FAQ (new digest, same content) while
  one client per worker keeps searching; the slowest request and how many took over 1 s tell whether a request
  waited for the rebuild (the watcher looks at the file every 5 s);
- tantivy 0.22+ (French stemmer, stopwords, ascii folding, same fields and weights) indexing the same documents:
  build time, p50/p95 over the same queries (at least 20 passes; returning the ids of the top 10) → faqbot/tantivy
  p95, and the ratio of the medians of each query's best pass (what a busy machine disturbs least).
The machine's calibration and the load average are recorded before and after each size. Loopback only.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.ROOT
RESULTS_DIR = Path(__file__).resolve().parent / "results"

TOWNS = (
    "Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Montpellier", "Strasbourg", "Bordeaux", "Lille",
    "Rennes", "Toulon", "Reims", "Saint-Étienne", "Le Havre", "Villeurbanne", "Dijon", "Angers", "Grenoble",
    "Saint-Denis", "Nîmes", "Aix-en-Provence", "Clermont-Ferrand", "Le Mans", "Brest", "Tours", "Amiens", "Annecy",
    "Limoges", "Metz", "Boulogne-Billancourt", "Perpignan", "Besançon", "Orléans", "Rouen", "Montreuil", "Argenteuil",
    "Mulhouse", "Caen", "Nancy", "Saint-Paul", "Roubaix", "Tourcoing", "Nanterre", "Vitry-sur-Seine", "Créteil",
    "Avignon", "Poitiers", "Aubervilliers", "Dunkerque", "Aulnay-sous-Bois", "Colombes", "Versailles", "Courbevoie",
    "Béziers", "La Rochelle", "Rueil-Malmaison", "Champigny-sur-Marne", "Pau", "Mérignac", "Antibes", "Saint-Maur",
    "Ajaccio", "Cannes", "Saint-Nazaire", "Noisy-le-Grand", "Drancy", "Cergy", "Levallois-Perret", "Issy",
    "Calais", "Colmar", "Pessac", "Vénissieux", "Évry", "Clichy", "Quimper", "Ivry-sur-Seine", "Valence", "Bastia",
    "Troyes", "Antony", "La Seyne-sur-Mer", "Lorient", "Montauban", "Sarcelles", "Niort", "Villejuif", "Chambéry",
    "Saint-Quentin", "Beauvais", "Cayenne", "Maisons-Alfort", "Hyères", "Épinay", "Cholet", "Meaux", "Chelles",
    "Pantin", "Évreux", "Fontenay-sous-Bois", "Fréjus", "Vannes", "Bondy", "Laval", "Arles", "Clamart", "Narbonne",
    "Annemasse", "Sartrouville", "Grasse", "Belfort", "Bayonne", "Albi", "Blois", "Brive", "Charleville-Mézières",
    "Saint-Malo", "Carcassonne", "Périgueux", "Tarbes",
)
BRANDS = ("Permis Plus", "StagePoints", "RoutePro", "Points Express", "AutoStage", "Conduite Sereine",
          "Stage Rapide", "Point Permis 24", "Recup'Points", "Volant Malin", "Permis Tranquille", "Stages de France")
QUESTION_FORMS = ("{q} ({brand}, {town})", "{q} — stage à {town}", "Chez {brand} : {q}", "{q} Centre de {town}.",
                  "À {town}, {qlow}")
CENTRE_LINES = (
    "Le centre agréé de {town} applique ces règles pour tous les stages réservés avec {brand}.",
    "Pour les stages organisés à {town}, l’équipe {brand} traite ces demandes sous 48 heures ouvrées.",
    "Cette réponse vaut pour les centres {brand} de {town} et des environs.",
)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ])")


def generate(factor: int, seed: int = 13, source: Path = ROOT / "data" / "faq.yaml") -> dict:
    """The FAQ of `factor`× the real one: the real entries, then factor−1 recombined copies (deterministic)."""
    data = yaml.load(source.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    real = data["entries"]
    by_category: dict[str, list[dict]] = {}
    for entry in real:
        by_category.setdefault(entry["category"], []).append(entry)
    entries = list(real)
    for copy in range(1, factor):
        for number, entry in enumerate(real):
            rng = random.Random(seed * 1_000_003 + copy * 7_919 + number)
            town, brand = rng.choice(TOWNS), rng.choice(BRANDS)
            peers = [e for e in by_category[entry["category"]] if e is not entry] or [entry]
            others = rng.sample(peers, min(2, len(peers)))
            question = entry["question"].strip()
            form = rng.choice(QUESTION_FORMS)
            question = form.format(q=question, qlow=question[:1].lower() + question[1:], town=town, brand=brand)
            variants = list(entry.get("variants") or [])
            rng.shuffle(variants)
            variants = variants[: max(1, len(variants) - 1)]
            for other in others:
                if other.get("variants"):
                    variants.append(rng.choice(other["variants"]))
            variants.append(f"{rng.choice(entry.get('variants') or [question])} {town}")
            paragraphs = [p for p in entry["answer"].strip().split("\n\n") if p.strip()]
            donor = [p for p in others[0]["answer"].strip().split("\n\n") if p.strip()]
            if len(paragraphs) > 1 and donor:
                paragraphs[rng.randrange(1, len(paragraphs))] = rng.choice(donor)
            longest = max(range(len(paragraphs)), key=lambda i: len(paragraphs[i]))
            sentences = SENTENCE.split(paragraphs[longest])
            if len(sentences) > 2:
                head, tail = sentences[0], sentences[1:]
                rng.shuffle(tail)
                paragraphs[longest] = " ".join([head, *tail])
            paragraphs.append(rng.choice(CENTRE_LINES).format(town=town, brand=brand))
            synthetic = {
                "id": f"{entry['id']}-x{copy:03d}",
                "question": question,
                "variants": variants,
                "answer": "\n\n".join(paragraphs) + "\n",
                "category": entry["category"],
                "tags": list(entry.get("tags") or []) + [town.lower(), brand.lower()],
                "sources": list(entry.get("sources") or []),
            }
            for key in ("snippets", "contact_reason"):
                if entry.get(key):
                    synthetic[key] = entry[key]
            entries.append(synthetic)
    return dict(data, entries=entries)


def write_faq(data: dict, path: Path) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=10_000),
                    encoding="utf-8")


# --- tantivy on the same documents ---------------------------------------------------------------------------------

FIELDS = ("question", "variants", "tags", "answer")
BOOSTS = {"question": 3.0, "variants": 2.2, "tags": 1.6, "answer": 1.0}  # faqbot's field weights (search_peers.py)
WORD = re.compile(r"\w+")


class Tantivy:
    def __init__(self, data: dict, folder: Path):
        import tantivy

        self.tantivy = tantivy
        analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stopword("french"))
            .filter(tantivy.Filter.stemmer("french"))
            .build()
        )
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for field in FIELDS:
            builder.add_text_field(field, stored=False, tokenizer_name="fr")
        self.index = tantivy.Index(builder.build(), path=str(folder))
        self.index.register_tokenizer("fr", analyzer)
        snippets = {s["id"]: s["text"] for s in data.get("snippets", [])}
        started = time.perf_counter()
        writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        for entry in data["entries"]:
            answer = entry["answer"] + "\n" + "\n".join(snippets.get(s, "") for s in entry.get("snippets") or [])
            writer.add_document(tantivy.Document(
                id=entry["id"], question=entry["question"], variants="\n".join(entry.get("variants") or []),
                tags=" ".join(entry.get("tags") or []), answer=answer))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.build_s = time.perf_counter() - started

    def search(self, query: str, limit: int = 10) -> list[str]:
        terms = WORD.findall(unicodedata.normalize("NFC", query).lower())
        if not terms:
            return []
        text = " OR ".join('"' + t + '"' for t in terms)
        parsed, _errors = self.index.parse_query_lenient(text, list(FIELDS), field_boosts=BOOSTS)
        result = self.searcher.search(parsed, limit)
        return [self.searcher.doc(address)["id"][0] for _score, address in result.hits]


def tantivy_latency(data: dict, queries: list[str], repeat: int, folder: Path) -> dict:
    engine = Tantivy(data, folder)
    for query in queries:
        engine.search(query)
    samples = []
    for _ in range(repeat):
        for query in queries:
            began = time.perf_counter()
            engine.search(query)
            samples.append(time.perf_counter() - began)
    best = [min(samples[n::len(queries)]) for n in range(len(queries))]
    return {"build_s": round(engine.build_s, 2), "best_median_ms": round(harness.percentile(best, 0.5) * 1000, 3),
            "p50_ms": round(harness.percentile(samples, 0.5) * 1000, 3),
            "p95_ms": round(harness.percentile(samples, 0.95) * 1000, 3)}


# --- faqbot ----------------------------------------------------------------------------------------------------------

# Runs in a fresh Python process: what one worker pays to start on a built index, then its in-process search cost.
WORKER_PROBE = r"""
import json, sys, time
started = time.perf_counter()
from faqbot import create_app
app = create_app()
start_s = time.perf_counter() - started
paths, repeat = json.loads(sys.stdin.read())
client = app.test_client()
for path in paths[:5]:
    assert client.get(path).status_code == 200
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")][0] / 1024
for path in paths:
    client.get(path)
samples = []
for _ in range(repeat):
    for path in paths:
        began = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200
def best_median(raw, count):
    best = sorted(min(raw[n::count]) for n in range(count))
    return round(best[len(best) // 2] * 1000, 3)
app_best = best_median(samples, len(paths))
samples.sort()
out = {"start_s": round(start_s, 2), "rss_after_5_searches_mb": round(rss, 1), "app_best_median_ms": app_best,
       "http_client_p50_ms": round(samples[len(samples) // 2] * 1000, 3),
       "http_client_p95_ms": round(samples[int(len(samples) * 0.95)] * 1000, 3)}
try:  # the knowledge module owns the loaded search service (issue 9); before it, an app extension did
    from faqbot import knowledge
    service = knowledge.search(app)
except Exception:
    service = app.extensions.get("faqbot.search")
if service is not None and hasattr(service, "search"):
    import urllib.parse
    queries = [urllib.parse.parse_qs(urllib.parse.urlparse(p).query)["q"][0] for p in paths]
    engine = []
    for _ in range(repeat):
        for query in queries:
            began = time.perf_counter()
            service.search(query, limit=10)
            engine.append(time.perf_counter() - began)
    out["service_best_median_ms"] = best_median(engine, len(queries))
    engine.sort()
    out["service_p50_ms"] = round(engine[len(engine) // 2] * 1000, 3)
    out["service_p95_ms"] = round(engine[int(len(engine) * 0.95)] * 1000, 3)
print("PROBE " + json.dumps(out))
"""


def run_size(factor: int, args, queries: list[str], settings: harness.GunicornSettings, folder: Path) -> dict:
    row: dict = {"factor": factor, "load_before": harness.load_average(), "calibration_ms": harness.calibration()}
    data = generate(factor, seed=args.seed)
    faq_path = folder / f"faq-{factor}x.yaml"
    write_faq(data, faq_path)
    row["entries"] = len(data["entries"])
    row["faq_mb"] = round(faq_path.stat().st_size / 1e6, 1)
    print(f"[{factor}×] {row['entries']} entries, {row['faq_mb']} MB, load {row['load_before']}, "
          f"calibration {row['calibration_ms']} ms", flush=True)
    instance = folder / f"instance-{factor}x"
    instance.mkdir()
    env = harness.server_env(instance, FAQ_PATH=str(faq_path))
    faqbot = str(harness.VENV_BIN / "faqbot")
    paths = harness.search_paths(queries)

    def step(name, function):
        try:
            return function()
        except subprocess.TimeoutExpired:
            row[name] = f"> {args.step_timeout:.0f} s (stopped)"
            print(f"[{factor}×] {name}: over {args.step_timeout:.0f} s, stopped", flush=True)
            raise

    try:
        # The schema first, with the real 1× FAQ and a throw-away index folder: any `faqbot` command creates the app,
        # which would otherwise build the big index here, outside the timed build.
        upgrade_env = dict(env, FAQ_PATH=str(ROOT / "data" / "faq.yaml"), INDEX_DIR=str(instance / "index-schema"))
        subprocess.run([faqbot, "db", "upgrade"], env=upgrade_env, cwd=ROOT, capture_output=True,
                       timeout=args.step_timeout)

        def build():
            began = time.perf_counter()
            done = subprocess.run([faqbot, "index", "build"], env=env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=args.step_timeout)
            row["index_build_s"] = round(time.perf_counter() - began, 2)
            if done.returncode:
                raise RuntimeError(done.stderr[-2000:])
            row["index_mb"] = round(sum(p.stat().st_size for p in Path(env["INDEX_DIR"]).rglob("*") if p.is_file()) / 1e6, 1)
            print(f"[{factor}×] index build {row['index_build_s']} s ({row['index_mb']} MB on disk)", flush=True)

        step("index_build_s", build)

        def probe():
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", WORKER_PROBE], env=env, cwd=ROOT, capture_output=True,
                                  text=True, input=json.dumps([paths, args.repeat]), timeout=args.step_timeout)
            wall = time.perf_counter() - began
            line = next((l for l in done.stdout.splitlines() if l.startswith("PROBE ")), None)
            if line is None:
                raise RuntimeError(done.stderr[-2000:])
            result = json.loads(line[6:])
            row["worker"] = result
            row["worker"]["process_wall_s"] = round(wall, 2)
            print(f"[{factor}×] worker start {result['start_s']} s, RSS {result['rss_after_5_searches_mb']} MB, "
                  f"in-process /api/search p50 {result['http_client_p50_ms']} p95 {result['http_client_p95_ms']} ms"
                  + (f", service p95 {result['service_p95_ms']} ms" if "service_p95_ms" in result else ""), flush=True)

        step("worker", probe)

        def tantivy():
            with tempfile.TemporaryDirectory(dir=folder) as sub:
                # tantivy is cheap: more passes, so one preemption of this shared machine does not make its p95.
                row["tantivy"] = tantivy_latency(data, queries, max(args.repeat, 20), Path(sub))
            print(f"[{factor}×] tantivy build {row['tantivy']['build_s']} s, p50 {row['tantivy']['p50_ms']} "
                  f"p95 {row['tantivy']['p95_ms']} ms", flush=True)

        step("tantivy", tantivy)
        if "service_p95_ms" in row["worker"]:
            row["service_over_tantivy_p95"] = round(row["worker"]["service_p95_ms"] / row["tantivy"]["p95_ms"], 1)
        if "service_best_median_ms" in row["worker"]:
            # Each query's best pass, median over queries: the per-query cost a busy machine disturbs least.
            row["service_over_tantivy_best"] = round(row["worker"]["service_best_median_ms"]
                                                     / row["tantivy"]["best_median_ms"], 1)
        row["app_over_tantivy_p95"] = round(row["worker"]["http_client_p95_ms"] / row["tantivy"]["p95_ms"], 1)

        if args.http_seconds > 0:
            with harness.serve("faqbot:create_app()", settings, env, instance / "gunicorn.log",
                               ready_path="/api/search?suggest=1&q=stage", start_timeout=args.step_timeout) as server:
                row["gunicorn_first_answer_s"] = server.started_s
                harness.load_get(server.port, paths, settings.workers, 2, instance)
                row["http"] = harness.load_get(server.port, paths, settings.workers, args.http_seconds, instance)
                row["workers_memory"] = [harness.process_memory(pid) for pid in server.worker_pids()]
                if args.edit_seconds > 0 and factor <= args.edit_max_factor:
                    # A curator saves the FAQ while visitors search: does any request wait for the rebuild?
                    with faq_path.open("a", encoding="utf-8") as handle:
                        handle.write("# modifiée pendant la charge\n")
                    row["edit_under_load"] = harness._python_load(server.port, paths, settings.workers,
                                                                  args.edit_seconds, timeout=args.step_timeout)
                    edit = row["edit_under_load"]
                    print(f"[{factor}×] FAQ edited under load ({args.edit_seconds:g} s, {settings.workers} "
                          f"connections): max {edit['max_ms']} ms, {edit['over_1s']} requests over 1 s, "
                          f"p99 {edit['p99_ms']} ms, {edit['requests']} answered, {edit['errors']} errors", flush=True)
                row["gunicorn_tracebacks"] = server.log().count("Traceback")
            print(f"[{factor}×] gunicorn first answer {row['gunicorn_first_answer_s']} s; HTTP "
                  f"{row['http']['rps']:.0f} req/s p50 {row['http']['p50_ms']} p95 {row['http']['p95_ms']} ms "
                  f"({row['http']['client']}); workers {row['workers_memory']}", flush=True)
    except subprocess.TimeoutExpired:
        row["stopped"] = True
    except RuntimeError as error:
        row["error"] = str(error)[-1500:]
        print(f"[{factor}×] error: {row['error']}", flush=True)
    row["load_after"] = harness.load_average()
    shutil.rmtree(instance, ignore_errors=True)
    faq_path.unlink(missing_ok=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preload", action="store_true")
    parser.add_argument("--http-seconds", type=float, default=8)
    parser.add_argument("--edit-seconds", type=float, default=20,
                        help="after the HTTP load, edit the FAQ and keep searching this long (0: skip)")
    parser.add_argument("--edit-max-factor", type=int, default=10,
                        help="skip the edit step above this size (at 100× today a request would wait ~10 min)")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the dev queries (in-process, tantivy)")
    parser.add_argument("--step-timeout", type=float, default=900, help="bound of each step, seconds")
    parser.add_argument("--label", default="run")
    parser.add_argument("--generate-only", type=int, default=0, metavar="FACTOR")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.generate_only:
        out = Path(args.out or f"faq-{args.generate_only}x.yaml")
        write_faq(generate(args.generate_only, seed=args.seed), out)
        print(out)
        return 0
    # A worker that loads a large FAQ for minutes must not be killed by gunicorn's heartbeat timeout while booting.
    settings = harness.GunicornSettings(args.workers, args.worker_class, args.threads, args.preload,
                                        timeout=int(args.step_timeout))
    queries = harness.dev_queries()
    result = {"label": args.label, "machine": harness.machine(), "gunicorn": settings.as_dict(),
              "queries": f"{len(queries)} shared dev questions, limit=10", "repeat": args.repeat, "sizes": []}
    print(f"{result['machine']} | {settings.describe()}", flush=True)
    RESULTS_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="faqbot-scale.") as folder:
        for factor in (int(s) for s in args.sizes.split(",")):
            result["sizes"].append(run_size(factor, args, queries, settings, Path(folder)))
            (RESULTS_DIR / f"scale_{args.label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
