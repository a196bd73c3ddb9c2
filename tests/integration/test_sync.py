"""ecr-renew sync against moto (IAM enforced) and the Kubernetes API stand-in.

What ecr-renew wrote is read back with the real kubectl. The ServiceAccount
has only what the module's Role grants: get, create and update on secrets
in its namespaces, nothing on namespaces.
"""

import base64
import datetime
import json
import os
import shutil
import tempfile
import threading
import time

from tests.fakes.kube import harness as kube_harness
from tests.integration.common import (EXIT_CONFIG, EXIT_KUBE, EXIT_OK, EXIT_USAGE,
                                      ToolTestCase)

SA = kube_harness.SA_USER
SECRET = "ecr-registry-secret"
TYPE = "kubernetes.io/dockerconfigjson"
WRITABLE = ["runtime", "team-a", "team-b", "locked-out-is-not-here"]


def secret_rules(namespaces):
    return [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"],
             "namespaces": namespaces}]


def kube_config():
    cfg = kube_harness.default_config()
    cfg["namespaces"] += ["runtime", "team-a", "team-b", "locked"]
    for user in cfg["users"]:
        if user["name"] == SA:  # exactly the module's Role: no patch, no delete, no namespaces
            user["rules"] = secret_rules(WRITABLE)
    # Rights on secrets everywhere (a ClusterRole), none on namespaces.
    cfg["users"].append({"name": "cluster-writer", "token": "fake-token-cluster-writer",
                         "rules": secret_rules("*")})
    cfg["users"].append({"name": "ns-creator", "token": "fake-token-ns-creator",
                         "rules": secret_rules("*") + [
                             {"apiGroups": [""], "resources": ["namespaces"],
                              "verbs": ["create"], "namespaces": "*"}]})
    return cfg


class SyncTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_aws()
        cls.start_kube(kube_config())

    def setUp(self):
        super().setUp()
        self.kube.reset()
        self.kube.clear_faults()
        self.aws.clear_faults()
        self.kube.clear_requests()
        self.tmp = tempfile.mkdtemp(prefix="ecr-renew-sync-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.remember_secret(self.aws.keys("ecr-reader")[1], self.password(),
                             self.kube.token_for(SA), self.kube.token_for("admin"))
        self.kubeconfig = self.kube.write_kubeconfig(user=SA)

    def password(self, region=None):
        ecr = self.aws.client("ecr", user="ecr-reader", region=region)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().split(":", 1)[1]

    def env(self, **extra):
        env = self.aws.env(user="ecr-reader")
        env["KUBECONFIG"] = self.kubeconfig
        env.update(extra)
        return env

    def sync(self, *args, env=None):
        return self.run_tool(["sync"] + list(args), env or self.env())

    def get_secret(self, ns, name=SECRET):
        out = self.kube.kubectl("get", "secret", name, "-n", ns, "-o", "json")
        self.assertEqual(out.returncode, 0, "kubectl get secret %s/%s failed: %s" % (ns, name, out.stderr))
        return json.loads(out.stdout)

    def auths(self, secret):
        doc = base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
        return json.loads(doc)["auths"]

    def ours(self, method=None):
        return [r for r in self.kube.requests(method=method) if r["userAgent"].startswith("ecr-renew/")]


