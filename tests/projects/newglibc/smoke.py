"""Smoke test for an installed newglibc wheel (needs glibc >= 2.34 at run time, so: the host).

Prints `newglibc ok` and exits 0 when the extension imports and both calls work.
"""

import sys


def main():
    import newglibc._core as core

    assert core.close_nothing() == 0
    assert core.add(2, 3) == 5
    print("newglibc ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
