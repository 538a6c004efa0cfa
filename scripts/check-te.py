#!/usr/bin/env python3
"""Checks a running mixed lab's TE databases, link direction by link direction (from and to
the same routers, the same TE metric and unreserved bandwidth at each of the eight
priorities):

- every mplamps router's `mplamps show te database --json` holds the same directions, those
  FRR routers advertise included: mplamps reads FRR's TE LSAs;
- every FRR router's `show ip ospf mpls-te database json` holds each direction an mplamps
  router advertises, as mplamps holds it: FRR reads ours as we mean them.

FRR 8.4's own TE database may lack the attributes of some directions (it keeps their edges
without them, depending on the order it learned the LSAs in): for FRR routers' directions
those are counted, not checked; for ours, the check waits up to 30 s for FRR to fill them,
and an edge FRR still holds bare after that (while its database holds our LSA: the lab's
databases are equal) is counted as FRR's gap, not ours. An edge missing altogether, or held
with other values, fails.

FRR gives bandwidths in bytes per second as 4-octet floats; they are compared in bits per
second to a relative 1e-6.

Usage: check-te.py MPLAMPS_BIN LAB_DIR
"""
import json
import subprocess
import sys
import time

binary, lab = sys.argv[1:3]


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def frr_links(namespace):
    ted = json.loads(run("vtysh", "-N", namespace, "-c", "show ip ospf mpls-te database json"))["ted"]
    router = {v["vertex-id"]: v["router-id"] for v in ted["vertices"]}
    links = []
    bare = []
    for e in ted["edges"]:
        a = e.get("edge-attributes", {})
        if e.get("remote-vertex-id") not in router:
            continue  # an edge whose far end FRR has not seen yet
        ends = (router[e["local-vertex-id"]], router[e["remote-vertex-id"]])
        if a.get("te-metric") is None and not a.get("unreserved-bandwidth"):
            bare.append(ends)
            continue
        unreserved = [list(u.values())[0] * 8 for u in a.get("unreserved-bandwidth", [])]
        links.append((*ends, a.get("te-metric"), unreserved))
    return links, bare


def mplamps_links(router):
    rows = json.loads(run(binary, "show", "--node", router, "--management",
                          f"{lab}/{router}.sock", "te", "database", "--json"))
    return [(r["from"], r["to"], r["te_metric"], r["unreserved_bps"]) for r in rows]


def same(x, y):
    return len(x) == len(y) and all(abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)
                                    for a, b in zip(x, y))


def differences(mine, theirs):
    """What one list of links has that the other lacks, matched one to one."""
    left = list(theirs)
    missing = []
    for f, t, metric, unreserved in mine:
        match = next((k for k, (f2, t2, m2, u2) in enumerate(left)
                      if (f2, t2, m2) == (f, t, metric) and same(u2, unreserved)), None)
        if match is None:
            missing.append((f, t, metric, unreserved[:1]))
        else:
            left.pop(match)
    return missing, [(f, t, m, u[:1]) for f, t, m, u in left]


routers = json.load(open(f"{lab}/lab.json"))["routers"]
status = json.loads(run(binary, "lab", "status", "--dir", lab, "--json"))
ours = {r["router_id"] for r in status if r["implementation"] == "mplamps"}
reference_router = next(r["name"] for r in routers if r["implementation"] == "mplamps")


def check():
    """(failures, FRR gaps among FRR routers' directions, bare edges of ours in FRR)."""
    reference = mplamps_links(reference_router)
    failures = []
    frr_gaps = 0
    bare_ours = 0
    for r in routers:
        if r["implementation"] == "frr":
            links, bare = frr_links(r["namespace"])
            frr_gaps += sum(1 for l in reference if l[0] not in ours) - \
                sum(1 for l in links if l[0] not in ours)
            only_ref, only_here = differences([l for l in reference if l[0] in ours],
                                              [l for l in links if l[0] in ours])
            # A direction of ours FRR keeps as a bare edge: its gap, not a difference.
            bare_left = list(bare)
            kept = []
            for l in only_ref:
                if (l[0], l[1]) in bare_left:
                    bare_left.remove((l[0], l[1]))
                    bare_ours += 1
                else:
                    kept.append(l)
            only_ref = kept
        else:
            only_ref, only_here = differences(reference, mplamps_links(r["name"]))
        if only_ref or only_here:
            failures.append(f"{r['name']} ({r['implementation']}): lacks {only_ref}, "
                            f"has besides {only_here} (against {reference_router})")
    return reference, failures, frr_gaps, bare_ours


deadline = time.monotonic() + 30
while True:
    reference, failures, frr_gaps, bare_ours = check()
    if (not failures and bare_ours == 0) or time.monotonic() > deadline:
        break
    time.sleep(2)
if failures:
    print("\n".join(failures))
    sys.exit(1)
mine = sum(1 for l in reference if l[0] in ours)
print(f"TE databases: {len(reference)} link directions on every mplamps router; the {mine} "
      f"that mplamps routers advertise alike in every FRR router's, but {bare_ours} FRR keeps "
      f"bare ({frr_gaps} directions of FRR routers missing from FRR's own TE databases)")
