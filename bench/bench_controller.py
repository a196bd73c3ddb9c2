"""Benchmark: `ecr-renew run`, the controller, at 1,000 namespaces.

One run of the controller against the local servers (moto with IAM
enforced, the Kubernetes API stand-in), with the rights
deploy/kubernetes/components/controller grants (test_run.controller_rules,
and create and patch on events, so the SecretCreated Events are written as
in a deployment):

  1. first pass   N namespaces (default 1,000) already in the fake's store
                  when the controller starts (seeded through the fake's
                  config, as a cluster's existing namespaces); -n 'bench-*'.
                  Time from the process's start to the moment the fake holds
                  all N Secrets (the request log's commit time of the last
                  namespace's first 2xx write), and every API request the
                  controller made until then.
  2. new          20 namespaces created one at a time through the API after
     namespaces   the first pass; per namespace, the request log's time of
                  the namespace POST (201) to that of our first 2xx write in
                  it: median and worst.
  3. memory       VmHWM (peak RSS) of the controller from /proc/PID/status,
                  read just before it is stopped; VmRSS at each phase too.
  4. idle CPU     user + system time (/proc/PID/stat) over --idle-seconds
                  after everything is written and nothing changes; also the
                  API requests and context switches in that window.

It reports and does not judge speed; it exits non-zero when the controller
did not write every Secret, crashed, or did not stop cleanly on SIGTERM.

Usage: python3 bench/bench_controller.py [--namespaces 1000]
       [--binary PATH] [--idle-seconds 60] [--new-namespaces 20]
       [--json FILE]
The binary defaults to build-static/ecr-renew if it exists, else
build/ecr-renew. Not part of the tests: numbers depend on the machine.
"""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.fakes.aws import harness as aws_harness  # noqa: E402
from tests.fakes.kube import harness as kube_harness  # noqa: E402
from tests.integration.controller_common import RunningTool, metric, parse_metrics  # noqa: E402
from tests.integration.test_run import controller_rules  # noqa: E402

SA = kube_harness.SA_USER
SECRET = "ecr-registry-secret"
TYPE = "kubernetes.io/dockerconfigjson"
PREFIX = "bench-"
# The ClusterRole's last rule (clusterrole.yaml): every Secret created is
# an Event created too.
EVENTS_RULE = {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"],
               "namespaces": "*"}
CLK_TCK = os.sysconf("SC_CLK_TCK")

GOAL_RSS_MIB = 10.0          # static build
GOAL_NEW_NS_SECONDS = 1.0    # tests/integration/test_run.py asserts this for one namespace


def default_binary():
    static = os.path.join(ROOT, "build-static", "ecr-renew")
    return static if os.access(static, os.X_OK) else os.path.join(ROOT, "build", "ecr-renew")


class BenchFailure(Exception):
    pass


# -- the controller process, from /proc -------------------------------------

