#!/usr/bin/env python3
"""Check round 6's sealed files against the corpus with round 3's rules (`check_round`). -q "frag": where it occurs."""
import importlib.util, os, sys  # noqa: E401

spec = importlib.util.spec_from_file_location("round3", os.path.join(os.path.dirname(__file__), "..", "round3", "check_expect.py"))
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)
if __name__ == "__main__":
    sys.exit(rules.check_round(__file__, "/work/heldout6-brief", {"search-sealed.yaml": 40}, {}, ["a"]))