class FirstAndSecondSyncTest(SyncTestCase):
    def test_first_sync__creates_the_secret_in_every_namespace(self):
        proc = self.sync("--namespace", "runtime,team-a", "--namespace", "team-b",
                         "--registry-id", "111111111111", "--registry-id", "222222222222")
        self.assertExit(proc, EXIT_OK)
        password = self.password()
        for ns in ("runtime", "team-a", "team-b"):
            secret = self.get_secret(ns)
            self.assertEqual(secret["type"], TYPE)
            auths = self.auths(secret)
            self.assertEqual(sorted(auths), ["111111111111.dkr.ecr.us-east-1.amazonaws.com",
                                             "222222222222.dkr.ecr.us-east-1.amazonaws.com"])
            for entry in auths.values():
                self.assertEqual(entry["username"], "AWS")
                self.assertTrue(entry["password"] == password, "the password is AWS's")
                self.assertEqual(base64.b64decode(entry["auth"]).decode(), "AWS:" + password)
            meta = secret["metadata"]
            self.assertEqual(meta["labels"]["app.kubernetes.io/managed-by"], "ecr-renew")
            expires = datetime.datetime.strptime(meta["annotations"]["ecr-renew/expires-at"],
                                                 "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
            hours = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 3600
            self.assertTrue(11.9 < hours <= 12.0, "expiry annotation %.2f h ahead" % hours)
            self.assertEqual(meta["annotations"]["ecr-renew/registries"],
                             ",".join(sorted(auths)))
        self.assertIn("outcome=created", proc.stderr)
        self.assertIn("sync finished namespaces=3 written=3 failed=0", proc.stderr)

    def test_second_sync__updates_in_place_same_uid_no_delete_one_connection(self):
        self.assertExit(self.sync("-n", "runtime,team-a"), EXIT_OK)
        before = {ns: self.get_secret(ns)["metadata"] for ns in ("runtime", "team-a")}
        self.aws.rotate_ecr()
        self.kube.clear_requests()
        proc = self.sync("-n", "runtime,team-a")
        self.assertExit(proc, EXIT_OK)
        new_password = self.password()
        self.remember_secret(new_password)
        for ns in ("runtime", "team-a"):
            secret = self.get_secret(ns)
            self.assertEqual(secret["metadata"]["uid"], before[ns]["uid"])
            self.assertNotEqual(secret["metadata"]["resourceVersion"], before[ns]["resourceVersion"])
            entry = next(iter(self.auths(secret).values()))
            self.assertTrue(entry["password"] == new_password, "the Secret holds the new password")
        mine = self.ours()
        self.assertEqual([(r["method"], r["status"]) for r in mine],
                         [("GET", 200), ("PUT", 200)] * 2, "exactly GET+PUT per namespace")
        self.assertEqual([r for r in self.kube.requests() if r["method"] == "DELETE"], [])
        self.assertEqual(len({r["conn"] for r in mine}), 1, "one TLS connection for all requests")
        self.assertIn("outcome=updated", proc.stderr)

    def test_json_logs__one_line_per_namespace_and_a_summary(self):
        proc = self.sync("-n", "runtime,team-a", "--log-format", "json")
        self.assertExit(proc, EXIT_OK)
        lines = [json.loads(l) for l in proc.stderr.splitlines()]
        written = [l for l in lines if l["msg"] == "secret written"]
        self.assertEqual(sorted(l["namespace"] for l in written), ["runtime", "team-a"])
        self.assertTrue(all(l["level"] == "info" and l["outcome"] == "created" for l in written))
        self.assertEqual(lines[-1]["msg"], "sync finished")
        self.assertEqual(lines[-1]["failed"], "0")

    def test_environment_configures_everything(self):
        env = self.env(ECR_RENEW_NAMESPACES="team-a,team-b", ECR_RENEW_SECRET_NAME="pull",
                       ECR_RENEW_REGISTRY_IDS="333333333333", ECR_RENEW_LOG_FORMAT="json")
        proc = self.sync(env=env)
        self.assertExit(proc, EXIT_OK)
        for ns in ("team-a", "team-b"):
            self.assertEqual(list(self.auths(self.get_secret(ns, "pull"))),
                             ["333333333333.dkr.ecr.us-east-1.amazonaws.com"])
        json.loads(proc.stderr.splitlines()[0])


class OwnershipTest(SyncTestCase):
    def test_secret_of_another_type__refused_and_untouched(self):
        out = self.kube.kubectl("create", "secret", "generic", SECRET, "-n", "runtime",
                                "--from-literal=key=value")
        self.assertEqual(out.returncode, 0, out.stderr)
        before = self.get_secret("runtime")
        proc = self.sync("-n", "runtime,team-a")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("secret runtime/%s is not ours to overwrite: it has type Opaque" % SECRET,
                      proc.stderr)
        after = self.get_secret("runtime")
        self.assertEqual(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"])
        self.assertEqual(after["data"], before["data"])
        self.assertEqual(self.get_secret("team-a")["type"], TYPE, "the other namespace is written")
        self.assertIn("failures=\"runtime (NotOurs)\"", proc.stderr)

    def test_old_cronjob_secret__taken_over_in_place(self):
        # What the old module's job left: kubectl create secret docker-registry.
        out = self.kube.kubectl("create", "secret", "docker-registry", SECRET, "-n", "runtime",
                                "--docker-server=123456789012.dkr.ecr.us-east-1.amazonaws.com",
                                "--docker-username=AWS", "--docker-password=stale-old-password")
        self.assertEqual(out.returncode, 0, out.stderr)
        before = self.get_secret("runtime")
        proc = self.sync("-n", "runtime")
        self.assertExit(proc, EXIT_OK)
        after = self.get_secret("runtime")
        self.assertEqual(after["metadata"]["uid"], before["metadata"]["uid"])
        self.assertEqual(after["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ecr-renew")
        entry = self.auths(after)["123456789012.dkr.ecr.us-east-1.amazonaws.com"]
        self.assertTrue(entry["password"] == self.password())
        self.assertIn("outcome=\"taken over\"", proc.stderr)
        self.assertEqual(self.ours("DELETE"), [])

    def test_secret_managed_by_another_tool__refused(self):
        self.kube.seed({"apiVersion": "v1", "kind": "Secret", "type": TYPE,
                        "metadata": {"name": SECRET, "namespace": "runtime",
                                     "labels": {"app.kubernetes.io/managed-by": "Helm"}},
                        "data": {".dockerconfigjson": base64.b64encode(b'{"auths":{}}').decode()}})
        proc = self.sync("-n", "runtime")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("it is managed by Helm", proc.stderr)
        self.assertEqual(self.ours("PUT"), [])


class FailureTest(SyncTestCase):
    def test_conflict_on_update__read_again_and_retried(self):
        self.assertExit(self.sync("-n", "runtime"), EXIT_OK)
        self.kube.inject_fault("conflict", method="PUT", path="/secrets/", count=1,
                               bump_resource_version=True)
        self.kube.clear_requests()
        proc = self.sync("-n", "runtime")
        self.assertExit(proc, EXIT_OK)
        self.assertEqual([(r["method"], r["status"]) for r in self.ours()],
                         [("GET", 200), ("PUT", 409), ("GET", 200), ("PUT", 200)])

    def test_forbidden_namespace__fails_alone_and_exit_is_nonzero(self):
        proc = self.sync("-n", "runtime,locked,team-a")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn('namespace=locked secret=%s reason=Forbidden' % SECRET, proc.stderr)
        self.assertIn("cannot get resource \\\"secrets\\\"", proc.stderr)
        self.assertIn("grant get, create and update on secrets", proc.stderr)
        for ns in ("runtime", "team-a"):
            self.assertEqual(self.get_secret(ns)["type"], TYPE)
        self.assertIn('failed=1 failures="locked (Forbidden)"', proc.stderr)

    def test_missing_namespace__error_without_create_namespace(self):
        kc = self.kube.write_kubeconfig(user="cluster-writer")
        self.remember_secret(self.kube.token_for("cluster-writer"))
        proc = self.sync("-n", "not-there,runtime", env=self.env(KUBECONFIG=kc))
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("namespace not-there does not exist", proc.stderr)
        self.assertIn("--create-namespace", proc.stderr)
        self.assertEqual(self.get_secret("runtime")["type"], TYPE)
        self.assertEqual([r for r in self.kube.requests() if r["path"] == "/api/v1/namespaces"], [],
                         "no request on namespaces without --create-namespace")

    def test_namespace_without_rights__forbidden_says_it_may_be_missing(self):
        proc = self.sync("-n", "not-there")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("reason=Forbidden", proc.stderr)
        self.assertIn("or the namespace does not exist", proc.stderr)

    def test_missing_namespace__created_with_create_namespace(self):
        kc = self.kube.write_kubeconfig(user="ns-creator")
        self.remember_secret(self.kube.token_for("ns-creator"))
        proc = self.sync("-n", "brand-new", "--create-namespace", env=self.env(KUBECONFIG=kc))
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.kube.kubectl("get", "ns", "brand-new").returncode, 0)
        self.assertEqual(self.get_secret("brand-new")["type"], TYPE)

    def test_throttled_and_server_errors__retried(self):
        self.kube.inject_fault("tooManyRequests", method="GET", path="/secrets/", count=1,
                               retry_after=1)
        self.kube.inject_fault("internalError", method="POST", path="/secrets", count=1)
        self.kube.inject_fault("drop", method="GET", path="/secrets/", count=1)
        proc = self.sync("-n", "runtime")
        self.assertExit(proc, EXIT_OK)
        statuses = [(r["method"], r["status"]) for r in self.ours()]
        self.assertEqual(statuses[0], ("GET", 429))
        self.assertIn(("POST", 500), statuses)
        self.assertEqual(statuses[-1], ("POST", 201))
        self.assertIn("retrying Kubernetes request", proc.stderr)

    def test_invalid_answer_in_one_namespace__others_written(self):
        self.kube.inject_fault("status", method="POST", path="/namespaces/team-a/", count=1,
                               code=422, reason="Invalid", message='Secret "x" is invalid')
        proc = self.sync("-n", "team-a,team-b")
        self.assertExit(proc, EXIT_KUBE)
        self.assertIn("422 Invalid", proc.stderr)
        self.assertEqual(self.get_secret("team-b")["type"], TYPE)

    def test_bad_kubeconfig__config_error_before_any_aws_call(self):
        bad = os.path.join(self.tmp, "kubeconfig")
        with open(bad, "w") as f:
            f.write("apiVersion: v1\nclusters:\n- name: x\n  cluster: [unclosed\n")
        self.aws.clear_requests()
        proc = self.sync(env=self.env(KUBECONFIG=bad))
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn(bad + ":", proc.stderr)
        self.assertEqual(self.aws.requests(), [])

    def test_invalid_names__usage_errors(self):
        self.assertExit(self.sync("-n", "Not_Valid"), EXIT_USAGE)
        self.assertExit(self.sync("--secret-name", "bad name"), EXIT_USAGE)


class ClientConfigTest(SyncTestCase):
    def assertSyncs(self, env, user):
        proc = self.sync("-n", "runtime", env=env)
        self.assertExit(proc, EXIT_OK)
        users = {r["user"] for r in self.ours()}
        self.assertEqual(users, {user})
        return proc

    def test_kubeconfig_client_certificate_files_and_data(self):
        for auth in ("cert", "cert-data"):
            kc = self.kube.write_kubeconfig(user="cert-admin", auth=auth, ca="data")
            self.kube.clear_requests()
            self.assertSyncs(self.env(KUBECONFIG=kc), "cert-admin")

    def test_kubeconfig_exec_plugin_v1_and_v1beta1(self):
        for version in ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"):
            log = os.path.join(self.tmp, "exec-%s.log" % version[-2:])
            kc = self.kube.write_kubeconfig(user=SA, auth="exec", exec_api_version=version,
                                            exec_log=log)
            self.kube.clear_requests()
            self.assertSyncs(self.env(KUBECONFIG=kc), SA)
            with open(log) as f:
                calls = f.read().splitlines()
            self.assertEqual(len(calls), 1, "the plugin's credential is reused across requests")

    def test_kubeconfig_flag_and_context_flag(self):
        kc = self.kube.write_kubeconfig(user=SA, context="prod")
        env = self.env()
        del env["KUBECONFIG"]
        proc = self.sync("-n", "runtime", "--kubeconfig", kc, "--context", "prod", env=env)
        self.assertExit(proc, EXIT_OK)
        proc = self.sync("-n", "runtime", "--kubeconfig", kc, "--context", "staging", env=env)
        self.assertExit(proc, EXIT_CONFIG)
        self.assertIn("staging", proc.stderr)

    def test_in_cluster__token_re_read_before_each_request(self):
        sa_dir = self.kube.write_incluster_dir(user=SA)
        env = self.env(ECR_RENEW_SERVICEACCOUNT_DIR=sa_dir, **self.kube.incluster_env())
        del env["KUBECONFIG"]
        # The first request is held back while the kubelet "rotates" the token:
        # the old one stops working, so later requests must use the new file.
        self.kube.inject_fault("delay", method="GET", path="/namespaces/runtime/", count=1,
                               seconds=2)
        new_token = "fake-token-rotated-0123456789"
        self.remember_secret(new_token)
        old_token = self.kube.token_for(SA)
        self.addCleanup(self.kube.add_user, SA, token=old_token,
                        rules=tuple(secret_rules(WRITABLE)))

        def rotate():
            time.sleep(0.8)
            self.kube.add_user(SA, token=new_token, rules=tuple(secret_rules(WRITABLE)))
            with open(os.path.join(sa_dir, "token"), "w") as f:
                f.write(new_token)
        rotator = threading.Thread(target=rotate)
        rotator.start()
        proc = self.sync("-n", "runtime,team-a", env=env)
        rotator.join()
        self.assertExit(proc, EXIT_OK)
        self.assertEqual(self.get_secret("team-a")["type"], TYPE)
        self.assertEqual([r for r in self.ours() if r["status"] == 401], [],
                         "no request went out with the stale token")
