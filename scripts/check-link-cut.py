#!/usr/bin/env python3
"""A link cut under a flow in a running lab: the flow moves to the new tree and what was
lost is counted.

    check-link-cut.py MPLAMPS_BIN TOPOLOGY LAB_DIR SRC_HOST DST_HOST TREE LINK

SRC_HOST pings DST_HOST 100 times a second for 12 s; 2 s in, LINK goes down (its interface
at its first end; the other end loses its carrier). The run fails unless the last second of
pings all came back and `traceroute` then names the routers of the TREE path that
`mplamps spf` gives on the file without LINK, and, once LINK is up again, the path on the
whole file. It prints how many echoes were lost, and how long the outage lasted at 10 ms a
ping.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib

RATE_HZ = 100
SECONDS = 12
CUT_AFTER_S = 2
# How long the flow may take to return once the link is back (OSPF adjacency, LDP).
RESTORE_S = 60


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def fail(message):
    print(f"link cut check failed: {message}")
    sys.exit(1)


def main():
    binary, topology, lab, src, dst, tree, link = sys.argv[1:8]
    with open(topology, "rb") as f:
        model = tomllib.load(f)
    hosts = {h["name"]: h for h in model.get("host", [])}
    ids = {r["name"]: r["router_id"] for r in model["router"]}
    links = [l["name"] for l in model["link"]]
    if link not in links:
        fail(f"no link {link} in {topology}")
    index = links.index(link)
    ends = [model["link"][index][end].split(":")[0] for end in ("a", "b")]
    dst_ip = hosts[dst]["address"].split("/")[0]
    src_router = hosts[src]["port"].split(":")[0]
    dst_router = hosts[dst]["port"].split(":")[0]

    count = RATE_HZ * SECONDS
    ping = subprocess.Popen(
        [binary, "lab", "exec", src, "--dir", lab, "ping", "-n", "-D", "-i",
         str(1 / RATE_HZ), "-c", str(count), "-W", "1", dst_ip],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(CUT_AFTER_S)
    # One end is set down; the other sees its carrier go, as when a cable is pulled.
    run(binary, "lab", "exec", ends[0], "--dir", lab, "ip", "link", "set", f"mpl{index}",
        "down")
    out, err = ping.communicate(timeout=SECONDS + 30)
    replies = sorted(int(m) for m in re.findall(r"icmp_seq=(\d+)", out))
    if not replies:
        fail(f"no echo came back: {out[-500:]} {err}")
    last_second = set(range(count - RATE_HZ + 1, count + 1))
    missing_at_end = sorted(last_second - set(replies))
    if missing_at_end:
        fail(f"{len(missing_at_end)} of the last {RATE_HZ} echoes lost: the flow did not "
             f"come back after {link} went down")
    lost = count - len(set(replies))

    # The tree without the link, as `mplamps spf` computes it from the file.
    with open(topology) as f:
        text = f.read()
    blocks = re.split(r"(?=^\[\[)", text, flags=re.M)
    kept = [b for b in blocks if not re.match(rf'\[\[link\]\]\nname = "{re.escape(link)}"\n', b)]
    if len(kept) != len(blocks) - 1:
        fail(f"could not take {link} out of a copy of {topology}")
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write("".join(kept))
        without = f.name
    try:
        routers = tree_path(binary, without, tree, src_router, dst_router)
    finally:
        os.unlink(without)
    want = [ids[r] for r in routers] + [dst_ip]
    hops = traced(binary, lab, src, dst_ip, len(want))
    if hops[: len(want)] != want:
        fail(f"after {link} went down, traceroute {src} -> {dst} is {hops}, the {tree} tree "
             f"without it is {want}")
    print(f"{link} down under a {RATE_HZ}/s flow {src} -> {dst}: {lost} of {count} echoes "
          f"lost (about {lost * 1000 // RATE_HZ} ms), then the flow took "
          f"{' '.join(routers)} as the {tree} tree without {link} says")

    # The link comes back: the flow returns to the tree of the whole file.
    run(binary, "lab", "exec", ends[0], "--dir", lab, "ip", "link", "set", f"mpl{index}", "up")
    routers = tree_path(binary, topology, tree, src_router, dst_router)
    want = [ids[r] for r in routers] + [dst_ip]
    deadline = time.monotonic() + RESTORE_S
    while (hops := traced(binary, lab, src, dst_ip, len(want)))[: len(want)] != want:
        if time.monotonic() > deadline:
            fail(f"{RESTORE_S} s after {link} came back, traceroute {src} -> {dst} is {hops}, "
                 f"the {tree} tree is {want}")
        time.sleep(1)
    print(f"{link} up again: the flow is back on {' '.join(routers)}")


def tree_path(binary, topology, tree, src_router, dst_router):
    """The routers from SRC_ROUTER to DST_ROUTER on TREE as `mplamps spf` computes it."""
    routers = [src_router]
    while routers[-1] != dst_router and len(routers) < 64:
        spf = json.loads(run(binary, "spf", topology, "--root", routers[-1], "--tree",
                             tree, "--json"))
        node = next(n for n in spf["nodes"] if n["name"] == dst_router)
        if len(node["next_hops"]) != 1:
            fail(f"{routers[-1]} has equal-cost next hops {node['next_hops']} to "
                 f"{dst_router} in {topology}")
        routers.append(node["next_hops"][0])
    return routers


def traced(binary, lab, src, dst_ip, length):
    """The addresses `traceroute` names from SRC to DST_IP."""
    trace = run(binary, "lab", "exec", src, "--dir", lab, "traceroute", "-n", "-q", "1",
                "-w", "2", "-m", str(length + 2), dst_ip, check=False)
    return [line.split()[1] for line in trace.splitlines()[1:] if len(line.split()) >= 2]


if __name__ == "__main__":
    main()
