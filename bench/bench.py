#!/usr/bin/env python3
"""Whole-process benchmark of vigil against the floor and the peers.

Runs every case N times, alternating cases within each round so that load
on a shared machine hits them alike, and prints medians of wall time, CPU
time and peak RSS with ratios measured in the same run (see
shared/docs/BENCHMARKS.md). Usage:

  bench/bench.py [--runs 5] [--out bench/out] [--peers] [--vigil PATH] [--cases a,b]

bench/build-reference.sh must have built the reference image first. Peers
(trivy, syft) are used when found in bench/out/peers or on PATH; when
missing they are built from the Go module proxy into bench/out/peers at the
versions in PEERS (a few minutes each; --no-peers skips them).
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

def run(cmd, env=None, shell=False):
    """Runs cmd under /usr/bin/time; returns (wall, cpu, maxrss_kb)."""
    t = tempfile.NamedTemporaryFile(delete=False); t.close()
    full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name]
    full += (["bash", "-c", cmd] if shell else cmd)
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    with open(t.name) as f:
        last = f.read().strip().splitlines()[-1]
    os.unlink(t.name)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    e, u, s, m = last.split()
    return float(e), float(u) + float(s), int(m)

# Peer versions the results were taken with; built with `go install` when
# neither bench/out/peers nor PATH has them.
PEERS = {
    "trivy": "github.com/aquasecurity/trivy/cmd/trivy@v0.74.0",
    "syft": "github.com/anchore/syft/cmd/syft@v1.57.0",
}
# Trivy v0.74 imports encoding/json/v2, which Go 1.26 builds only with this
# experiment on.
PEER_ENV = {"trivy": {"GOEXPERIMENT": "jsonv2"}}

def install_peer(name, peers):
    """Builds a peer into peers/ from the Go module proxy; returns its path or None."""
    os.makedirs(peers, exist_ok=True)
    print(f"bench: building {PEERS[name]} into {peers}", file=sys.stderr)
    env = dict(os.environ, GOBIN=peers, **PEER_ENV.get(name, {}))
    p = subprocess.run(["go", "install", PEERS[name]], env=env)
    path = os.path.join(peers, name)
    if p.returncode != 0 or not os.path.exists(path):
        print(f"bench: could not build {name}; its cases are left out", file=sys.stderr)
        return None
    return path

def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(here, "out"))
    ap.add_argument("--vigil", default="")
    ap.add_argument("--cases", default="")
    ap.add_argument("--no-peers", action="store_true")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    oci = os.path.join(out, "reference-oci")
    archive = os.path.join(out, "reference.docker.tar")
    if not os.path.exists(os.path.join(oci, ".done")):
        sys.exit("bench: build the reference image first: bench/build-reference.sh")
    vigil = a.vigil
    if not vigil:
        vigil = os.path.join(out, "vigil")
        subprocess.run(["go", "build", "-o", vigil, "./cmd/vigil"], cwd=os.path.dirname(here), check=True)
    peers = os.path.join(out, "peers")
    def tool(name):
        p = os.path.join(peers, name)
        if os.path.exists(p):
            return p
        return shutil.which(name) or install_peer(name, peers)
    work = tempfile.mkdtemp(prefix="vigil-bench-")
    vc_cold = os.path.join(work, "cold")
    vc_warm = os.path.join(work, "warm")
    env = dict(os.environ)

    # Blobs of the layers, for the floor.
    idx = json.load(open(os.path.join(oci, "index.json")))
    man = json.load(open(os.path.join(oci, "blobs", *idx["manifests"][0]["digest"].split(":"))))
    blobs = [os.path.join(oci, "blobs", *l["digest"].split(":")) for l in man["layers"]]
    blobs.sort(key=os.path.getsize, reverse=True)
    floor_cmd = "printf '%s\\n' " + " ".join(blobs) + " | xargs -P2 -I{} sh -c 'igzip -dc {} > /dev/null'"

    cases = {}
    cases["floor-oci (igzip -dc, 2 at a time)"] = (lambda: None, floor_cmd, True)
    cases["floor-archive (cat)"] = (lambda: None, f"cat {archive} > /dev/null", True)
    def cold():
        shutil.rmtree(vc_cold, ignore_errors=True)
    cases["vigil sbom oci (cold)"] = (cold, [vigil, "sbom", "--quiet", "--cache-dir", vc_cold, "--format", "json", f"oci-dir:{oci}#ref"], False)
    cases["vigil sbom archive (cold)"] = (cold, [vigil, "sbom", "--quiet", "--cache-dir", vc_cold, "--format", "json", f"docker-archive:{archive}"], False)
    subprocess.run([vigil, "sbom", "--quiet", "--cache-dir", vc_warm, "--format", "json", f"oci-dir:{oci}#ref"], stdout=subprocess.DEVNULL, check=True)
    cases["vigil sbom oci (warm)"] = (lambda: None, [vigil, "sbom", "--quiet", "--cache-dir", vc_warm, "--format", "json", f"oci-dir:{oci}#ref"], False)
    # Rebuilt image: same base layers, new top layer; the cache holds the
    # reference image's layers, so only the new layer is walked.
    rebuilt = os.path.join(out, "rebuilt-oci")
    vc_reb = os.path.join(work, "rebuilt")
    if os.path.exists(rebuilt):
        def reb_prep():
            shutil.rmtree(vc_reb, ignore_errors=True)
            subprocess.run([vigil, "sbom", "--quiet", "--cache-dir", vc_reb, "--format", "json", f"oci-dir:{oci}#ref"], stdout=subprocess.DEVNULL, check=True)
        cases["vigil sbom rebuilt image (base layers cached)"] = (reb_prep, [vigil, "sbom", "--quiet", "--cache-dir", vc_reb, "--format", "json", f"oci-dir:{rebuilt}#ref"], False)
    synth = os.path.join(out, "synthetic-oci")
    if os.path.exists(os.path.join(synth, "index.json")):
        cases["vigil sbom synthetic 10x (cold)"] = (cold, [vigil, "sbom", "--quiet", "--cache-dir", vc_cold, "--format", "json", f"oci-dir:{synth}#synthetic"], False)
    same = os.path.join(out, "synthetic-same-oci")
    if os.path.exists(os.path.join(same, "index.json")):
        cases["vigil sbom synthetic 10x, same paths (cold)"] = (cold, [vigil, "sbom", "--quiet", "--cache-dir", vc_cold, "--format", "json", f"oci-dir:{same}#synthetic"], False)
    db = os.environ.get("VIGIL_BENCH_DB_DIR")
    if db:
        def cold_db():
            shutil.rmtree(os.path.join(db, "layers"), ignore_errors=True)
        cases["vigil image oci (cold, with DB)"] = (cold_db, [vigil, "image", "--quiet", "--cache-dir", db, "--format", "json", "--exit-code", "0", f"oci-dir:{oci}#ref"], False)
    if not a.no_peers:
        trivy = tool("trivy")
        if trivy:
            tc = os.path.join(work, "trivy")
            javadb = os.path.join(tc, "java-db")
            os.makedirs(javadb, exist_ok=True)
            import sqlite3
            con = sqlite3.connect(os.path.join(javadb, "trivy-java.db"))
            con.executescript("CREATE TABLE IF NOT EXISTS artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);"
                              "CREATE TABLE IF NOT EXISTS indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT);")
            con.close()
            json.dump({"Version": 1, "NextUpdate": "2999-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z", "DownloadedAt": "2026-01-01T00:00:00Z"},
                      open(os.path.join(javadb, "metadata.json"), "w"))
            def tcold():
                for d in ("fanal",):
                    shutil.rmtree(os.path.join(tc, d), ignore_errors=True)
            cases["trivy sbom oci (cold)"] = (tcold, [trivy, "image", "--cache-dir", tc, "--skip-java-db-update", "--offline-scan", "--quiet", "--format", "cyclonedx", "--input", oci], False)
            cases["trivy sbom archive (cold)"] = (tcold, [trivy, "image", "--cache-dir", tc, "--skip-java-db-update", "--offline-scan", "--quiet", "--format", "cyclonedx", "--input", archive], False)
        syft = tool("syft")
        if syft:
            cases["syft oci (cold)"] = (lambda: None, [syft, "-q", f"oci-dir:{oci}", "-o", "syft-json"], False)
    if a.cases:
        want = a.cases.split(",")
        cases = {k: v for k, v in cases.items() if any(w in k for w in want)}

    res = {k: [] for k in cases}
    for r in range(a.runs):
        for name, (prep, cmd, shell) in cases.items():
            prep()
            res[name].append(run(cmd, env=env, shell=shell))
        print(f"round {r+1}/{a.runs} done", file=sys.stderr)
    med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in res.items()}

    def ratio(a_, b_, i):
        if a_ in med and b_ in med and med[b_][i] > 0:
            return f"{med[a_][i] / med[b_][i]:.2f}x"
        return "n/a"
    lines = []
    lines.append(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores, {platform.machine()}, load before: {os.getloadavg()[0]:.1f}; runs: {a.runs} (medians), alternating")
    lines.append("")
    lines.append("| case | wall (s) | CPU (s) | peak RSS (MiB) |")
    lines.append("| --- | --- | --- | --- |")
    for k, (w, c, m) in med.items():
        lines.append(f"| {k} | {w:.2f} | {c:.2f} | {m/1024:.0f} |")
    lines.append("")
    lines.append("| ratio | wall | peak RSS |")
    lines.append("| --- | --- | --- |")
    F, FA = "floor-oci (igzip -dc, 2 at a time)", "floor-archive (cat)"
    V, VA, VW = "vigil sbom oci (cold)", "vigil sbom archive (cold)", "vigil sbom oci (warm)"
    pairs = [(V, F), (VA, FA), (V, "trivy sbom oci (cold)"), (VA, "trivy sbom archive (cold)"), (V, "syft oci (cold)"),
             ("vigil image oci (cold, with DB)", V), ("vigil sbom synthetic 10x (cold)", V), ("vigil sbom synthetic 10x, same paths (cold)", V),
             ("vigil sbom rebuilt image (base layers cached)", V)]
    for x, y in pairs:
        if x in med and y in med:
            lines.append(f"| {x} / {y} | {ratio(x, y, 0)} | {ratio(x, y, 2)} |")
    if VW in med:
        lines.append(f"| {VW} | {med[VW][0]*1000:.0f} ms | |")
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
