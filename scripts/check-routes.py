#!/usr/bin/env python3
"""Checks a running lab: every router's regular-tree routes to the other routers' loopbacks
have the cost and the number of equal-cost next hops that `mplamps spf` computes from the
topology file, whichever implementation (mplamps or FRR) runs the router. With `--power`,
the mplamps routers' power-tree routes too (FRR has no power tree); power costs travel as
4-octet floats, so they agree to a relative 1e-3.

Routes follow the database after the SPF throttle's delay, so a lab whose databases just
became equal is given up to 15 s for its routes to follow.

Usage: check-routes.py MPLAMPS_BIN TOPOLOGY LAB_DIR [--power]
"""
import json
import subprocess
import sys
import time

binary, topology, lab = sys.argv[1:4]
trees = ["regular", "power"] if "--power" in sys.argv[4:] else ["regular"]


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout




def check():
    """Per router, a line of what was checked; and every route that is not as expected."""
    status = json.loads(run(binary, "lab", "status", "--dir", lab, "--json"))
    router_id = {r["router"]: r["router_id"] for r in status}
    lines, failures = [], []
    for r in status:
        name = r["router"]
        checked = 0
        for kind in trees:
            if kind == "power" and r["implementation"] == "frr":
                continue
            tree = json.loads(run(binary, "spf", topology, "--root", name, "--tree", kind,
                                  "--json"))
            expected = {
                f"{router_id[n['name']]}/32": (n["distance"], len(n["first_hops"]))
                for n in tree["nodes"]
            }
            if r["implementation"] == "frr":
                routes = json.loads(run("vtysh", "-N", r["namespace"], "-c",
                                        "show ip ospf route json"))
                actual = {
                    prefix: (route["cost"], len(route.get("nexthops", [])))
                    for prefix, route in routes.items()
                    if prefix in expected
                }
            else:
                routes = json.loads(
                    run(binary, "show", "--node", name, "--management", f"{lab}/{name}.sock",
                        "routes", "--tree", kind, "--json"))
                actual = {
                    route["prefix"]: (route["cost"], len(route["next_hops"]))
                    for route in routes
                    if route["prefix"] in expected
                }
            for prefix, want in sorted(expected.items()):
                got = actual.get(prefix)
                close = got is not None and abs(float(got[0]) - float(want[0])) <= 1e-3 * max(
                    1.0, abs(float(want[0])))
                if not close or got[1] != want[1]:
                    failures.append(f"{name} ({r['implementation']}, {kind} tree) to {prefix}: "
                                    f"has {got}, mplamps spf says cost {want[0]} over "
                                    f"{want[1]} next hops")
            checked += len(expected)
        lines.append(f"{name:<4} {r['implementation']:<8} {checked} routes checked")
    return lines, failures


deadline = time.monotonic() + 15
while True:
    lines, failures = check()
    if not failures or time.monotonic() > deadline:
        break
    time.sleep(1)
print("\n".join(lines))
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"every router's {' and '.join(trees)} routes equal `mplamps spf` on the file")