def proc_status(pid):
    """{field: value} of /proc/PID/status (kB fields as ints)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.strip()
            out[k] = int(v.split()[0]) if v.endswith(" kB") or v.isdigit() else v
    return out


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])  # fields 14 and 15


def thread_counters(pid):
    """(CPU ns from schedstat, context switches) summed over the live threads."""
    ns = switches = 0
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/schedstat") as f:
                ns += int(f.read().split()[0])
            st = proc_status_path(task + "/status")
            switches += st.get("voluntary_ctxt_switches", 0) + st.get("nonvoluntary_ctxt_switches", 0)
        except (OSError, ValueError):
            pass
    return ns, switches


def proc_status_path(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.strip()
            if v.isdigit():
                out[k] = int(v)
    return out


def memory_map(pid):
    """Resident KiB by kind of mapping (/proc/PID/smaps): heap, stack, anonymous, the binary and other files."""
    out = {}
    kind = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = head[5] if len(head) > 5 else ""
                kind = ("heap" if name == "[heap]" else "stack" if name.startswith("[stack")
                        else "anonymous" if name == "" else name if name.startswith("[")
                        else "binary" if os.path.basename(name) == "ecr-renew" else "other files")
            elif head and head[0] == "Rss:":
                out[kind] = out.get(kind, 0) + int(head[1])
    return {k: v for k, v in sorted(out.items(), key=lambda kv: -kv[1]) if v}


def rss_kib(pid):
    st = proc_status(pid)
    return st["VmRSS"], st["VmHWM"]


# -- the request log ---------------------------------------------------------

class RequestLog:
    """The fake's request log, drained (read and emptied at once) into one
    list, so its 20,000-entry ring never drops anything of ours."""

    def __init__(self, kube):
        self.kube = kube
        self.entries = []

    def drain(self):
        new = self.kube.requests(clear=True)
        self.entries += new
        return new


def ours(entries):
    return [r for r in entries if (r.get("userAgent") or "").startswith("ecr-renew/")]


def is_secret_write(r):
    return (r["method"] in ("POST", "PUT", "PATCH") and r["path"].startswith("/api/v1/namespaces/")
            and "/secrets" in r["path"])


def write_namespace(r):
    return r["path"].split("/")[4]


def first_writes(entries):
    """{namespace: the first 2xx Secret write of ours there}."""
    out = {}
    for r in sorted(ours(entries), key=lambda r: r["seq"]):
        if is_secret_write(r) and 200 <= (r["status"] or 0) < 300:
            out.setdefault(write_namespace(r), r)
    return out


def kind_of(r):
    """A short name for what a request of ours was."""
    p, q = r["path"], r.get("query") or ""
    watch = "watch=true" in q or "watch=1" in q
    if p == "/api/v1/namespaces":
        return "namespaces watch" if watch else "namespaces list"
    if p == "/api/v1/secrets":
        return "secrets watch" if watch else "secrets list"
    if "/secrets" in p:
        return "secret %s" % r["method"]
    if p.endswith("/events") or "/events/" in p:
        return "event %s" % r["method"]
    return "%s %s" % (r["method"], p)


def breakdown(entries):
    out = {}
    for r in entries:
        k = kind_of(r)
        if not 200 <= (r["status"] or 0) < 300:
            k += " (%s)" % r["status"]
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def max_concurrency(entries):
    """The most non-watch requests of ours in progress at one time."""
    ev = []
    for r in entries:
        if not r.get("watch"):
            ev += [(r["startTime"], 1), (r["time"], -1)]
    cur = best = 0
    for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
        cur += d
        best = max(best, cur)
    return best


# -- the run -----------------------------------------------------------------

def kube_config(namespaces):
    cfg = kube_harness.default_config()
    # Seeded straight into the fake's store at its start, as a cluster's
    # existing namespaces: the controller finds them in its first list.
    cfg["namespaces"] += namespaces
    for user in cfg["users"]:
        if user["name"] == SA:
            user["rules"] = controller_rules() + [EVENTS_RULE]
    return cfg


def check_binary(binary):
    if not os.access(binary, os.X_OK):
        raise BenchFailure("no executable at %s (build it: scripts/build-static, or cmake in build/)" % binary)
    p = subprocess.run([binary, "run", "--help"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        raise BenchFailure("%s has no `run` command (stale build?): %s" % (binary, p.stderr.strip()[:200]))
    v = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    return v.stdout.strip().replace("\n", "; ")


def secrets_held(kube, names):
    """Namespaces among names whose Secret is in the fake's store, ours and of the right type."""
    held = set()
    for o in kube.objects("Secret"):
        md = o["metadata"]
        if (md["name"] == SECRET and md.get("namespace") in names and o.get("type") == TYPE
                and (md.get("labels") or {}).get("app.kubernetes.io/managed-by") == "ecr-renew"):
            held.add(md["namespace"])
    return held


def alive(tool, what):
    if tool.proc.poll() is not None:
        raise BenchFailure("the controller exited (status %s) %s; its log ends:\n%s"
                           % (tool.proc.returncode, what, tool.stderr[-3000:]))


