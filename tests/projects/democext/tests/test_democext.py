import re
import unittest

import democext


class DemoCextTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(democext.add(2, 3), 5)
        self.assertEqual(democext.add(-7, 7), 0)

    def test_add_rejects_non_int(self):
        with self.assertRaises(TypeError):
            democext.add("2", 3)

    def test_libdemo_version(self):
        self.assertEqual(democext.libdemo_version(), "libdemo 1.0")

    def test_zlib_version(self):
        self.assertRegex(democext.zlib_version(), r"^1\.\d+(\.\d+)*")

    def test_imported_from_installation(self):
        # The suite is meant to run against the installed (repaired) wheel.
        self.assertIsNone(re.search(r"[/\\]src[/\\]democext[/\\]", democext.__file__))


if __name__ == "__main__":
    unittest.main()
