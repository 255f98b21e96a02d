import unittest

import srcleak


class SrcLeakTest(unittest.TestCase):
    def test_value(self):
        self.assertEqual(srcleak.VALUE, 42)

    def test_source_only(self):
        # Importable only from the source tree: this test passes only when the tests import
        # the project directory instead of the installed wheel.
        import srcleak.source_only

        self.assertTrue(srcleak.source_only.HERE)


if __name__ == "__main__":
    unittest.main()
