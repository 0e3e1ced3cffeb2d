#!/usr/bin/env python3
"""bench/report.py: the table of `make bench`, from what bench/run measured.

    python3 bench/report.py .bench/meta .bench/raw.tsv

meta holds key=value lines (date, nproc, versions, ...); raw.tsv one line per
download: kind key wall_s bytes rows ttfb_s rss_before rss_max rss_after
hwm_before hwm_after ok cpu_s, where kind is A, D, B, C, X (key: the round), S
and SX (the size sweeps as CSV and as xlsx, key: rows), k (one of several
concurrent downloads), K (a batch of concurrent downloads, key: how many),
Y, N and M (the status slots On, Off and Off again, key: the round; cpu_s:
the serving child's CPU seconds, only for these and A and D). Memory is in kB
(/proc/PID/status), MB are 10^6 bytes. Prints the table; the exit status is
0 unless the input
cannot be read: missed targets are reported, not failed.
"""

import csv
import math
import statistics
import sys

TTFB_MAX_MS = 20.0
RATIO_AB_MAX = 1.1
RSS_GROWTH_MAX_KB = 2048
CONC_MIN = 1.5
LINEAR_TOLERANCE = 0.20   # rows/s of the big sizes within 20% of their median
# Issue 13, the workbook: time ratio xlsx/csv (aim and floor), first byte.
RATIO_XA_AIM = 1.5
RATIO_XA_MAX = 2.0
X_TTFB_MAX_MS = 50.0
# Issue 23: the shipped Location (A) against COPY (B), beside the bare one (D).
RATIO_AB_SHIPPED = 1.05


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def read_raw(path):
    with open(path) as f:
        return [dict(r) for r in csv.DictReader(f, delimiter="\t")]


def n(x):
    return f"{x:,.0f}"


