#!/usr/bin/env python3
"""Checks a claims file against the document its quotes were read from (docs/claims.md).

- The document's sha256 equals source.sha256.
- Every quote of a claim or an untestable entry occurs in the document, at least `occurrence`
  times (default 1); the span it locates is that occurrence.
- Every number of the document lies inside the span of some quote. A number is a run of digits
  with its separators and decimals ("200,000", "1.23.4"), with what belongs to it: a leading
  "$" or "#", a range's second end ("10–50", "$280,000–$380,000"), a trailing "%", "x" or "+"
  ("92%", "2.4x", "85,000+"). Digits inside words count as well ("Q1", "p95", "c6g").

Prints one "ok - " or "FAIL - " line per check, each uncovered number with its line and
context, and closes with "N passed, N failed"; exits 1 when a check failed.

Usage: tests/claims_coverage.py CLAIMS DOCUMENT
(tests/integration/90-claims.sh checks the claims files against their JSON schema.)
"""
import hashlib
import json
import re
import sys

NUM = r"\d+(?:[.,]\d+)*"
NUMBER = re.compile(r"[$#]?" + NUM + r"(?:\s?[–-]\s?[$]?" + NUM + r")?(?:%|x(?![a-z])|\+)?")


def numbers(text):
    """Every number of text as (start, end, token)."""
    return [(m.start(), m.end(), m.group(0)) for m in NUMBER.finditer(text)]


def locate(text, quote, occurrence):
    """The span of the occurrence-th match of quote in text, or None."""
    at = -1
    for _ in range(occurrence):
        at = text.find(quote, at + 1)
        if at < 0:
            return None
    return (at, at + len(quote))


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok - " + what)
        else:
            self.failed += 1
            print("FAIL - " + what + (": " + detail if detail else ""))


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def main(argv):
    args = argv[1:]
    if len(args) != 2:
        print("usage: claims_coverage.py CLAIMS DOCUMENT", file=sys.stderr)
        return 2
    claims_path, doc_path = args
    rep = Report()
    with open(claims_path, encoding="utf-8") as f:
        claims = json.load(f)
    with open(doc_path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    name = claims_path.rsplit("/", 1)[-1]

    want = claims.get("source", {}).get("sha256", "")
    got = hashlib.sha256(raw).hexdigest()
    rep.check(got == want, f"{name}: sha256 of {doc_path.rsplit('/', 1)[-1]} equals source.sha256",
              f"document {got}, claims file {want}: the document changed, or the claims were read from another text")

    spans = []
    missing = []
    entries = [("claim", c) for c in claims.get("claims", [])] + [("untestable", u) for u in claims.get("untestable", [])]
    for kind, e in entries:
        occ = e.get("occurrence", 1)
        span = locate(text, e.get("quote", ""), occ) if e.get("quote") else None
        if span is None:
            missing.append(f"{kind} {e.get('id')!r}: quote not found (occurrence {occ}): {e.get('quote', '')[:80]!r}")
        else:
            spans.append(span)
    rep.check(not missing, f"{name}: every quote of its {len(entries)} claims and untestable entries occurs in the document",
              "\n  " + "\n  ".join(missing))

    spans.sort()
    uncovered = []
    nums = numbers(text)
    for start, end, tok in nums:
        if not any(s <= start and end <= e for s, e in spans):
            ctx = text[max(0, start - 30) : end + 30].replace("\n", " ")
            uncovered.append(f"{tok!r} (line {line_of(text, start)}): ...{ctx}...")
    rep.check(not uncovered, f"{name}: every one of the document's {len(nums)} numbers is inside a quote",
              f"{len(uncovered)} not covered by any claim or untestable entry:\n  " + "\n  ".join(uncovered))

    print(f"{rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
