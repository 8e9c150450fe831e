#!/usr/bin/env python3
"""Checks that every file, type and function a Markdown document names in backquotes exists.

usage: check_doc_names.py [--root DIR] [--list] DOC.md [DOC.md ...]

Meson runs it (suite 'unit') on ARCHITECTURE.md, so the project's map cannot name a file,
type or function that is not in the sources. Standard library only.

Which backquoted spans are names. Only inline code spans count (`like this`, on one line);
fenced code blocks are diagrams and examples, not claims. A trailing call, `Name()` or
`Name(args)`, is removed first. Then a span is:
  - a path when it has only letters, digits and . _ - / * and either holds a '/' or ends in
    a source extension (.h .cc .fbs .md .py .sh .json ...); it must name a file or folder
    under the root ('*' is a glob and must match something; a trailing '/' must be a folder;
    a bare file name must be some source file's base name);
  - a qualified name when it is identifiers joined by '::' (Brain::RunEpoch);
  - an identifier when it is one C++ identifier: a type, function, field, constant, macro
    or environment variable (Brain, Run(), epoch_ticks, kMaxTick, THALIA_CHECK);
  - anything else (several words, options, commands, expressions, placeholders like
    <name> or NAME.old) is prose and not checked. A placeholder must therefore not be a
    bare identifier: write <name>, not NAME.

What "exists" means. The sources are the files under the root, leaving out .git, Meson
build folders (those holding meson-private/ or meson-info/) and __pycache__.
Identifiers are looked for in the code of every text source that is not Markdown, with the
comments removed (// and /* */ in C++, FlatBuffers schemas and .in templates; # in Python,
shell and Meson files): a name that only a comment or a document mentions does not exist.
String literals stay (an environment variable's name lives in one).
This checker's own folder is left out too, since its tests name missing things on purpose.
  - An identifier exists when it occurs as a whole word in that code.
  - A qualified name A::...::Y::Z exists when every part is an identifier that exists and
    either the text "Y::Z" occurs in the code, or a source that declares Y (class, struct,
    union, enum, namespace, table) has Z in its code.

Exit status: 0 when every name exists, 1 when one does not (each is named with its document
and line), 2 for bad usage or a document with no names at all (a check that sees nothing
must not pass).
"""

import argparse
import fnmatch
import os
import re
import sys

SOURCE_EXTENSIONS = (
    ".h", ".hpp", ".cc", ".cpp", ".c", ".in", ".fbs", ".md", ".py", ".sh", ".json", ".txt",
    ".build",
)
C_LIKE = (".h", ".hpp", ".cc", ".cpp", ".c", ".in", ".fbs")
HASH_COMMENTS = (".py", ".sh", ".build", ".txt")

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
IDENT_RE = re.compile(IDENT)
WORD_RE = re.compile(r"\b" + IDENT + r"\b")
CALL_RE = re.compile(r"^(.*?)\s*\([^()]*\)$")
PATH_RE = re.compile(r"^[A-Za-z0-9_.*/-]+$")
QUALIFIED_RE = re.compile(r"^~?" + IDENT + r"(::~?" + IDENT + r")+$")
SINGLE_RE = re.compile(r"^" + IDENT + r"$")
SPAN_RE = re.compile(r"(`+)(.+?)\1")
FENCE_RE = re.compile(r"^\s*(```|~~~)")


def is_build_dir(path):
    return os.path.isdir(os.path.join(path, "meson-private")) or os.path.isdir(
        os.path.join(path, "meson-info"))


def source_files(root):
    """Every source file under root, as a path relative to root with '/' separators."""
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs
            if d not in (".git", "__pycache__") and not is_build_dir(os.path.join(folder, d)))
        for name in sorted(names):
            if name == ".git":
                continue
            rel = os.path.relpath(os.path.join(folder, name), root)
            files.append(rel.replace(os.sep, "/"))
    return files


def source_folders(files):
    folders = set()
    for f in files:
        parts = f.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    return folders


def strip_c_comments(text):
    """Removes // and /* */ comments, leaving string and character literals alone."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
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


def strip_hash_comments(text):
    """Removes # comments (outside quotes) from Python, shell and Meson text."""
    lines = []
    for line in text.split("\n"):
        quote = None
        cut = len(line)
        k = 0
        while k < len(line):
            c = line[k]
            if quote:
                if c == "\\":
                    k += 1
                elif c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "#":
                cut = k
                break
            k += 1
        lines.append(line[:cut])
    return "\n".join(lines)


def code_of(rel, text):
    base = rel.rsplit("/", 1)[-1]
    if base.endswith(C_LIKE):
        return strip_c_comments(text)
    if base.endswith(HASH_COMMENTS) or base == "meson.build" or text.startswith("#!"):
        return strip_hash_comments(text)
    return text


