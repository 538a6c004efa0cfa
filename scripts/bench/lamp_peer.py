"""The peer of `mplamps bench lamps`: lamp admission by power flow in pandapower.

A lamp may be switched on when a power flow with it on leaves every line and transformer
within its rating. This script does that check with `pandapower.runpp` on the same grid
the bench signals over, and prints one JSON object:

- latency: switch one lamp on (every other load off), run the power flow, check loadings;
- throughput: lamps switched on one after the other, each kept only when the power flow
  with it and every lamp kept so far stays within the ratings.

Argument: a JSON object {"grid", "latency_loads", "rounds", "lamps_per_load",
"max_lamps", "max_seconds"}; `latency_loads` are pandapower load indices.
"""

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pandapower as pp  # noqa: E402


def within_ratings(net):
    lines = net.res_line.loading_percent.fillna(0.0)
    trafos = net.res_trafo.loading_percent.fillna(0.0)
    return bool((lines <= 100.0).all() and (trafos <= 100.0).all())


def admitted(net):
    try:
        pp.runpp(net)
    except pp.LoadflowNotConverged:
        return False
    return within_ratings(net)


def main():
    args = json.loads(sys.argv[1])
    net = pp.from_json(args["grid"])
    full_power = net.load.p_mw.copy()
    full_reactive = net.load.q_mvar.copy()
    in_service = net.load.in_service.copy()

    # The first power flow compiles pandapower's numba kernels: not part of any figure.
    admitted(net)

    latency_ms = []
    net.load.in_service = False
    for _ in range(args["rounds"]):
        for index in args["latency_loads"]:
            started = time.perf_counter()
            net.load.at[index, "in_service"] = True
            admitted(net)
            latency_ms.append((time.perf_counter() - started) * 1e3)
            net.load.at[index, "in_service"] = False

    share = args["lamps_per_load"]
    net.load.in_service = in_service
    net.load.p_mw = 0.0
    net.load.q_mvar = 0.0
    kept = refused = 0
    started = time.perf_counter()
    for index in net.load.index[in_service]:
        for _ in range(share):
            if kept + refused >= args["max_lamps"]:
                break
            if time.perf_counter() - started > args["max_seconds"]:
                break
            net.load.at[index, "p_mw"] += full_power[index] / share
            net.load.at[index, "q_mvar"] += full_reactive[index] / share
            if admitted(net):
                kept += 1
            else:
                net.load.at[index, "p_mw"] -= full_power[index] / share
                net.load.at[index, "q_mvar"] -= full_reactive[index] / share
                refused += 1
    seconds = time.perf_counter() - started

    try:
        import numba  # noqa: F401

        with_numba = True
    except ImportError:
        with_numba = False
    json.dump(
        {
            "pandapower": pp.__version__,
            "numba": with_numba,
            "latency_ms": latency_ms,
            "lamps": kept + refused,
            "admitted": kept,
            "refused": refused,
            "seconds": seconds,
        },
        sys.stdout,
    )


main()
