#!/usr/bin/env python3
"""Checks a running lab's LDP: every router's bindings, read from `mplamps show ldp bindings
--json` or FRR's `show mpls ldp binding json` (the same shape), agree across every session:
the label a router holds from a peer for a prefix is the label that peer advertises for it,
whichever implementation runs either end. Also:

- FRR advertises no Power-SPF capability, so it holds no power label: every label an FRR
  router holds from an mplamps peer is that peer's regular label, and an mplamps router
  holds power labels only from mplamps peers (draft §2.4.3);
- sessions between two mplamps routers carry the capability, sessions with FRR do not.

Usage: check-ldp.py MPLAMPS_BIN LAB_DIR
"""
import json
import subprocess
import sys
import time

binary, lab = sys.argv[1:3]


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def bindings_of(r):
    if r["implementation"] == "frr":
        rows = json.loads(run("vtysh", "-N", r["namespace"], "-c",
                              "show mpls ldp binding json"))["bindings"]
        return [dict(row, tree="regular") for row in rows]
    return json.loads(run(binary, "show", "--node", r["router"], "--management",
                          f"{lab}/{r['router']}.sock", "ldp", "bindings", "--json"))["bindings"]


def sessions_of(r):
    if r["implementation"] == "frr":
        return json.loads(run("vtysh", "-N", r["namespace"], "-c",
                              "show mpls ldp neighbor json"))["neighbors"]
    return json.loads(run(binary, "show", "--node", r["router"], "--management",
                          f"{lab}/{r['router']}.sock", "ldp", "sessions", "--json"))["neighbors"]


def check():
    status = json.loads(run(binary, "lab", "status", "--dir", lab, "--json"))
    by_id = {r["router_id"]: r for r in status}
    bindings = {r["router_id"]: bindings_of(r) for r in status}
    # What each router advertises: (tree, prefix) -> its local label.
    local = {
        rid: {(b["tree"], b["prefix"]): b["localLabel"] for b in rows}
        for rid, rows in bindings.items()
    }
    failures, held = [], 0
    for rid, rows in bindings.items():
        me = by_id[rid]
        for b in rows:
            peer = b["neighborId"]
            if peer == "0.0.0.0" or b["remoteLabel"] == "-":
                continue
            held += 1
            if peer not in by_id:
                failures.append(f"{me['router']} holds a label from unknown {peer}")
                continue
            them = by_id[peer]
            advertised = local[peer].get((b["tree"], b["prefix"]))
            if b["tree"] == "power" and them["implementation"] == "frr":
                failures.append(f"{me['router']} holds a power label from FRR router "
                                f"{them['router']} for {b['prefix']}")
            elif advertised != b["remoteLabel"]:
                failures.append(
                    f"{me['router']} ({me['implementation']}) holds {b['remoteLabel']} from "
                    f"{them['router']} ({them['implementation']}) for {b['tree']} "
                    f"{b['prefix']}; {them['router']} advertises {advertised}")
    for r in status:
        if r["implementation"] != "mplamps":
            continue
        for s in sessions_of(r):
            peer = by_id.get(s["neighborId"])
            if peer is None:
                continue
            want = peer["implementation"] == "mplamps"
            if s["powerSpf"] != want:
                failures.append(f"{r['router']}'s session with {peer['router']} "
                                f"({peer['implementation']}): Power-SPF {s['powerSpf']}, "
                                f"expected {want}")
    return held, failures


deadline = time.monotonic() + 20
while True:
    held, failures = check()
    if not failures or time.monotonic() > deadline:
        break
    time.sleep(1)
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"LDP: {held} labels held across every session, each the one its peer advertises; "
      "no power label from or to FRR")
