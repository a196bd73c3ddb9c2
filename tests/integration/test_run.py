"""ecr-renew run, the controller, against moto (IAM enforced) and the
Kubernetes API stand-in, read back with the real kubectl.

The controller's identity has exactly the ClusterRole that
deploy/kubernetes/components/controller grants: list and watch on
namespaces; get, list, watch, update and patch on secrets limited by
resourceNames to the Secret's name, and create on secrets.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from tests.fakes.kube import harness as kube_harness
from tests.integration.common import (EXIT_CONFIG, EXIT_NO_CREDS, EXIT_OK, EXIT_USAGE,
                                      ToolTestCase)
from tests.integration.controller_common import RunningTool, metric, parse_metrics

SA = kube_harness.SA_USER
SECRET = "ecr-registry-secret"
TYPE = "kubernetes.io/dockerconfigjson"
STARTING = ["runtime", "team-a", "team-b", "other"]


def controller_rules(secret=SECRET):
    return [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"], "namespaces": "*"},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "update", "patch"],
         "resourceNames": [secret], "namespaces": "*"},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"], "namespaces": "*"},
    ]


def kube_config():
    cfg = kube_harness.default_config()
    cfg["namespaces"] += STARTING
    for user in cfg["users"]:
        if user["name"] == SA:
            user["rules"] = controller_rules()
    # sync's rights (the CronJob's Role) and no more: nothing on namespaces.
    cfg["users"].append({"name": "sync-only", "token": "fake-token-sync-only",
                         "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                    "verbs": ["get", "create", "update"], "namespaces": "*"}]})
    return cfg


def have_promtool():
    return shutil.which("promtool") is not None


class RunTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_aws()
        cls.start_kube(kube_config())

    def setUp(self):
        super().setUp()
        self.kube.reset()
        self.kube.clear_faults()
        self.aws.clear_faults()
        self.aws.configure_ecr(lifetime_seconds=12 * 3600)
        self.kube.clear_requests()
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-run-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.remember_secret(self.aws.keys("ecr-reader")[1], self.password(),
                             self.kube.token_for(SA), self.kube.token_for("admin"))
        self.kubeconfig = self.kube.write_kubeconfig(user=SA)
        self.runs = []

    def tearDown(self):
        for r in self.runs:
            self._runs.append((r.args, r.stop(), False))
        super().tearDown()

    # -- helpers ---------------------------------------------------------

    def password(self):
        ecr = self.aws.client("ecr", user="ecr-reader")
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().split(":", 1)[1]

    def env(self, **extra):
        env = self.aws.env(user="ecr-reader")
        env["KUBECONFIG"] = self.kubeconfig
        env.update(extra)
        return env

    def start_run(self, *args, env=None, first_pass=True):
        r = RunningTool(["run", "--listen", "127.0.0.1:0"] + list(args), env or self.env())
        self.runs.append(r)
        r.start()
        if first_pass:
            r.wait_for_log("first pass done")
        return r

    def stop_run(self, r):
        """Stops it with SIGTERM; asserts exit 0 within 2 s."""
        finished = r.stop()
        self.runs.remove(r)
        self._runs.append((r.args, finished, False))
        self.assertEqual(finished.returncode, EXIT_OK, finished.stderr[-2000:])
        self.assertLess(r.stop_seconds, 2.0, "SIGTERM took %.2f s" % r.stop_seconds)
        return finished

    def secret(self, ns, name=SECRET):
        out = self.kube.kubectl("get", "secret", name, "-n", ns, "-o", "json")
        return json.loads(out.stdout) if out.returncode == 0 else None

    def wait_secret(self, ns, pred=lambda s: s is not None, timeout=5):
        end = time.monotonic() + timeout
        while True:
            s = self.kube.get_object("Secret", ns, SECRET)
            if pred(s):
                return s
            if time.monotonic() > end:
                self.fail("the Secret in %s did not become as expected within %.0f s: %s" % (
                    ns, timeout, s and {k: s["metadata"].get(k) for k in ("resourceVersion", "annotations")}))
            time.sleep(0.05)

    def auths(self, secret):
        doc = base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
        return json.loads(doc)["auths"]

    def ours(self, method=None, path_contains=None):
        return [r for r in self.kube.requests(method=method, path_contains=path_contains)
                if (r.get("userAgent") or "").startswith("ecr-renew/")]

    def writes_to(self, ns):
        return [r for r in self.ours() if r["method"] in ("POST", "PUT", "PATCH")
                and r["path"].startswith("/api/v1/namespaces/%s/secrets" % ns)]

    def metrics(self, r):
        status, ctype, body = r.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
        return parse_metrics(body), body

    def latency_of_create(self, ns):
        """Seconds from the API server's create of ns to our write there, from the request log."""
        reqs = self.kube.requests()
        created = [r for r in reqs if r["method"] == "POST" and r["path"] == "/api/v1/namespaces"
                   and r["status"] == 201 and ns in json.dumps(r)]
        created = created or [r for r in reqs if r["method"] == "POST" and r["path"] == "/api/v1/namespaces"
                              and r["status"] == 201]
        written = [r for r in self.writes_to(ns) if 200 <= r["status"] < 300]
        self.assertTrue(created and written, "no create of %s or no write there in the request log" % ns)
        return written[0]["time"] - created[-1]["time"]


