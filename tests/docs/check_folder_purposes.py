#!/usr/bin/env python3
"""Checks that every folder's meson.build says in its first line what the folder is for.

usage: check_folder_purposes.py [--root DIR]

ARCHITECTURE.md tells a newcomer to read the first line of a folder's meson.build; this keeps
that true. The rule: every meson.build under the root (the same source files check_doc_names.py
sees: no .git, no Meson build folders) starts with a '#' comment of at least three words.
Standard library only. Exit status: 0 when every one does, 1 naming each that does not, 2 when
there is no meson.build at all (a check that sees nothing must not pass).
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_doc_names  # noqa: E402

MIN_WORDS = 3


def first_line(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\n")


def without_purpose(root):
    """(meson.build files checked, [(file, its first line)] of those without a purpose line)."""
    builds = [f for f in check_doc_names.source_files(root) if f.rsplit("/", 1)[-1] == "meson.build"]
    bad = []
    for rel in builds:
        line = first_line(os.path.join(root, rel))
        if not line.startswith("#") or len(line.lstrip("#").split()) < MIN_WORDS:
            bad.append((rel, line))
    return builds, bad


def main(argv):
    parser = argparse.ArgumentParser(
        description="Checks that every meson.build starts with a comment line saying what its "
        "folder is for.")
    parser.add_argument("--root", default=".", help="the source tree (default: .)")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"check_folder_purposes: --root {args.root}: not a folder", file=sys.stderr)
        return 2
    builds, bad = without_purpose(root)
    if not builds:
        print(f"check_folder_purposes: no meson.build under {root}: nothing was checked", file=sys.stderr)
        return 2
    for rel, line in bad:
        print(f"{rel}:1: expected a comment saying what the folder is for, got: {line!r}", file=sys.stderr)
    print(f"{len(builds)} meson.build files checked, {len(bad)} without a purpose line")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
