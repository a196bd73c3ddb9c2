"""Benchmark: `get` of ecr-renew's docker credential helper against the
reference helper, docker-credential-ecr-login (Debian's
amazon-ecr-credential-helper package).

Both ask the same TLS endpoint, https://api.ecr.us-east-1.amazonaws.com:
the reference ignores endpoint variables (AWS_ENDPOINT_URL and kin), so
the name is mapped to 127.0.0.1 in a private network and mount namespace
(its own /etc/hosts, as the pull test maps the registry), where a TLS
front with a certificate from a CA made here (trusted through
AWS_CA_BUNDLE and SSL_CERT_FILE, which both honour) carries each
connection to the AWS stand-in (moto with IAM enforced, tests/fakes/aws)
outside. A runner inside the namespace starts the helpers and times them,
so nsenter's cost is in neither number.

Measured, for build/ecr-renew, build-static/ecr-renew (what the image
ships) when it exists, and the reference:
  cold   medians of --runs alternating runs, cache disabled
         (AWS_ECR_DISABLE_CACHE=1): one GetAuthorizationToken each;
  warm   medians of --runs alternating runs with the cache on, after one
         run that filled it: no AWS call;
  RSS    peak resident set (GNU time's %M, the largest of --rss-runs runs)
         of a cold and of a warm get.
Goals: cold no slower than the reference, warm under 5 ms, peak RSS under
8 MiB. Every answer is checked: the password must be the stand-in's.

Needs root (unshare, nsenter), /usr/bin/time and the reference helper:
    apt-get install --no-install-recommends amazon-ecr-credential-helper time
Usage: python3 bench/bench_helper.py [--runs 15] [--rss-runs 5] [--json FILE]
Not part of the tests: numbers depend on the machine.
"""

import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

API_HOST = "api.ecr.us-east-1.amazonaws.com"
REFERENCE = "/usr/bin/docker-credential-ecr-login"
GNU_TIME = "/usr/bin/time"


# -- the runner, inside the namespace -------------------------------------------

def runner():
    """Reads a plan (JSON on stdin), runs each job, writes the results."""
    plan = json.load(sys.stdin)
    results = []
    for job in plan:
        argv = job["argv"]
        rss_file = None
        if job.get("rss"):
            rss_file = tempfile.NamedTemporaryFile("r", delete=False).name
            argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv
        start = time.perf_counter()
        proc = subprocess.run(argv, input=job["stdin"].encode(), env=job["env"],
                              capture_output=True)
        ms = (time.perf_counter() - start) * 1000
        rss = None
        if rss_file:
            with open(rss_file) as f:
                rss = int(f.read().split()[-1])
            os.unlink(rss_file)
        results.append({"ms": ms, "rc": proc.returncode, "rss_kib": rss,
                        "stdout": proc.stdout.decode("utf-8", "replace"),
                        "stderr": proc.stderr.decode("utf-8", "replace")[-300:]})
    json.dump(results, sys.stdout)


# -- the driver -----------------------------------------------------------------

