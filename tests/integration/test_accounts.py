"""ServiceAccount patching, for sync and run, against moto and the
Kubernetes API stand-in, read back with the real kubectl.

The Secret's name is added to imagePullSecrets with a JSON Patch whose
first operation tests the resourceVersion; every other entry is kept, in
order, and none is ever removed.
"""

import json
import subprocess
import threading
import time

from tests.fakes.kube import harness as kube_harness
from tests.integration.common import BIN, EXIT_KUBE, EXIT_OK
from tests.integration.controller_common import metric
from tests.integration.test_run import SECRET, RunTestCase, controller_rules, kube_config

SA = kube_harness.SA_USER


def account_rules(verbs):
    return [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": verbs, "namespaces": "*"}]


class AccountsTestCase(RunTestCase):
    @classmethod
    def setUpClass(cls):
        cfg = kube_config()
        # sync's Role plus what patching accounts needs; and the
        # controller's ClusterRole plus the same.
        cfg["users"].append({"name": "sync-accounts", "token": "fake-token-sync-accounts", "rules": [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"],
             "namespaces": "*"}] + account_rules(["get", "list", "patch"])})
        cfg["users"].append({"name": "run-accounts", "token": "fake-token-run-accounts",
                             "rules": controller_rules() + account_rules(["get", "list", "watch", "patch"])})
        cls.start_aws()
        cls.start_kube(cfg)

    def setUp(self):
        super().setUp()
        self.remember_secret(self.kube.token_for("sync-accounts"), self.kube.token_for("run-accounts"))

    def sync(self, *args, user="sync-accounts"):
        env = self.env(KUBECONFIG=self.kube.write_kubeconfig(user=user))
        return self.run_tool(["sync"] + list(args), env)

    def account(self, ns, name="default"):
        out = self.kube.kubectl("get", "serviceaccount", name, "-n", ns, "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def pull_secrets(self, ns, name="default"):
        return [e["name"] for e in self.account(ns, name).get("imagePullSecrets", [])]

    def set_pull_secrets(self, ns, names, name="default"):
        out = self.kube.kubectl("patch", "serviceaccount", name, "-n", ns, "--type", "merge", "-p",
                                json.dumps({"imagePullSecrets": [{"name": n} for n in names]}))
        self.assertEqual(out.returncode, 0, out.stderr)

    def account_patches(self, ns=None):
        return [q for q in self.ours(method="PATCH") if "/serviceaccounts/" in q["path"]
                and (ns is None or q["path"].startswith("/api/v1/namespaces/%s/" % ns))]


class SyncAccountsTest(AccountsTestCase):
    def test_default__appended_after_other_entries_once(self):
        self.set_pull_secrets("team-a", ["other", "another"])
        proc = self.sync("-n", "team-a,team-b", "--service-account", "default")
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.pull_secrets("team-a"), ["other", "another", SECRET])
        self.assertEqual(self.pull_secrets("team-b"), [SECRET])
        patches = self.account_patches()
        self.assertEqual(len(patches), 2)
        self.assertTrue(all(p["contentType"] == "application/json-patch+json" for p in patches), patches)
        self.assertIn("serviceaccounts finished patched=2 failed=0", proc.stderr)
        # Already listed: nothing to do the second time.
        self.kube.clear_requests()
        proc = self.sync("-n", "team-a,team-b", "--service-account", "default")
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.account_patches(), [])
        self.assertEqual(self.pull_secrets("team-a"), ["other", "another", SECRET])

    def test_annotation_opt_in_and_star(self):
        for name, ann in (("builder", {"ecr-renew/pull-secret": "true"}), ("plain", None)):
            self.kube.kubectl("create", "serviceaccount", name, "-n", "team-a")
            if ann:
                self.kube.kubectl("annotate", "serviceaccount", name, "-n", "team-a",
                                  "ecr-renew/pull-secret=true")
        proc = self.sync("-n", "team-a", "--annotated-service-accounts")
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.pull_secrets("team-a", "builder"), [SECRET])
        self.assertEqual(self.pull_secrets("team-a", "plain"), [])
        self.assertEqual(self.pull_secrets("team-a", "default"), [])
        proc = self.sync("-n", "team-a", "--service-account", "*")
        self.assertExit(proc, EXIT_OK)
        for name in ("builder", "plain", "default"):
            self.assertEqual(self.pull_secrets("team-a", name), [SECRET], name)

    def test_changed_between_read_and_patch__read_again_never_clobbered(self):
        self.set_pull_secrets("team-a", ["other"])
        # Our PATCH is held for a second; meanwhile someone adds an entry.
        self.kube.inject_fault("delay", method="PATCH", path="/namespaces/team-a/serviceaccounts/default$",
                               seconds=1.5)
        env = self.env(KUBECONFIG=self.kube.write_kubeconfig(user="sync-accounts"))
        result = {}
        t = threading.Thread(target=lambda: result.update(
            proc=subprocess.run([BIN, "sync", "-n", "team-a", "--service-account", "default"], env=env,
                                capture_output=True, text=True, timeout=60)))
        t.start()
        time.sleep(0.7)
        r = self.kube.api("PATCH", "/api/v1/namespaces/team-a/serviceaccounts/default",
                          [{"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "someone-else"}}],
                          content_type="application/json-patch+json")
        self.assertEqual(r.status, 200, r.body)
        t.join()
        proc = result["proc"]
        self._runs.append((["sync"], proc, False))
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.pull_secrets("team-a"), ["other", "someone-else", SECRET])
        statuses = [p["status"] for p in self.account_patches("team-a")]
        self.assertEqual(statuses, [422, 200], "the first patch should fail its test, the second land")

    def test_without_rights__exit_7_naming_them(self):
        proc = self.sync("-n", "team-a", "--service-account", "default", user="sync-only")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("get and patch on serviceaccounts", proc.stderr)
        self.assertIsNotNone(self.secret("team-a"), "the Secret is still written")

    def test_foreign_secret__account_not_pointed_at_it(self):
        self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "team-a", "--from-literal=k=v")
        proc = self.sync("-n", "team-a", "--service-account", "default")
        self.assertExit(proc, EXIT_KUBE)
        self.assertEqual(self.pull_secrets("team-a"), [])
        self.assertEqual(self.account_patches(), [])


