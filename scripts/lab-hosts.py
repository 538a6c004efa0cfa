#!/usr/bin/env python3
"""Makes a topology ready for a data-plane lab: two hosts and a link to cut.

    lab-hosts.py MPLAMPS_BIN IN OUT

Writes OUT: IN with host h1 on the router with the longest power-tree path in hops to some
other router, h2 on that other router (each on the one port of a line card "HOSTS" added to
its router), and a FEC policy that puts h2's subnet on the power tree. Prints, as JSON,
{"src": "h1", "dst": "h2", "path": [links of h1's power path to h2], "cut": LINK} where
LINK is the first link of that path after the first (then the first) whose loss moves the
flow onto other routers, the path being a single one (no equal-cost split) with and
without it; "cut" is null when no link of the path does.
"""
import json
import os
import re
import subprocess
import sys
import tomllib

HOSTS = (("h1", "192.168.201.10/24"), ("h2", "192.168.202.10/24"))


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def spf(binary, topology, root):
    """Router name -> its node in `mplamps spf --tree power` from ROOT."""
    out = json.loads(run(binary, "spf", topology, "--root", root, "--tree", "power", "--json"))
    return {n["name"]: n for n in out["nodes"]}


def path(binary, topology, src, dst):
    """The links and routers from SRC to DST hop by hop, or None where the tree splits."""
    links, routers = [], [src]
    while routers[-1] != dst and len(routers) < 256:
        node = spf(binary, topology, routers[-1]).get(dst)
        if node is None or len(node["first_hops"]) != 1:
            return None
        hop = node["first_hops"][0]
        links.append(hop["link"])
        routers.append(hop["next_hop"])
    return links, routers


def with_line_card(text, router):
    """TEXT with a one-port line card "HOSTS" added at the end of ROUTER's table."""
    header = re.search(rf'^\[\[router\]\]\nname = "{re.escape(router)}"\n', text, re.M)
    if header is None:
        sys.exit(f"lab-hosts: router {router} not found as [[router]] then name = ...")
    following = re.compile(r"^\[(?!\[router\.linecard\]\])", re.M).search(text, header.end())
    at = following.start() if following else len(text)
    card = ('[[router.linecard]]\nname = "HOSTS"\nports = 1\nport_capacity = "10G"\n'
            'consumed_w = 10.0\navailable_w = 0.0\n\n')
    return text[:at] + card + text[at:]


def main():
    binary, source, out = sys.argv[1:4]
    with open(source) as f:
        text = f.read()
    model = tomllib.loads(text)
    names = sorted(r["name"] for r in model["router"])
    # The longest power path in hops (each tree's own, split nowhere), ties to the first names.
    best = None
    for root in names:
        nodes = spf(binary, source, root)
        for name in names:
            hops, at = 0, name
            while at != root and at in nodes and len(nodes[at]["parents"]) == 1:
                hops, at = hops + 1, nodes[at]["parents"][0]
            if at == root and (best is None or hops > best[0]):
                best = (hops, root, name)
    if best is None:
        sys.exit("lab-hosts: no two routers with a single power path between them")
    _, src_router, dst_router = best
    for router in (src_router, dst_router):
        text = with_line_card(text, router)
    text += "\n"
    for (name, address), router in zip(HOSTS, (src_router, dst_router)):
        text += f'[[host]]\nname = "{name}"\nport = "{router}:HOSTS:P1"\naddress = "{address}"\n\n'
    network = HOSTS[1][1].rsplit(".", 1)[0] + ".0/24"
    text += f'[[fec_policy]]\nprefix = "{network}"\ntree = "power"\n'
    with open(out, "w") as f:
        f.write(text)

    walk = path(binary, out, src_router, dst_router)
    if walk is None:
        sys.exit(f"lab-hosts: the power path {src_router} -> {dst_router} splits")
    links, routers = walk
    without = out + ".without"
    cut = None
    # A transit link first: its loss is learned by flooding, not at the ingress itself.
    for link in links[1:] + links[:1]:
        blocks = re.split(r"(?=^\[\[)", text, flags=re.M)
        kept = [b for b in blocks
                if not re.match(rf'\[\[link\]\]\nname = "{re.escape(link)}"\n', b)]
        with open(without, "w") as f:
            f.write("".join(kept))
        try:
            other = path(binary, without, src_router, dst_router)
        except subprocess.CalledProcessError:
            other = None  # the link was a bridge
        if other is not None and other[1] != routers:
            cut = link
            break
    os.unlink(without)
    print(json.dumps({"src": HOSTS[0][0], "dst": HOSTS[1][0], "src_router": src_router,
                      "dst_router": dst_router, "path": links, "routers": routers, "cut": cut}))


if __name__ == "__main__":
    main()
