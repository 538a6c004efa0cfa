#!/usr/bin/env python3
"""Checks a running lab's RSVP-TE LSPs against the simulator on the same file: every LSP
`mplamps sim --json` brings up is up at its ingress in the lab (`mplamps show lsps --json`),
on the same path, and every node on it holds the same downstream label as the simulator's
report gives for that hop.

Waits (up to 60 s) for the lab's LSPs to come up. `--only NAME,...` checks those LSPs only:
an LSP up in the lab keeps its path when the file changes (nothing re-optimizes it), while
the simulator computes the changed file from the start.

Usage: check-lsps.py MPLAMPS_BIN TOPOLOGY LAB_DIR [--only NAME,...]
"""
import json
import subprocess
import sys
import time

binary, topology, lab = sys.argv[1:4]
only = sys.argv[5].split(",") if sys.argv[4:5] == ["--only"] else None
patience = 60.0


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def ask(router, *what):
    return json.loads(run(binary, "show", "--node", router, "--management",
                          f"{lab}/{router}.sock", *what, "--json"))


sim = json.loads(run(binary, "sim", topology, "--json"))
expected = [l for l in sim["lsps"] if l["state"] == "up" and (only is None or l["name"] in only)]
if not expected:
    sys.exit("the simulator brings no LSP up on this file: nothing to compare")
status = json.loads(run(binary, "lab", "status", "--dir", lab, "--json"))
# FRR runs no RSVP-TE here: an LSP through an FRR router is not up, and says so.
routers = [r["router"] for r in status if r["implementation"] == "mplamps"]
name_of = {r["router_id"]: r["router"] for r in status}


def problems():
    found = []
    held = {r: ask(r, "lsps") for r in routers}
    for lsp in expected:
        ingress = lsp["path"][0]
        tunnel = next((t for t in held.get(ingress, {"tunnels": []})["tunnels"]
                       if t["spec"]["name"] == lsp["name"]), None)
        if tunnel is None or tunnel["state"] != "up":
            found.append(f"{lsp['name']}: not up at {ingress} "
                         f"({tunnel and tunnel['state']}, {tunnel and tunnel['error']})")
            continue
        path = [name_of.get(a, a) for a in tunnel["path"]]
        if path != lsp["path"]:
            found.append(f"{lsp['name']}: path {path} in the lab, {lsp['path']} simulated")
            continue
        egress = tunnel["egress"]
        for hop in lsp["hops"]:
            at = hop["router"]
            labels = [h["in_label"] for h in held.get(at, {"lsps": []})["lsps"]
                      if h["session"]["endpoint"] == egress
                      and h["session"]["tunnel_id"] == tunnel["spec"]["tunnel_id"]
                      and h["sender"]["lsp_id"] == tunnel["spec"]["lsp_id"]]
            if labels != [hop["downstream_label"]]:
                found.append(f"{lsp['name']} at {at}: labels {labels} in the lab, "
                             f"{hop['downstream_label']} simulated")
    return found


deadline = time.monotonic() + patience
while True:
    found = problems()
    if not found or time.monotonic() > deadline:
        break
    time.sleep(1)
if found:
    print("\n".join(found))
    sys.exit(1)
hops = sum(len(l["hops"]) for l in expected)
print(f"RSVP-TE: {len(expected)} LSPs up on the simulator's paths, {hops} hops with its labels")