def run(args):
    res = {"binary": os.path.relpath(args.binary, ROOT) if args.binary.startswith(ROOT) else args.binary,
           "namespaces": args.namespaces, "new_namespaces": args.new_namespaces,
           "idle_seconds": args.idle_seconds}
    res["version"] = check_binary(args.binary)
    names = ["%s%04d" % (PREFIX, i) for i in range(args.namespaces)]
    name_set = set(names)

    t = time.monotonic()
    with aws_harness.FakeAws() as aws, kube_harness.FakeKube(kube_config(names)) as kube:
        res["fake_start_seconds"] = round(time.monotonic() - t, 3)
        aws.configure_ecr(lifetime_seconds=12 * 3600)  # no renewal inside the run
        env = aws.env(user="ecr-reader")
        env["KUBECONFIG"] = kube.write_kubeconfig(user=SA)
        have = len(kube.objects("Namespace"))
        if have < args.namespaces:
            raise BenchFailure("the fake holds %d namespaces, expected at least %d" % (have, args.namespaces))
        log = RequestLog(kube)
        log.drain()
        log.entries = []
        aws.clear_requests()

        tool = RunningTool(["run", "--listen", "127.0.0.1:0", "-n", PREFIX + "*"], env, binary=args.binary)
        t0 = time.time()
        try:
            tool.start(wait_listening=True, timeout=30)
            res["listening_seconds"] = round(time.time() - t0, 3)
            pid = tool.proc.pid
            rss_samples = {"listening": rss_kib(pid)[0]}
            phase_first_pass(args, res, tool, kube, log, aws, names, name_set, t0)
            rss_samples["first pass"] = rss_kib(pid)[0]
            phase_new_namespaces(args, res, tool, kube, log)
            rss_samples["new namespaces"] = rss_kib(pid)[0]
            phase_idle(args, res, tool, kube, log)
            rss_samples["idle"] = rss_kib(pid)[0]
            everyone = name_set | {"%snew-%02d" % (PREFIX, i) for i in range(args.new_namespaces)}
            held = secrets_held(kube, everyone)
            if held != everyone:
                raise BenchFailure("at the end the fake holds %d of %d Secrets (missing: %s)"
                                   % (len(held), len(everyone), ", ".join(sorted(everyone - held)[:10])))

            # Still serving, and says it is ready.
            status, _, body = tool.get("/readyz")
            res["readyz"] = "%d %s" % (status, body.strip())
            status, _, body = tool.get("/metrics")
            if status == 200:
                m = parse_metrics(body)
                res["metrics"] = {
                    "writes_created": metric(m, "ecr_renew_secret_writes_total", outcome="created"),
                    "namespaces_synced": metric(m, "ecr_renew_namespaces", state="synced"),
                }
            rss_samples["after scrape"] = rss_kib(pid)[0]
            alive(tool, "before the end")
            res["rss_kib_by_mapping"] = memory_map(pid)
            st = proc_status(pid)  # just before stopping it
            res["vmhwm_mib"] = round(st["VmHWM"] / 1024, 2)
            res["vmrss_mib"] = round(st["VmRSS"] / 1024, 2)
            res["rss_anon_mib"] = round(st.get("RssAnon", 0) / 1024, 2)
            res["rss_file_mib"] = round(st.get("RssFile", 0) / 1024, 2)
            res["threads"] = st.get("Threads")
            res["rss_mib_by_phase"] = {k: round(v / 1024, 2) for k, v in rss_samples.items()}
        finally:
            finished = tool.stop()
        res["exit_status"] = finished.returncode
        res["stop_seconds"] = round(tool.stop_seconds, 3)
        if finished.returncode != 0:
            raise BenchFailure("the controller exited %s on SIGTERM; its log ends:\n%s"
                               % (finished.returncode, finished.stderr[-3000:]))
        res["log_lines"] = len(tool.lines)
        res["log_warnings"] = sum(1 for line in tool.lines if " warn " in line or "level=warn" in line
                                  or " error " in line or "level=error" in line)
    return res


