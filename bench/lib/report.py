#!/usr/bin/env python3
"""Turn the raw figures of one bench/run into the table, JSON and chart.

usage: report.py WORKDIR OUT_BASE

WORKDIR holds results.txt ("target metric value repeat" lines),
failures.txt ("target workload repeat" lines), machine.json, params.json
and versions.txt ("target description" lines). Writes OUT_BASE.json,
OUT_BASE.png (through gnuplot, when it is installed) and prints the table.
"""
import json
import os
import statistics
import subprocess
import sys

TARGETS = ["local", "ceiling", "moosefs", "glusterfs", "ringfs"]
PEERS = ["moosefs", "glusterfs"]

# metric, workload, label, unit, True when higher is better
METRICS = [
    ("seq_write", "seq", "seq write 1 file, 1 MiB, fsync", "MB/s", True),
    ("seq_read", "seq", "seq read 1 file, cold", "MB/s", True),
    ("par_write", "par", "write 4 files in parallel", "MB/s", True),
    ("par_read", "par", "read 4 files in parallel", "MB/s", True),
    ("rand_read_4k", "rand", "random 4 KiB reads, QD1", "IOPS", True),
    ("meta_create", "meta", "create 4 KiB files", "files/s", True),
    ("meta_stat", "meta", "stat files", "files/s", True),
    ("meta_readdir", "meta", "readdir", "entries/s", True),
    ("meta_unlink", "meta", "unlink files", "files/s", True),
    ("untar", "untar", "untar source tree + syncfs", "s", False),
    ("rm_rf", "untar", "rm -rf source tree", "s", False),
    ("cli_put", "cli", "ringfs put | cp+sync", "MB/s", True),
    ("cli_get", "cli", "ringfs get+sync | cp+sync", "MB/s", True),
    ("seq_write_srv_cpu", "seq", "server CPU per MB written", "ms/MB", False),
    ("seq_write_client_cpu", "seq", "client CPU per MB written", "ms/MB",
     False),
]
COLORS = {"local": "#7f7f7f", "ceiling": "#bcbd22", "moosefs": "#1f77b4",
          "glusterfs": "#ff7f0e", "ringfs": "#d62728"}


def load_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def advantage(ringfs, other, higher):
    """ringfs's advantage over other: > 1 means ringfs is better."""
    if ringfs is None or other is None or ringfs <= 0 or other <= 0:
        return None
    return ringfs / other if higher else other / ringfs


def summarise(work):
    samples = {}
    for target, metric, value, rep in load_lines(os.path.join(work, "results.txt")):
        samples.setdefault((metric, target), []).append(
            {"repeat": int(rep), "value": float(value)})
    failures = [{"target": t, "workload": w, "repeat": int(r)}
                for t, w, r in load_lines(os.path.join(work, "failures.txt"))]
    failed = {(f["target"], f["workload"]) for f in failures}
    rows = []
    for metric, wl, label, unit, higher in METRICS:
        cells = {}
        for t in TARGETS:
            vals = [s["value"] for s in samples.get((metric, t), [])]
            if vals:
                cells[t] = {"median": statistics.median(vals),
                            "min": min(vals), "max": max(vals),
                            "samples": vals}
            elif (t, wl) in failed:
                cells[t] = {"failed": True}
        if not cells:
            continue
        med = {t: c.get("median") for t, c in cells.items()}
        peers = [(t, med[t]) for t in PEERS if med.get(t) is not None]
        best = None
        if peers:
            best = (max if higher else min)(peers, key=lambda p: p[1])
        r = med.get("ringfs")
        rows.append({
            "metric": metric, "workload": wl, "label": label, "unit": unit,
            "higher_is_better": higher, "targets": cells,
            "best_peer": best[0] if best else None,
            "ringfs_vs_best_peer": advantage(r, best[1], higher) if best else None,
            "ringfs_vs_ceiling": advantage(r, med.get("ceiling"), higher),
            "ringfs_vs_local": advantage(r, med.get("local"), higher),
        })
    return rows, failures


def cell_text(c):
    if c is None:
        return ""
    if c.get("failed"):
        return "FAIL"
    s = fmt(c["median"])
    if len(c["samples"]) > 1:
        s += " (%s-%s)" % (fmt(c["min"]), fmt(c["max"]))
    return s


def ratio_text(v):
    return "-" if v is None else "%.2fx" % v


