#!/usr/bin/env python3
"""Checks what the user-space data plane of a running lab carried between two hosts.

    check-dataplane.py MPLAMPS_BIN TOPOLOGY LAB_DIR SRC_HOST DST_HOST KIND [--lsp NAME]

KIND is the tree the FEC policy puts SRC_HOST's flow to DST_HOST on ("power" or
"regular"), or "lsp" with --lsp NAME: the RSVP-TE LSP it is steered into.

1. `ping -c 5` from SRC_HOST to DST_HOST succeeds.
2. In the lab's link captures (`lab up --pcap`), the echo requests crossed exactly the links
   of the path the tree gives (`mplamps spf --root R --tree KIND` at each router on the way),
   or of the LSP's path (`mplamps show lsps` at its ingress); the replies came back on the
   tree the FEC policy gives SRC_HOST's address (the regular tree without one). Every label
   the requests carried is from KIND's range (regular 16-99 999, power 100 000-199 999,
   RSVP-TE 200 000-299 999); the replies' from their tree's.
3. `traceroute` from SRC_HOST names the routers of that path (their router IDs: each answers
   Time Exceeded from its router ID, labeled ones with the label stack attached), then the
   host.
"""
import json
import re
import subprocess
import sys
import time
import tomllib

RANGES = {"regular": (16, 99_999), "power": (100_000, 199_999), "lsp": (200_000, 299_999)}


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def fail(message):
    print(f"data plane check failed: {message}")
    sys.exit(1)


def main():
    binary, topology, lab, src, dst, kind = sys.argv[1:7]
    lsp = sys.argv[sys.argv.index("--lsp") + 1] if "--lsp" in sys.argv else None
    if kind not in RANGES or (kind == "lsp") != (lsp is not None):
        fail("KIND is power, regular, or lsp with --lsp NAME")
    model = hosts_of(topology)
    src_host, dst_host = model[src], model[dst]

    ping = subprocess.run([binary, "lab", "exec", src, "--dir", lab, "ping", "-c", "5", "-i",
                           "0.2", "-W", "2", dst_host["ip"]], capture_output=True, text=True)
    received = re.search(r"(\d+) received", ping.stdout)
    if ping.returncode != 0 or not received or received.group(1) != "5":
        fail(f"ping {src} -> {dst}: {ping.stdout.strip()} {ping.stderr.strip()}")

    # Captures are written as the frames come: give dumpcap a moment to flush.
    time.sleep(1.5)
    seen = echoes(lab, src_host["ip"], dst_host["ip"])
    crossed = {what: {link for link, _ in seen[what]} for what in seen}
    if kind == "lsp":
        lsps = json.loads(run(binary, "show", "--node", src_host["router"], "--management",
                              f"{lab}/{src_host['router']}.sock", "lsps", "--json"))
        own = [t for t in lsps["tunnels"] if t["spec"]["name"] == lsp]
        if not own or own[0]["state"] != "up":
            fail(f"LSP {lsp} is not up at {src_host['router']}: {own}")
        by_id = {rid: name for name, rid in router_ids(topology).items()}
        routers = [by_id[rid] for rid in own[0]["path"]]
        links = lsp_links(topology, routers, crossed["requests"])
    else:
        routers, links = tree_path(binary, topology, src_host["router"], dst_host["router"],
                                   kind, crossed["requests"])
    back = reply_tree(topology, src_host["ip"])
    _, back_links = tree_path(binary, topology, dst_host["router"], src_host["router"],
                              back, crossed["replies"])
    for what, want_links, tree in [("requests", links, kind), ("replies", back_links, back)]:
        got = crossed[what]
        if got != set(want_links):
            fail(f"{src} -> {dst} echo {what} crossed {sorted(got)}, the {tree} path is "
                 f"{want_links}")
        low, high = RANGES[tree]
        labels = sorted({l for _, ls in seen[what] for l in ls})
        if any(not low <= l <= high for l in labels):
            fail(f"echo {what} carried labels {labels}, outside the {tree} range {low}-{high}")
        if not labels and len(want_links) > 1:
            fail(f"echo {what} carried no label over {len(want_links)} links")
        way = f"LSP {lsp}" if tree == "lsp" else f"the {tree} tree"
        print(f"{src} -> {dst} echo {what}: over {' '.join(want_links)} as {way} says, "
              f"labels {labels}")

    ids = router_ids(topology)
    want = [ids[r] for r in routers] + [dst_host["ip"]]
    hops = traceroute(binary, lab, src, dst_host["ip"], len(want) + 2)
    if hops != want:
        fail(f"traceroute {src} -> {dst}: {hops}, expected {want}")
    print(f"traceroute {src} -> {dst}: {' '.join(hops)}")


