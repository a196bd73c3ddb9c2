"""run --heal-pods against the Kubernetes API stand-in: a pod created
before its ServiceAccount had the Secret, stuck pulling from our registry
and owned by a controller, is deleted once (so its owner makes it again,
with the Secret this time); nothing else is.

The stand-in plays the ServiceAccount admission plugin (imagePullSecrets
copied at creation only) and, with recreateOwnedPods, the owner.
"""

import json
import time

from tests.integration.controller_common import metric, parse_metrics
from tests.integration.test_leader import lease_and_event_rules
from tests.integration.test_run import SECRET, RunTestCase, controller_rules, kube_config


def healer_rules():
    return controller_rules() + lease_and_event_rules() + [
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "list", "watch", "patch"],
         "namespaces": "*"},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "delete"], "namespaces": "*"},
    ]


class HealTest(RunTestCase):
    @classmethod
    def setUpClass(cls):
        cfg = kube_config()
        cfg["users"].append({"name": "healer", "token": "fake-token-healer", "rules": healer_rules()})
        cls.start_aws()
        cls.start_kube(cfg)

    def setUp(self):
        super().setUp()
        self.remember_secret(self.kube.token_for("healer"))
        self.kubeconfig = self.kube.write_kubeconfig(user="healer")
        self.kube.configure(recreateOwnedPods=True)
        self.image = self.aws.registry_host() + "/app:1"

    def stuck(self, name, *, owner="ReplicaSet", image=None, pull_secrets=None):
        self.kube.create_pod("team-a", name, image=image or self.image, owner_kind=owner or None,
                             owner_name=name + "-owner", image_pull_secrets=pull_secrets)
        self.kube.set_pod_waiting("team-a", name, "ImagePullBackOff")

    def deletes(self):
        return [q for q in self.ours(method="DELETE") if "/pods/" in q["path"]]

    def pods(self):
        return {p["metadata"]["name"]: p for p in self.kube.objects("Pod", "team-a")}

    def test_stuck_owned_pod__deleted_once_others_left(self):
        self.stuck("web")                                       # the one to heal
        self.stuck("bare", owner=None)                          # nothing would make it again
        self.stuck("named", pull_secrets=[SECRET])              # heals by itself
        self.stuck("elsewhere", image="ghcr.io/acme/app:1")     # not our registry
        r = self.start_run("-n", "team-a", "--service-account", "default", "--heal-pods")
        end = time.monotonic() + 5
        while not self.deletes() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(1.0)  # room for a wrong second delete
        deleted = [q["path"].rsplit("/", 1)[1] for q in self.deletes()]
        self.assertEqual(deleted, ["web"])
        self.assertEqual(self.deletes()[0]["status"], 200)
        # Its owner made it again, with the reference this time: left alone.
        pods = self.pods()
        again = [p for n, p in pods.items() if n.startswith("web")]
        self.assertEqual(len(again), 1)
        self.assertIn({"name": SECRET}, again[0]["spec"].get("imagePullSecrets", []))
        for name in ("bare", "named", "elsewhere"):
            self.assertIn(name, pods)
        r.wait_for_log("pod deleted so its owner makes it again", timeout=2)
        self.assertEqual(metric(parse_metrics(r.get("/metrics")[2]), "ecr_renew_pods_healed_total"), 1)
        out = self.kube.kubectl("get", "events", "-n", "team-a", "-o", "json")
        healed = [e for e in json.loads(out.stdout)["items"] if e["reason"] == "PodHealed"]
        self.assertEqual(len(healed), 1)
        self.assertEqual(healed[0]["involvedObject"]["kind"], "ReplicaSet")
        self.assertEqual(healed[0]["involvedObject"]["name"], "web-owner")
        self.stop_run(r)

    def test_rate__at_most_n_a_minute(self):
        for i in range(3):
            self.stuck("web-%d" % i)
        r = self.start_run("-n", "team-a", "--service-account", "default", "--heal-pods", "--heal-rate", "1")
        end = time.monotonic() + 5
        while not self.deletes() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(3.0)
        self.assertEqual(len(self.deletes()), 1, "more than --heal-rate 1 in a minute")
        self.stop_run(r)

    def test_account_without_the_secret__pod_left_until_it_has_it(self):
        # No --service-account: nothing gives default the Secret, so the
        # pod would only come back the same; it is left alone...
        self.stuck("web")
        r = self.start_run("-n", "team-a", "--heal-pods")
        time.sleep(1.5)
        self.assertEqual(self.deletes(), [])
        # ...until someone adds the Secret to the account.
        out = self.kube.kubectl("patch", "serviceaccount", "default", "-n", "team-a", "--type", "merge",
                                "-p", json.dumps({"imagePullSecrets": [{"name": SECRET}]}))
        self.assertEqual(out.returncode, 0, out.stderr)
        end = time.monotonic() + 3
        while not self.deletes() and time.monotonic() < end:
            time.sleep(0.05)
        self.assertEqual(len(self.deletes()), 1)
        self.stop_run(r)
