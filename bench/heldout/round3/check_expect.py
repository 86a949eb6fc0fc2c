#!/usr/bin/env python3
"""Check the held-out evaluation files against the corpus.

- every `expect` fragment of every search file occurs in the folded corpus;
- fragments have 4-10 words;
- flag fragments found on more than 12 corpus lines (not distinctive);
- all fragments of one case occur close together (same answer: within
  WINDOW lines of each other in the same corpus file);
- YAML files parse; counts per style / per reason are exact;
- triage: every reason is a known id, enough cases marked tricky.

Usage: python3 check_expect.py            (checks everything)
       python3 check_expect.py -q "frag"  (show where a fragment occurs)
"""
import glob
import os
import re
import sys
import unicodedata

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
BRIEF = "/work/heldout3-brief"
CORPUS = sorted(glob.glob(os.path.join(BRIEF, "corpus", "*.txt")))
REASONS = os.path.join(BRIEF, "reasons.md")
MAX_LINES = 12
WINDOW = 8  # fragments of one case must sit within this many lines

SEARCH = {"search-dev.yaml": 5, "search-sealed.yaml": 20}
STYLES = ["a", "b", "c", "d", "e"]
TRIAGE = {"triage-dev.yaml": (2, 0), "triage-sealed.yaml": (7, 21)}


def fold(s):
    s = s.lower()
    s = re.sub(r"[’‘`´ʼ]", "'", s)
    s = re.sub(r"[‐‑‒–—―\-]", " ", s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^\w']+", " ", s)   # punctuation (except ') -> space
    s = s.replace("_", " ")
    return re.sub(r"\s+", " ", s).strip()


def load_corpus():
    lines = []  # (file, lineno, folded)
    for f in CORPUS:
        with open(f, encoding="utf-8") as fh:
            for i, l in enumerate(fh, 1):
                fl = fold(l)
                if fl:
                    lines.append((os.path.basename(f), i, " " + fl + " "))
    return lines


def hits(lines, frag):
    ff = " " + fold(frag) + " "
    return [(f, i) for f, i, l in lines if ff in l]


def same_answer(lines, frags):
    """True if some occurrence of every fragment lies within WINDOW lines."""
    occ = [hits(lines, fr) for fr in frags]
    if any(not o for o in occ):
        return False
    for f0, i0 in occ[0]:
        if all(any(f == f0 and abs(i - i0) <= WINDOW for f, i in o) for o in occ[1:]):
            return True
    return False


