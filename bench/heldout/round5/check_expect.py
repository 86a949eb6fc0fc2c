#!/usr/bin/env python3
"""Check round 5's sealed files against the corpus: round 3's checker (same rules: fragments in the corpus, 4–10
words, one answer per case, counts per style and reason, tricky markers), pointed at this folder and its brief.

Usage: python3 check_expect.py            (checks everything)
       python3 check_expect.py -q "frag"  (show where a fragment occurs)
HELDOUT_BRIEF: the folder holding the writer's corpus/ and reasons.md (default /work/heldout4-brief).
"""
import glob
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("round3_check", os.path.join(HERE, "..", "round3", "check_expect.py"))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

check.BRIEF = os.environ.get("HELDOUT_BRIEF", "/work/heldout5-brief")
check.CORPUS = sorted(glob.glob(os.path.join(check.BRIEF, "corpus", "*.txt")))
check.REASONS = os.path.join(check.BRIEF, "reasons.md")
check.HERE = os.path.join(HERE, "sealed")
check.SEARCH = {"search-sealed.yaml": 20}
check.TRIAGE = {"triage-sealed.yaml": (7, 21)}

if __name__ == "__main__":
    sys.exit(check.main())
