"""Checks an image's shipped bytecode from inside the image (41-python-bytecode.sh runs it in
the sandbox with the image's own interpreter).

Usage: python3.X -S python-bytecode-check.py DIR...

For every source under each DIR, its .pyc (importlib.util.cache_from_source) must exist, carry
this interpreter's magic number, be unchecked-hash (flags 1), hold the hash of the source as it
is (importlib.util.source_hash) and a code object whose file name is the source's path. No .pyc
under DIR may be of an optimisation level above 0. Prints one JSON object with the counts and a
few examples of what failed.
"""
import importlib.util
import json
import marshal
import os
import sys


def main():
    n = {"sources": 0, "missing": 0, "bad_magic": 0, "not_unchecked": 0, "stale": 0,
         "wrong_filename": 0, "optimised": 0}
    examples = []

    def bad(kind, path):
        n[kind] += 1
        if len(examples) < 5:
            examples.append(f"{kind}: {path}")

    for top in sys.argv[1:]:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.endswith(".pyc") and ".opt-" in name:
                    bad("optimised", path)
                if not name.endswith(".py"):
                    continue
                n["sources"] += 1
                pyc = importlib.util.cache_from_source(path)
                try:
                    with open(pyc, "rb") as f:
                        data = f.read()
                except OSError:
                    bad("missing", pyc)
                    continue
                with open(path, "rb") as f:
                    source = f.read()
                if data[:4] != importlib.util.MAGIC_NUMBER:
                    bad("bad_magic", pyc)
                elif int.from_bytes(data[4:8], "little") != 1:
                    bad("not_unchecked", pyc)
                elif data[8:16] != importlib.util.source_hash(source):
                    bad("stale", pyc)
                elif marshal.loads(data[16:]).co_filename != path:
                    bad("wrong_filename", pyc)
    n["examples"] = examples
    print(json.dumps(n))


if __name__ == "__main__":
    main()