class RunAccountsTest(AccountsTestCase):
    def start(self, *args):
        self.kubeconfig = self.kube.write_kubeconfig(user="run-accounts")
        return self.start_run(*args)

    def test_new_namespace__secret_and_default_account_within_1s(self):
        r = self.start("-n", "team-*", "--service-account", "default")
        self.assertEqual(self.pull_secrets("team-a"), [SECRET])
        out = self.kube.kubectl("create", "namespace", "team-new")
        self.assertEqual(out.returncode, 0, out.stderr)
        end = time.monotonic() + 3
        while SECRET not in self.pull_secrets("team-new") and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(self.pull_secrets("team-new"), [SECRET])
        created = [q for q in self.kube.requests() if q["method"] == "POST"
                   and q["path"] == "/api/v1/namespaces" and q["status"] == 201][-1]
        patched = [q for q in self.account_patches("team-new") if q["status"] == 200][0]
        latency = patched["time"] - created["time"]
        print("\n  namespace created -> Secret written and default patched: %.3f s" % latency)
        self.assertLess(latency, 1.0)
        # Someone removes our entry: put back, theirs kept.
        self.set_pull_secrets("team-a", ["theirs"])
        end = time.monotonic() + 3
        while self.pull_secrets("team-a") != ["theirs", SECRET] and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(self.pull_secrets("team-a"), ["theirs", SECRET])
        m, _ = self.metrics(r)
        self.assertGreaterEqual(metric(m, "ecr_renew_serviceaccount_patches_total", outcome="patched"), 4)
        self.stop_run(r)

    def test_annotation_opt_in__watched(self):
        r = self.start("-n", "team-a", "--annotated-service-accounts")
        self.kube.kubectl("create", "serviceaccount", "builder", "-n", "team-a")
        time.sleep(0.3)
        self.assertEqual(self.pull_secrets("team-a", "builder"), [])
        self.kube.kubectl("annotate", "serviceaccount", "builder", "-n", "team-a", "ecr-renew/pull-secret=true")
        end = time.monotonic() + 3
        while self.pull_secrets("team-a", "builder") != [SECRET] and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(self.pull_secrets("team-a", "builder"), [SECRET])
        self.assertEqual(self.pull_secrets("team-a", "default"), [])
        self.stop_run(r)

    def test_foreign_secret__account_left_alone(self):
        self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "team-b", "--from-literal=k=v")
        r = self.start("-n", "team-a,team-b", "--service-account", "default")
        time.sleep(0.5)
        self.assertEqual(self.pull_secrets("team-b"), [])
        self.assertEqual(self.pull_secrets("team-a"), [SECRET])
        self.stop_run(r)


