#!/usr/bin/env bash
# The main job on the bundled example project (tests/projects/democext, a C extension that links
# the non-whitelisted libdemo and zlib): `wheelwright build` builds and repairs its wheels for
# x86_64 and i686 and every Python of the test bed's manylinux-like images (CPython 3.9, PyPy 3.7),
# with the engine it finds (auto: docker if a daemon answers, else podman); libdemo is installed
# in each container by --before-all. Then `wheelwright show` audits one wheel, and every wheel is
# installed into a fresh venv in a clean runtime image (no compiler, no libdemo, no
# LD_LIBRARY_PATH) where the project's tests run.
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

# Static, so it runs here and is also what build containers mount for the repair step.
ww_log "building wheelwright (cargo build --release --target x86_64-unknown-linux-musl)"
# C dependencies (aws-lc) are compiled with musl-gcc (apt package musl-tools, from setup-dev.sh).
export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc}
cargo build --release --locked --quiet --target x86_64-unknown-linux-musl --bin wheelwright
ww="${CARGO_TARGET_DIR:-$here/target}/x86_64-unknown-linux-musl/release/wheelwright"

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
    --container-arg=--network=host --container-arg=-v \
    "--container-arg=$ca:/etc/ssl/certs/wheelwright-ca.crt:ro" \
    --environment PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt

shopt -s nullglob
wheels=("$out"/wheelhouse/*.whl)
((${#wheels[@]} == 4)) || ww_die "expected 4 wheels in $out/wheelhouse, found ${#wheels[@]}"

ww_log "wheelwright show $(basename "${wheels[0]}")"
"$ww" show "${wheels[0]}"

for wheel in "${wheels[@]}"; do
    name=$(basename "$wheel")
    case $name in
    *_x86_64.whl) image=$WW_IMAGE_RUNTIME_AMD64_REF platform=amd64 ;;
    *_i686.whl) image=$WW_IMAGE_RUNTIME_I386_REF platform=386 ;;
    *) ww_die "unexpected wheel $name" ;;
    esac
    case $name in
    *-cp39-*) python=/opt/python/cp39-cp39/bin/python ;;
    *-pp37-*) python=/opt/python/pp37-pypy37_pp73/bin/python ;;
    *) ww_die "unexpected wheel $name" ;;
    esac
    ww_log "testing $name in a fresh venv in $image"
    podman run --rm --network=none --arch "$platform" \
        -v "$wheel:/wheels/$name:ro" -v "$here/tests/projects/democext/tests:/tests:ro" \
        "$image" sh -c "set -e
            export PIP_DISABLE_PIP_VERSION_CHECK=1
            $python -m venv --without-pip /tmp/v
            $python -m pip --python /tmp/v/bin/python install --quiet --no-index --no-deps /wheels/$name
            mkdir /tmp/t && cp /tests/*.py /tmp/t/ && cd /tmp/t
            /tmp/v/bin/python -m unittest -q"
done
ww_log "done: ${#wheels[@]} repaired wheels in $out/wheelhouse, all tested"
