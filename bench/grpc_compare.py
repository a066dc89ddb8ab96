"""The gRPC half of bench/serving.py: Modelgate's gRPC port inside the serving processes and
beside them, the peers (KServe, MLServer) with gRPC on, and the ratios issue 12 asks for."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import grpc_serving
from serving_setup import MODELS

ROOT = Path(__file__).resolve().parents[1]
SERVING_BENCH = ROOT / "bench" / "serving.py"


PEER_NAMES = {"kserve": "KServe 0.21", "mlserver": "MLServer 1.7.1"}


def check_peers(parser, args) -> tuple[list[str], str]:
    """(peers to run, the TensorFlow site they import; "" when none runs), checked before the
    long REST measurement so a bad --peers fails at once."""
    peers = [name.strip() for name in args.peers.split(",") if name.strip()]
    if not args.grpc or not peers:
        return [], ""
    unknown = [name for name in peers if name not in PEER_NAMES]
    if unknown:
        parser.error(f"unknown --peers {unknown}; choose from {sorted(PEER_NAMES)}")
    try:
        return peers, grpc_serving.tf_site()
    except LookupError as exc:
        parser.error(str(exc))


def run_grpc(args, models, levels, key, grpc_port, server_pid, env, work) -> dict:
    """gRPC rows: (target, model, concurrency) -> result; plus memory per target."""
    payloads = {kind: grpc_serving.request_bytes(kind, MODELS[kind][0]) for kind in models}
    results: dict = {}

    def measure(target, port, api_key, only_levels=None):
        for kind in models:
            for c in only_levels or levels:
                r = grpc_serving.drive(port, payloads[kind], api_key, c, args.duration)
                results[(target, kind, c)] = r
                print(
                    f"  gRPC {target:18} {kind:5} c={c:<3} {r['rps']:8.0f} req/s  "
                    f"p50 {r['p50']:.2f} ms  errors {r['errors']}",
                    flush=True,
                )

    grpc_serving.wait_port(grpc_port, None)
    measure("Modelgate", grpc_port, key)
    results[("Modelgate", "rss_mb")] = grpc_serving.rss_mb(server_pid)
    # The alternative: gRPC beside the serving processes, in a process with its own pool.
    beside_port = grpc_serving.free_port()
    beside = subprocess.Popen(
        [sys.executable, str(SERVING_BENCH), "--grpc-standalone", str(beside_port)],
        cwd=ROOT,
        env={**os.environ, **env, "MODELGATE_POOL_AUTOSTART": "1"},
    )
    try:
        grpc_serving.wait_port(beside_port, beside)
        measure("Modelgate beside", beside_port, key, [c for c in levels if c == max(levels)])
        results[("Modelgate beside", "rss_mb")] = grpc_serving.rss_mb(beside.pid)
    finally:
        beside.terminate()
        beside.wait(10)
    paths = {kind: work / f"{kind}.keras" for kind in models}
    starters = {"kserve": grpc_serving.start_kserve, "mlserver": grpc_serving.start_mlserver}
    for peer in args.peer_names:
        peer_proc, peer_port = starters[peer](args.scratch, args.tf_site, paths)
        try:
            measure(PEER_NAMES[peer], peer_port, None)
            results[(PEER_NAMES[peer], "rss_mb")] = grpc_serving.rss_mb(peer_proc.pid)
        finally:
            peer_proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                peer_proc.wait(10)
            if peer_proc.poll() is None:
                peer_proc.kill()
    return results


def report_grpc(results, rest_rows, models, levels) -> None:
    targets = []
    for key in results:
        if key[0] not in targets:
            targets.append(key[0])
    print()
    print("gRPC, single-row ModelInfer (request bytes built by tritonclient.grpc):")
    print()
    print("| server | model | conc | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        for kind in models:
            for c in levels:
                r = results.get((target, kind, c))
                if r is not None:
                    print(
                        f"| {target} | {kind} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | "
                        f"{r['p95']:.2f} | {r['p99']:.2f} | {r['errors']} |"
                    )
    print()
    print(
        "Memory (RSS of the server's processes, MB): "
        + ", ".join(
            f"{t} {results[(t, 'rss_mb')]:.0f}" for t in targets if (t, "rss_mb") in results
        )
    )
    peers = [t for t in targets if not t.startswith("Modelgate")]
    top = max(levels)
    print()
    print("Ratios (targets from issue 12):")
    for kind in models:
        ours = results[("Modelgate", kind, top)]["rps"]
        if peers:
            best = max(results[(p, kind, top)]["rps"] for p in peers)
            print(
                f"- {kind}: gRPC c={top} {ours:.0f} req/s = {ours / max(best, 1):.2f}x the best "
                f"peer's gRPC ({best:.0f}); target >= 1.5x -> "
                f"{'MET' if ours >= 1.5 * best else 'MISSED'}"
            )
        for c in levels:
            rest = rest_rows[(kind, "batched", c)]["rps"]
            grpc_rps = results[("Modelgate", kind, c)]["rps"]
            print(
                f"- {kind}: c={c} gRPC {grpc_rps:.0f} vs REST {rest:.0f} req/s = "
                f"{grpc_rps / max(rest, 1):.2f}x; target >= 1x -> "
                f"{'MET' if grpc_rps >= rest else 'MISSED'}"
            )
        if ("Modelgate beside", kind, top) in results:
            beside = results[("Modelgate beside", kind, top)]["rps"]
            print(f"- {kind}: c={top} inside {ours:.0f} vs beside {beside:.0f} req/s")
    if 1 in levels and peers:
        for kind in models:
            ours = results[("Modelgate", kind, 1)]["p50"]
            best = min(results[(p, kind, 1)]["p50"] for p in peers)
            print(
                f"- {kind}: p50 at c=1 over gRPC {ours:.2f} ms vs best peer {best:.2f} ms -> "
                f"{'MET' if ours <= best else 'MISSED'}"
            )