class StartAndNewNamespaceTest(RunTestCase):
    def test_start__every_selected_namespace_then_a_new_one_within_1s(self):
        r = self.start_run("-n", "team-*,runtime", "--exclude-namespace", "team-b")
        password = self.password()
        for ns in ("runtime", "team-a"):
            s = self.secret(ns)
            self.assertIsNotNone(s, "no Secret in " + ns)
            self.assertEqual(s["type"], TYPE)
            self.assertEqual(s["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ecr-renew")
            entry = self.auths(s)[self.aws.registry_host()]
            self.assertTrue(entry["password"] == password, "the Secret holds AWS's password")
        for ns in ("team-b", "other", "default", "kube-system"):
            self.assertIsNone(self.secret(ns), "a Secret was written in " + ns)

        out = self.kube.kubectl("create", "namespace", "team-new")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.wait_secret("team-new", timeout=3)
        latency = self.latency_of_create("team-new")
        print("\n  namespace created -> its Secret written: %.3f s" % latency)
        self.assertLess(latency, 1.0)
        self.assertEqual(self.secret("team-new")["type"], TYPE)
        # One write, no GET: the watch already said there was none.
        self.assertEqual([w["method"] for w in self.writes_to("team-new")], ["POST"])
        status, _, body = r.get("/readyz")
        self.assertEqual((status, body.strip()), (200, "ok"))
        self.stop_run(r)

    def test_fresh_secrets__not_rewritten_idle_or_by_their_own_watch_events(self):
        r = self.start_run("-n", "*", "--exclude-namespace", "kube-*")
        self.kube.clear_requests()
        time.sleep(2.0)  # the watch shows our writes; a bookmark or two
        self.assertEqual([q for q in self.ours() if q["method"] != "GET" and "/secrets" in q["path"]], [],
                         "a fresh Secret was written again")
        self.stop_run(r)

    def test_restart__one_in_place_patch_per_secret_at_most(self):
        # A start is a renewal: a new token (with real ECR, a new password)
        # is written, in place, with no read first; nothing else.
        r = self.start_run("-n", "*", "--exclude-namespace", "kube-*")
        uids = {ns: self.secret(ns)["metadata"]["uid"] for ns in ("runtime", "team-a")}
        self.stop_run(r)
        self.kube.clear_requests()
        r = self.start_run("-n", "*", "--exclude-namespace", "kube-*")
        time.sleep(0.5)
        writes = [q for q in self.ours() if q["method"] != "GET" and "/secrets" in q["path"]]
        self.assertTrue(all(q["method"] == "PATCH" for q in writes), writes)
        paths = [q["path"] for q in writes]
        self.assertEqual(len(paths), len(set(paths)), "a Secret was written twice")
        self.assertEqual([q for q in self.ours(method="GET") if "/secrets/" in q["path"]], [])
        for ns, uid in uids.items():
            self.assertEqual(self.secret(ns)["metadata"]["uid"], uid)
        m, _ = self.metrics(r)
        self.assertEqual(metric(m, "ecr_renew_namespaces", state="synced"), 5)  # runtime team-a team-b other default
        self.assertEqual(metric(m, "ecr_renew_namespaces", state="excluded"), 3)  # kube-system kube-public kube-node-lease
        self.stop_run(r)


class SelectorTest(RunTestCase):
    def test_label_selector_and_exclude_annotation__served_as_labels_change(self):
        self.kube.create_namespace("app-1", labels={"ecr": "yes"})
        self.kube.create_namespace("app-2", labels={"ecr": "yes"}, annotations={"ecr-renew/exclude": "true"})
        self.kube.create_namespace("app-3", labels={"ecr": "no"})
        r = self.start_run("--namespace-selector", "ecr in (yes,maybe)")
        self.assertIsNotNone(self.secret("app-1"))
        self.assertIsNone(self.secret("app-2"), "the exclude annotation was ignored")
        self.assertIsNone(self.secret("app-3"))
        self.assertIsNone(self.secret("runtime"), "runtime is the default only without a selector")
        # The selector went to the server.
        lists = self.ours(method="GET", path_contains="/api/v1/namespaces")
        self.assertTrue(any("labelSelector=ecr" in (q["query"] or "") for q in lists), lists[:2])

        # Starts to match: served at once.
        self.kube.clear_requests()
        out = self.kube.kubectl("label", "namespace", "app-3", "ecr=maybe", "--overwrite")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.wait_secret("app-3", timeout=2)
        # Stops matching: its Secret stays.
        out = self.kube.kubectl("label", "namespace", "app-1", "ecr-")
        self.assertEqual(out.returncode, 0, out.stderr)
        time.sleep(0.5)
        self.assertIsNotNone(self.secret("app-1"), "a Secret was deleted")
        self.assertEqual([q for q in self.ours() if q["method"] == "DELETE"], [])
        self.stop_run(r)


class DriftTest(RunTestCase):
    def test_deleted_secret__recreated_within_1s_counted_restored(self):
        r = self.start_run("-n", "team-a,team-b")
        out = self.kube.kubectl("delete", "secret", SECRET, "-n", "team-a")
        self.assertEqual(out.returncode, 0, out.stderr)
        t0 = time.time()
        s = self.wait_secret("team-a", timeout=2)
        print("\n  Secret deleted -> written again: %.3f s" % (time.time() - t0))
        self.assertEqual(s["type"], TYPE)
        m, _ = self.metrics(r)
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="restored"), 1)
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="created"), 2)
        self.stop_run(r)

    def test_edited_secret__restored_in_place_same_uid(self):
        r = self.start_run("-n", "team-a")
        before = self.secret("team-a")
        bogus = base64.b64encode(b'{"auths":{"evil.example":{"auth":"eDp5"}}}').decode()
        out = self.kube.kubectl("patch", "secret", SECRET, "-n", "team-a", "--type", "merge",
                                "-p", json.dumps({"data": {".dockerconfigjson": bogus}}))
        self.assertEqual(out.returncode, 0, out.stderr)
        s = self.wait_secret("team-a", lambda s: s and s["data"][".dockerconfigjson"] != bogus, timeout=2)
        self.assertEqual(s["metadata"]["uid"], before["metadata"]["uid"])
        self.assertEqual(s["data"], before["data"])
        m, _ = self.metrics(r)
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="restored"), 1)
        # Put back with one guarded PATCH, not a GET and a PUT.
        self.assertEqual([w["method"] for w in self.writes_to("team-a")][-1], "PATCH")
        self.stop_run(r)

    def test_foreign_secret__untouched_and_reported_once_per_change(self):
        self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "team-a", "--from-literal=k=v")
        r = self.start_run("-n", "team-a,team-b")
        before = self.secret("team-a")
        self.assertEqual(before["type"], "Opaque")
        time.sleep(1.0)  # long enough for a hot loop to show
        self.assertEqual(r.count(r"warn secret not ours.*namespace=team-a"), 1, r.stderr)
        m, _ = self.metrics(r)
        self.assertEqual(metric(m, "ecr_renew_secret_errors_total", reason="Foreign"), 1)
        self.assertEqual(self.writes_to("team-a"), [])
        status, _, body = r.get("/readyz")
        self.assertEqual(status, 200, "a foreign Secret is not ours to fix: " + body)
        # Changed by its owner: reported again, once.
        self.kube.kubectl("label", "secret", SECRET, "-n", "team-a", "owner=someone")
        r.wait_for_log(r"secret not ours.*namespace=team-a", count=2, timeout=3)
        time.sleep(0.5)
        self.assertEqual(r.count(r"secret not ours.*namespace=team-a"), 2)
        self.assertEqual(self.secret("team-a")["data"], before["data"])
        # Deleted by its owner: ours from then on.
        self.kube.kubectl("delete", "secret", SECRET, "-n", "team-a")
        s = self.wait_secret("team-a", lambda s: s and s["type"] == TYPE, timeout=2)
        self.assertEqual(s["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ecr-renew")
        self.stop_run(r)

    def test_later_token_from_another_copy__kept(self):
        r = self.start_run("-n", "team-a")
        s = self.secret("team-a")
        later = "2099-01-01T00:00:00Z"
        ann = dict(s["metadata"]["annotations"])
        ann["ecr-renew/expires-at"] = later
        other = base64.b64encode(json.dumps({"auths": {self.aws.registry_host(): {
            "username": "AWS", "password": "from-the-other-copy",
            "auth": base64.b64encode(b"AWS:from-the-other-copy").decode()}}}).encode()).decode()
        out = self.kube.kubectl("patch", "secret", SECRET, "-n", "team-a", "--type", "merge", "-p",
                                json.dumps({"metadata": {"annotations": ann},
                                            "data": {".dockerconfigjson": other}}))
        self.assertEqual(out.returncode, 0, out.stderr)
        time.sleep(1.0)
        s = self.secret("team-a")
        self.assertEqual(s["data"][".dockerconfigjson"], other, "a later token was replaced by an older one")
        self.assertEqual(len(self.writes_to("team-a")), 1)
        self.stop_run(r)


class RenewalTest(RunTestCase):
    def test_short_lived_token__renewed_and_every_secret_rewritten_before_expiry(self):
        self.aws.configure_ecr(lifetime_seconds=20)
        r = self.start_run("-n", "team-a,team-b,runtime")
        first = {ns: self.secret(ns)["metadata"]["annotations"]["ecr-renew/expires-at"]
                 for ns in ("team-a", "team-b", "runtime")}
        expiry = time.time() + 20
        self.aws.rotate_ecr()
        new_password = self.password()
        self.remember_secret(new_password)
        # Renewed at about half the life (10 s, less jitter).
        r.wait_for_log("tokens renewed", count=2, timeout=15)
        for ns in ("team-a", "team-b", "runtime"):
            s = self.wait_secret(ns, lambda s: s["metadata"]["annotations"]["ecr-renew/expires-at"] != first[ns],
                                 timeout=3)
            self.assertTrue(self.auths(s)[self.aws.registry_host()]["password"] == new_password,
                            "the Secret in %s holds the renewed password" % ns)
        self.assertLess(time.time(), expiry - 2, "the Secrets were rewritten too late")
        m, _ = self.metrics(r)
        self.assertEqual(metric(m, "ecr_renew_token_renewals_total", result="success"), 2)
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="updated"), 3)
        self.assertGreater(metric(m, "ecr_renew_token_expiry_timestamp_seconds", region="us-east-1",
                                  registry=self.aws.registry_host()), expiry)
        self.stop_run(r)

    def test_aws_down__retried_with_backoff_secrets_kept_never_exits(self):
        self.aws.configure_ecr(lifetime_seconds=20)
        r = self.start_run("-n", "team-a", "--timeout", "2s")
        before = self.secret("team-a")
        # Every ECR call fails from now on; the renewal at half life fails.
        self.aws.inject_fault("GetAuthorizationToken", "throttle", count=1000)
        line = r.wait_for_log("token renewal failed", timeout=15)
        self.assertIn("ThrottlingException", line)
        self.assertIsNone(r.proc.poll(), "trouble at run time ended the run")
        self.assertEqual(self.secret("team-a")["data"], before["data"], "the valid Secret was touched")
        self.assertEqual(r.get("/healthz")[0], 200)
        m, _ = self.metrics(r)
        self.assertGreaterEqual(metric(m, "ecr_renew_token_renewals_total", result="failure"), 1)
        aws_errors = {dict(labels)["code"]: v for (name, labels), v in m.items()
                      if name == "ecr_renew_aws_errors_total"}
        self.assertGreaterEqual(aws_errors.get("ThrottlingException", 0), 1, aws_errors)
        # AWS back: the next try (after 5 s or so) renews.
        self.aws.clear_faults()
        r.wait_for_log("tokens renewed", count=2, timeout=15)
        self.stop_run(r)


