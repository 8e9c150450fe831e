#!/usr/bin/env python3
"""Tests of check_folder_purposes.py on small source trees built in a temporary folder."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_folder_purposes  # noqa: E402


class FolderPurposes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def run_main(self):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = check_folder_purposes.main(["--root", self.root])
        return status, err.getvalue()

    def test_folders_whose_first_line_says_their_purpose_pass(self):
        self.write("meson.build", "# The project: what it builds.\nproject('x')\n")
        self.write("kernel/meson.build", "# The kernel: ticks and regions.\n")
        self.assertEqual(self.run_main()[0], 0)

    def test_meson_build_without_a_comment_first_is_named(self):
        self.write("meson.build", "# The project: what it builds.\n")
        self.write("kernel/meson.build", "lib = static_library('k')\n# The kernel, too late.\n")
        status, err = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("kernel/meson.build:1:", err)

    def test_comment_too_short_to_say_anything_is_named(self):
        self.write("tools/meson.build", "# tools\n")
        status, err = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("tools/meson.build:1:", err)

    def test_build_folders_are_not_checked(self):
        self.write("meson.build", "# The project: what it builds.\n")
        self.write("build/meson-private/marker", "")
        self.write("build/sub/meson.build", "generated = true\n")
        self.assertEqual(self.run_main()[0], 0)

    def test_tree_without_meson_build_exits_two(self):
        self.write("README.md", "nothing to build\n")
        self.assertEqual(self.run_main()[0], 2)


if __name__ == "__main__":
    unittest.main()
