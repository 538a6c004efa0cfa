#!/usr/bin/env python3
"""Measures labs of real routers (docs/BENCHMARKS.md, issue 24): for each lab, the time from
`mplamps lab up` returning to every adjacency Full, every database the same and, with LDP,
every session Operational (`lab status`, polled every 0.5 s), and the resident memory per
router (VmRSS of its processes and their children, summed). Needs root and FRR.

Usage: lab-bench.py MPLAMPS_BIN [--runs N] [--no-ldp] [--nodes 50]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1]
args = sys.argv[2:]
runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 2
nodes = int(args[args.index("--nodes") + 1]) if "--nodes" in args else 50
ldp = [] if "--no-ldp" in args else None


def run(*a, check=True):
    return subprocess.run(a, check=check, capture_output=True, text=True)


def rss_kib(pid):
    """VmRSS of `pid` and of its descendants (ldpd forks two), in KiB."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0
    children = run("ps", "-o", "pid=", "--ppid", str(pid), check=False).stdout.split()
    return total + sum(rss_kib(int(c)) for c in children)


def measure(topology, frr, label):
    results = []
    for _ in range(runs):
        d = tempfile.mkdtemp()
        os.chmod(d, 0o755)
        up = [binary, "lab", "up", topology, "--dir", d] + frr + (["--no-ldp"] if ldp == [] else [])
        t_up = time.monotonic()
        run(*up)
        t0 = time.monotonic()
        waited = run(binary, "lab", "status", "--dir", d, "--wait", "300", check=False)
        settled = time.monotonic() - t0 if waited.returncode == 0 else None
        state = json.load(open(f"{d}/lab.json"))
        per_router = [sum(rss_kib(p) for p in r["pids"]) for r in state["routers"]]
        run(binary, "lab", "down", "--dir", d)
        results.append((t0 - t_up, settled, sum(per_router) / len(per_router) / 1024))
    up_s = ", ".join(f"{u:.1f}" for u, _, _ in results)
    settle = ", ".join("did not settle" if s is None else f"{s:.2f}" for _, s, _ in results)
    rss = sum(m for _, _, m in results) / len(results)
    print(f"| {label} | {up_s} s | {settle} s | {rss:.1f} MiB |", flush=True)


with tempfile.TemporaryDirectory() as work:
    generated = f"{work}/g{nodes}.toml"
    run(binary, "generate", "--nodes", str(nodes), "--degree", "4", "--seed", "1",
        "-o", generated)
    print(f"LDP {'off' if ldp == [] else 'on'}, {runs} runs each")
    print("| lab | `lab up` took | then settled after | resident memory per router |")
    print("|---|---|---|---|")
    measure("examples/draft-area.toml", [], "draft area, mplamps only")
    measure("examples/draft-area.toml", ["--frr", "A,C,E"], "draft area, FRR A, C, E + mplamps B, D, F")
    measure("examples/draft-area.toml", ["--frr-all"], "draft area, FRR only")
    measure(generated, [], f"generated, mplamps only ({nodes} routers)")
    measure(generated, ["--frr-all"], f"generated, FRR only ({nodes} routers)")
