#!/bin/sh
# Runs the wheelwright binary for this machine (Linux x86_64 or aarch64) with the arguments given.
#
#   dist/wheelwright-launcher.sh ARGS...
#   dist/wheelwright-launcher.sh --launcher-cache   # prints prebuilt=, cache-dir=, cache-key=
#
# 0. WHEELWRIGHT_BINARY, when set, names the binary to run (a wheelwright built earlier in the
#    job, or the one under test); it must be an executable file.
# 1. On release refs, dist/ holds prebuilt static binaries (wheelwright-<arch>-linux-musl) and
#    dist/SHA256SUMS. The binary for this machine is checked against its line there and run; a
#    missing line or a mismatch is refused.
# 2. Otherwise wheelwright is built from the source around dist/ with
#    `cargo build --release --locked` (a plain, dynamically linked build: wheelwright carries its
#    loader and libraries into build containers itself) and the binary kept in a cache directory
#    keyed by a hash of Cargo.toml, Cargo.lock, build.rs, src/ and crates/ (the workspace
#    crates), so a source tree is built once per machine. `--launcher-cache` prints that
#    directory and an actions/cache key for it (GITHUB_OUTPUT syntax), so the action restores the
#    binary in every job of a run after the first and builds nothing.
#
# Environment:
#   WHEELWRIGHT_BINARY      run this binary instead (no checksum, no build)
#   WHEELWRIGHT_CACHE_DIR   where built binaries (and, unless CARGO_TARGET_DIR is set, the cargo
#                           target directory) live; default $RUNNER_TOOL_CACHE/wheelwright on
#                           runners, else ${XDG_CACHE_HOME:-$HOME/.cache}/wheelwright
#   CARGO_TARGET_DIR        honoured for the build
#
# Messages go to stderr; stdout is the binary's alone.
set -eu

die() {
    printf 'wheelwright-launcher: error: %s\n' "$*" >&2
    exit 1
}
note() { printf 'wheelwright-launcher: %s\n' "$*" >&2; }

here=$(cd "$(dirname "$0")" && pwd -P)
root=$(dirname "$here")

os=$(uname -s)
[ "$os" = Linux ] || die "wheelwright runs on Linux only, not on $os"
machine=$(uname -m)
case $machine in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
*) die "no wheelwright for $machine: x86_64 and aarch64 Linux are supported" ;;
esac

# sha256 of a file, or of stdin with "-".
sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -c1-64
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -c1-64
    else
        die "cannot verify wheelwright: neither sha256sum nor shasum is installed"
    fi
}

if [ -n "${WHEELWRIGHT_BINARY:-}" ]; then
    [ -f "$WHEELWRIGHT_BINARY" ] && [ -x "$WHEELWRIGHT_BINARY" ] ||
        die "WHEELWRIGHT_BINARY=$WHEELWRIGHT_BINARY is not an executable file"
    if [ "${1:-}" = --launcher-cache ]; then
        printf 'prebuilt=true\n'
        exit 0
    fi
    exec "$WHEELWRIGHT_BINARY" "$@"
fi

name=wheelwright-$arch-linux-musl
prebuilt=$here/$name
if [ -e "$prebuilt" ]; then
    sums=$here/SHA256SUMS
    [ -f "$sums" ] || die "dist/$name has no checksum (dist/SHA256SUMS is missing); refusing to run it"
    expected=$(awk -v f="$name" '{ n = $2; sub(/^\*/, "", n); if (n == f) { print $1; exit } }' "$sums")
    [ -n "$expected" ] || die "dist/SHA256SUMS has no line for $name; refusing to run it"
    actual=$(sha256 "$prebuilt")
    if [ "$actual" != "$expected" ]; then
        die "dist/$name does not match dist/SHA256SUMS (expected $expected, got $actual): the action's files are damaged or were tampered with; refusing to run it"
    fi
    [ -x "$prebuilt" ] || die "dist/$name is not executable"
    if [ "${1:-}" = --launcher-cache ]; then
        printf 'prebuilt=true\n'
        exit 0
    fi
    exec "$prebuilt" "$@"
fi

# Build from source.
for f in Cargo.toml Cargo.lock src; do
    [ -e "$root/$f" ] || die "no prebuilt wheelwright for $arch in dist/ and no source to build it from ($f missing next to dist/)"
done
key=$(
    cd "$root"
    extra=
    [ -f build.rs ] && extra=build.rs
    # The workspace crates of the pure core (crates/*), when the tree has them.
    [ -d crates ] && extra="$extra crates"
    # shellcheck disable=SC2086 # $extra is empty or plain names without spaces
    find Cargo.toml Cargo.lock src $extra -type f | LC_ALL=C sort | while IFS= read -r f; do
        printf '%s  %s\n' "$(sha256 "$f")" "$f"
    done | sha256 -
)
key=$(printf '%s' "$key" | cut -c1-16)

if [ -n "${WHEELWRIGHT_CACHE_DIR:-}" ]; then
    cache=$WHEELWRIGHT_CACHE_DIR
elif [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
    cache=$RUNNER_TOOL_CACHE/wheelwright
else
    cache=${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/wheelwright
fi
dir=$cache/wheelwright-$arch-$key
bin=$dir/wheelwright

if [ "${1:-}" = --launcher-cache ]; then
    printf 'prebuilt=false\ncache-dir=%s\ncache-key=wheelwright-launcher-linux-%s-%s\n' "$dir" "$arch" "$key"
    exit 0
fi

if [ ! -x "$bin" ]; then
    command -v cargo >/dev/null 2>&1 ||
        die "no prebuilt wheelwright for $arch in dist/, and cargo is not installed to build it from source (install Rust with rustup, or use a release tag of the action)"
    mkdir -p "$dir"
    # One build at a time per source tree (matrix jobs can share a self-hosted runner).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$dir/.lock"
        flock 9
    fi
    if [ ! -x "$bin" ]; then
        target=${CARGO_TARGET_DIR:-$cache/target}
        note "no prebuilt binary for $arch in dist/: building wheelwright from source (cargo build --release --locked), cached in $dir"
        started=$(date +%s)
        (
            unset CARGO_BUILD_TARGET
            CARGO_TARGET_DIR=$target cargo build --release --locked --manifest-path "$root/Cargo.toml" >&2
        ) || die "cargo build failed (see above)"
        cp "$target/release/wheelwright" "$bin.tmp.$$"
        mv -f "$bin.tmp.$$" "$bin"
        note "built wheelwright from source in $(($(date +%s) - started)) s"
    fi
    if command -v flock >/dev/null 2>&1; then
        exec 9>&-
    fi
fi
exec "$bin" "$@"