def model(topology):
    with open(topology, "rb") as f:
        return tomllib.load(f)


def hosts_of(topology):
    """Host name -> its address and router."""
    return {h["name"]: {"ip": h["address"].split("/")[0], "router": h["port"].split(":")[0]}
            for h in model(topology).get("host", [])}


def reply_tree(topology, src_ip):
    """The tree the FEC policy puts traffic to SRC_IP on: the most specific [[fec_policy]]
    without a rate threshold (the data plane does not meter flows) that holds it."""
    import ipaddress
    best = None
    for rule in model(topology).get("fec_policy", []):
        prefix = ipaddress.ip_network(rule["prefix"])
        if "min_rate" in rule or ipaddress.ip_address(src_ip) not in prefix:
            continue
        if best is None or prefix.prefixlen > best[0].prefixlen:
            best = (prefix, rule)
    if best is None:
        return "regular"
    if "lsp" in best[1]:
        fail(f"the replies to {src_ip} are steered into LSP {best[1]['lsp']}: not checked")
    return best[1].get("tree", "regular")


def router_ids(topology):
    """Router name -> router ID."""
    return {r["name"]: r["router_id"] for r in model(topology)["router"]}


def tree_path(binary, topology, src, dst, tree, crossed):
    """Routers and links from router src to router dst, each hop on its own tree. Where a
    router has equal-cost first hops, the flow hash picked one: the one among `crossed`
    (the links the flow was seen on), which must be exactly one of them."""
    routers, links = [src], []
    at = src
    while at != dst:
        spf = json.loads(run(binary, "spf", topology, "--root", at, "--tree", tree, "--json"))
        node = next((n for n in spf["nodes"] if n["name"] == dst), None)
        if node is None:
            fail(f"{dst} unreachable from {at} on the {tree} tree")
        hops = node["first_hops"]
        if len(hops) > 1:
            hops = [h for h in hops if h["link"] in crossed]
        if len(hops) != 1:
            fail(f"at {at} toward {dst} on the {tree} tree the flow was seen on "
                 f"{len(hops)} of the first hops {node['first_hops']}")
        links.append(hops[0]["link"])
        at = hops[0]["next_hop"]
        routers.append(at)
        if len(routers) > 64:
            fail("no end to the path")
    return routers, links


def lsp_links(topology, routers, crossed):
    """The links between consecutive routers of an LSP's path; of parallel links, the one
    the flow was seen on (`crossed`)."""
    between = {}
    for link in model(topology)["link"]:
        ends = frozenset(port.split(":")[0] for port in (link["a"], link["b"]))
        between.setdefault(ends, []).append(link["name"])
    out = []
    for x, y in zip(routers, routers[1:]):
        names = between.get(frozenset((x, y)), [])
        if len(names) > 1:
            names = [n for n in names if n in crossed]
        if len(names) != 1:
            fail(f"the flow was seen on {len(names)} of the links between {x} and {y}")
        out.append(names[0])
    return out


def echoes(lab, src_ip, dst_ip):
    """Per direction, the (link, labels) of every ICMP echo between the two hosts that the
    link captures hold."""
    import glob
    import os
    seen = {"requests": [], "replies": []}
    for pcap in glob.glob(f"{lab}/pcap/*.pcap"):
        if pcap.endswith(".node.pcap"):
            continue
        link = os.path.basename(pcap)[: -len(".pcap")]
        fields = run("tshark", "-r", pcap, "-Y", "icmp.type == 8 || icmp.type == 0", "-T",
                     "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type", "-e",
                     "mpls.label")
        for line in fields.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            s, d, t = parts[0], parts[1], parts[2]
            labels = [int(x) for x in parts[3].split(",") if x] if len(parts) > 3 else []
            if (s, d, t) == (src_ip, dst_ip, "8"):
                seen["requests"].append((link, labels))
            elif (s, d, t) == (dst_ip, src_ip, "0"):
                seen["replies"].append((link, labels))
    return seen


def traceroute(binary, lab, src, dst_ip, max_hops):
    out = run(binary, "lab", "exec", src, "--dir", lab, "traceroute", "-n", "-q", "1", "-w",
              "2", "-m", str(max_hops), dst_ip, check=False)
    hops = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:
            hops.append(parts[1])
            if parts[1] == dst_ip:
                break
    return hops


if __name__ == "__main__":
    main()