class WatchFaultTest(RunTestCase):
    def namespace_lists(self):
        return [q for q in self.ours(method="GET") if q["path"] == "/api/v1/namespaces"
                and "watch=true" not in (q["query"] or "")]

    def test_dropped_stream_then_410__relisted_no_namespace_missed(self):
        # The first namespace watch is cut after one event; the next gets
        # the 410 ERROR event; the one after is normal.
        self.kube.inject_watch_fault("drop", path="^/api/v1/namespaces$", after_events=1)
        self.kube.inject_watch_fault("expired", path="^/api/v1/namespaces$")
        r = self.start_run("-n", "w-*")
        self.kube.create_namespace("w-1")
        self.kube.create_namespace("w-2")  # after the cut, before the relist
        self.wait_secret("w-1", timeout=3)
        self.wait_secret("w-2", timeout=5)
        r.wait_for_log("watch expired; listing again", timeout=5)
        self.assertGreaterEqual(len(self.namespace_lists()), 2, "no relist after the 410")
        self.kube.create_namespace("w-3")
        self.wait_secret("w-3", timeout=2)
        self.stop_run(r)

    def test_compacted_history__410_relist(self):
        self.kube.inject_watch_fault("drop", path="^/api/v1/namespaces$", after_events=1, reset=True)
        r = self.start_run("-n", "c-*")
        self.kube.create_namespace("c-1")
        self.wait_secret("c-1", timeout=3)
        # The watch resumes after a backoff of at least 0.8 s, from a
        # version that is gone by then.
        self.kube.compact()
        self.kube.create_namespace("c-2")
        self.wait_secret("c-2", timeout=6)
        r.wait_for_log("watch expired; listing again", timeout=5)
        self.assertGreaterEqual(len(self.namespace_lists()), 2)
        self.stop_run(r)

    def test_server_watch_timeout__watched_again_at_once(self):
        self.kube.set_watch_options(max_watch_seconds=1)
        self.addCleanup(self.kube.set_watch_options, max_watch_seconds=0)
        r = self.start_run("-n", "t-*")
        time.sleep(2.5)
        self.kube.create_namespace("t-1")
        self.wait_secret("t-1", timeout=2)
        watches = [q for q in self.ours(method="GET") if "watch=true" in (q["query"] or "")
                   and q["path"] == "/api/v1/namespaces"]
        self.assertGreaterEqual(len(watches), 3)
        self.assertNotIn("retrying", r.stderr)
        self.stop_run(r)