def phase_first_pass(args, res, tool, kube, log, aws, names, name_set, t0):
    # The log line says when; nothing polls the fake meanwhile (the store's
    # lock is the controller's writes' lock too).
    try:
        tool.wait_for_log("first pass done", timeout=args.first_pass_timeout)
        res["first_pass_log_seconds"] = round(time.time() - t0, 3)
        res["first_pass_cpu_ms"] = round(cpu_ticks(tool.proc.pid) * 1000 / CLK_TCK, 1)
    except AssertionError:
        alive(tool, "during the first pass")
        held = secrets_held(kube, name_set)
        raise BenchFailure("no \"first pass done\" within %.0f s; the fake holds %d of %d Secrets; log ends:\n%s"
                           % (args.first_pass_timeout, len(held), len(names), tool.stderr[-3000:]))
    end = time.monotonic() + 30
    while True:
        held = secrets_held(kube, name_set)
        if len(held) == len(names) or time.monotonic() > end:
            break
        time.sleep(0.2)
    if len(held) != len(names):
        missing = sorted(name_set - held)
        raise BenchFailure("after the first pass the fake holds %d of %d Secrets (missing: %s%s)"
                           % (len(held), len(names), ", ".join(missing[:10]), " ..." if len(missing) > 10 else ""))
    entries = log.drain()
    firsts = first_writes(entries)
    lacking = name_set - set(firsts)
    if lacking:
        raise BenchFailure("%d namespaces hold a Secret but the request log has no write of ours there: %s"
                           % (len(lacking), sorted(lacking)[:10]))
    t_all = max(firsts[n]["time"] for n in names)
    t_first = min(firsts[n]["time"] for n in names)
    mine = [r for r in ours(entries) if r["startTime"] <= t_all]
    res["first_pass_seconds"] = round(t_all - t0, 3)
    res["first_write_seconds"] = round(t_first - t0, 3)
    res["write_rate_per_second"] = round((len(names) - 1) / (t_all - t_first), 1) if t_all > t_first else None
    res["first_pass_requests"] = len(mine)
    res["first_pass_requests_by_kind"] = breakdown(mine)
    res["first_pass_list_queries"] = ["%s?%s" % (r["path"], r.get("query") or "") for r in mine
                                      if r["method"] == "GET" and not is_secret_write(r)]
    res["first_pass_connections"] = len({r["conn"] for r in mine})
    per_conn = {}
    for r in mine:
        per_conn[r["conn"]] = per_conn.get(r["conn"], 0) + 1
    res["first_pass_requests_per_connection"] = sorted(per_conn.values(), reverse=True)
    res["first_pass_max_in_flight"] = max_concurrency(mine)
    res["first_pass_non_2xx"] = sum(1 for r in mine if not 200 <= (r["status"] or 0) < 300)
    writes = [r for r in mine if is_secret_write(r)]
    res["first_pass_secret_writes"] = len(writes)
    server_ms = [r["durationMs"] for r in writes if r["durationMs"] is not None]
    res["first_pass_write_server_ms_median"] = statistics.median(server_ms) if server_ms else None
    res["aws_requests"] = [r.get("action") or r.get("path") for r in aws.requests()]


def phase_new_namespaces(args, res, tool, kube, log):
    lat = []
    conn = kube.connection()
    methods = {}
    try:
        for i in range(args.new_namespaces):
            ns = "%snew-%02d" % (PREFIX, i)
            log.drain()  # what follows is this namespace's alone
            kube.create_namespace(ns)
            end = time.monotonic() + 10
            path = "/api/v1/namespaces/%s/secrets/%s" % (ns, SECRET)
            while kube.api("GET", path, conn=conn).status != 200:
                alive(tool, "after namespace %s was created" % ns)
                if time.monotonic() > end:
                    raise BenchFailure("no Secret in the new namespace %s after 10 s" % ns)
                time.sleep(0.01)
            # The log entry is appended just after the commit: give it a moment.
            created = written = None
            end = time.monotonic() + 2
            seen = []
            while written is None and time.monotonic() < end:
                seen += log.drain()
                created = next((r for r in seen if r["method"] == "POST" and r["path"] == "/api/v1/namespaces"
                                and r["status"] == 201), None)
                written = first_writes(seen).get(ns)
                if written is None:
                    time.sleep(0.01)
            if created is None or written is None:
                raise BenchFailure("no namespace POST or no write of ours in %s in the request log" % ns)
            lat.append(written["time"] - created["time"])
            for r in ours(seen):
                if "/namespaces/%s/" % ns in r["path"]:
                    k = kind_of(r)
                    methods[k] = methods.get(k, 0) + 1
            time.sleep(0.1)  # one at a time, not a burst
    finally:
        conn.close()
    res["new_namespace_latency_ms"] = [round(x * 1000, 1) for x in lat]
    res["new_namespace_median_ms"] = round(statistics.median(lat) * 1000, 1)
    res["new_namespace_worst_ms"] = round(max(lat) * 1000, 1)
    res["new_namespace_requests_by_kind"] = methods


def phase_idle(args, res, tool, kube, log):
    pid = tool.proc.pid
    time.sleep(1.0)  # let the last write's aftermath (watch events) settle
    log.drain()
    ticks0, (ns0, sw0) = cpu_ticks(pid), thread_counters(pid)
    rss0 = rss_kib(pid)[0]
    end = time.monotonic() + args.idle_seconds
    while time.monotonic() < end:
        alive(tool, "while idle")
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    ticks1, (ns1, sw1) = cpu_ticks(pid), thread_counters(pid)
    rss1 = rss_kib(pid)[0]
    idle = ours(log.drain())
    res["idle_cpu_ms"] = round((ticks1 - ticks0) * 1000 / CLK_TCK, 1)
    res["idle_cpu_ms_schedstat"] = round((ns1 - ns0) / 1e6, 2)
    res["idle_context_switches"] = sw1 - sw0
    res["idle_requests"] = len(idle)
    res["idle_requests_by_kind"] = breakdown(idle)
    res["idle_rss_growth_kib"] = rss1 - rss0


