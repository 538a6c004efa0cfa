#!/usr/bin/env python3
"""Checks a running mixed lab's TE databases, link direction by link direction (from and to
the same routers, the same TE metric and unreserved bandwidth at each of the eight
priorities):

- every mplamps router's `mplamps show te database --json` holds the same directions, those
  FRR routers advertise included: mplamps reads FRR's TE LSAs;
- every FRR router's `show ip ospf mpls-te database json` holds each direction an mplamps
  router advertises, as mplamps holds it: FRR reads ours as we mean them.

FRR 8.4's own TE database may lack some directions, or their attributes, depending on the
order it learned the LSAs in: for FRR routers' directions those are counted, not checked.
For ours the check waits up to 30 s for FRR's TE database; a direction still missing or bare
there after that counts as FRR's gap only when FRR's link-state database decodes our TE LSA
with that link (Link-ID, TE metric, unreserved bandwidth at priority 0); otherwise it fails.

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
    for e in ted["edges"]:
        a = e.get("edge-attributes", {})
        if e.get("remote-vertex-id") not in router:
            continue  # an edge whose far end FRR has not seen yet
        ends = (router[e["local-vertex-id"]], router[e["remote-vertex-id"]])
        if a.get("te-metric") is None and not a.get("unreserved-bandwidth"):
            continue  # an edge FRR keeps without its attributes
        unreserved = [list(u.values())[0] * 8 for u in a.get("unreserved-bandwidth", [])]
        links.append((*ends, a.get("te-metric"), unreserved))
    return links


def decoded_by_frr(namespace, link):
    """Whether FRR's link-state database shows the TE LSA of `link`'s advertising router
    with that link: its Link-ID, TE metric and unreserved bandwidth at priority 0."""
    frm, to, metric, unreserved = link
    text = run("vtysh", "-N", namespace, "-c",
               f"show ip ospf database opaque-area adv-router {frm}")
    for lsa in text.split("LS age:")[1:]:
        for block in lsa.split("Link: ")[1:]:
            lines = [l.strip() for l in block.splitlines()]
            bandwidth = next((l for l in lines if l.startswith("[0]:")), "")
            try:
                first = float(bandwidth.split()[1]) * 8
            except (IndexError, ValueError):
                continue
            if (f"Link-ID: {to}" in lines
                    and f"Traffic Engineering Metric: {metric}" in lines
                    and unreserved and same([first], unreserved[:1])):
                return True
    return False


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


def check(final):
    """(failures, FRR gaps among FRR routers' directions, directions of ours that FRR's TE
    database lacks though its LSDB decodes them; those only on the `final` try)."""
    reference = mplamps_links(reference_router)
    failures = []
    frr_gaps = 0
    lacking = 0
    for r in routers:
        if r["implementation"] == "frr":
            links = frr_links(r["namespace"])
            frr_gaps += sum(1 for l in reference if l[0] not in ours) - \
                sum(1 for l in links if l[0] not in ours)
            only_ref, only_here = differences([l for l in reference if l[0] in ours],
                                              [l for l in links if l[0] in ours])
            # A direction of ours FRR's TE database lacks but its LSDB decodes: its gap.
            if final:
                kept = [l for l in only_ref if not decoded_by_frr(r["namespace"], l)]
                lacking += len(only_ref) - len(kept)
                only_ref = kept
        else:
            only_ref, only_here = differences(reference, mplamps_links(r["name"]))
        if only_ref or only_here:
            failures.append(f"{r['name']} ({r['implementation']}): lacks {only_ref}, "
                            f"has besides {only_here} (against {reference_router})")
    return reference, failures, frr_gaps, lacking


deadline = time.monotonic() + 30
while True:
    final = time.monotonic() > deadline
    reference, failures, frr_gaps, lacking = check(final)
    if not failures or final:
        break
    time.sleep(2)
if failures:
    print("\n".join(failures))
    sys.exit(1)
mine = sum(1 for l in reference if l[0] in ours)
print(f"TE databases: {len(reference)} link directions on every mplamps router; the {mine} "
      f"that mplamps routers advertise alike in every FRR router's, but {lacking} that FRR's "
      f"TE database lacks while its LSDB decodes them ({frr_gaps} directions of FRR routers "
      f"missing from FRR's own TE databases)")
