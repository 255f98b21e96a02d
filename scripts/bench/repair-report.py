#!/usr/bin/env python3
"""Format scripts/bench-repair.sh's measurements (stdlib only).

    python3 scripts/bench/repair-report.py [--json] META.json STRESS.json BIG.json

META: {"stress": {"wheel", "size_bytes", "extensions"}, "big": {"wheel", "size_bytes", "elf_bytes",
"auditwheel_skipped"}, "import_check": {"ok", "modules", "detail"}}. STRESS and BIG are
scripts/bench/repair-timeit.py results with the tools "auditwheel" (absent from BIG when skipped),
"wheelwright", "floor" (sha256sum + cp) and "floor+fsync" (the same, then `sync FILE`); STRESS also
has "wheelwright --no-sbom".
Prints one line per wheel and one for the import check, or with --json the same numbers as one object.
"""

import json

from benchlib import report_args

RSS_TARGET_MB = 32


def secs(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.2g}" if x < 1 else f"{x:.3g}"


def mb(n_bytes):
    return f"{n_bytes / 1e6:.0f} MB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.1f} MB"


def size(n_bytes):
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else mb(n_bytes)


def rss_mb(kb):
    return f"{kb * 1024 / 1e6:.0f} MB"


def tool_json(r):
    keys = ("runs", "median", "min", "times", "rss_kb", "rss_kb_runs", "user_s", "sys_s", "output_bytes")
    out = {k: r[k] for k in keys if k in r}
    out["median_s"], out["min_s"], out["times_s"] = out.pop("median"), out.pop("min"), out.pop("times")
    return out


def section(meta, res):
    t = res["tools"]
    ww, floor, floor_sync = t["wheelwright"], t["floor"], t["floor+fsync"]
    aw = t.get("auditwheel")
    doc = {**meta,
           "wheelwright": tool_json(ww),
           "floor": tool_json(floor),
           "floor_fsync": tool_json(floor_sync),
           "ratio_wheelwright_to_floor": round(ww["median"] / floor["median"], 2),
           "ratio_wheelwright_to_floor_fsync": round(ww["median"] / floor_sync["median"], 2)}
    if aw:
        doc["auditwheel"] = tool_json(aw)
        doc["ratio_auditwheel_to_wheelwright"] = round(aw["median"] / ww["median"], 2)
    no_sbom = t.get("wheelwright --no-sbom")
    if no_sbom:
        doc["wheelwright_no_sbom"] = tool_json(no_sbom)
        doc["ratio_sbom_cost"] = round(ww["median"] / no_sbom["median"], 3)
    return doc


def main():
    as_json, (meta, stress, big) = report_args(3, __doc__)
    s_doc = section(meta["stress"], stress)
    b_doc = section(meta["big"], big)
    b_doc["rss_target_kb"] = RSS_TARGET_MB * 1000 * 1000 // 1024
    b_doc["rss_within_target"] = big["tools"]["wheelwright"]["rss_kb"] <= b_doc["rss_target_kb"]
    imp = meta["import_check"]

    if as_json:
        print(json.dumps({"stress": s_doc, "big": b_doc, "import_check": imp}, indent=2))
        return

    # Stress wheel.
    t = stress["tools"]
    aw, ww, fl, fs = t["auditwheel"], t["wheelwright"], t["floor"], t["floor+fsync"]
    print(
        f"repair, stress wheel ({size(s_doc['size_bytes'])}, {s_doc['extensions']} extensions): "
        f"auditwheel {secs(aw['median'])} s, wheelwright {secs(ww['median'])} s "
        f"(median of {ww['runs']}; min {secs(aw['min'])} s vs {secs(ww['min'])} s) "
        f"-> {aw['median'] / ww['median']:.1f}x faster; "
        f"floor (sha256sum+cp) {secs(fl['median'])} s -> wheelwright {ww['median'] / fl['median']:.1f}x floor "
        f"(floor+fsync {secs(fs['median'])} s -> {ww['median'] / fs['median']:.1f}x); "
        f"peak RSS {rss_mb(aw['rss_kb'])} vs {rss_mb(ww['rss_kb'])}"
    )
    ns = t["wheelwright --no-sbom"]
    print(
        f"repair, stress wheel: with the SBOM {secs(ww['median'])} s (min {secs(ww['min'])} s), "
        f"--no-sbom {secs(ns['median'])} s (min {secs(ns['min'])} s) -> {ww['median'] / ns['median']:.3f}x"
    )

    # Big wheel.
    t = big["tools"]
    aw, ww, fl, fs = t.get("auditwheel"), t["wheelwright"], t["floor"], t["floor+fsync"]
    head = f"repair, {size(b_doc['size_bytes'])} wheel (one {mb(b_doc['elf_bytes'])} ELF): "
    ww_part = f"wheelwright {secs(ww['median'])} s (median of {ww['runs']}, min {secs(ww['min'])} s)"
    floor_part = (f"floor {secs(fl['median'])} s -> {ww['median'] / fl['median']:.1f}x floor "
                  f"(floor+fsync {secs(fs['median'])} s -> {ww['median'] / fs['median']:.1f}x)")
    target = f"target <= {RSS_TARGET_MB} MB: {'met' if b_doc['rss_within_target'] else 'MISSED'}"
    if aw:
        print(f"{head}auditwheel {secs(aw['median'])} s (1 run), {ww_part} "
              f"-> {aw['median'] / ww['median']:.1f}x; {floor_part}; "
              f"peak RSS {rss_mb(aw['rss_kb'])} vs {rss_mb(ww['rss_kb'])} ({target})")
    else:
        print(f"{head}auditwheel skipped (BENCH_SKIP_AUDITWHEEL_BIG=1), {ww_part}; {floor_part}; "
              f"peak RSS wheelwright {rss_mb(ww['rss_kb'])} ({target})")

    mods = ", ".join(imp["modules"])
    if imp["ok"]:
        print(f"import check: {mods} import from wheelwright's repaired stress wheel in a fresh venv "
              f"without LD_LIBRARY_PATH: ok")
    else:
        print(f"IMPORT CHECK FAILED: {mods} from wheelwright's repaired stress wheel in a fresh venv "
              f"without LD_LIBRARY_PATH: {imp['detail']}")


if __name__ == "__main__":
    main()
