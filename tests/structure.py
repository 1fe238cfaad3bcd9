#!/usr/bin/env python3
"""Checks the shape of the tree under appliance/ against the rules of docs/hacking.md.

- The include graph has no cycle, and no file includes a header of a module that comes after
  its own in the layer order that docs/hacking.md states; every header is enclosed in one
  include guard.
- No function body is longer than FUNCTION_LINES lines and no .c file longer than FILE_LINES.
- No block of DUP_LINES or more significant lines stands twice (white space folded, comments
  and lone punctuation passed over).

Deliberate standalone programs (ap-exec, which has no libc) are left out of the size and
repetition rules. Prints one "ok - " or "FAIL - " line per check and closes with
"N passed, N failed"; exits 1 when a check failed.

Usage: tests/structure.py [ROOT]   (ROOT: the checkout, default: this file's parent's parent)
"""
import os
import re
import sys

FUNCTION_LINES = 120
FILE_LINES = 900
DUP_LINES = 6
STANDALONE = {"appliance/sandbox/exec/ap-exec.c"}
LAYER_LINE = re.compile(r"Layer order \(a module may use only those before it\):\s*([a-z, ]+)\.")

passed = 0
failed = 0


def ok(what):
    global passed
    passed += 1
    print("ok - " + what)


def bad(what, details):
    global failed
    failed += 1
    print("FAIL - " + what)
    for d in details[:40]:
        print("#   " + d)
    if len(details) > 40:
        print("#   (+%d more)" % (len(details) - 40))


def sources(root):
    out = []
    for dirpath, _, files in os.walk(os.path.join(root, "appliance")):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return sorted(out)


def module_of(rel):
    parts = rel.split("/")
    # appliance/main.c is the verb dispatch: it stands with cmd/.
    return "cmd" if len(parts) == 2 else parts[1]


def layer_order(root):
    path = os.path.join(root, "docs", "hacking.md")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        return None, "docs/hacking.md cannot be read (%s)" % e.strerror
    m = LAYER_LINE.search(" ".join(text.split()))
    if not m:
        return None, "docs/hacking.md states no line 'Layer order (a module may use only those before it): a, b, c.'"
    return [w.strip() for w in m.group(1).split(",") if w.strip()], None