class EndpointTest(RunTestCase):
    @unittest.skipUnless(have_promtool(), "promtool is not installed (scripts/deps installs prometheus)")
    def test_metrics__promtool_clean_and_counters_match_the_request_log(self):
        self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "other", "--from-literal=k=v")
        r = self.start_run("-n", "*", "--exclude-namespace", "kube-*,default")
        self.kube.kubectl("delete", "secret", SECRET, "-n", "team-a")
        self.wait_secret("team-a", timeout=2)
        time.sleep(0.3)
        m, body = self.metrics(r)
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        writes = [q for q in self.ours() if q["method"] in ("POST", "PUT", "PATCH")
                  and "/secrets" in q["path"] and 200 <= q["status"] < 300]
        counted = sum(v for (name, _), v in m.items() if name == "ecr_renew_secret_writes_total")
        self.assertEqual(counted, len(writes))
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="created"), 3)  # runtime team-a team-b
        self.assertEqual(metric(m, "ecr_renew_secret_writes_total", outcome="restored"), 1)
        self.assertEqual(metric(m, "ecr_renew_namespaces", state="synced"), 3)
        self.assertEqual(metric(m, "ecr_renew_namespaces", state="failed"), 1)  # other: foreign
        self.assertEqual(metric(m, "ecr_renew_namespaces", state="excluded"), 4)
        self.assertGreater(metric(m, "ecr_renew_last_success_timestamp_seconds"), 0)
        self.assertEqual(metric(m, "ecr_renew_build_info", version=self.version()), 1)
        self.stop_run(r)

    def version(self):
        from tests.integration.common import BIN
        return subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[1]

    def test_readyz__not_ready_until_first_pass_health_answers_while_aws_is_slow(self):
        self.aws.inject_fault("GetAuthorizationToken", "delay", count=1, seconds=4)
        r = self.start_run("-n", "team-a", first_pass=False)
        t0 = time.monotonic()
        status, _, body = r.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("first pass", body)
        self.assertEqual(r.get("/healthz")[:1], (200,))
        self.assertLess(time.monotonic() - t0, 1.0, "the endpoint waited for AWS")
        self.assertEqual(r.get("/nope")[0], 404)
        # SIGTERM while the fetch is in progress: still 0, at once.
        self.stop_run(r)

    def test_readyz__missing_rights_shown_not_fatal(self):
        self.kubeconfig = self.kube.write_kubeconfig(user="sync-only")
        r = self.start_run("-n", "team-a", first_pass=False)
        line = r.wait_for_log("list or watch failed", timeout=5)
        self.assertIn("403", line)
        self.assertIn("Fix: grant list and watch", line)
        status, _, body = r.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIsNone(r.proc.poll(), "trouble at run time ended the run")
        m, _ = self.metrics(r)
        self.assertGreaterEqual(metric(m, "ecr_renew_secret_errors_total", reason="Forbidden"), 1)
        self.stop_run(r)

    def test_listen_off__no_endpoint(self):
        r = RunningTool(["run", "--listen", "off", "-n", "team-a"], self.env())
        self.runs.append(r)
        r.start(wait_listening=False)
        r.wait_for_log("first pass done")
        self.assertNotIn("listening", r.stderr)
        self.stop_run(r)


