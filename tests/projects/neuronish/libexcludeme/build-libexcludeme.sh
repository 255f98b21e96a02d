#!/bin/sh
# build-libexcludeme.sh PREFIX: build and install libexcludeme into PREFIX (like build-libdemo.sh).
#   PREFIX/lib/libexcludeme.so.1.0 (SONAME libexcludeme.so.1), libexcludeme.so.1 and
#   libexcludeme.so symlinks, PREFIX/include/excludeme.h.
# Honours CC (default gcc) and CFLAGS (default -O2). Safe to re-run.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$prefix/lib" "$prefix/include"
${CC:-gcc} ${CFLAGS:--O2} -fPIC -shared -Wl,-soname,libexcludeme.so.1 \
    -o "$prefix/lib/libexcludeme.so.1.0" "$here/excludeme.c"
ln -sf libexcludeme.so.1.0 "$prefix/lib/libexcludeme.so.1"
ln -sf libexcludeme.so.1 "$prefix/lib/libexcludeme.so"
cp "$here/excludeme.h" "$prefix/include/excludeme.h"
