#!/usr/bin/env python3
"""make-publish-wheels.py OUTDIR COUNT SIZE_MB PREFIX: COUNT valid pure wheels of about SIZE_MB each.

Each wheel `<PREFIX>NN-1.0-py3-none-any.whl` holds a stored (uncompressed) payload of random bytes
(random.Random(seed).randbytes, so the output is reproducible and incompressible) plus METADATA,
WHEEL and a RECORD with the right hashes, so `wheelwright check` passes. Stdlib only. Written
to a temporary name and renamed; existing wheels are kept.
"""

import base64
import hashlib
import os
import random
import sys
import zipfile

CHUNK = 1 << 20


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: make-publish-wheels.py OUTDIR COUNT SIZE_MB PREFIX")
    outdir, count, size_mb, prefix = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    os.makedirs(outdir, exist_ok=True)
    size = int(size_mb * 1e6)
    for i in range(count):
        name = f"{prefix}{i:02d}"
        path = os.path.join(outdir, f"{name}-1.0-py3-none-any.whl")
        if os.path.exists(path):
            continue
        dist_info = f"{name}-1.0.dist-info"
        rng = random.Random(f"{prefix}-{i}")
        record = []
        tmp = path + ".tmp"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            def add(arcname, data):
                z.writestr(zipfile.ZipInfo(arcname, (2020, 1, 1, 0, 0, 0)), data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{arcname},sha256={digest},{len(data)}")

            add(f"{name}/__init__.py", b"")
            info = zipfile.ZipInfo(f"{name}/payload.bin", (2020, 1, 1, 0, 0, 0))
            h = hashlib.sha256()
            with z.open(info, "w", force_zip64=size > 2**31) as f:
                left = size
                while left:
                    block = rng.randbytes(min(CHUNK, left))
                    f.write(block)
                    h.update(block)
                    left -= len(block)
            digest = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
            record.append(f"{name}/payload.bin,sha256={digest},{size}")
            add(f"{dist_info}/METADATA",
                f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: publish benchmark payload\n".encode())
            add(f"{dist_info}/WHEEL",
                b"Wheel-Version: 1.0\nGenerator: make-publish-wheels\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            record.append(f"{dist_info}/RECORD,,")
            z.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", (2020, 1, 1, 0, 0, 0)),
                       "\n".join(record) + "\n")
        os.replace(tmp, path)
        print(path)


if __name__ == "__main__":
    main()
