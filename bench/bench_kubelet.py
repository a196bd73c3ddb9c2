"""Benchmark: the kubelet credential provider's cold run.

The kubelet runs the plugin once per image it has no cached credentials
for, so its whole start-up is the cost: exec, reading the request, the
credential chain, trust anchors, one TLS handshake and
GetAuthorizationToken, the response.

It asks the TLS endpoint of bench_helper.py, the real name
https://api.ecr.us-east-1.amazonaws.com mapped to a TLS front of the AWS
stand-in (moto with IAM enforced, tests/fakes/aws) in a private network
and mount namespace, with no endpoint variable: the image's host alone
names the region and the endpoint, as on a node. Measured for
build/ecr-renew and build-static/ecr-renew (what the image ships) when it
exists, in alternating runs: the median, minimum and worst wall time of
--runs runs, and the peak resident set (GNU time's %M, the largest of
--rss-runs runs). Every answer is checked: a CredentialProviderResponse
holding the stand-in's password for the image's host. There is no
reference beside it: cloud-provider-aws's ecr-credential-provider is not
packaged for Debian.

Needs root (unshare, nsenter) and /usr/bin/time.
Usage: python3 bench/bench_kubelet.py [--runs 15] [--rss-runs 5] [--json FILE]
Not part of the tests: numbers depend on the machine.
"""

import argparse
import json
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_helper  # noqa: E402  (its namespace, TLS front and runner)

ROOT = bench_helper.ROOT
V1 = "credentialprovider.kubelet.k8s.io/v1"


class KubeletBench(bench_helper.Bench):
    def job(self, name, argv, rss=False):
        request = {"kind": "CredentialProviderRequest", "apiVersion": V1,
                   "image": self.host + "/app:1"}
        return {"name": name, "argv": argv, "env": self.env(), "rss": rss, "measure": True,
                "stdin": json.dumps(request) + "\n"}

    def check(self, job, res):
        if res["rc"] != 0:
            raise RuntimeError("%s failed (%d): %s" % (job["name"], res["rc"], res["stderr"]))
        answer = json.loads(res.pop("stdout"))
        if answer.get("kind") != "CredentialProviderResponse":
            raise RuntimeError("%s: not a CredentialProviderResponse" % job["name"])
        if answer.get("auth", {}).get(self.host, {}).get("password") != self.password:
            raise RuntimeError("%s printed a wrong password" % job["name"])


def providers():
    found = [("ecr-renew (dynamic)", os.path.join(ROOT, "build", "ecr-renew")),
             ("ecr-renew (static)", os.path.join(ROOT, "build-static", "ecr-renew"))]
    return [(n, [p, "kubelet-credential-provider"]) for n, p in found if os.access(p, os.X_OK)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rss-runs", type=int, default=5)
    ap.add_argument("--json", help="write every number to this file")
    args = ap.parse_args()
    if os.geteuid() != 0 or not os.access(bench_helper.GNU_TIME, os.X_OK) or \
            not all(shutil.which(t) for t in ("unshare", "nsenter", "ip")):
        sys.exit("bench_kubelet: needs root, /usr/bin/time, unshare, nsenter and ip")
    tools = providers()
    if not tools:
        sys.exit("bench_kubelet: no build/ecr-renew nor build-static/ecr-renew: build first")
    bench = KubeletBench(args)
    try:
        plan = [bench.job(name, argv) for _ in range(args.runs) for name, argv in tools]
        plan += [bench.job(name, argv, rss=True) for name, argv in tools
                 for _ in range(args.rss_runs)]
        bench.aws.clear_requests()
        results = bench.run(plan)
        calls = len(bench.ecr_calls())
        if calls != len(plan):
            raise RuntimeError("%d GetAuthorizationToken calls for %d runs" % (calls, len(plan)))
    finally:
        bench.close()
    rows = []
    for name, _ in tools:
        ms = [r["ms"] for r in results if r["name"] == name and r["rss_kib"] is None]
        kib = [r["rss_kib"] for r in results if r["name"] == name and r["rss_kib"] is not None]
        rows.append({"provider": name, "median_ms": statistics.median(ms), "min_ms": min(ms),
                     "worst_ms": max(ms), "peak_rss_mib": max(kib) / 1024})
    print("| provider | cold run, median of %d (min, worst) | peak RSS |" % args.runs)
    print("|---|---|---|")
    for r in rows:
        print("| %s | %.1f ms (%.1f, %.1f) | %.1f MiB |" % (
            r["provider"], r["median_ms"], r["min_ms"], r["worst_ms"], r["peak_rss_mib"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()