def read_text(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def read_set(name, errors):
    """(text, parsed YAML) of one of this folder's sets; (None, None) with the error recorded if it cannot be read."""
    # The writer kept them side by side; committed, they sit in dev/ and sealed/.
    found = [p for p in (os.path.join(HERE, d, name) for d in ("", "dev", "sealed")) if os.path.exists(p)]
    if not found:
        errors.append(f"{name}: missing")
        return None, None
    path = found[0]
    text = read_text(path)
    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as e:
        errors.append(f"{name}: YAML error {e}")
        return None, None


def style_blocks(text):
    """Count cases after each '# --- (x)' marker."""
    counts, order, cur = {}, [], None
    for line in text.splitlines():
        m = re.match(r"#\s*---\s*\(([a-e])\)", line)
        if m:
            cur = m.group(1)
            order.append(cur)
            counts.setdefault(cur, 0)
        elif re.match(r"-\s+q:", line):
            counts[cur] = counts.get(cur, 0) + 1
    return order, counts


def check_search(lines, errors, warns):
    summary = []
    for name, per in SEARCH.items():
        text, data = read_set(name, errors)
        if data is None:
            continue
        order, counts = style_blocks(text)
        # style (e) queries must be 1-3 words
        cur = None
        for line in text.splitlines():
            m = re.match(r"#\s*---\s*\(([a-e])\)", line)
            if m:
                cur = m.group(1)
            mq = re.match(r'-\s+q:\s*"(.*)"\s*$', line)
            if mq and cur == "e" and not 1 <= len(fold(mq.group(1)).split()) <= 3:
                errors.append(f"{name}: short query not 1-3 words: {mq.group(1)!r}")
        if order != STYLES:
            errors.append(f"{name}: style markers {order} != {STYLES}")
        for s in STYLES:
            if counts.get(s, 0) != per:
                errors.append(f"{name}: style ({s}) has {counts.get(s, 0)} cases, want {per}")
        if len(data) != per * len(STYLES):
            errors.append(f"{name}: {len(data)} cases, want {per * len(STYLES)}")
        nfrag = 0
        qs = set()
        for k, case in enumerate(data, 1):
            q = case.get("q")
            ex = case.get("expect")
            if not q or not isinstance(ex, list) or not 1 <= len(ex) <= 3:
                errors.append(f"{name}#{k}: bad case {case!r}")
                continue
            if fold(q) in qs:
                errors.append(f"{name}#{k}: duplicate question")
            qs.add(fold(q))
            for fr in ex:
                nfrag += 1
                n = len(fold(fr).split())
                if not 4 <= n <= 10:
                    errors.append(f"{name}#{k}: fragment has {n} words: {fr!r}")
                h = hits(lines, fr)
                if not h:
                    errors.append(f"{name}#{k}: NOT IN CORPUS: {fr!r}")
                elif len(h) > MAX_LINES:
                    errors.append(f"{name}#{k}: on {len(h)} lines (>{MAX_LINES}): {fr!r}")
            if len(ex) > 1 and all(hits(lines, fr) for fr in ex):
                if not same_answer(lines, ex):
                    errors.append(f"{name}#{k}: fragments not in one answer: {ex!r}")
        summary.append(f"{name}: {len(data)} cases "
                       + " ".join(f"({s})={counts.get(s, 0)}" for s in STYLES)
                       + f", {nfrag} fragments")
    return summary


def reason_ids():
    return re.findall(r"^##\s+(\S+)", read_text(REASONS), re.M)


def check_triage(errors):
    ids = reason_ids()
    summary = []
    for name, (per, min_tricky) in TRIAGE.items():
        text, data = read_set(name, errors)
        if data is None:
            continue
        counts = {i: 0 for i in ids}
        msgs = set()
        for k, case in enumerate(data, 1):
            r, m = case.get("reason"), case.get("message")
            if r not in counts or not m:
                errors.append(f"{name}#{k}: bad case {case!r}")
                continue
            counts[r] += 1
            if fold(m) in msgs:
                errors.append(f"{name}#{k}: duplicate message")
            msgs.add(fold(m))
        for i, c in counts.items():
            if c != per:
                errors.append(f"{name}: reason {i} has {c} messages, want {per}")
        # tricky markers: a '# tricky:' line directly above a '- message:' line
        tl = text.splitlines()
        tricky = sum(1 for a, b in zip(tl, tl[1:])
                     if re.match(r"#\s*tricky:", a) and re.match(r"-\s+message:", b))
        loose = sum(1 for l in tl if re.match(r"#\s*tricky:", l)) - tricky
        if loose:
            errors.append(f"{name}: {loose} '# tricky:' lines not directly above a message")
        need = max(min_tricky, -(-len(data) // 3))
        if tricky < need:
            errors.append(f"{name}: only {tricky} tricky, want >= {need}")
        kinds = {}
        for l in tl:
            m = re.match(r"#\s*tricky:\s*([^(]+)", l)
            if m:
                kk = m.group(1).strip()
                kinds[kk] = kinds.get(kk, 0) + 1
        summary.append(f"{name}: {len(data)} messages, "
                       + ", ".join(f"{i}={c}" for i, c in counts.items())
                       + f"; tricky={tricky} {kinds}")
    return summary


def main():
    lines = load_corpus()
    if len(sys.argv) > 2 and sys.argv[1] == "-q":
        for fr in sys.argv[2:]:
            h = hits(lines, fr)
            print(f"{len(h):3d} lines, {len(fold(fr).split())} words: {fr!r} -> {h[:8]}")
        return 0
    errors, warns = [], []
    summary = check_search(lines, errors, warns) + check_triage(errors)
    for s in summary:
        print("OK-ish:", s)
    for e in errors:
        print("FAIL:", e)
    print(f"{len(errors)} failure(s)")
    return 1 if errors else 0


def check_round(script: str, brief: str, search: dict, triage: dict, styles: list[str] | None = None) -> int:
    """Check a later round's sealed files (beside `script`, in sealed/) with these rules: its writer's brief folder
    (HELDOUT_BRIEF overrides it), its counts per style and per reason, its styles."""
    global BRIEF, CORPUS, REASONS, HERE, SEARCH, TRIAGE, STYLES
    BRIEF = os.environ.get("HELDOUT_BRIEF", brief)
    CORPUS = sorted(glob.glob(os.path.join(BRIEF, "corpus", "*.txt")))
    REASONS = os.path.join(BRIEF, "reasons.md")
    HERE = os.path.join(os.path.dirname(os.path.abspath(script)), "sealed")
    SEARCH, TRIAGE, STYLES = search, triage, styles or STYLES
    return main()


if __name__ == "__main__":
    sys.exit(main())