class StartErrorTest(RunTestCase):
    def run_once(self, *args, env=None):
        return self.run_tool(["run", "--listen", "127.0.0.1:0"] + list(args), env or self.env(), timeout=30)

    def test_bad_kubeconfig__exit_3(self):
        path = os.path.join(self.tmp, "kubeconfig")
        with open(path, "w") as f:
            f.write("apiVersion: v1\nclusters: [\n")
        proc = self.run_once(env=self.env(KUBECONFIG=path))
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn(path, proc.stderr)

    def test_no_aws_credentials__exit_4(self):
        env = self.env()
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        proc = self.run_once(env=env)
        self.assertExit(proc, EXIT_NO_CREDS)

    def test_bad_options__exit_2(self):
        for args, needle in ((["--namespace-selector", "a in (x"], "--namespace-selector"),
                             (["--listen", "not-an-address"], "--listen"),
                             (["-n", "Bad_Name"], "Bad_Name"),
                             (["--exclude-namespace", ""], "--exclude-namespace")):
            proc = self.run_once(*args)
            self.assertExit(proc, EXIT_USAGE, " ".join(args))
            self.assertIn(needle, proc.stderr)

    def test_port_in_use__exit_3_naming_it(self):
        r = self.start_run("-n", "team-a")
        proc = self.run_tool(["run", "--listen", r.address, "-n", "team-a"], self.env(), timeout=30)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn(r.address, proc.stderr)
        self.stop_run(r)

    def test_sigint__exit_0(self):
        r = self.start_run("-n", "team-a")
        finished = r.stop(sig=signal.SIGINT)
        self.runs.remove(r)
        self._runs.append((r.args, finished, False))
        self.assertEqual(finished.returncode, EXIT_OK)
        self.assertLess(r.stop_seconds, 2.0)