class Bench:
    def __init__(self, args):
        from tests.fakes.aws import harness as aws_harness
        from tests.harness.registry import make_ca_and_cert
        from tests.integration.test_docker_helper import Forwarder, NetNamespace

        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-bench-helper-")
        self.aws = aws_harness.FakeAws(workdir=os.path.join(self.tmp, "aws")).start()
        certs = os.path.join(self.tmp, "certs")
        os.makedirs(certs)
        make_ca_and_cert(certs, API_HOST)
        self.ca = os.path.join(certs, "ca.crt")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.path.join(certs, "server.crt"), os.path.join(certs, "server.key"))
        self.ns = NetNamespace([API_HOST], self.tmp).__enter__()
        self.front = Forwarder(self.ns.ns_pid, self.aws.port, port=443,
                               wrap=lambda s: tls.wrap_socket(s, server_side=True))
        self.host = self.aws.registry_host()
        self.password = self.aws.ecr_password()

    def close(self):
        self.front.close()
        self.ns.__exit__()
        self.aws.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, cache_dir=None):
        env = self.aws.env(user="ecr-reader")
        for k in [k for k in env if k.startswith("AWS_ENDPOINT_URL")]:
            del env[k]
        env.update({"AWS_CA_BUNDLE": self.ca, "SSL_CERT_FILE": self.ca})
        if cache_dir:
            env["AWS_ECR_CACHE_DIR"] = cache_dir
        else:
            env["AWS_ECR_DISABLE_CACHE"] = "1"
        return env

    def job(self, name, argv, cache_dir=None, rss=False, measure=True):
        return {"name": name, "argv": argv, "env": self.env(cache_dir), "stdin": self.host,
                "rss": rss, "measure": measure}

    def run(self, plan):
        proc = subprocess.run(self.ns.prefix() + [sys.executable, os.path.abspath(__file__),
                                                   "--runner"],
                              input=json.dumps(plan).encode(), capture_output=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError("runner failed: " + proc.stderr.decode()[-500:])
        results = json.loads(proc.stdout)
        for job, res in zip(plan, results):
            res["name"] = job["name"]
            self.check(job, res)
        return results

    def check(self, job, res):
        if res["rc"] != 0:
            raise RuntimeError("%s failed (%d): %s" % (job["name"], res["rc"], res["stderr"]))
        if json.loads(res.pop("stdout")).get("Secret") != self.password:
            raise RuntimeError("%s printed a wrong password" % job["name"])

    def ecr_calls(self):
        return [r for r in self.aws.requests() if r.get("action") == "GetAuthorizationToken"]


def helpers(args):
    found = [("ecr-renew (dynamic)", os.path.join(ROOT, "build", "ecr-renew"))]
    static = os.path.join(ROOT, "build-static", "ecr-renew")
    if os.access(static, os.X_OK):
        found.append(("ecr-renew (static)", static))
    if args.binary:
        found = [("ecr-renew", args.binary)]
    found = [(n, [p, "docker-credential-helper", "get"]) for n, p in found if os.access(p, os.X_OK)]
    found.append(("reference 0.6.4", [REFERENCE, "get"]))
    return found


def cold_and_warm(bench, tools, runs):
    plan, dirs = [], {}
    for name, argv in tools:
        dirs[name] = os.path.join(bench.tmp, "cache-" + name.split()[0] + str(len(dirs)))
        plan.append(bench.job(name + " prime", argv, dirs[name], measure=False))
    for _ in range(runs):  # alternating, so drift hits all alike
        plan += [bench.job(name + " cold", argv) for name, argv in tools]
    for _ in range(runs):
        plan += [bench.job(name + " warm", argv, dirs[name]) for name, argv in tools]
    bench.aws.clear_requests()
    results = bench.run(plan)
    calls = len(bench.ecr_calls())
    expected = len(tools) * (1 + runs)
    if calls != expected:
        raise RuntimeError("%d GetAuthorizationToken calls, expected %d (warm runs must not "
                           "call AWS)" % (calls, expected))
    return [r for r, j in zip(results, plan) if j["measure"]]


def peak_rss(bench, tools, rss_runs):
    plan = []
    for name, argv in tools:
        cache = os.path.join(bench.tmp, "rss-" + str(len(plan)))
        plan.append(bench.job(name + " prime", argv, cache, measure=False))
        plan += [bench.job(name + " cold", argv, rss=True) for _ in range(rss_runs)]
        plan += [bench.job(name + " warm", argv, cache, rss=True) for _ in range(rss_runs)]
    return [r for r, j in zip(bench.run(plan), plan) if j["measure"]]


def summarize(timed, rss, tools):
    rows = []
    for name, _ in tools:
        row = {"helper": name}
        for kind in ("cold", "warm"):
            ms = [r["ms"] for r in timed if r["name"] == "%s %s" % (name, kind)]
            kib = [r["rss_kib"] for r in rss if r["name"] == "%s %s" % (name, kind)]
            row[kind + "_ms_median"] = statistics.median(ms)
            row[kind + "_ms_min"] = min(ms)
            row[kind + "_rss_mib_peak"] = max(kib) / 1024
        rows.append(row)
    return rows


def print_table(rows, runs):
    print("| helper | cold get, median of %d (min) | warm get, median of %d (min) | "
          "peak RSS cold / warm |" % (runs, runs))
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f ms (%.1f) | %.1f ms (%.1f) | %.1f / %.1f MiB |" % (
            r["helper"], r["cold_ms_median"], r["cold_ms_min"], r["warm_ms_median"],
            r["warm_ms_min"], r["cold_rss_mib_peak"], r["warm_rss_mib_peak"]))
    ref = rows[-1]
    for r in rows[:-1]:
        print("%s: cold %.2fx the reference's time (goal <= 1); warm %.1f ms (goal < 5); "
              "peak RSS %.1f MiB (goal < 8)" % (
                  r["helper"], r["cold_ms_median"] / ref["cold_ms_median"], r["warm_ms_median"],
                  max(r["cold_rss_mib_peak"], r["warm_rss_mib_peak"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rss-runs", type=int, default=5)
    ap.add_argument("--binary", help="one ecr-renew to measure (default: build/ and "
                                     "build-static/ if built)")
    ap.add_argument("--json", help="write every number to this file")
    ap.add_argument("--runner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runner:
        return runner()
    for need, why in ((os.geteuid() == 0, "root (for the namespace)"),
                      (os.access(REFERENCE, os.X_OK), REFERENCE + " (apt-get install "
                       "--no-install-recommends amazon-ecr-credential-helper)"),
                      (os.access(GNU_TIME, os.X_OK), GNU_TIME + " (the time package)"),
                      (all(shutil.which(t) for t in ("unshare", "nsenter", "ip")),
                       "unshare, nsenter and ip")):
        if not need:
            sys.exit("bench_helper: needs " + why)
    tools = helpers(args)
    bench = Bench(args)
    try:
        timed = cold_and_warm(bench, tools, args.runs)
        rss = peak_rss(bench, tools, args.rss_runs)
    finally:
        bench.close()
    rows = summarize(timed, rss, tools)
    print_table(rows, args.runs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "runs": timed + rss}, f, indent=1)


if __name__ == "__main__":
    main()
