#!/usr/bin/env bash
# The main job on the bundled example project (tests/projects/democext, a C extension that links
# the non-whitelisted libdemo and zlib): `wheelwright build` builds and repairs its wheels for
# x86_64 and i686 and every Python of the test bed's manylinux-like images (CPython 3.9, PyPy 3.7),
# with the engine it finds (auto: docker if a daemon answers, else podman); libdemo is installed
# in each container by --before-all. The build's test stage installs every repaired wheel into a
# fresh venv in the clean runtime image of its architecture (--test-image: no compiler, no libdemo,
# no LD_LIBRARY_PATH) and runs the project's tests there. Then `wheelwright show` audits one wheel.
#
#   scripts/example.sh
#
# The first run sets up the test bed (scripts/setup-dev.sh: podman, the images, ~9 minutes once).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

bash scripts/setup-dev.sh >&2
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
ww_podman_config

# A plain release build, as a user gets with cargo: it is dynamically linked, and `build` mounts it
# into the containers with its own loader and libraries for the repair step.
ww_log "building wheelwright (cargo build --release --locked)"
cargo build --release --locked --quiet --bin wheelwright
ww="${CARGO_TARGET_DIR:-$here/target}/release/wheelwright"

out="$here/target/example"
rm -rf "$out"
mkdir -p "$out"
# pip in the containers reaches the index through this machine's network and CA bundle (behind a
# proxy, this is what a user passes too). The pip frontend: Debian's PyPy 3.7 in these images
# cannot create the venv that `python -m build` isolates builds in. The images hold CPython 3.9
# and PyPy 3.7 (an end-of-life PyPy, built on request) and no musllinux: the selection says so.
ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
ww_log "wheelwright build tests/projects/democext -> $out/wheelhouse"
"$ww" build tests/projects/democext -o "$out/wheelhouse" \
    --archs x86_64,i686 --build 'cp39-* pp37-*' --skip '*-musllinux_*' --enable pypy-eol \
    --image-x86_64 "$WW_IMAGE_BUILD_AMD64_REF" --image-i686 "$WW_IMAGE_BUILD_I386_REF" \
    --before-all 'sh {project}/libdemo/build-libdemo.sh /usr/local' \
    --build-frontend pip \
    --test-command 'test ! -e /usr/local/lib/libdemo.so.1 && python -m unittest discover -s {project}/tests' \
    --test-image "x86_64=$WW_IMAGE_RUNTIME_AMD64_REF" --test-image "i686=$WW_IMAGE_RUNTIME_I386_REF" \
    --container-arg=--network=host --container-arg=-v \
    "--container-arg=$ca:/etc/ssl/certs/wheelwright-ca.crt:ro" \
    --environment PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt

shopt -s nullglob
wheels=("$out"/wheelhouse/*.whl)
((${#wheels[@]} == 4)) || ww_die "expected 4 wheels in $out/wheelhouse, found ${#wheels[@]}"

ww_log "wheelwright show $(basename "${wheels[0]}")"
"$ww" show "${wheels[0]}"
ww_log "done: ${#wheels[@]} repaired wheels in $out/wheelhouse, each tested in the runtime image (logs in $out/wheelhouse/logs/test-*.log)"