def med(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan


def spread(xs, fmt):
    """median [min-max] of xs, each formatted with fmt."""
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "n/a"
    return f"{fmt(statistics.median(xs))} [{fmt(min(xs))}-{fmt(max(xs))}]"


def f2(x):
    return f"{x:.2f}"


def f1(x):
    return f"{x:.1f}"


def kint(x):
    return f"{x:,.0f}"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main():
    meta = read_meta(sys.argv[1])
    raw = read_raw(sys.argv[2])
    for r in raw:
        for k in ("wall", "bytes", "rows", "ttfb", "rss_before", "rss_max",
                  "rss_after", "hwm_before", "hwm_after", "cpu", "pgcpu"):
            r[k] = num(r[k])
    out = []
    p = out.append
    rows = int(meta["rows"])

    p("mod_orderstream benchmark (make bench)")
    p(f"date          {meta['date']}")
    p(f"cores         {meta['nproc']} (nproc); {meta['cpu']}; "
      f"load average at start {meta['loadavg']}")
    p(f"BENCH_ROWS    {n(rows)} order items; {meta['rounds']} rounds; "
      f"sweep up to {n(int(meta['sweep_max']))} rows")
    p(f"httpd         {meta['httpd']}, event MPM, 1 child x "
      f"{meta['threads']} threads, DBDMax {meta['dbdmax']}")
    p(f"PostgreSQL    {meta['postgresql']}; psql {meta['psql']}; "
      f"{meta['curl']}")
    p(f"JIT           {meta['jit']}")
    p(f"module        {meta['module']}")
    p("")

    # --- A B C -------------------------------------------------------------
    kinds = {k: [r for r in raw if r["kind"] == k] for k in "ADBCX"}
    names = {
        "A": "A HTTP export (curl)",
        "D": "D same SQL, bare",
        "B": "B psql \\copy",
        "C": "C static file (curl)",
        "X": "X the same as xlsx",
    }
    p(f"Shop export, {n(rows)} rows, interleaved A D B C X; "
      "median [min-max] of the rounds")
    p(f"  {'':22} {'wall s':>18} {'rows/s':>29} {'MB/s':>19} "
      f"{'first byte ms':>18}")
    for k in "ADBCX":
        if not kinds[k]:
            continue
        rs = kinds[k]
        p(f"  {names[k]:22} "
          f"{spread([r['wall'] for r in rs], f2):>18} "
          f"{spread([r['rows'] / r['wall'] for r in rs], kint):>29} "
          f"{spread([r['bytes'] / r['wall'] / 1e6 for r in rs], f1):>19} "
          f"{spread([r['ttfb'] * 1000 for r in rs], f1):>18}")
    p(f"  bytes: A and C {n(int(meta['size_c']))} (CRLF, the export's "
      f"default), B {n(int(meta['size_b']))} (COPY's LF); otherwise identical")
    if "size_x" in meta:
        sx, sc, sg = (int(meta[k]) for k in ("size_x", "size_c", "size_gz"))
        p(f"  X, the workbook: {n(sx)} bytes = {sx / sc:.3f} of the CSV, "
          f"{sx / sg:.2f}x the CSV gzipped at level 6 ({n(sg)})")
    p("  wall: the client process from start to exit (connection included); "
      "B's first byte: a separate")
    p("  psql COPY TO STDOUT read through a pipe (psql start, connection "
      "and its 4 KB stdio buffer included)")
    p("  A: /exports/orders.csv as conf/orderstream.conf ships it (bound "
      "parameters, formula guard, grouping, spool, status);")
    p("  D: its SQL with the parameters NULL in a bare Location (no guard, "
      "spool off, status off)")
    if kinds["A"] and kinds["D"] and kinds["A"][0].get("cpu") is not None:
        ca = med([r["cpu"] for r in kinds["A"]])
        cd = med([r["cpu"] for r in kinds["D"]])
        p(f"  the serving child's CPU s per download (median): A {ca:.2f}, "
          f"D {cd:.2f}, A/D {ca / cd if cd else math.nan:.3f}")
    xr = kinds["X"]
    if xr:
        p(f"  X, the serving child: VmRSS max {spread([r['rss_max'] for r in xr], kint)}"
          f" kB; one X download raised VmHWM by at most "
          f"{max(r['hwm_after'] - r['hwm_before'] for r in xr):,.0f} kB")
    a = kinds["A"]
    if a:
        p(f"  A, the serving child (pid {meta['child']}): VmRSS sampled every "
          f"50 ms during each download, max {spread([r['rss_max'] for r in a], kint)}"
          f" kB (before the first A: {kint(a[0]['rss_before'])} kB)")
        p(f"    VmHWM {kint(a[0]['hwm_before'])} kB before the first A, "
          f"{kint(a[-1]['hwm_after'])} kB after the last; one A download "
          f"raised it by at most "
          f"{max(r['hwm_after'] - r['hwm_before'] for r in a):,.0f} kB")
    p("")

    p(f"  {'round':>6} {'A s':>8} {'D s':>8} {'B s':>8} {'C s':>8} "
      f"{'X s':>8} {'A/B':>7} {'D/B':>7} {'A/D':>7} {'A/C':>7} {'X/A':>7}")
    ab, db, ad, ac, xa = [], [], [], [], []
    rounds = sorted({int(r["key"]) for r in raw
                     if r["kind"] in ("A", "D", "B", "C", "X")})
    by = {(r["kind"], int(r["key"])): r for r in raw
          if r["kind"] in ("A", "D", "B", "C", "X")}
    for i in rounds:
        wa = by.get(("A", i), {}).get("wall", math.nan)
        wd = by.get(("D", i), {}).get("wall", math.nan)
        wb = by.get(("B", i), {}).get("wall", math.nan)
        wc = by.get(("C", i), {}).get("wall", math.nan)
        wx = by.get(("X", i), {}).get("wall", math.nan)
        ab.append(wa / wb)
        db.append(wd / wb)
        ad.append(wa / wd)
        ac.append(wa / wc)
        xa.append(wx / wa)
        bad = [k for k in "ADBCX" if by.get((k, i), {}).get("ok") != "1"]
        p(f"  {i:>6} {wa:8.2f} {wd:8.2f} {wb:8.2f} {wc:8.2f} {wx:8.2f} "
          f"{wa / wb:7.3f} {wd / wb:7.3f} {wa / wd:7.3f} "
          f"{wa / wc:7.1f} {wx / wa:7.3f}"
          f"{'   INCOMPLETE: ' + ' '.join(bad) if bad else ''}")
    ab_med, db_med, ad_med = med(ab), med(db), med(ad)
    ac_med, xa_med = med(ac), med(xa)
    p(f"  {'median':>6} {'':8} {'':8} {'':8} {'':8} {'':8} {ab_med:7.3f} "
      f"{db_med:7.3f} {ad_med:7.3f} {ac_med:7.1f} {xa_med:7.3f}"
      "   (time ratios: below 1 means the first is faster)")
    p("")

    # --- parallel (issue 23) ---------------------------------------------
    pr = [r for r in raw if r["kind"] == "P"]
    qr = [r for r in raw if r["kind"] == "Q"]
    par_ratio = {}
    if pr:
        q_wall = {int(r["key"]): r["wall"] for r in qr}
        p(f"Parallel (OrderStreamParallel N, issue 23): the shop export's SQL, "
          f"N = 1 (bare, serial) to 4, then COPY; {meta.get('par_rounds', '?')} rounds")
        p(f"  {'N':>3} {'wall s':>18} {'COPY/wall':>10} {'first byte ms':>18} "
          f"{'peak VmRSS kB':>15} {'httpd CPU s':>12} {'PG CPU s':>9}")
        for nn in (1, 2, 3, 4):
            rs = [r for r in pr if r["key"].split(".")[0] == str(nn)]
            if not rs:
                continue
            ratios = [q_wall.get(int(r["key"].split(".")[1]), math.nan) / r["wall"]
                      for r in rs]
            par_ratio[nn] = med(ratios)
            p(f"  {nn:>3} {spread([r['wall'] for r in rs], f2):>18} "
              f"{par_ratio[nn]:10.3f} "
              f"{spread([r['ttfb'] * 1000 for r in rs], f1):>18} "
              f"{kint(max(r['rss_max'] for r in rs)):>15} "
              f"{med([r['cpu'] for r in rs]):12.2f} "
              f"{med([r['pgcpu'] for r in rs]):9.2f}")
        p(f"  COPY (B, same rounds): {spread([r['wall'] for r in qr], f2)} s; "
          "COPY/wall: per round, median; PG CPU: every process of the cluster")
        p("")

    # --- sweeps ------------------------------------------------------------
    def sweep(kind, title):
        sw = sorted((r for r in raw if r["kind"] == kind),
                    key=lambda r: r["rows"])
        if not sw:
            return [], math.nan, math.nan
        p(title)
        p("  one plan at every size: the planner does not see N, so no JIT; "
          f"after {meta.get('sweep_warmup', '?')} warm-up downloads of 10,000 rows)")
        p(f"  {'rows':>12} {'wall s':>8} {'rows/s':>11} {'s/M rows':>9} "
          f"{'MB/s':>7} {'first byte ms':>14} {'peak VmRSS kB':>14} "
          f"{'VmHWM after kB':>15}")
        for r in sw:
            p(f"  {n(r['rows']):>12} {r['wall']:8.2f} "
              f"{n(r['rows'] / r['wall']):>11} "
              f"{r['wall'] / r['rows'] * 1e6:9.2f} "
              f"{r['bytes'] / r['wall'] / 1e6:7.1f} {r['ttfb'] * 1000:14.1f} "
              f"{kint(r['rss_max']):>14} {kint(r['hwm_after']):>15}"
              f"{'' if r['ok'] == '1' else '   INCOMPLETE'}")
        big = [r for r in sw if r["rows"] >= 1000000] or sw[-2:]
        rates = [r["rows"] / r["wall"] for r in big]
        m = statistics.median(rates)
        dev = max(abs(x / m - 1) for x in rates)
        linear = dev <= LINEAR_TOLERANCE
        p(f"  time linear in rows: {'yes' if linear else 'NO'} (rows/s from "
          f"{n(big[0]['rows'])} rows up within {dev * 100:.0f}% of their "
          f"median {n(m)}; tolerance {LINEAR_TOLERANCE * 100:.0f}%)")
        tt = [r["ttfb"] * 1000 for r in sw]
        p(f"  first byte: {tt[0]:.1f} ms at {n(sw[0]['rows'])} rows, "
          f"{tt[-1]:.1f} ms at {n(sw[-1]['rows'])}; min {min(tt):.1f}, "
          f"max {max(tt):.1f} ms")
        growth = sw[-1]["rss_max"] - sw[0]["rss_max"]
        hwm_growth = sw[-1]["hwm_after"] - sw[0]["hwm_before"]
        p(f"  peak VmRSS growth {n(sw[0]['rows'])} -> {n(sw[-1]['rows'])} "
          f"rows: {growth:+,.0f} kB ({kint(sw[0]['rss_max'])} -> "
          f"{kint(sw[-1]['rss_max'])}); VmHWM over the whole sweep "
          f"{hwm_growth:+,.0f} kB")
        p("")
        return sw, max(tt), growth

    sw, ttfb_sweep_max, rss_growth = sweep(
        "S", "Size sweep: A on /bench/generated.csv?n=N (N shop-like rows that "
        "PostgreSQL generates; one download each;")
    swx, x_ttfb_sweep_max, x_rss_growth = sweep(
        "SX", "Size sweep as xlsx: /bench/generated.csv?n=N&format=xlsx "
        "(the same rows; 1,048,575 a sheet;")

    # --- concurrency -------------------------------------------------------
    kk = sorted((r for r in raw if r["kind"] == "K"), key=lambda r: r["rows"])
    p(f"Concurrency: simultaneous downloads of /exports/orders.csv "
      f"({n(rows)} rows each)")
    p(f"  {'clients':>7} {'wall s':>8} {'aggregate rows/s':>17} "
      f"{'x one':>6} {'per download rows/s':>28} {'max first byte ms':>18} "
      f"{'peak VmRSS kB':>14}")
    one = None
    ratio4 = math.nan
    for r in kk:
        level = int(r["key"])
        agg = r["rows"] / r["wall"]
        if level == 1:
            one = agg
        x = agg / one if one else math.nan
        if level == 4:
            ratio4 = x
        per = [s["rows"] / s["wall"] for s in raw
               if s["kind"] == "k" and int(s["key"]) == level]
        p(f"  {level:>7} {r['wall']:8.2f} {n(agg):>17} {x:6.2f} "
          f"{spread(per, kint):>28} {r['ttfb'] * 1000:18.1f} "
          f"{kint(r['rss_max']):>14}"
          f"{'' if r['ok'] == '1' else '   INCOMPLETE'}")
    for r in kk:
        level = int(r["key"])
        if f"conc_parallel_{level}" in meta:
            p(f"  {level:>7} clients: read as {meta[f'conc_parallel_{level}']}"
              f" (orderstream-parallel); 503s: "
              f"{meta.get(f'conc_503_{level}', '?')}")
    p("")

    # --- status slots on / off ----------------------------------------------
    st = {k: {int(r["key"]): r for r in raw if r["kind"] == k} for k in "YNM"}
    status_ratio = noise_lo = noise_hi = math.nan
    if all(st.values()):
        batches = int(meta["status_batches"])
        srows = int(meta["status_rows"])
        p(f"Status slots (OrderStreamStatus): {n(srows)} generated rows in "
          f"{n(batches)} batches of 100; On, Off and Off again in turn")
        p(f"  {'':22} {'wall s':>18} {'rows/s':>29} {'child CPU s':>18}")
        for label, k in (("On (slots written)", "Y"), ("Off", "N"),
                         ("Off again", "M")):
            rs = st[k].values()
            p(f"  {label:22} {spread([r['wall'] for r in rs], f2):>18} "
              f"{spread([r['rows'] / r['wall'] for r in rs], kint):>29} "
              f"{spread([r['cpu'] for r in rs], f2):>18}")
        p(f"  {'round':>6} {'On s':>7} {'Off s':>7} {'Off2 s':>7} "
          f"{'On/Off':>7} {'Off2/Off':>9} {'CPU On/Off':>11}")
        on_off, off2_off, cpu = [], [], []
        for i in sorted(set(st["Y"]) & set(st["N"]) & set(st["M"])):
            y, no, m = st["Y"][i], st["N"][i], st["M"][i]
            on_off.append(y["wall"] / no["wall"])
            off2_off.append(m["wall"] / no["wall"])
            cpu.append(y["cpu"] / no["cpu"] if no["cpu"] else math.nan)
            p(f"  {i:>6} {y['wall']:7.2f} {no['wall']:7.2f} {m['wall']:7.2f} "
              f"{on_off[-1]:7.3f} {off2_off[-1]:9.3f} {cpu[-1]:11.3f}")
        status_ratio = med(on_off)
        noise_lo, noise_hi = min(off2_off), max(off2_off)
        cpu_on = med([r["cpu"] for r in st["Y"].values()])
        cpu_off = med([r["cpu"] for r in st["N"].values()])
        p(f"  {'median':>6} {'':7} {'':7} {'':7} {status_ratio:7.3f} "
          f"{med(off2_off):9.3f} {med(cpu):11.3f}")
        wall_on = med([r["wall"] for r in st["Y"].values()])
        wall_off = med([r["wall"] for r in st["N"].values()])
        p(f"  per batch: wall {(wall_on - wall_off) / batches * 1e6:+.1f} us, "
          f"child CPU {(cpu_on - cpu_off) / batches * 1e6:+.1f} us "
          "(difference of the medians / batches; Off2/Off shows the noise)")
        p(f"  {meta.get('status_check', '')}")
        p("")

    # --- targets -----------------------------------------------------------
    a_ttfb = med([r["ttfb"] * 1000 for r in a])
    full = sw and sw[0]["rows"] <= 10000 and sw[-1]["rows"] >= 20000000
    rng = (f"{n(sw[0]['rows'])} -> {n(sw[-1]['rows'])}" if sw else "n/a")
    def target(label, measured, ok, note=""):
        p(f"  {label:36} {measured:44} {verdict(ok)}{note}")

    p("Targets (issues 6 and 16; reported, never failed on)")
    target(f"A/B median time ratio <= {RATIO_AB_MAX}", f"{ab_med:.3f}",
           ab_med <= RATIO_AB_MAX)
    if par_ratio:
        p2 = [r for r in pr if r["key"].startswith("2.")]
        target("COPY / parallel (N=2) >= 1.3 (issue 23)",
               f"{par_ratio.get(2, math.nan):.3f}", par_ratio.get(2, 0) >= 1.3)
        ttfb2 = max(r["ttfb"] * 1000 for r in p2) if p2 else math.nan
        target("parallel first byte <= 50 ms (issue 23)", f"max {ttfb2:.1f} ms",
               ttfb2 <= 50)
    target(f"A/B <= {RATIO_AB_SHIPPED} (issue 23, shipped)",
           f"{ab_med:.3f}; bare D/B {db_med:.3f}, A/D {ad_med:.3f}",
           ab_med <= RATIO_AB_SHIPPED)
    target(f"first byte <= {TTFB_MAX_MS:.0f} ms at every size",
           f"max {ttfb_sweep_max:.1f} ms over the sweep; A {a_ttfb:.1f} ms",
           ttfb_sweep_max <= TTFB_MAX_MS and a_ttfb <= TTFB_MAX_MS)
    target("peak RSS growth < 2 MB, 10k -> 20M", f"{rss_growth:+,.0f} kB ({rng} rows)",
           rss_growth < RSS_GROWTH_MAX_KB,
           "" if full else "  (not 10,000 -> 20,000,000: BENCH_SWEEP_MAX)")
    target(f"4 concurrent >= {CONC_MIN}x one", f"{ratio4:.3f}x",
           ratio4 >= CONC_MIN)
    target("status slots: On/Off within noise",
           f"{status_ratio:.3f}; Off2/Off {noise_lo:.3f}-{noise_hi:.3f}",
           noise_lo <= status_ratio <= noise_hi)
    p("")
    if xr:
        x_ttfb = med([r["ttfb"] * 1000 for r in xr])
        xrng = (f"{n(swx[0]['rows'])} -> {n(swx[-1]['rows'])}" if swx
                else "n/a")
        p("Targets (issue 13, the workbook; reported, never failed on)")
        target(f"X/A median time ratio <= {RATIO_XA_AIM} (aim)",
               f"{xa_med:.3f}", xa_med <= RATIO_XA_AIM)
        target(f"X/A median time ratio <= {RATIO_XA_MAX} (floor)",
               f"{xa_med:.3f}", xa_med <= RATIO_XA_MAX)
        target(f"xlsx first byte <= {X_TTFB_MAX_MS:.0f} ms",
               f"X {x_ttfb:.1f} ms; max {x_ttfb_sweep_max:.1f} ms over the sweep",
               x_ttfb <= X_TTFB_MAX_MS and x_ttfb_sweep_max <= X_TTFB_MAX_MS)
        target("xlsx peak RSS growth < 2 MB, 10k -> 20M",
               f"{x_rss_growth:+,.0f} kB ({xrng} rows)",
               x_rss_growth < RSS_GROWTH_MAX_KB)
        p("")
    incomplete = int(meta.get("incomplete", "0"))
    p(f"incomplete downloads: {incomplete}; orderstream errors logged: "
      f"{meta.get('errors', '?')}; serving child {meta['child']}"
      f"{'' if meta.get('child_after') == meta['child'] else ' REPLACED by ' + meta.get('child_after', '?')}")
    phases = ", ".join(f"{k} {float(meta['phase_' + k]):.0f}"
                       for k in ("setup", "rounds", "parallel", "sweep",
                                 "concurrency",
                                 "status")
                       if "phase_" + k in meta)
    p(f"total run time: {float(meta['total_s']):.0f} s ({phases})")
    print("\n".join(out))


if __name__ == "__main__":
    main()
