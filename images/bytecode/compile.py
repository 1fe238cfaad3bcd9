"""Compiles an image's Python sources to bytecode, as apt's py3compile does at install time, but
deterministically: unchecked-hash .pyc instead of timestamped ones (an import uses the .pyc
without reading or hashing the source), optimisation level 0 only (as py3compile), one
process, files in sorted order.

Usage: python3.X -S compile.py [--root R] [--out O] DIR...

DIR is a path in the image (e.g. /usr/lib/python3.13); the image's tree is at R (default /)
while this runs. Each DIR/**/*.py is compiled with its image path as the code's file name and
written to O + importlib.util.cache_from_source(its image path) (O defaults to R): beside its
source in __pycache__ once O is installed at the image's root. Run it with PYTHONHASHSEED=0,
so that nothing in the output can follow string hashes. Sources that do not compile are listed
and make it exit 1.

The bytes depend on the interpreter, the sources and on what this process did before: whether
marshal writes a string constant as an interned, shared one can follow strings the process
interned earlier. The same interpreter on the same tree with the same arguments writes the same
bytes; a run in which this program's own imports come from .pyc instead of from source may
differ in a few files (functools, in Debian's python3.13).
"""
import argparse
import importlib.util
import os
import py_compile
import sys


def unreadable(e):
    raise e


def sources(top):
    for dirpath, dirnames, filenames in os.walk(top, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default="/")
    p.add_argument("--out")
    p.add_argument("dirs", nargs="+")
    a = p.parse_args()
    root = a.root.rstrip("/")
    out = (a.out if a.out is not None else a.root).rstrip("/")
    if sys.flags.hash_randomization:
        sys.exit("compile.py: set PYTHONHASHSEED=0, without -E or -I (the order of a set "
                 "constant may follow string hashes)")
    if sys.pycache_prefix is not None:
        sys.exit("compile.py: unset PYTHONPYCACHEPREFIX (the .pyc go to __pycache__)")
    done, failed = 0, []
    for d in a.dirs:
        if not d.startswith("/") or not os.path.isdir(root + d):
            sys.exit(f"compile.py: {d} is not a folder of the image")
        for src in sources(root + d):
            image_path = src[len(root):]
            cfile = out + importlib.util.cache_from_source(image_path)
            try:
                py_compile.compile(src, cfile=cfile, dfile=image_path, doraise=True, optimize=0,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except (py_compile.PyCompileError, OSError) as e:
                failed.append(f"{image_path}: {str(e).strip().splitlines()[-1]}")
                continue
            done += 1
    print(f"compiled {done} files in {', '.join(a.dirs)} ({sys.implementation.cache_tag}, "
          f"unchecked-hash, optimisation level 0)")
    for f in failed:
        print(f"does not compile: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