def print_table(res, out=sys.stdout):
    static = "build-static" in res["binary"]
    rows = [
        ("first pass: start -> all %d Secrets" % res["namespaces"], "%.3f s" % res["first_pass_seconds"],
         "reported, no goal"),
        ("  start -> first write", "%.3f s" % res["first_write_seconds"], ""),
        ("  write rate", "%s /s" % res["write_rate_per_second"], ""),
        ("  controller CPU until \"first pass done\"", "%.0f ms" % res["first_pass_cpu_ms"], ""),
        ("  API requests until all written", "%d" % res["first_pass_requests"],
         "%d namespaces + a few lists/watches" % res["namespaces"]),
        ("new namespace -> its Secret, median", "%.1f ms" % res["new_namespace_median_ms"],
         "< %.0f s" % GOAL_NEW_NS_SECONDS),
        ("new namespace -> its Secret, worst of %d" % res["new_namespaces"],
         "%.1f ms" % res["new_namespace_worst_ms"], "< %.0f s" % GOAL_NEW_NS_SECONDS),
        ("peak RSS (VmHWM)", "%.2f MiB" % res["vmhwm_mib"],
         "<= %.0f MiB%s" % (GOAL_RSS_MIB, "" if static else " (static build; this is not it)")),
        ("  RSS at the end: anonymous + file", "%.2f + %.2f" % (res["rss_anon_mib"], res["rss_file_mib"]),
         "file: the executable (and its shared libraries)"),
        ("idle CPU over %g s (user+sys)" % res["idle_seconds"], "%.0f ms" % res["idle_cpu_ms"], "about 0"),
        ("  API requests while idle", "%d" % res["idle_requests"], "about 0"),
    ]
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    print("ecr-renew run benchmark: %s (%s)" % (res["binary"], res["version"].split(";")[0]), file=out)
    print("%-*s  %*s  %s" % (w, "measure", v, "value", "goal"), file=out)
    print("%s  %s  %s" % ("-" * w, "-" * v, "-" * 30), file=out)
    for name, value, goal in rows:
        print("%-*s  %*s  %s" % (w, name, v, value, goal), file=out)
    print("first-pass requests: %s" % ", ".join("%s %d" % kv for kv in res["first_pass_requests_by_kind"].items()),
          file=out)
    print("  on %d TLS connection(s), at most %d in flight; AWS calls: %s"
          % (res["first_pass_connections"], res["first_pass_max_in_flight"],
             ", ".join(res["aws_requests"]) or "none"), file=out)
    print("new-namespace requests: %s" % ", ".join("%s %d" % kv for kv in res["new_namespace_requests_by_kind"].items()),
          file=out)
    if res["idle_requests"]:
        print("idle requests: %s" % ", ".join("%s %d" % kv for kv in res["idle_requests_by_kind"].items()),
              file=out)
    print("idle: %.2f ms CPU by schedstat, %d context switches, RSS %+d KiB"
          % (res["idle_cpu_ms_schedstat"], res["idle_context_switches"], res["idle_rss_growth_kib"]), file=out)
    print("RSS by phase (MiB): %s; threads %s" % (
        ", ".join("%s %.2f" % kv for kv in res["rss_mib_by_phase"].items()), res["threads"]), file=out)
    print("RSS at the end by mapping (KiB): %s" % ", ".join("%s %d" % kv for kv in res["rss_kib_by_mapping"].items()),
          file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--namespaces", type=int, default=1000)
    ap.add_argument("--binary", default=None, help="default: build-static/ecr-renew if it exists, else build/ecr-renew")
    ap.add_argument("--idle-seconds", type=float, default=60)
    ap.add_argument("--new-namespaces", type=int, default=20)
    ap.add_argument("--first-pass-timeout", type=float, default=600)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if args.namespaces < 1 or args.new_namespaces < 1:
        ap.error("--namespaces and --new-namespaces must be at least 1")
    args.binary = os.path.abspath(args.binary or default_binary())
    try:
        res = run(args)
    except (BenchFailure, AssertionError) as e:  # AssertionError: RunningTool's wait_for_log
        print("bench_controller: FAILED: %s" % e, file=sys.stderr)
        return 1
    print_table(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
