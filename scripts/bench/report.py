#!/usr/bin/env python3
"""Format scripts/bench-show.sh's measurements (stdlib only).

    python3 scripts/bench/report.py [--json] META.json STRESS.json CORPUS.json ABI3.json

META holds what was measured ({"stress": {"wheel", "size_bytes", "extensions"},
"corpus": {"wheels", "size_bytes"}, "abi3": {"wheels", "size_bytes"}}); STRESS and CORPUS are
scripts/bench/timeit.py results with the tools "auditwheel", "wheelwright" and "wheelwright
--no-verify"; ABI3 has "wheelwright", "wheelwright --no-abi3-audit" and "abi3audit". Prints the
table, or with --json the same numbers as one JSON object.
"""

import json

from benchlib import report_args


def secs(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def mb(n_bytes):
    return f"{n_bytes / 1e6:.1f} MB"


def rss_mb(kb):
    return f"{kb * 1024 / 1e6:.0f} MB"


def tool_json(r):
    out = {"median_s": r["median"], "min_s": r["min"], "times_s": r["times"]}
    for k in ("rss_kb", "user_s", "sys_s"):
        if k in r:
            out[k] = r[k]
    return out


def main():
    as_json, (meta, stress, corpus, abi3) = report_args(4, __doc__)
    aw, an, ao = (abi3["tools"][k] for k in ("wheelwright", "wheelwright --no-abi3-audit", "abi3audit"))
    audit_cost = aw["median"] / an["median"]

    sa, sw = stress["tools"]["auditwheel"], stress["tools"]["wheelwright"]
    sn = stress["tools"]["wheelwright --no-verify"]
    ca, cw = corpus["tools"]["auditwheel"], corpus["tools"]["wheelwright"]
    cn = corpus["tools"]["wheelwright --no-verify"]
    s_ratio = sa["median"] / sw["median"]
    c_ratio = ca["median"] / cw["median"]
    sn_ratio = sa["median"] / sn["median"]
    cn_ratio = ca["median"] / cn["median"]

    if as_json:
        doc = {
            "stress": {
                **meta["stress"],
                "runs": stress["runs"],
                "auditwheel": tool_json(sa),
                "wheelwright": tool_json(sw),
                "wheelwright_no_verify": tool_json(sn),
                "ratio_median": round(s_ratio, 2),
                "ratio_median_no_verify": round(sn_ratio, 2),
            },
            "corpus": {
                **meta["corpus"],
                "runs": corpus["runs"],
                "auditwheel": tool_json(ca),
                "wheelwright": tool_json(cw),
                "wheelwright_no_verify": tool_json(cn),
                "ratio": round(c_ratio, 2),
                "ratio_no_verify": round(cn_ratio, 2),
            },
            "abi3": {
                **meta["abi3"],
                "runs": abi3["runs"],
                "wheelwright": tool_json(aw),
                "wheelwright_no_abi3_audit": tool_json(an),
                "abi3audit": tool_json(ao),
                "audit_cost_ratio": round(audit_cost, 3),
                "abi3audit_ratio": round(ao["median"] / aw["median"], 2),
            },
        }
        print(json.dumps(doc, indent=2))
        return

    s, c = meta["stress"], meta["corpus"]
    print(
        f"show, stress wheel ({mb(s['size_bytes'])}, {s['extensions']} extensions): "
        f"auditwheel {secs(sa['median'])} s, wheelwright {secs(sw['median'])} s "
        f"(median of {stress['runs']}; min {secs(sa['min'])} s vs {secs(sw['min'])} s) "
        f"-> {s_ratio:.1f}x faster; peak RSS {rss_mb(sa['rss_kb'])} vs {rss_mb(sw['rss_kb'])}"
    )
    print(
        f"show --no-verify, stress wheel: wheelwright {secs(sn['median'])} s "
        f"(min {secs(sn['min'])} s) -> {sn_ratio:.1f}x faster; peak RSS {rss_mb(sn['rss_kb'])}"
    )
    print(
        f"show, corpus ({c['wheels']} wheels, {mb(c['size_bytes'])}): "
        f"auditwheel {secs(ca['median'])} s, wheelwright {secs(cw['median'])} s "
        f"-> {c_ratio:.1f}x faster"
    )
    print(
        f"show --no-verify, corpus: wheelwright {secs(cn['median'])} s -> {cn_ratio:.1f}x faster"
    )
    a = meta["abi3"]
    print(
        f"show, {a['wheels']} abi3 wheels ({mb(a['size_bytes'])}): wheelwright {secs(aw['median'])} s "
        f"with the abi3 audit, {secs(an['median'])} s without ({audit_cost:.2f}x); "
        f"abi3audit --strict {secs(ao['median'])} s (median of {abi3['runs']})"
    )


if __name__ == "__main__":
    main()
