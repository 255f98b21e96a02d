#!/bin/sh
# build-libdemo.sh PREFIX: build and install libdemo into PREFIX.
#   PREFIX/lib/libdemo.so.1.0 (SONAME libdemo.so.1), libdemo.so.1 and
#   libdemo.so symlinks, PREFIX/include/demo.h.
# Honours CC (default gcc) and CFLAGS (default -O2). Safe to re-run.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$prefix/lib" "$prefix/include"
${CC:-gcc} ${CFLAGS:--O2} -fPIC -shared -Wl,-soname,libdemo.so.1 \
    -o "$prefix/lib/libdemo.so.1.0" "$here/demo.c"
ln -sf libdemo.so.1.0 "$prefix/lib/libdemo.so.1"
ln -sf libdemo.so.1 "$prefix/lib/libdemo.so"
cp "$here/demo.h" "$prefix/include/demo.h"
