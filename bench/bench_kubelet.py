"""Benchmark: the kubelet credential provider's cold run.

The kubelet runs the plugin once per image it has no cached credentials
for, so its whole start-up is the cost: exec, reading the request, the
credential chain, one GetAuthorizationToken, the response. Measured for
build/ecr-renew and build-static/ecr-renew (what the image ships) against
the AWS stand-in (moto with IAM enforced, tests/fakes/aws) over HTTP on
loopback: the median and worst wall time of --runs runs, and the peak
resident set (GNU time, per run). There is no reference to
compare with here: cloud-provider-aws's ecr-credential-provider is not
packaged for Debian.

Usage: python3 bench/bench_kubelet.py [--runs 15] [--json FILE]
Not part of the tests: numbers depend on the machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fakes.aws import harness as aws_harness  # noqa: E402

V1 = "credentialprovider.kubelet.k8s.io/v1"


def request(image):
    return json.dumps({"kind": "CredentialProviderRequest", "apiVersion": V1, "image": image}) + "\n"


def one_run(binary, env, stdin):
    """Wall seconds and the answer of one cold run."""
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "kubelet-credential-provider"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(stdin.encode())
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("%s failed (%d): %s" % (binary, proc.returncode, err.decode()[-400:]))
    answer = json.loads(out)
    if answer.get("kind") != "CredentialProviderResponse" or not answer.get("auth"):
        sys.exit("%s: not a CredentialProviderResponse" % binary)
    return wall, answer


def peak_rss_kib(binary, env, stdin):
    """Peak resident set of one run, in KiB, as GNU time reports it.

    GNU time does the wait4: a child forked from this Python process would
    inherit its resident set until exec, and Linux keeps that high-water
    mark across exec (what bench_renewal.py found too).
    """
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M", binary,
                               "kubelet-credential-provider"], env=env, input=stdin.encode(),
                              capture_output=True)
        if proc.returncode != 0:
            sys.exit("%s failed under time (%d)" % (binary, proc.returncode))
        return int(report.read().split()[-1])


def measure(binary, env, image, runs):
    walls = []
    rss = []
    for _ in range(runs):
        wall, _ = one_run(binary, env, request(image))
        walls.append(wall)
        rss.append(peak_rss_kib(binary, env, request(image)))
    return {"median_ms": statistics.median(walls) * 1000, "worst_ms": max(walls) * 1000,
            "peak_rss_kib": max(rss)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json")
    args = ap.parse_args()
    binaries = [b for b in (os.path.join(ROOT, "build", "ecr-renew"),
                            os.path.join(ROOT, "build-static", "ecr-renew")) if os.access(b, os.X_OK)]
    if not binaries:
        sys.exit("no build/ecr-renew nor build-static/ecr-renew: build first")
    results = {}
    with aws_harness.FakeAws() as aws:
        env = aws.env(user="ecr-reader")
        image = aws.registry_host() + "/app:1"
        for b in binaries:
            one_run(b, env, request(image))  # warm the page cache, not a cache of ours
        for b in sorted(binaries, key=lambda p: "static" not in p):
            results[os.path.relpath(b, ROOT)] = measure(b, env, image, args.runs)
    print("kubelet credential provider, cold run (%d runs each)" % args.runs)
    print("%-26s %10s %10s %12s" % ("binary", "median", "worst", "peak RSS"))
    for name, r in results.items():
        print("%-26s %8.1f ms %8.1f ms %9.1f MiB" % (name, r["median_ms"], r["worst_ms"],
                                                     r["peak_rss_kib"] / 1024))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
