"""Two copies of ecr-renew run: with --leader-elect exactly one writes and
the other takes over when it dies or stops; without it, they never leave
a gap nor undo each other's newer token. And the Events they record.

Each copy talks to the stand-in as its own user (run-a, run-b) with the
controller's ClusterRole plus the Lease and Events rights of the
manifests, so the request log tells who wrote what.
"""

import calendar
import json
import signal
import threading
import time

from tests.integration.controller_common import RunningTool, metric, parse_metrics
from tests.integration.test_run import SECRET, RunTestCase, controller_rules, kube_config

LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ecr-renew"


def lease_and_event_rules():
    return [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"],
         "resourceNames": ["ecr-renew"], "namespaces": ["kube-system"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"],
         "namespaces": ["kube-system"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"], "namespaces": "*"},
    ]


def expiry_of(secret):
    text = secret["metadata"]["annotations"]["ecr-renew/expires-at"]
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class LeaderTestCase(RunTestCase):
    @classmethod
    def setUpClass(cls):
        cfg = kube_config()
        for name in ("run-a", "run-b"):
            cfg["users"].append({"name": name, "token": "fake-token-" + name,
                                 "rules": controller_rules() + lease_and_event_rules()})
        cls.start_aws()
        cls.start_kube(cfg)

    def setUp(self):
        super().setUp()
        self.remember_secret(self.kube.token_for("run-a"), self.kube.token_for("run-b"))

    def copy(self, user, *args, leader_elect=True, wait=True):
        env = self.env(KUBECONFIG=self.kube.write_kubeconfig(user=user), POD_NAME="pod-" + user,
                       POD_NAMESPACE="kube-system", ECR_RENEW_SERVICEACCOUNT_DIR="/nonexistent")
        args = ["run", "--listen", "127.0.0.1:0"] + (["--leader-elect"] if leader_elect else []) + list(args)
        r = RunningTool(args, env)
        self.runs.append(r)
        r.start()
        if wait:
            r.wait_for_log("controller started")
        return r

    def writes_by(self, user, since_seq=0):
        return [q for q in self.kube.requests() if q["user"] == user and q["seq"] > since_seq
                and q["method"] in ("POST", "PUT", "PATCH", "DELETE") and "/leases" not in q["path"]
                and "/events" not in q["path"]]

    def holder(self):
        lease = self.kube.get_object("Lease", "kube-system", "ecr-renew")
        return lease and lease["spec"].get("holderIdentity", "")

    def wait_holder(self, prefix, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            h = self.holder() or ""
            if h.startswith(prefix):
                return h
            time.sleep(0.1)
        self.fail("the Lease is held by %r, not %s*, after %.0f s" % (self.holder(), prefix, timeout))

    def last_seq(self):
        reqs = self.kube.requests()
        return reqs[-1]["seq"] if reqs else 0


class LeaderElectionTest(LeaderTestCase):
    def start_pair(self):
        a = self.copy("run-a", "-n", "team-*")
        a.wait_for_log("became leader", timeout=10)
        a.wait_for_log("first pass done", timeout=10)
        b = self.copy("run-b", "-n", "team-*")
        time.sleep(3)  # a few of b's rounds
        return a, b

    def test_exactly_one_writes_and_the_lease_has_client_go_fields(self):
        a, b = self.start_pair()
        self.kube.create_namespace("team-new")
        self.wait_secret("team-new", timeout=3)
        self.assertTrue(self.writes_by("run-a"))
        self.assertEqual(self.writes_by("run-b"), [], "the standby wrote")
        lease = self.kube.get_object("Lease", "kube-system", "ecr-renew")
        spec = lease["spec"]
        self.assertTrue(spec["holderIdentity"].startswith("pod-run-a_"), spec)
        self.assertEqual(spec["leaseDurationSeconds"], 15)
        for field in ("acquireTime", "renewTime"):
            self.assertRegex(spec[field], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        # Real microseconds: both on a whole second is a one-in-10^12 chance.
        self.assertFalse(all(spec[f].endswith(".000000Z") for f in ("acquireTime", "renewTime")), spec)
        out = self.kube.kubectl("get", "lease", "ecr-renew", "-n", "kube-system")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("pod-run-a_", out.stdout)
        # The standby answers /readyz, and says it leads nothing.
        status, _, body = b.get("/readyz")
        self.assertEqual(status, 200, body)
        self.assertIn("standby", body)
        ma = parse_metrics(a.get("/metrics")[2])
        mb = parse_metrics(b.get("/metrics")[2])
        self.assertEqual(metric(ma, "ecr_renew_leader"), 1)
        self.assertEqual(metric(mb, "ecr_renew_leader"), 0)
        self.stop_run(b)
        self.stop_run(a)

    def test_kill_9__standby_takes_over_within_20s(self):
        a, b = self.start_pair()
        a.proc.send_signal(signal.SIGKILL)
        killed = time.time()
        a.stop()
        self.runs.remove(a)
        self.kube.create_namespace("team-after")
        seq = self.last_seq()
        self.wait_holder("pod-run-b_", timeout=22)
        s = self.wait_secret("team-after", timeout=25)
        first = self.writes_by("run-b", seq)[0]
        took = first["time"] - killed
        print("\n  kill -9 of the leader -> the standby's first write: %.1f s" % took)
        self.assertLess(took, 20.0)
        self.assertEqual(s["type"], "kubernetes.io/dockerconfigjson")
        self.stop_run(b)

    def test_sigterm__lease_released_standby_takes_over_within_5s(self):
        a, b = self.start_pair()
        self.stop_run(a)  # exit 0 within 2 s, asserted there
        stopped = time.time()
        lease = self.kube.get_object("Lease", "kube-system", "ecr-renew")
        self.assertIn(lease["spec"]["holderIdentity"], ("",) + (self.holder(),))
        self.kube.create_namespace("team-after")
        self.wait_holder("pod-run-b_", timeout=6)
        self.wait_secret("team-after", timeout=6)
        took = time.time() - stopped
        print("\n  SIGTERM of the leader -> the standby holds the Lease and wrote: %.1f s" % took)
        self.assertLess(took, 5.0)
        released = [q for q in self.kube.requests() if q["user"] == "run-a" and q["method"] == "PUT"
                    and q["path"] == LEASE]
        self.assertTrue(released, "the leader did not write the Lease on its way out")
        self.stop_run(b)

    def test_leader_that_cannot_renew__stops_writing_before_its_lease_runs_out(self):
        a = self.copy("run-a", "-n", "team-*")
        a.wait_for_log("became leader", timeout=10)
        a.wait_for_log("first pass done", timeout=10)
        last_renew = time.time()
        # Every Lease update fails from now on.
        self.kube.inject_fault("internalError", method="PUT", path="/leases/ecr-renew$", count=1000)
        a.wait_for_log("stopped leading", timeout=14)
        stopped = time.time()
        print("\n  renewals failing -> stopped leading after %.1f s" % (stopped - last_renew))
        self.assertLess(stopped - last_renew, 12.5, "past the renew deadline")
        seq = self.last_seq()
        self.kube.create_namespace("team-orphan")
        time.sleep(1.5)
        self.assertEqual(self.writes_by("run-a", seq), [], "wrote after it stopped leading")
        self.assertEqual(metric(parse_metrics(a.get("/metrics")[2]), "ecr_renew_leader"), 0)
        self.kube.clear_faults()
        self.stop_run(a)


class WithoutElectionTest(LeaderTestCase):
    def test_two_copies_burst_of_renewals__no_gap_no_older_token_no_delete(self):
        self.aws.configure_ecr(lifetime_seconds=20)
        a = self.copy("run-a", "-n", "team-a,team-b,runtime", leader_elect=False)
        b = self.copy("run-b", "-n", "team-a,team-b,runtime", leader_elect=False)
        a.wait_for_log("first pass done")
        b.wait_for_log("first pass done")
        seen = {}
        problems = []
        stop = threading.Event()

        def watch_secrets():
            while not stop.is_set():
                for ns in ("team-a", "team-b", "runtime"):
                    s = self.kube.get_object("Secret", ns, SECRET)
                    if s is None:
                        problems.append("no Secret in %s" % ns)
                        continue
                    exp = expiry_of(s)
                    if exp < seen.get(ns, 0):
                        problems.append("%s went from %d to an older token %d" % (ns, seen[ns], exp))
                    if exp <= time.time():
                        problems.append("%s held an expired token" % ns)
                    seen[ns] = max(seen.get(ns, 0), exp)
                time.sleep(0.05)

        t = threading.Thread(target=watch_secrets)
        t.start()
        try:
            # Both renew at about half of 20 s, twice.
            a.wait_for_log("tokens renewed", count=3, timeout=30)
            b.wait_for_log("tokens renewed", count=3, timeout=30)
        finally:
            stop.set()
            t.join()
        self.assertEqual(problems, [])
        deletes = [q for q in self.kube.requests() if q["method"] == "DELETE"]
        self.assertEqual(deletes, [])
        for ns in ("team-a", "team-b", "runtime"):
            self.assertGreater(expiry_of(self.secret(ns)), time.time())
        self.stop_run(a)
        self.stop_run(b)


class EventsTest(LeaderTestCase):
    def events(self, ns):
        out = self.kube.kubectl("get", "events", "-n", ns, "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return [e for e in json.loads(out.stdout)["items"] if e.get("reportingComponent") == "ecr-renew"]

    def test_created_restored_foreign__events_readable_with_kubectl_and_aggregated(self):
        self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "team-b", "--from-literal=k=v")
        r = self.copy("run-a", "-n", "team-a,team-b", leader_elect=False)
        r.wait_for_log("first pass done")
        for _ in range(2):
            self.kube.kubectl("delete", "secret", SECRET, "-n", "team-a")
            self.wait_secret("team-a", timeout=3)
            time.sleep(0.3)
        time.sleep(0.5)
        ev = {e["reason"]: e for e in self.events("team-a")}
        self.assertIn("SecretCreated", ev)
        self.assertIn("SecretRestored", ev)
        restored = [e for e in self.events("team-a") if e["reason"] == "SecretRestored"]
        self.assertEqual(len(restored), 1, "two restores within a minute make one Event")
        e = ev["SecretCreated"]
        self.assertEqual(e["type"], "Normal")
        self.assertEqual(e["involvedObject"]["kind"], "Secret")
        self.assertEqual(e["involvedObject"]["name"], SECRET)
        self.assertEqual(e["source"]["component"], "ecr-renew")
        foreign = [e for e in self.events("team-b") if e["reason"] == "ForeignSecret"]
        self.assertEqual(len(foreign), 1)
        self.assertEqual(foreign[0]["type"], "Warning")
        out = self.kube.kubectl("get", "events", "-n", "team-a")
        self.assertIn("SecretRestored", out.stdout)
        self.stop_run(r)

    def test_token_renewal_failed__event_on_its_own_pod(self):
        self.aws.configure_ecr(lifetime_seconds=20)
        r = self.copy("run-a", "-n", "team-a", "--timeout", "2s", leader_elect=False)
        r.wait_for_log("first pass done")
        self.aws.inject_fault("GetAuthorizationToken", "throttle", count=1000)
        r.wait_for_log("token renewal failed", timeout=15)
        time.sleep(0.5)
        ev = [e for e in self.events("kube-system") if e["reason"] == "TokenRenewalFailed"]
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["involvedObject"]["kind"], "Pod")
        self.assertEqual(ev[0]["involvedObject"]["name"], "pod-run-a")
        self.assertIn("ThrottlingException", ev[0]["message"])
        self.aws.clear_faults()
        self.stop_run(r)