class SyncSelectionTest(RunTestCase):
    """The same selection for sync."""

    def sync(self, *args, user=SA):
        env = self.env(KUBECONFIG=self.kube.write_kubeconfig(user=user))
        return self.run_tool(["sync"] + list(args), env)

    def test_globs_excludes_selector_annotation(self):
        self.kube.create_namespace("s-1", labels={"tier": "web"})
        self.kube.create_namespace("s-2", labels={"tier": "db"})
        self.kube.create_namespace("s-3", labels={"tier": "web"}, annotations={"ecr-renew/exclude": "true"})
        self.kube.create_namespace("s-4", labels={"tier": "web"})
        proc = self.sync("-n", "s-*", "--exclude-namespace", "s-4", "--namespace-selector", "tier!=db")
        self.assertExit(proc, EXIT_OK)
        self.assertIsNotNone(self.secret("s-1"))
        for ns in ("s-2", "s-3", "s-4", "runtime"):
            self.assertIsNone(self.secret(ns), ns)
        self.assertIn("namespaces=1 written=1 failed=0", proc.stderr)
        self.assertRegex(proc.stderr, r"namespace skipped namespace=s-3 why=\"?annotation ecr-renew/exclude")

    def test_selector_alone__every_match_not_runtime(self):
        self.kube.create_namespace("l-1", labels={"pull": "ecr"})
        proc = self.sync("--namespace-selector", "pull=ecr")
        self.assertExit(proc, EXIT_OK)
        self.assertIsNotNone(self.secret("l-1"))
        self.assertIsNone(self.secret("runtime"))

    def test_environment_variables(self):
        self.kube.create_namespace("e-1")
        self.kube.create_namespace("e-2")
        env = self.env(ECR_RENEW_NAMESPACES="e-*", ECR_RENEW_EXCLUDE_NAMESPACES="e-2")
        proc = self.run_tool(["sync"], env)
        self.assertExit(proc, EXIT_OK)
        self.assertIsNotNone(self.secret("e-1"))
        self.assertIsNone(self.secret("e-2"))

    def test_glob_without_list_rights__says_so(self):
        proc = self.sync("-n", "team-*", user="sync-only")
        self.assertNotEqual(proc.returncode, EXIT_OK)
        self.assertIn("need list on namespaces", proc.stderr)
        self.assertIn("403", proc.stderr)

    def test_exact_names__no_rights_on_namespaces_needed(self):
        proc = self.sync("-n", "team-a,team-b", user="sync-only")
        self.assertExit(proc, EXIT_OK)
        self.assertEqual([q for q in self.ours() if q["path"].startswith("/api/v1/namespaces")
                          and q["path"].count("/") == 3], [], "namespaces were read")


if __name__ == "__main__":
    unittest.main()
