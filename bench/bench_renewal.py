"""Benchmark: the old design's renewal against `ecr-renew sync`.

Both run, side by side in one run, against the same local servers (moto
with IAM enforced, the Kubernetes API stand-in), for 1, 10 and 100
namespaces:

  old design   aws ecr get-login-password, then in each namespace
               kubectl delete secret + kubectl create secret docker-registry
  ecr-renew    ecr-renew sync --namespace ns1,...,nsN

Measured per design and size (median of --repeat runs): wall time, CPU
time (user + system of every process the design started) and peak memory
(the largest resident set of any one of its processes, from GNU time).

Usage: python3 bench/bench_renewal.py [--sizes 1,10,100] [--repeat 3]
       [--markdown]     (prints a table for the README)
Not part of the tests: numbers depend on the machine.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fakes.aws import harness as aws_harness  # noqa: E402
from tests.fakes.kube import harness as kube_harness  # noqa: E402

BIN = os.environ.get("ECR_RENEW_BIN", os.path.join(ROOT, "build", "ecr-renew"))
# The versioned kubectl itself, not the machine's version dispatcher, so the
# old design is not charged for the dispatcher's extra /version request.
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.31"
SECRET = "ecr-registry-secret"


class Usage:
    """Accumulates CPU time and peak RSS over the processes of one design."""

    def __init__(self):
        self.cpu = 0.0
        self.peak_kib = 0
        self.processes = 0

    def spawn(self, args, env, input_bytes=None):
        # GNU time does the wait4: a child forked from this Python process
        # would inherit its resident set until exec, and Linux keeps that
        # high-water mark across exec, inflating every peak.
        # CPU comes from our own children's rusage, which has microsecond
        # resolution (GNU time rounds to 10 ms); it includes GNU time itself.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.NamedTemporaryFile("r") as report:
            proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M"] + args,
                                  env=env, input=input_bytes, capture_output=True)
            peak = report.read().split()[-1]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.peak_kib = max(self.peak_kib, int(peak))
        self.processes += 1
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (args[0], proc.returncode, proc.stderr[-300:]))
        return proc.stdout


def old_design(aws, kubeconfig, namespaces, usage):
    env = aws.env(user="ecr-reader")
    env["KUBECONFIG"] = kubeconfig
    password = usage.spawn(["aws", "ecr", "get-login-password", "--region", aws.region],
                           env).decode().strip()
    server = aws.registry_host()
    for ns in namespaces:
        usage.spawn([KUBECTL, "delete", "secret", SECRET, "-n", ns, "--ignore-not-found"], env)
        usage.spawn([KUBECTL, "create", "secret", "docker-registry", SECRET, "-n", ns,
                     "--docker-server=" + server, "--docker-username=AWS",
                     "--docker-password=" + password], env)


def ecr_renew(aws, kubeconfig, namespaces, usage):
    env = aws.env(user="ecr-reader")
    env["KUBECONFIG"] = kubeconfig
    usage.spawn([BIN, "sync", "--namespace", ",".join(namespaces)], env)


def measure(design, aws, kube, kubeconfig, namespaces):
    usage = Usage()
    start = time.monotonic()
    design(aws, kubeconfig, namespaces, usage)
    wall = time.monotonic() - start
    # Both designs must leave a Secret in every namespace.
    for ns in namespaces:
        assert kube.get_object("Secret", ns, SECRET), "no Secret in %s" % ns
    return wall, usage.cpu, usage.peak_kib, usage.processes


def kube_config(namespaces):
    cfg = kube_harness.default_config()
    cfg["namespaces"] += namespaces
    for user in cfg["users"]:
        if user["name"] == kube_harness.SA_USER:  # the old design needs delete too
            user["rules"] = [{"apiGroups": [""], "resources": ["secrets"],
                              "verbs": ["get", "create", "update", "delete"], "namespaces": "*"}]
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,10,100")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    all_ns = ["bench-%03d" % i for i in range(max(sizes))]
    rows = []
    with aws_harness.FakeAws() as aws, kube_harness.FakeKube(kube_config(all_ns)) as kube:
        kubeconfig = kube.write_kubeconfig(user=kube_harness.SA_USER)
        for n in sizes:
            namespaces = all_ns[:n]
            results = {}
            for name, design in (("old design", old_design), ("ecr-renew", ecr_renew)):
                runs = [measure(design, aws, kube, kubeconfig, namespaces)
                        for _ in range(args.repeat)]
                results[name] = tuple(statistics.median(r[i] for r in runs) for i in range(4))
            rows.append((n, results))
            print_row(n, results, sys.stderr)
    print_table(rows, args.markdown)


def print_row(n, results, out):
    for name, (wall, cpu, peak, procs) in results.items():
        print("%3d namespaces  %-10s wall %7.3f s  cpu %7.3f s  peak %7.1f MiB  processes %d"
              % (n, name, wall, cpu, peak / 1024, procs), file=out)


def print_table(rows, markdown):
    head = ("| namespaces | design | wall time | CPU time | peak memory | processes |\n"
            "|---:|---|---:|---:|---:|---:|")
    print(head)
    for n, results in rows:
        old, new = results["old design"], results["ecr-renew"]
        for name, (wall, cpu, peak, procs) in results.items():
            print("| %d | %s | %.3f s | %.3f s | %.1f MiB | %d |"
                  % (n, name, wall, cpu, peak / 1024, procs))
        print("| %d | **ratio old/new** | **%.0f×** | **%.0f×** | **%.0f×** | |"
              % (n, old[0] / new[0], old[1] / max(new[1], 1e-6), old[2] / new[2]))


if __name__ == "__main__":
    main()