class Sources:
    """The source tree as the checks see it."""

    def __init__(self, root, skip_folder):
        self.root = root
        self.files = source_files(root)
        self.folders = source_folders(self.files)
        self.basenames = {f.rsplit("/", 1)[-1] for f in self.files}
        self.code = {}  # relative path -> code with comments removed
        for rel in self.files:
            if rel.endswith(".md") or (skip_folder and rel.startswith(skip_folder + "/")):
                continue
            try:
                with open(os.path.join(root, rel), "rb") as f:
                    raw = f.read()
                if b"\0" in raw:
                    continue
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            self.code[rel] = code_of(rel, text)
        self.words = set()
        for code in self.code.values():
            self.words.update(WORD_RE.findall(code))
        self._declarers = {}
        # The code with spaces around '::' removed, for finding "Owner::member" as text.
        self._joined = "\n".join(re.sub(r"\s*::\s*", "::", c) for c in self.code.values())

    def path_exists(self, span):
        path = span[2:] if span.startswith("./") else span
        want_folder = path.endswith("/")
        path = path.rstrip("/")
        if not path:
            return False
        if "*" in path:
            pool = self.folders if want_folder else set(self.files) | self.folders
            return any(fnmatch.fnmatchcase(p, path) for p in pool)
        if want_folder:
            return path in self.folders
        if "/" not in path:
            return path in self.basenames or path in self.folders
        return path in self.folders or path in set(self.files)

    def declarers(self, name):
        """Sources that declare `name` as a class, struct, union, enum, namespace or table."""
        if name not in self._declarers:
            decl = re.compile(
                r"\b(?:class|struct|union|enum(?:\s+class)?|table|namespace\s+(?:" + IDENT +
                r"::)*)\s*(?:\[\[[^\]]*\]\]\s*)?" + re.escape(name) + r"\b")
            self._declarers[name] = [rel for rel, code in self.code.items() if decl.search(code)]
        return self._declarers[name]

    def qualified_exists(self, span):
        parts = [p.lstrip("~") for p in span.split("::")]
        if not all(p in self.words for p in parts):
            return False
        owner, member = parts[-2], parts[-1]
        text = owner + "::" + member
        if re.search(r"(?<![A-Za-z0-9_])" + re.escape(text) + r"\b", self._joined):
            return True
        member_re = re.compile(r"\b" + re.escape(member) + r"\b")
        return any(member_re.search(self.code[rel]) for rel in self.declarers(owner))


def classify(span):
    """(kind, name) for a span that names something, or None for prose."""
    text = span.strip()
    called = False
    m = CALL_RE.match(text)
    if m and m.group(1):
        text, called = m.group(1), True
    if PATH_RE.match(text) and re.search(r"[A-Za-z]", text) and not text.startswith("-"):
        base = text.rstrip("/").rsplit("/", 1)[-1]
        if "/" in text or base.endswith(SOURCE_EXTENSIONS) or base == "meson.build":
            if not called:
                return ("path", text)
    if QUALIFIED_RE.match(text):
        return ("qualified name", text)
    if SINGLE_RE.match(text):
        return ("identifier", text)
    return None


def spans(doc_text):
    """(line number, span text) of every inline code span outside fenced blocks."""
    fenced = False
    for number, line in enumerate(doc_text.split("\n"), start=1):
        if FENCE_RE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for m in SPAN_RE.finditer(line):
            yield number, m.group(2)


def check(doc_path, doc_text, sources):
    """Returns (names checked, [(line, kind, name)] of those that do not exist)."""
    checked, missing = [], []
    for line, span in spans(doc_text):
        found = classify(span)
        if not found:
            continue
        kind, name = found
        if kind == "path":
            ok = sources.path_exists(name)
        elif kind == "qualified name":
            ok = sources.qualified_exists(name)
        else:
            ok = name in sources.words
        checked.append((line, kind, name, ok))
        if not ok:
            missing.append((line, kind, name))
    return checked, missing


def main(argv):
    parser = argparse.ArgumentParser(
        description="Checks that every file, type and function a Markdown document names in "
        "backquotes exists in the sources (the rule is in this script's header).")
    parser.add_argument("docs", nargs="+", metavar="DOC.md", help="documents to check")
    parser.add_argument("--root", default=".", help="the source tree (default: .)")
    parser.add_argument("--list", action="store_true", help="print every name checked")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"check_doc_names: --root {args.root}: not a folder", file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    skip = os.path.relpath(here, root).replace(os.sep, "/")
    sources = Sources(root, None if skip.startswith("..") else skip)
    status = 0
    for doc in args.docs:
        try:
            with open(doc, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            print(f"check_doc_names: {doc}: cannot read: {e}", file=sys.stderr)
            return 2
        checked, missing = check(doc, text, sources)
        if args.list:
            for line, kind, name, ok in checked:
                print(f"{doc}:{line}: {kind} {name}: {'found' if ok else 'NOT FOUND'}")
        if not checked:
            print(f"{doc}: no file, type or function names in backquotes: nothing was checked",
                  file=sys.stderr)
            status = max(status, 2)
            continue
        for line, kind, name in missing:
            where = "under " + root if kind == "path" else "in the code under " + root
            print(f"{doc}:{line}: {kind} `{name}` does not exist {where}", file=sys.stderr)
        if missing:
            status = max(status, 1)
        print(f"{doc}: {len(checked)} names checked, {len(missing)} missing")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
