#!/usr/bin/env python3
"""Tests of check_doc_names.py on small source trees built in a temporary folder."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_doc_names  # noqa: E402

TREE = {
    "kernel/widget.h": (
        "// Widget: GhostType is named only in this comment.\n"
        "#pragma once\n"
        "class [[nodiscard]] Widget {\n"
        " public:\n"
        "  void Spin();  /* NotCodeEither */\n"
        "  int spin_count = 0;\n"
        "};\n"
        "#define THALIA_FLAG 1\n"),
    "kernel/gadget.h": "struct Gadget {\n  int size;\n};\n",
    "kernel/widget.cc": '#include "kernel/widget.h"\nvoid Widget::Spin() { ++spin_count; }\n',
    "tools/run.py": "# CommentOnly is named only in this comment\nvalue_name = 'a # b'\n",
    "tools/meson.build": "# PurposeLine\nexecutable('x', 'x.cc')\n",
    "README.md": "The `DocOnlyName` type.\n",
    "build/meson-private/x": "",
    "build/generated.h": "class Generated {};\n",
}


class TreeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        for rel, text in TREE.items():
            path = os.path.join(self.root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        self.sources = check_doc_names.Sources(self.root, None)

    def tearDown(self):
        self.dir.cleanup()

    def missing(self, doc):
        checked, missing = check_doc_names.check("doc.md", doc, self.sources)
        self.assertTrue(checked, "the document named nothing the checker looks at")
        return [name for _, _, name in missing]


class ExistingNames(TreeTest):
    def test_existing_files_folders_and_globs_pass(self):
        doc = "`kernel/widget.h`, `kernel/`, `tools/run.py`, `kernel/*.h`, `widget.cc`, `meson.build`"
        self.assertEqual(self.missing(doc), [])

    def test_existing_types_functions_fields_and_macros_pass(self):
        doc = "`Widget`, `Spin()`, `Widget::Spin`, `spin_count`, `THALIA_FLAG`, `value_name`"
        self.assertEqual(self.missing(doc), [])

    def test_member_declared_in_the_owners_file_passes(self):
        self.assertEqual(self.missing("`Gadget::size`"), [])


class MissingNames(TreeTest):
    def test_missing_file_is_reported(self):
        self.assertEqual(self.missing("`kernel/nothing.h`"), ["kernel/nothing.h"])

    def test_missing_folder_is_reported(self):
        self.assertEqual(self.missing("`python/`"), ["python/"])

    def test_file_named_as_a_folder_is_reported(self):
        self.assertEqual(self.missing("`kernel/widget.h/`"), ["kernel/widget.h/"])

    def test_glob_that_matches_nothing_is_reported(self):
        self.assertEqual(self.missing("`schemas/*.fbs`"), ["schemas/*.fbs"])

    def test_missing_type_is_reported(self):
        self.assertEqual(self.missing("`NoSuchType`"), ["NoSuchType"])

    def test_missing_function_call_is_reported(self):
        self.assertEqual(self.missing("`NoSuchFunction(a, b)`"), ["NoSuchFunction"])

    def test_name_only_in_comments_is_reported(self):
        self.assertEqual(self.missing("`GhostType` `NotCodeEither` `CommentOnly` `PurposeLine`"),
                         ["GhostType", "NotCodeEither", "CommentOnly", "PurposeLine"])

    def test_name_only_in_markdown_is_reported(self):
        self.assertEqual(self.missing("`DocOnlyName`"), ["DocOnlyName"])

    def test_names_only_in_a_build_folder_are_reported(self):
        self.assertEqual(self.missing("`Generated` `build/generated.h`"),
                         ["Generated", "build/generated.h"])

    def test_member_of_another_type_is_reported(self):
        self.assertEqual(self.missing("`Gadget::Spin`"), ["Gadget::Spin"])

    def test_missing_member_is_reported(self):
        self.assertEqual(self.missing("`Widget::Turn`"), ["Widget::Turn"])

    def test_missing_name_is_reported_with_its_line(self):
        _, missing = check_doc_names.check("doc.md", "`Widget`\n\nsee `NoSuchType`\n", self.sources)
        self.assertEqual(missing, [(3, "identifier", "NoSuchType")])


class WhatIsNotAName(TreeTest):
    def test_prose_options_commands_and_placeholders_are_not_checked(self):
        doc = "`thalia run --until 2s` `--keep` `NAME.old` `tools/cmd_<name>.cc` `(tick, source)` `0.1`"
        checked, _ = check_doc_names.check("doc.md", doc, self.sources)
        self.assertEqual(checked, [])

    def test_fenced_blocks_are_not_checked(self):
        doc = "```\n`NoSuchType` kernel/nothing.h\n```\n"
        checked, _ = check_doc_names.check("doc.md", doc, self.sources)
        self.assertEqual(checked, [])


class CommandLine(TreeTest):
    def run_main(self, doc_text):
        doc = os.path.join(self.root, "DOC.md")
        with open(doc, "w", encoding="utf-8") as f:
            f.write(doc_text)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = check_doc_names.main(["--root", self.root, doc])
        return status, out.getvalue(), err.getvalue()

    def test_all_names_found_exits_zero(self):
        status, out, _ = self.run_main("`Widget` and `kernel/widget.h`\n")
        self.assertEqual(status, 0)
        self.assertIn("2 names checked, 0 missing", out)

    def test_missing_name_exits_one_naming_document_line_and_name(self):
        status, _, err = self.run_main("`Widget`\n`NoSuchType`\n")
        self.assertEqual(status, 1)
        self.assertIn("DOC.md:2: identifier `NoSuchType` does not exist", err)

    def test_document_without_names_exits_two(self):
        status, _, err = self.run_main("No names here, only `a few words`.\n")
        self.assertEqual(status, 2)
        self.assertIn("nothing was checked", err)


if __name__ == "__main__":
    unittest.main()