def table(rows, targets):
    head = ["workload", "unit"] + targets + ["ringfs/best peer",
                                             "ringfs/ceiling", "ringfs/local"]
    lines = []
    for r in rows:
        line = [r["label"], r["unit"] + (" ^" if r["higher_is_better"] else " v")]
        line += [cell_text(r["targets"].get(t)) for t in targets]
        bp = ratio_text(r["ringfs_vs_best_peer"])
        if r["best_peer"] and r["ringfs_vs_best_peer"] is not None:
            bp += " " + r["best_peer"][:3]
        line += [bp, ratio_text(r["ringfs_vs_ceiling"]),
                 ratio_text(r["ringfs_vs_local"])]
        lines.append(line)
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    out = []
    for n, line in enumerate([head] + lines):
        out.append("  ".join(
            (c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]))
            for i, c in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def gnuplot(rows, targets, png, title):
    rows = [r for r in rows if any(
        "median" in r["targets"].get(t, {}) for t in targets)]
    if not rows:
        return False
    ncol = 4
    nrow = (len(rows) + ncol - 1) // ncol
    g = ["set terminal pngcairo size 1800,%d font 'sans,10'" % (330 * nrow + 60),
         "set output '%s'" % png,
         "set style fill solid 0.85 border -1",
         "set boxwidth 0.7", "set grid ytics", "set key off",
         "set multiplot layout %d,%d title \"%s\" font 'sans,13'"
         % (nrow, ncol, title.replace('"', "'"))]
    for i, r in enumerate(rows):
        pts = [(k, t, r["targets"][t]) for k, t in enumerate(targets)
               if "median" in r["targets"].get(t, {})]
        g.append("$d%d << EOD" % i)
        for k, t, c in pts:
            g.append("%d %g %g %g 0x%s" % (k, c["median"], c["min"], c["max"],
                                           COLORS[t][1:]))
        g.append("EOD")
        g.append("set title \"%s\\n(%s, %s is better)\"" % (
            r["label"].replace('"', "'"), r["unit"],
            "higher" if r["higher_is_better"] else "lower"))
        g.append("set xrange [-0.6:%f]" % (len(targets) - 0.4))
        g.append("set yrange [0:*]")
        g.append("set xtics (%s) font 'sans,9'" % ", ".join(
            '"%s" %d' % (t, k) for k, t in enumerate(targets)))
        g.append("set offsets 0, 0, graph 0.12, 0")
        g.append("plot $d%d using 1:2:5 with boxes lc rgb variable, "
                 "$d%d using 1:2:3:4 with yerrorbars lc rgb 'black' pt 0, "
                 "$d%d using 1:4:($2 >= 100 ? sprintf('%%.0f', $2) : "
                 "sprintf('%%.3g', $2)) with labels "
                 "offset 0,0.8 font 'sans,9'" % (i, i, i))
    g.append("unset multiplot")
    try:
        subprocess.run(["gnuplot"], input="\n".join(g) + "\n", text=True,
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        sys.stderr.write("report: gnuplot failed: %s\n" % err.strip()[-500:])
        return False
    return True


def main():
    work, base = sys.argv[1], sys.argv[2]

    def load_json(name):
        p = os.path.join(work, name)
        return json.load(open(p)) if os.path.exists(p) else {}

    machine = load_json("machine.json")
    params = load_json("params.json")
    versions = {l[0]: " ".join(l[1:]) for l in
                load_lines(os.path.join(work, "versions.txt"))}
    rows, failures = summarise(work)
    targets = [t for t in TARGETS if any(t in r["targets"] for r in rows)]
    with open("/proc/loadavg") as f:
        params["load_at_end"] = " ".join(f.read().split()[:3])
    doc = {"date": params.get("date"), "host": machine.get("hostname"),
           "machine": machine, "params": params, "versions": versions,
           "targets": targets, "results": rows, "failures": failures,
           "ratios_note": "ringfs/X > 1 means ringfs is better than X "
                          "(for times and CPU, X/ringfs is shown)"}
    with open(base + ".json", "w") as f:
        json.dump(doc, f, indent=1)
    mem = machine.get("memory_bytes", 0) / 2**30
    disk = machine.get("disk", {})
    mdesc = "%s cores (%s), %.1f GiB RAM, disk %s %s (%s), kernel %s, %s" % (
        machine.get("cores"), machine.get("cpu"), mem, disk.get("device"),
        disk.get("model"), disk.get("fs"), machine.get("kernel"),
        machine.get("distribution"))
    pdesc = ("size %s, rand %s for %ss, meta %sx%s files, repeats %s; "
             "load average %s at start, %s at end") % (
        params.get("size_h"), params.get("rand_size_h"),
        params.get("rand_secs"), params.get("meta_dirs"),
        params.get("meta_files"), params.get("repeats"),
        params.get("load_at_start", "?"), params.get("load_at_end"))
    chart = gnuplot(rows, targets, base + ".png",
                    "ringfs bench %s %s: %s" % (params.get("date"),
                                                machine.get("hostname"), mdesc))
    print("machine: " + mdesc)
    print("params:  " + pdesc)
    for t in targets:
        if t in versions:
            print("         %-9s %s" % (t, versions[t]))
    print()
    print(table(rows, targets))
    print()
    print("cells: median (min-max) over the repeats; ^ higher is better, "
          "v lower is better;")
    print("ratios: ringfs's advantage (>1 = ringfs better; for s and ms/MB "
          "the inverse); the best peer is the better of moosefs/glusterfs.")
    for f in failures:
        print("FAILED: %s %s (repeat %d)" % (f["target"], f["workload"],
                                             f["repeat"]))
    print("json:  " + base + ".json")
    print("chart: " + (base + ".png" if chart else "not made (no gnuplot)"))


if __name__ == "__main__":
    main()