def includes(root, rel):
    """The project files REL includes with #include "...", as paths relative to ROOT."""
    out = []
    here = os.path.dirname(rel)
    for n, line in enumerate(open(os.path.join(root, rel), encoding="utf-8"), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        target = os.path.normpath(os.path.join(here, m.group(1)))
        if not os.path.exists(os.path.join(root, target)):
            # The build adds appliance/ to the search path nowhere: a name that does not
            # resolve beside the file is a generated or system header.
            continue
        out.append((n, target))
    return out


def check_includes(root, files):
    order, why = layer_order(root)
    if order is None:
        bad("the layer order is stated in docs/hacking.md", [why])
        return
    ok("the layer order is stated in docs/hacking.md (%s)" % ", ".join(order))
    rank = {m: i for i, m in enumerate(order)}
    graph = {}
    against = []
    unknown = set()
    for rel in files:
        graph[rel] = [t for _, t in includes(root, rel)]
        src = module_of(rel)
        if src not in rank:
            unknown.add(src)
            continue
        for n, t in includes(root, rel):
            dst = module_of(t)
            if dst in rank and rank[dst] > rank[src]:
                against.append("%s:%d includes %s (%s comes after %s)" % (rel, n, t, dst, src))
    if unknown:
        bad("every module is in the layer order", ["%s/ is not named" % m for m in sorted(unknown)])
    else:
        ok("every module is in the layer order")
    if against:
        bad("no include against the layer order", against)
    else:
        ok("no include against the layer order")
    # Cycles: a depth-first search that reports each back edge's loop once.
    state = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for f in files:
        if f not in state:
            visit(f, [])
    if cycles:
        bad("the include graph has no cycle", cycles)
    else:
        ok("the include graph has no cycle (%d files)" % len(files))
    # Modules use one another in one direction only (a cycle between modules, file by file).
    uses = {}
    for rel in files:
        for t in graph[rel]:
            a, b = module_of(rel), module_of(t)
            if a != b:
                uses.setdefault((a, b), "%s includes %s" % (rel, t))
    both = ["%s and %s" % (uses[(a, b)], uses[(b, a)]) for (a, b) in uses if a < b and (b, a) in uses]
    if both:
        bad("no two modules include each other", both)
    else:
        ok("no two modules include each other")


def strip_comments(text):
    """TEXT with comments blanked (not inside string and character literals), line structure kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(lines):
    """(name, first line, body lines) of each function defined in LINES (Linux brace style:
    the body opens with '{' and closes with '}' alone at the start of a line)."""
    out = []
    start = None
    for i, line in enumerate(lines):
        if line.rstrip() == "{" and start is None:
            j = i - 1
            while j >= 0 and lines[j].strip() and not re.match(r"[A-Za-z_]", lines[j]):
                j -= 1
            head = " ".join(l.strip() for l in lines[max(j, 0):i])
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", head)
            if m and not re.match(r"(struct|union|enum|typedef)\b", head):
                start = (m.group(1), i)
        elif line.startswith("}") and start is not None:
            out.append((start[0], start[1] + 1, i - start[1] - 1))
            start = None
    return out


def check_sizes(root, files):
    long_files = []
    long_functions = []
    for rel in files:
        if rel in STANDALONE or not rel.endswith(".c"):
            continue
        text = open(os.path.join(root, rel), encoding="utf-8").read()
        lines = text.split("\n")
        count = len(lines) - (1 if text.endswith("\n") else 0)
        if count > FILE_LINES:
            long_files.append("%s: %d lines" % (rel, count))
        for name, first, body in functions(strip_comments(text).split("\n")):
            if body > FUNCTION_LINES:
                long_functions.append("%s:%d %s: %d lines" % (rel, first, name, body))
    if long_files:
        bad("no .c file over %d lines" % FILE_LINES, long_files)
    else:
        ok("no .c file over %d lines" % FILE_LINES)
    if long_functions:
        bad("no function over %d lines" % FUNCTION_LINES, long_functions)
    else:
        ok("no function over %d lines" % FUNCTION_LINES)


def check_guards(root, files):
    """Each header is one include guard: its first directive is #ifndef G with #define G,
    and its last line is the #endif that closes it (nothing declared outside the guard)."""
    bad_guards = []
    for rel in files:
        if not rel.endswith(".h"):
            continue
        lines = [l.strip() for l in
                 strip_comments(open(os.path.join(root, rel), encoding="utf-8").read()).split("\n")]
        directives = [l for l in lines if l.startswith("#")]
        code = [l for l in lines if l]
        m = re.match(r"#\s*ifndef\s+(\w+)$", directives[0]) if directives else None
        if (not m or len(directives) < 2 or not re.match(r"#\s*define\s+%s$" % m.group(1), directives[1])
                or not code or not code[-1].startswith("#endif")):
            bad_guards.append("%s: not enclosed in one #ifndef/#define ... #endif guard" % rel)
            continue
        depth = 0
        for i, l in enumerate(code):
            if re.match(r"#\s*if", l):
                depth += 1
            elif l.startswith("#endif"):
                depth -= 1
                if depth == 0 and i != len(code) - 1:
                    bad_guards.append("%s: the guard closes before the end of the file" % rel)
                    break
    if bad_guards:
        bad("every header is enclosed in its include guard", bad_guards)
    else:
        ok("every header is enclosed in its include guard")


def check_repeats(root, files):
    seen = {}
    repeats = []
    for rel in files:
        if rel in STANDALONE:
            continue
        text = strip_comments(open(os.path.join(root, rel), encoding="utf-8").read())
        sig = []
        for n, line in enumerate(text.split("\n"), 1):
            folded = " ".join(line.split())
            if not folded or re.fullmatch(r"[{}();,\s]*|#\s*include.*|(else|do)\s*\{?", folded):
                continue
            sig.append((n, folded))
        reported_to = -1
        for i in range(len(sig) - DUP_LINES + 1):
            key = "\n".join(s for _, s in sig[i:i + DUP_LINES])
            where = (rel, sig[i][0], sig[i + DUP_LINES - 1][0])
            if key in seen and where[1] > reported_to:
                first = seen[key]
                if first[0] != rel or first[2] < where[1]:
                    repeats.append("%s:%d-%d ~ %s:%d-%d" % (rel, where[1], where[2], *first))
                    reported_to = where[2]
            seen.setdefault(key, where)
    if repeats:
        bad("no block of %d lines stands twice" % DUP_LINES, repeats)
    else:
        ok("no block of %d lines stands twice" % DUP_LINES)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = sources(root)
    if not files:
        bad("sources found", ["no .c or .h file under %s/appliance" % root])
    else:
        check_includes(root, files)
        check_sizes(root, files)
        check_guards(root, files)
        check_repeats(root, files)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
