"""Self-tests of the FAKE kube-apiserver, mostly through the real kubectl.

Run from the repository root:
    python3 -m unittest discover -s tests/fakes/kube -v
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest


def _load_harness():
    # Loaded by path under a unique name: tests/fakes/aws has a harness.py too, and a plain
    # `import harness` would get whichever one a test run imported first.
    name = "fake_kube_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


_h = _load_harness()
FakeKube, default_config, find_kubectl = _h.FakeKube, _h.default_config, _h.find_kubectl

HAVE_KUBECTL = find_kubectl() is not None
needs_kubectl = unittest.skipUnless(HAVE_KUBECTL, "kubectl not installed (set FAKE_KUBE_KUBECTL)")

SA = "system:serviceaccount:kube-system:ecr-renew-sa"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def dockerconfig(password: str = "pw") -> str:
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    cfg = {"auths": {REGISTRY: {"username": "AWS", "password": password, "auth": auth}}}
    return base64.b64encode(json.dumps(cfg).encode()).decode()


def pull_secret(name: str, ns: str, password: str = "pw", rv: str | None = None) -> dict:
    md = {"name": name, "namespace": ns}
    if rv:
        md["resourceVersion"] = rv
    return {"apiVersion": "v1", "kind": "Secret", "metadata": md, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": dockerconfig(password)}}


MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ecr-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ecr-renew
  namespace: ecr-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ecr-renew
  namespace: ecr-system
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ecr-renew
  namespace: ecr-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ecr-renew
subjects:
- kind: ServiceAccount
  name: ecr-renew
  namespace: ecr-system
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ecr-renew
  namespace: ecr-system
spec:
  schedule: "0 */6 * * *"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 600
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: ecr-renew
          restartPolicy: OnFailure
          containers:
          - name: renew
            image: example.com/ecr-renew:1.0
            args: ["sync"]
            env:
            - name: LEVEL
              value: "__LEVEL__"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ecr-renew-first
  namespace: ecr-system
spec:
  template:
    spec:
      serviceAccountName: ecr-renew
      restartPolicy: Never
      containers:
      - name: renew
        image: example.com/ecr-renew:1.0
"""


class FakeKubeTestCase(unittest.TestCase):
    kube: FakeKube

    @classmethod
    def setUpClass(cls):
        cls.kube = FakeKube(default_config()).start()

    @classmethod
    def tearDownClass(cls):
        cls.kube.stop()

    def setUp(self):
        self.kube.reset()

    def tearDown(self):
        # A bug in the fake shows up as an "internal error" or a traceback on its stderr.
        err = self.kube.stderr_text()
        self.assertNotIn("Traceback", err)
        self.assertNotIn("internal error", err)

    def api(self, *a, **kw):
        return self.kube.api(*a, **kw)

    def create_ns(self, name: str):
        r = self.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": name}})
        self.assertEqual(r.status, 201, r.body)
        return r.json


@needs_kubectl
class KubectlTest(FakeKubeTestCase):

    def k(self, *args, **kw):
        return self.kube.kubectl(*args, **kw)

    def test_version(self):
        r = self.k("version", check=True)
        self.assertIn("Server Version: v1.31.4", r.stdout)

    def test_get_namespaces(self):
        r = self.k("get", "ns", check=True)
        for ns in ("default", "kube-system", "kube-public"):
            self.assertIn(ns, r.stdout)
        self.assertIn("Active", r.stdout)
        r = self.k("get", "ns", "kube-system", "-o", "json", check=True)
        ns = json.loads(r.stdout)
        self.assertEqual(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "kube-system")
        self.assertEqual(ns["status"]["phase"], "Active")

    def test_create_namespace(self):
        r = self.k("create", "namespace", "runtime", check=True)
        self.assertIn("namespace/runtime created", r.stdout)
        r = self.k("create", "namespace", "runtime")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Error from server (AlreadyExists): namespaces "runtime" already exists', r.stderr)
        r = self.k("create", "namespace", "Bad_Name")
        self.assertIn('The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                      "a lowercase RFC 1123 label must consist of", r.stderr)

    def test_docker_registry_secret(self):
        self.k("create", "namespace", "runtime", check=True)
        r = self.k("create", "secret", "docker-registry", "ecr-registry-secret", "-n", "runtime",
                   f"--docker-server={REGISTRY}", "--docker-username=AWS", "--docker-password=s3cret", check=True)
        self.assertIn("secret/ecr-registry-secret created", r.stdout)
        r = self.k("get", "secret", "ecr-registry-secret", "-n", "runtime", "-o", "json", check=True)
        s = json.loads(r.stdout)
        self.assertEqual(s["type"], "kubernetes.io/dockerconfigjson")
        self.assertRegex(s["metadata"]["uid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertTrue(s["metadata"]["resourceVersion"].isdigit())
        self.assertRegex(s["metadata"]["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        cfg = json.loads(base64.b64decode(s["data"][".dockerconfigjson"]))
        entry = cfg["auths"][REGISTRY]
        self.assertEqual((entry["username"], entry["password"]), ("AWS", "s3cret"))
        self.assertEqual(base64.b64decode(entry["auth"]).decode(), "AWS:s3cret")
        r = self.k("get", "secrets", "-n", "runtime", check=True)
        self.assertRegex(r.stdout, r"ecr-registry-secret\s+kubernetes.io/dockerconfigjson\s+1\s+")
        # kubectl sent JSON (protobuf would have been a 415)
        posts = self.kube.requests(method="POST", path_contains="/secrets")
        self.assertEqual(posts[-1]["contentType"], "application/json")
        self.assertEqual(posts[-1]["status"], 201)

    def test_apply_manifest_twice(self):
        path = os.path.join(self.kube.workdir, "manifest.yaml")
        with open(path, "w") as f:
            f.write(MANIFEST.replace("__LEVEL__", "info"))
        r = self.k("apply", "-f", path, check=True)
        for line in ("namespace/ecr-system created", "serviceaccount/ecr-renew created",
                     "role.rbac.authorization.k8s.io/ecr-renew created",
                     "rolebinding.rbac.authorization.k8s.io/ecr-renew created",
                     "cronjob.batch/ecr-renew created", "job.batch/ecr-renew-first created"):
            self.assertIn(line, r.stdout)
        r = self.k("apply", "-f", path, check=True)
        self.assertIn("cronjob.batch/ecr-renew unchanged", r.stdout)
        self.assertEqual(r.stderr.strip(), "")
        with open(path, "w") as f:
            f.write(MANIFEST.replace("__LEVEL__", "debug"))
        r = self.k("apply", "-f", path, check=True)
        self.assertIn("cronjob.batch/ecr-renew configured", r.stdout)
        self.assertIn("job.batch/ecr-renew-first unchanged", r.stdout)
        patches = self.kube.requests(method="PATCH")
        self.assertEqual(patches[-1]["contentType"], "application/strategic-merge-patch+json")
        cj = json.loads(self.k("get", "cronjob", "ecr-renew", "-n", "ecr-system", "-o", "json", check=True).stdout)
        c = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0]["env"], [{"name": "LEVEL", "value": "debug"}])
        self.assertEqual(c[0]["args"], ["sync"])
        self.assertEqual(cj["metadata"]["generation"], 2)
        self.assertEqual(cj["spec"]["concurrencyPolicy"], "Forbid")
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", cj["metadata"]["annotations"])
        for kind, name in (("serviceaccount", "ecr-renew"), ("role", "ecr-renew"), ("rolebinding", "ecr-renew"),
                           ("job", "ecr-renew-first")):
            o = json.loads(self.k("get", kind, name, "-n", "ecr-system", "-o", "json", check=True).stdout)
            self.assertEqual(o["metadata"]["name"], name)
            self.assertIn("uid", o["metadata"])
        r = self.k("get", "cronjobs,jobs,sa,roles,rolebindings", "-n", "ecr-system", check=True)
        self.assertRegex(r.stdout, r"cronjob.batch/ecr-renew\s+0 \*/6 \* \* \*")
        # validation was on: kubectl probed the OpenAPI v3 document
        self.assertTrue(self.kube.requests(path_contains="/openapi/v3/apis/batch/v1"))

    def test_applied_rbac_is_enforced(self):
        path = os.path.join(self.kube.workdir, "manifest-rbac.yaml")
        with open(path, "w") as f:
            f.write(MANIFEST.replace("__LEVEL__", "info"))
        self.k("apply", "-f", path, check=True)
        user = "system:serviceaccount:ecr-system:ecr-renew"
        self.kube.add_user(user, token="fake-token-ecr-system-sa")
        kc = self.kube.write_kubeconfig(user=user, namespace="ecr-system")
        r = self.k("create", "secret", "generic", "ok", "--from-literal=a=b", kubeconfig=kc)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.k("create", "secret", "generic", "no", "-n", "default", "--from-literal=a=b", kubeconfig=kc)
        self.assertIn(f'secrets is forbidden: User "{user}" cannot create resource "secrets" in API group "" '
                      'in the namespace "default"', r.stderr)
        r = self.k("delete", "secret", "ok", kubeconfig=kc)
        self.assertIn('Error from server (Forbidden): secrets "ok" is forbidden: User '
                      f'"{user}" cannot delete resource "secrets" in API group "" in the namespace "ecr-system"',
                      r.stderr)
        r = self.k("auth", "can-i", "update", "secrets", kubeconfig=kc)
        self.assertEqual(r.stdout.strip(), "yes")
        r = self.k("auth", "can-i", "delete", "secrets", kubeconfig=kc)
        self.assertEqual(r.stdout.strip(), "no")

    def test_delete(self):
        self.k("create", "secret", "generic", "gone", "--from-literal=a=b", check=True)
        r = self.k("delete", "secret", "gone", check=True)
        self.assertIn('secret "gone" deleted', r.stdout)
        r = self.k("get", "secret", "gone")
        self.assertIn('Error from server (NotFound): secrets "gone" not found', r.stderr)
        self.k("create", "namespace", "doomed", check=True)
        self.k("create", "configmap", "c", "-n", "doomed", "--from-literal=a=b", check=True)
        r = self.k("delete", "namespace", "doomed", check=True)
        self.assertIn('namespace "doomed" deleted', r.stdout)
        self.assertIsNone(self.kube.get_object("ConfigMap", "doomed", "c"))
        self.assertIsNone(self.kube.get_object("Namespace", None, "doomed"))

    def test_forbidden(self):
        r = self.k("get", "secrets", user="nobody")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Error from server (Forbidden): secrets is forbidden: User "nobody" cannot list resource '
                      '"secrets" in API group "" in the namespace "default"', r.stderr)
        r = self.k("get", "secret", "ecr-registry-secret", "-n", "runtime", user="nobody")
        self.assertIn('Error from server (Forbidden): secrets "ecr-registry-secret" is forbidden: User "nobody" '
                      'cannot get resource "secrets" in API group "" in the namespace "runtime"', r.stderr)
        r = self.k("get", "namespaces", user="nobody")
        self.assertIn('namespaces is forbidden: User "nobody" cannot list resource "namespaces" in API group "" '
                      "at the cluster scope", r.stderr)

    def test_unauthorized(self):
        kc = self.kube.write_kubeconfig(token="not-a-known-token")
        r = self.k("get", "ns", kubeconfig=kc)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", r.stderr)
        kc = self.kube.write_kubeconfig(auth="basic")  # credentials kube-apiserver does not accept
        r = self.k("get", "ns", kubeconfig=kc)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", r.stderr)
        r = self.api("GET", "/api/v1/namespaces", user=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": "Unauthorized", "reason": "Unauthorized", "code": 401})

    def test_client_certificate(self):
        for auth in ("cert", "cert-data"):
            kc = self.kube.write_kubeconfig(user="cert-admin", auth=auth, ca="data" if auth == "cert-data" else "file")
            r = self.k("get", "ns", "default", kubeconfig=kc)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.kube.requests()[-1]["user"], "cert-admin")
            self.assertEqual(self.kube.requests()[-1]["authMethod"], "cert")
        # an ad-hoc cert: CN is the user, O the groups
        crt = self.kube.issue_client_cert("carol", groups=("devs",))
        kc = self.kube.write_kubeconfig(auth="cert", cert=crt)
        r = self.k("get", "secrets", kubeconfig=kc)
        self.assertIn('User "carol" cannot list resource "secrets"', r.stderr)

    def test_exec_plugin(self):
        for api_version in ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"):
            log = os.path.join(self.kube.workdir, f"exec-{api_version.rsplit('/', 1)[1]}.log")
            kc = self.kube.write_kubeconfig(user=SA, auth="exec", exec_api_version=api_version, exec_log=log)
            r = self.k("get", "namespaces", kubeconfig=kc)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.kube.requests()[-1]["user"], SA)
            with open(log) as f:
                calls = [json.loads(line) for line in f]
            self.assertGreaterEqual(len(calls), 1)
            self.assertEqual(json.loads(calls[0]["execInfo"])["apiVersion"], api_version)

    def test_insecure_skip_tls_verify_and_tls_server_name(self):
        kc = self.kube.write_kubeconfig(insecure=True)
        r = self.k("get", "ns", "default", kubeconfig=kc)
        self.assertEqual(r.returncode, 0, r.stderr)
        kc = self.kube.write_kubeconfig(tls_server_name="kubernetes.default.svc")
        self.assertEqual(self.k("get", "ns", "default", kubeconfig=kc).returncode, 0)
        kc = self.kube.write_kubeconfig(tls_server_name="wrong.example.com")
        r = self.k("get", "ns", "default", kubeconfig=kc)
        self.assertIn("certificate is valid for", r.stderr)

    def test_protobuf_kubectl_gets_415(self):
        # kubectl 1.32+ sends protobuf for `create secret`; the fake answers 415 like a JSON-only server.
        with FakeKube(default_config(), version="v1.33.1") as k133:
            r = k133.kubectl("create", "secret", "generic", "p", "--from-literal=a=b")
            self.assertIn("the body of the request was in an unknown format", r.stderr)
            self.assertEqual(k133.requests(method="POST")[-1]["status"], 415)

    def test_old_kubectl_apply_uses_openapi_v2(self):
        # kubectl 1.27/1.28 probe /openapi/v2 (protobuf) before apply with validation on.
        with FakeKube(default_config(), version="v1.27.9") as k127:
            path = os.path.join(k127.workdir, "m.yaml")
            with open(path, "w") as f:
                f.write(MANIFEST.replace("__LEVEL__", "x"))
            r = k127.kubectl("apply", "-f", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("kubectl/v1.27", k127.requests()[-1]["userAgent"])
            v2 = k127.requests(path_contains="/openapi/v2")
            self.assertEqual(v2[0]["status"], 200)


class HttpTest(FakeKubeTestCase):
    """Direct HTTP (http.client + the fake's CA): exact status codes and bodies."""

    def setUp(self):
        super().setUp()
        self.create_ns("runtime")

    def test_create_get_update_conflict(self):
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("s", "runtime"))
        self.assertEqual(r.status, 201)
        created = r.json
        md = created["metadata"]
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("s", "runtime"))
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json["reason"], "AlreadyExists")
        self.assertEqual(r.json["message"], 'secrets "s" already exists')
        self.assertEqual(r.json["details"], {"name": "s", "kind": "secrets"})
        # update with the current resourceVersion: uid/creationTimestamp kept, resourceVersion bumped
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/s",
                     pull_secret("s", "runtime", "pw2", rv=md["resourceVersion"]))
        self.assertEqual(r.status, 200, r.body)
        upd = r.json["metadata"]
        self.assertEqual(upd["uid"], md["uid"])
        self.assertEqual(upd["creationTimestamp"], md["creationTimestamp"])
        self.assertGreater(int(upd["resourceVersion"]), int(md["resourceVersion"]))
        # the stale resourceVersion now conflicts
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/s",
                     pull_secret("s", "runtime", "pw3", rv=md["resourceVersion"]))
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'Operation cannot be fulfilled on secrets "s": the object has been modified; please apply '
                       "your changes to the latest version and try again",
            "reason": "Conflict", "details": {"name": "s", "kind": "secrets"}, "code": 409})
        # identical update: no write, same resourceVersion (etcd skips no-op updates)
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/s",
                     pull_secret("s", "runtime", "pw2", rv=upd["resourceVersion"]))
        self.assertEqual(r.json["metadata"]["resourceVersion"], upd["resourceVersion"])
        # update of a missing object
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/nope", pull_secret("nope", "runtime"))
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json["message"], 'secrets "nope" not found')

    def test_create_in_missing_namespace(self):
        r = self.api("POST", "/api/v1/namespaces/nope/secrets", pull_secret("s", "nope"))
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json["message"], 'namespaces "nope" not found')
        self.assertEqual(r.json["reason"], "NotFound")
        self.assertEqual(r.json["details"], {"name": "nope", "kind": "namespaces"})

    def test_dockerconfigjson_validation(self):
        def post(data, stype="kubernetes.io/dockerconfigjson"):
            body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "type": stype,
                    "data": data}
            return self.api("POST", "/api/v1/namespaces/runtime/secrets", body)
        r = post({".dockerconfigjson": base64.b64encode(b"{not json").decode()})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["reason"], "Invalid")
        self.assertEqual(r.json["message"], 'Secret "bad" is invalid: data[.dockerconfigjson]: Invalid value: '
                                            '"<secret contents redacted>": invalid character \'n\' looking for '
                                            "beginning of object key string")
        self.assertEqual(r.json["details"]["causes"], [{
            "reason": "FieldValueInvalid", "field": "data[.dockerconfigjson]",
            "message": "Invalid value: \"<secret contents redacted>\": invalid character 'n' looking for "
                       "beginning of object key string"}])
        self.assertEqual(r.json["details"]["kind"], "Secret")
        r = post({".dockerconfigjson": ""})
        self.assertIn("unexpected end of JSON input", r.json["message"])
        r = post({".dockerconfigjson": base64.b64encode(b"[1]").decode()})
        self.assertIn("json: cannot unmarshal array into Go value of type map[string]interface {}",
                      r.json["message"])
        r = post({"other": base64.b64encode(b"{}").decode()})
        self.assertEqual(r.json["message"], 'Secret "bad" is invalid: data[.dockerconfigjson]: Required value')
        r = post({".dockerconfigjson": "not base64!"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["message"], 'Secret in version "v1" cannot be handled as a Secret: illegal base64 '
                                            "data at input byte 3")
        # a stored value never leaks into an error
        self.assertNotIn("pw", json.dumps(r.json))

    def test_secret_type_is_immutable(self):
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets",
                     {"metadata": {"name": "o"}, "type": "Opaque", "data": {"a": "Yg=="}})
        self.assertEqual(r.status, 201)
        body = pull_secret("o", "runtime", rv=r.json["metadata"]["resourceVersion"])
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/o", body)
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["message"], 'Secret "o" is invalid: type: Invalid value: '
                                            '"kubernetes.io/dockerconfigjson": field is immutable')
        # omitting type on update defaults it to Opaque: also immutable for a dockerconfigjson Secret
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("d", "runtime"))
        body = {"metadata": {"name": "d"}, "data": {".dockerconfigjson": dockerconfig("x")}}
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/d", body)
        self.assertEqual(r.status, 422)
        self.assertIn('type: Invalid value: "Opaque": field is immutable', r.json["message"])

    def test_names_and_stringdata(self):
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", {"metadata": {"name": "Bad_Name"}})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["details"]["causes"][0]["field"], "metadata.name")
        self.assertTrue(r.json["message"].startswith('Secret "Bad_Name" is invalid: metadata.name: Invalid value: '
                                                     '"Bad_Name": a lowercase RFC 1123 subdomain'))
        r = self.api("POST", "/api/v1/namespaces", {"metadata": {"name": "a.b"}})
        self.assertEqual(r.status, 422)
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets",
                     {"metadata": {"name": "sd"}, "type": "kubernetes.io/dockerconfigjson",
                      "stringData": {".dockerconfigjson": '{"auths":{}}'}})
        self.assertEqual(r.status, 201, r.body)
        self.assertNotIn("stringData", r.json)
        self.assertEqual(base64.b64decode(r.json["data"][".dockerconfigjson"]), b'{"auths":{}}')
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("rv", "runtime", rv="5"))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json["message"], "resourceVersion should not be set on objects to be created")

    def test_patches(self):
        self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("p", "runtime"))
        base = "/api/v1/namespaces/runtime/secrets/p"
        r = self.api("PATCH", base, {"metadata": {"labels": {"a": "1"}}}, content_type="application/merge-patch+json")
        self.assertEqual((r.status, r.json["metadata"]["labels"]), (200, {"a": "1"}))
        r = self.api("PATCH", base, [{"op": "add", "path": "/metadata/labels/b", "value": "2"}],
                     content_type="application/json-patch+json")
        self.assertEqual(r.json["metadata"]["labels"], {"a": "1", "b": "2"})
        r = self.api("PATCH", base, [{"op": "test", "path": "/metadata/labels/b", "value": "x"}],
                     content_type="application/json-patch+json")
        self.assertEqual(r.status, 422)
        r = self.api("PATCH", base, {"metadata": {"labels": {"a": None}}},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual(r.json["metadata"]["labels"], {"b": "2"})
        r = self.api("PATCH", base, {"metadata": {"resourceVersion": "1"}},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 409)
        r = self.api("PATCH", base, {"type": "Opaque"}, content_type="application/merge-patch+json")
        self.assertEqual(r.status, 422)
        r = self.api("PATCH", "/api/v1/namespaces/runtime/secrets/absent", {},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 404)
        # server-side apply creates, then updates
        cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v\n"
        r = self.api("PATCH", "/api/v1/namespaces/runtime/configmaps/ssa", cm,
                     content_type="application/apply-patch+yaml", query={"fieldManager": "t"})
        self.assertEqual(r.status, 201, r.body)
        r = self.api("PATCH", "/api/v1/namespaces/runtime/configmaps/ssa", cm.replace("k: v", "k: w"),
                     content_type="application/apply-patch+yaml", query={"fieldManager": "t"})
        self.assertEqual((r.status, r.json["data"]), (200, {"k": "w"}))
        # strategic merge of a list with a merge key keeps the other elements
        self.kube.seed({"apiVersion": "batch/v1", "kind": "CronJob",
                        "metadata": {"name": "cj", "namespace": "runtime"},
                        "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "a", "image": "i:1"}, {"name": "b", "image": "i:1"}]}}}}}})
        r = self.api("PATCH", "/apis/batch/v1/namespaces/runtime/cronjobs/cj",
                     {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
                         "containers": [{"name": "b", "image": "i:2"}]}}}}}},
                     content_type="application/strategic-merge-patch+json")
        cs = r.json["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        self.assertEqual([(c["name"], c["image"]) for c in cs], [("a", "i:1"), ("b", "i:2")])
        self.assertEqual(r.json["metadata"]["generation"], 2)

    def test_list_selectors_and_pagination(self):
        for i in range(5):
            body = pull_secret(f"s{i}", "runtime")
            body["metadata"]["labels"] = {"app": "ecr-renew" if i % 2 == 0 else "other"}
            self.api("POST", "/api/v1/namespaces/runtime/secrets", body)
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets", query={"labelSelector": "app=ecr-renew"})
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["s0", "s2", "s4"])
        self.assertEqual(r.json["kind"], "SecretList")
        self.assertNotIn("kind", r.json["items"][0])  # typed lists carry no per-item kind
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets", query={"labelSelector": "app!=ecr-renew,app"})
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["s1", "s3"])
        r = self.api("GET", "/api/v1/secrets", query={"fieldSelector": "metadata.name=s3"})
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["s3"])
        r = self.api("GET", "/api/v1/secrets", query={"fieldSelector": "spec.x=1"})
        self.assertEqual(r.status, 400)
        names, cont = [], ""
        while True:
            q = {"limit": "2"} | ({"continue": cont} if cont else {})
            r = self.api("GET", "/api/v1/namespaces/runtime/secrets", query=q)
            names += [i["metadata"]["name"] for i in r.json["items"]]
            cont = r.json["metadata"].get("continue", "")
            if not cont:
                break
        self.assertEqual(names, [f"s{i}" for i in range(5)])

    def test_dry_run_and_delete_shapes(self):
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("dr", "runtime"),
                     query={"dryRun": "All"})
        self.assertEqual(r.status, 201)
        self.assertEqual(self.api("GET", "/api/v1/namespaces/runtime/secrets/dr").status, 404)
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("del", "runtime"))
        uid = r.json["metadata"]["uid"]
        r = self.api("DELETE", "/api/v1/namespaces/runtime/secrets/del", {"propagationPolicy": "Background"})
        self.assertEqual(r.json, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "details": {"name": "del", "kind": "secrets", "uid": uid}})
        r = self.api("DELETE", "/api/v1/namespaces/runtime/secrets/del")
        self.assertEqual(r.status, 404)
        r = self.api("DELETE", "/api/v1/namespaces/runtime")
        self.assertEqual((r.status, r.json["kind"], r.json["status"]["phase"]), (200, "Namespace", "Terminating"))

    def test_forbidden_shapes(self):
        r = self.api("PUT", "/api/v1/namespaces/runtime/secrets/ecr-registry-secret",
                     pull_secret("ecr-registry-secret", "runtime"), user="nobody")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'secrets "ecr-registry-secret" is forbidden: User "nobody" cannot update resource "secrets" '
                       'in API group "" in the namespace "runtime"',
            "reason": "Forbidden", "details": {"name": "ecr-registry-secret", "kind": "secrets"}, "code": 403})
        r = self.api("GET", "/api/v1/namespaces/x", user="nobody")
        self.assertEqual(r.json["message"], 'namespaces "x" is forbidden: User "nobody" cannot get resource '
                                            '"namespaces" in API group "" in the namespace "x"')
        r = self.api("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", user="nobody")
        self.assertEqual(r.json["message"], 'clusterroles.rbac.authorization.k8s.io is forbidden: User "nobody" '
                                            'cannot list resource "clusterroles" in API group '
                                            '"rbac.authorization.k8s.io" at the cluster scope')
        self.assertEqual(r.json["details"], {"group": "rbac.authorization.k8s.io", "kind": "clusterroles"})
        # the ServiceAccount may update but not delete
        self.assertEqual(self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("a", "runtime"),
                                  user=SA).status, 201)
        self.assertEqual(self.api("DELETE", "/api/v1/namespaces/runtime/secrets/a", user=SA).status, 403)

    def test_protobuf_request_is_415(self):
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", b"k8s\x00\x0a", content_type="application/vnd.kubernetes.protobuf")
        self.assertEqual(r.status, 415)
        self.assertEqual(r.json["reason"], "UnsupportedMediaType")

    def test_discovery(self):
        accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
        r = self.api("GET", "/apis", headers={"Accept": accept})
        self.assertEqual(r.headers["content-type"], "application/json")
        names = {g["name"] for g in r.json["groups"]}
        self.assertTrue({"rbac.authorization.k8s.io", "batch", "apps"} <= names)
        r = self.api("GET", "/api/v1")
        secrets = [x for x in r.json["resources"] if x["name"] == "secrets"][0]
        self.assertTrue(secrets["namespaced"])
        self.assertIn("update", secrets["verbs"])
        self.assertEqual(self.api("GET", "/apis/batch/v1").json["groupVersion"], "batch/v1")
        self.assertEqual(self.api("GET", "/version", user=None).status, 401)
        self.assertEqual(self.api("GET", "/version").json["minor"], "31")

    def test_watch(self):
        events = []

        def watch():
            r = self.api("GET", "/api/v1/namespaces/runtime/secrets",
                         query={"watch": "true", "timeoutSeconds": "1", "resourceVersion": rv})
            events.extend(json.loads(line) for line in r.body.splitlines() if line.strip())
        rv = self.api("GET", "/api/v1/namespaces/runtime/secrets").json["metadata"]["resourceVersion"]
        t = threading.Thread(target=watch)
        t.start()
        time.sleep(0.3)
        self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("w", "runtime"))
        t.join(10)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events], [("ADDED", "w")])


class FaultTest(FakeKubeTestCase):

    def setUp(self):
        super().setUp()
        self.create_ns("runtime")
        r = self.api("POST", "/api/v1/namespaces/runtime/secrets", pull_secret("s", "runtime"))
        self.rv = r.json["metadata"]["resourceVersion"]

    def put(self, **kw):
        return self.api("PUT", "/api/v1/namespaces/runtime/secrets/s", pull_secret("s", "runtime", "new", rv=self.rv),
                        **kw)

    def test_conflict_with_concurrent_writer(self):
        self.kube.inject_fault("conflict", method="PUT", path=r"/secrets/s$", bump_resource_version=True)
        r = self.put()
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json["reason"], "Conflict")
        self.assertIn('Operation cannot be fulfilled on secrets "s"', r.json["message"])
        # the stored object moved on: the old resourceVersion is now stale for real
        self.assertEqual(self.put().status, 409)
        cur = self.api("GET", "/api/v1/namespaces/runtime/secrets/s").json["metadata"]["resourceVersion"]
        self.assertGreater(int(cur), int(self.rv))
        self.assertEqual(self.kube.requests(method="PUT")[0]["fault"], "conflict")

    def test_conflict_without_bump_then_success(self):
        self.kube.inject_fault("409", method="PUT", path="/secrets/", count=2)
        self.assertEqual(self.put().status, 409)
        self.assertEqual(self.put().status, 409)
        self.assertEqual(self.put().status, 200)

    def test_429(self):
        self.kube.inject_fault("tooManyRequests", method="GET", path="/secrets/s", retry_after=3)
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets/s")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["retry-after"], "3")
        self.assertEqual(r.json["reason"], "TooManyRequests")
        self.assertEqual(r.json["details"], {"retryAfterSeconds": 3})
        self.assertEqual(self.api("GET", "/api/v1/namespaces/runtime/secrets/s").status, 200)

    def test_500_and_503(self):
        self.kube.inject_fault("internalError", path="/secrets/s")
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets/s")
        self.assertEqual((r.status, r.json["reason"]), (500, "InternalError"))
        self.kube.inject_fault("serviceUnavailable", path="/secrets/s", retry_after=1)
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets/s")
        self.assertEqual((r.status, r.json["reason"], r.headers.get("retry-after")), (503, "ServiceUnavailable", "1"))
        self.kube.inject_fault("status", path="/secrets/s", code=504, reason="Timeout", message="slow etcd")
        r = self.api("GET", "/api/v1/namespaces/runtime/secrets/s")
        self.assertEqual((r.status, r.json["reason"], r.json["message"]), (504, "Timeout", "slow etcd"))

    def test_drop_and_reset(self):
        self.kube.inject_fault("drop", method="PUT")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.put()
        self.kube.inject_fault("reset", method="PUT")
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected, ssl.SSLError)):
            self.put()
        self.assertEqual(self.put().status, 200)
        log = self.kube.requests(method="PUT")
        self.assertEqual([e["dropped"] for e in log], [True, True, False])
        self.assertEqual([e["status"] for e in log], [0, 0, 200])

    def test_delay(self):
        self.kube.inject_fault("delay", path="/secrets/s", seconds=0.5)
        t = time.monotonic()
        self.assertEqual(self.api("GET", "/api/v1/namespaces/runtime/secrets/s").status, 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.5)

    def test_connection_ids_and_log_hygiene(self):
        self.kube.clear_requests()
        conn = self.kube.connection()
        for _ in range(3):
            self.assertEqual(self.api("GET", "/api/v1/namespaces/runtime/secrets/s", conn=conn).status, 200)
        conn.close()
        self.api("GET", "/api/v1/namespaces/runtime/secrets/s")
        log = self.kube.requests()
        self.assertEqual(len(log), 4)
        self.assertEqual(len({e["conn"] for e in log[:3]}), 1)
        self.assertNotEqual(log[3]["conn"], log[0]["conn"])
        self.assertEqual(log[0]["user"], "admin")
        self.assertEqual(log[0]["authMethod"], "token")
        # no tokens and no Secret data anywhere in the log or the server's stderr
        dump = json.dumps(log) + self.kube.stderr_text()
        self.assertNotIn(self.kube.token_for("admin"), dump)
        self.assertNotIn(dockerconfig(), dump)

    def test_faults_listing_and_clear(self):
        self.kube.inject_fault("drop", method="GET", path="/nothing", count=5)
        self.assertEqual(self.kube.faults()[0]["remaining"], 5)
        self.kube.clear_faults()
        self.assertEqual(self.kube.faults(), [])


def ns_names(events):
    return [(e["type"], e["object"]["metadata"].get("name")) for e in events]


class WatchTest(FakeKubeTestCase):
    """Watch semantics over direct HTTP: bookmarks, selector transitions, the history window and
    compaction, server-side timeouts, injected stream faults, latency, the request log."""

    def list_rv(self, path="/api/v1/namespaces"):
        return self.api("GET", path).json["metadata"]["resourceVersion"]

    def test_bookmarks_periodic_and_at_the_timeout(self):
        self.kube.set_watch_options(bookmark_interval=0.25)
        rv = self.list_rv()
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv, "allowWatchBookmarks": "true",
                                                    "timeoutSeconds": "1"}) as w:
            self.kube.create_namespace("bm")
            events = w.collect(timeout=10)
            self.assertEqual(w.end_reason, "eof")
        self.assertEqual(ns_names(events)[0], ("ADDED", "bm"))
        marks = [e for e in events if e["type"] == "BOOKMARK"]
        self.assertGreaterEqual(len(marks), 3, events)  # ~4 periodic ones and one at the end
        self.assertEqual(events[-1]["type"], "BOOKMARK")
        for m in marks:
            self.assertEqual(set(m["object"]), {"kind", "apiVersion", "metadata"})
            self.assertEqual((m["object"]["kind"], m["object"]["apiVersion"]), ("Namespace", "v1"))
            self.assertEqual(list(m["object"]["metadata"]), ["resourceVersion"])
        # A bookmark's RV is never behind what the watch delivered (the default SA came after the namespace).
        self.assertGreaterEqual(int(marks[-1]["object"]["metadata"]["resourceVersion"]),
                                int(events[0]["object"]["metadata"]["resourceVersion"]) + 1)
        # Without allowWatchBookmarks: none.
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv, "timeoutSeconds": "1"}) as w:
            self.assertEqual(ns_names(w.collect(timeout=10)), [("ADDED", "bm")])

    def raw_watch(self, query: str) -> bytes:
        """The watch response as bytes off the TLS socket (Connection: close, so it ends with the stream)."""
        ctx = self.kube.ssl_context()
        with socket.create_connection(("127.0.0.1", self.kube.port), timeout=20) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(f"GET /api/v1/namespaces?{query} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
                        f"Authorization: Bearer {self.kube.token_for('admin')}\r\nConnection: close\r\n\r\n"
                        .encode())
            data = b""
            while True:
                try:
                    chunk = tls.recv(65536)
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                data += chunk
            return data

    def test_wire_framing(self):
        rv = self.list_rv()
        data = self.raw_watch("watch=1&resourceVersion=0&timeoutSeconds=1&allowWatchBookmarks=true")
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"HTTP/1.1 200 OK", head)
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertIn(b"Content-Type: application/json", head)
        self.assertTrue(body.endswith(b"\r\n0\r\n\r\n"), body[-40:])  # a normal end: the zero-length chunk
        lines, rest = [], body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            line, rest = rest[:n], rest[n + 2:]
            self.assertTrue(line.endswith(b"\n"))
            lines.append(json.loads(line))
        self.assertEqual([e["type"] for e in lines], ["ADDED"] * 4 + ["BOOKMARK"])
        self.assertGreaterEqual(int(lines[-1]["object"]["metadata"]["resourceVersion"]), int(rv))
        # Dropped: the same stream without the zero-length chunk.
        self.kube.inject_watch_fault("drop", path="/namespaces", after_events=2)
        body = self.raw_watch("watch=1&resourceVersion=0&timeoutSeconds=5").partition(b"\r\n\r\n")[2]
        self.assertEqual(body.count(b'{"type":"ADDED"'), 2)
        self.assertFalse(body.endswith(b"0\r\n\r\n"))

    def test_label_selector_transitions(self):
        rv = self.list_rv()
        q = {"resourceVersion": rv, "labelSelector": "env=prod"}
        with self.kube.watch("/api/v1/namespaces", q) as w:
            self.kube.create_namespace("other", labels={"env": "dev"})        # never matches: nothing
            self.kube.create_namespace("sel", labels={"env": "dev"})
            base = "/api/v1/namespaces/sel"
            patch = lambda labels: self.api("PATCH", base, {"metadata": {"labels": labels}},
                                            content_type="application/merge-patch+json").json
            self.assertEqual(patch({"env": "prod"})["metadata"]["labels"]["env"], "prod")
            patch({"team": "a"})                                               # still matches
            gone = patch({"env": "dev"})                                       # stops matching
            patch({"env": "prod"})
            self.kube.delete_namespace("sel")
            events = w.collect(count=6, timeout=10)
        self.assertEqual([e["type"] for e in events], ["ADDED", "MODIFIED", "DELETED", "ADDED", "MODIFIED",
                                                       "DELETED"])
        self.assertTrue(all(e["object"]["metadata"]["name"] == "sel" for e in events))
        dele = events[2]["object"]
        # The DELETED for "stopped matching" carries the previous content at the write's RV.
        self.assertEqual(dele["metadata"]["labels"]["env"], "prod")
        self.assertEqual(dele["metadata"]["resourceVersion"], gone["metadata"]["resourceVersion"])
        self.assertEqual(events[4]["object"]["status"]["phase"], "Terminating")

    def test_field_selector_watch_of_one_secret(self):
        self.create_ns("a")
        rv = self.list_rv("/api/v1/secrets")
        with self.kube.watch("/api/v1/secrets", {"resourceVersion": rv,
                                                 "fieldSelector": "metadata.name=ecr-pull"}) as w:
            for name in ("other", "ecr-pull"):
                self.api("POST", "/api/v1/namespaces/a/secrets", pull_secret(name, "a"))
            self.api("PUT", "/api/v1/namespaces/a/secrets/ecr-pull", pull_secret("ecr-pull", "a", "pw2"))
            self.api("DELETE", "/api/v1/namespaces/a/secrets/other")
            self.api("DELETE", "/api/v1/namespaces/a/secrets/ecr-pull")
            events = w.collect(count=3, timeout=10)
        self.assertEqual(ns_names(events), [("ADDED", "ecr-pull"), ("MODIFIED", "ecr-pull"),
                                            ("DELETED", "ecr-pull")])

    def test_watch_from_zero_or_empty_sends_the_current_objects_first(self):
        for rv, live in (("0", "live-a"), ("", "live-b")):
            existing = [i["metadata"]["name"] for i in self.api("GET", "/api/v1/namespaces").json["items"]]
            with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
                first = w.collect(count=len(existing), timeout=10)
                self.assertEqual(ns_names(first), [("ADDED", n) for n in existing])
                self.kube.create_namespace(live)
                self.assertEqual(w.next_event(10)["object"]["metadata"]["name"], live)

    def test_history_window_and_410(self):
        self.kube.set_watch_options(watch_cache_events=5)
        rv0 = int(self.list_rv())
        for i in range(4):
            self.create_ns(f"w{i}")  # 8 events: each namespace brings its default ServiceAccount
        # A watch from an RV still in the window replays what came after it.
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": str(rv0 + 6)}) as w:
            self.assertEqual(ns_names(w.collect(count=1, timeout=5)), [("ADDED", "w3")])
        # One from before the window: HTTP 200, one ERROR event (410 Expired), then a normal end.
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": str(rv0)}) as w:
            self.assertEqual(w.status, 200)
            events = w.collect(timeout=5)
            self.assertEqual(w.end_reason, "eof")
        self.assertEqual(events, [{"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {rv0} ({rv0 + 3})", "reason": "Expired", "code": 410}}])
        self.assertEqual(self.kube.requests(watch=True)[-1]["endReason"], "expired")

    def test_compaction(self):
        for i in range(3):
            self.api("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"c{i}"}})
        page = self.api("GET", "/api/v1/namespaces/default/configmaps", query={"limit": "1"}).json
        cont, rv_before = page["metadata"]["continue"], page["metadata"]["resourceVersion"]
        self.api("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c3"}})
        rv = self.kube.compact()
        self.assertEqual(rv, self.list_rv())
        with self.kube.watch("/api/v1/configmaps", {"resourceVersion": rv_before}) as w:
            ev = w.next_event(5)
        self.assertEqual((ev["type"], ev["object"]["code"], ev["object"]["message"]),
                         ("ERROR", 410, f"too old resource version: {rv_before} ({rv})"))
        with self.kube.watch("/api/v1/configmaps", {"resourceVersion": rv}) as w:  # from the compaction RV: fine
            self.api("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "after"}})
            self.assertEqual(ns_names([w.next_event(5)]), [("ADDED", "after")])
        r = self.api("GET", "/api/v1/namespaces/default/configmaps", query={"limit": "1", "continue": cont})
        self.assertEqual(r.status, 410)
        self.assertEqual(r.json, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": "The provided continue parameter is too old to display a consistent "
                                             "list result. You can start a new list without the continue "
                                             "parameter.", "reason": "Expired", "code": 410})
        r = self.api("GET", "/api/v1/namespaces/default/configmaps",
                     query={"limit": "1", "continue": cont, "resourceVersion": rv})
        self.assertEqual((r.status, r.json["message"]),
                         (400, "specifying resource version is not allowed when using continue"))
        r = self.api("GET", "/api/v1/configmaps", query={"resourceVersion": rv_before,
                                                         "resourceVersionMatch": "Exact"})
        self.assertEqual((r.status, r.json["message"]), (410, "The resourceVersion for the provided list is too old."))

    def test_server_side_timeouts(self):
        def run(query):
            t = time.monotonic()
            with self.kube.watch("/api/v1/namespaces", query) as w:
                w.wait_end(timeout=15)
                return time.monotonic() - t, w.end_reason
        rv = self.list_rv()
        took, end = run({"resourceVersion": rv, "timeoutSeconds": "1"})
        self.assertEqual(end, "eof")
        self.assertTrue(0.9 <= took < 5, took)
        self.kube.configure(defaultWatchSeconds=0.5)
        took, end = run({"resourceVersion": rv})
        self.assertTrue(0.4 <= took < 4 and end == "eof", (took, end))
        self.kube.set_watch_options(default_watch_seconds=1800, max_watch_seconds=0.5)
        took, end = run({"resourceVersion": rv, "timeoutSeconds": "600"})
        self.assertTrue(0.4 <= took < 4 and end == "eof", (took, end))
        self.assertEqual([e["endReason"] for e in self.kube.requests(watch=True)], ["timeout"] * 3)
        # A cap set while a watch is open applies to it too.
        self.kube.set_watch_options(max_watch_seconds=0)
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
            self.kube.wait_for_watch("/api/v1/namespaces")
            self.kube.set_watch_options(max_watch_seconds=0.3)
            self.assertEqual(w.wait_end(timeout=10), "eof")

    def test_watch_drop_and_expired_faults(self):
        rv = self.list_rv()
        self.kube.inject_watch_fault("drop", path=r"^/api/v1/namespaces$", after_events=1)
        with self.kube.watch("/api/v1/configmaps", {"resourceVersion": rv, "timeoutSeconds": "1"}) as w:
            self.assertEqual(w.wait_end(10), "eof")  # another path: not affected
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
            self.kube.create_namespace("d1")
            self.kube.create_namespace("d2")
            events = w.collect(timeout=10)
            self.assertEqual(w.end_reason, "dropped")  # no terminating chunk
        self.assertEqual(ns_names(events), [("ADDED", "d1")])
        log = self.kube.requests(watch=True)[-1]
        self.assertEqual((log["status"], log["dropped"], log["endReason"], log["fault"], log["events"]),
                         (200, True, "dropped", "watchDrop", 1))
        self.kube.inject_watch_fault("drop", path="/namespaces", after_seconds=0.3, reset=True)
        t = time.monotonic()
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
            self.assertEqual(w.wait_end(10), "dropped")
        self.assertTrue(0.25 <= time.monotonic() - t < 5)
        self.kube.inject_watch_fault("expired", path="/namespaces", count=2)
        for _ in range(2):
            with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
                events = w.collect(timeout=10)
                self.assertEqual(w.end_reason, "eof")
            self.assertEqual([(e["type"], e["object"]["code"], e["object"]["reason"]) for e in events],
                             [("ERROR", 410, "Expired")])
            self.assertTrue(events[0]["object"]["message"].startswith(f"too old resource version: {rv} ("))
        self.assertEqual(self.kube.faults(), [])
        # Plain requests never consume a watch fault.
        self.kube.inject_watch_fault("expired", path="/namespaces")
        self.assertEqual(self.api("GET", "/api/v1/namespaces").status, 200)
        self.assertEqual(len(self.kube.faults()), 1)

    def test_request_log_shows_a_watch_when_it_starts(self):
        self.kube.clear_requests()
        rv = self.list_rv()
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv, "timeoutSeconds": "30"}) as w:
            self.kube.wait_for_watch("/api/v1/namespaces")
            live = self.kube.requests(watch=True)
            self.assertEqual(len(live), 1)
            self.assertEqual((live[0]["status"], live[0]["ended"], live[0]["durationMs"]), (200, False, None))
            self.assertIn(f"resourceVersion={rv}", live[0]["query"])
            created = self.kube.create_namespace("logged")
            w.next_event(5)
            arrived = w.arrivals[-1]
        log = self.kube.requests()
        self.assertEqual([e["seq"] for e in log], sorted(e["seq"] for e in log))
        self.assertEqual(len({e["seq"] for e in log}), len(log))
        self.assertTrue(all(isinstance(e["time"], float) and isinstance(e["startTime"], float) for e in log))
        self.assertEqual([e["watch"] for e in log], [False, True, False])
        create = log[2]
        self.assertEqual((create["method"], create["status"]), ("POST", 201))
        # The create's entry time is when the server answered, i.e. just after the commit.
        self.assertLess(abs(arrived - create["time"]), 0.5)
        self.assertEqual(created["metadata"]["name"], "logged")
        w_entry = self.kube.requests(watch=True)[0]
        for _ in range(50):
            if w_entry.get("ended"):
                break
            time.sleep(0.05)
            w_entry = self.kube.requests(watch=True)[0]
        self.assertEqual((w_entry["ended"], w_entry["endReason"], w_entry["events"]), (True, "clientClosed", 1))

    def test_namespace_deletion_and_terminating_writes(self):
        self.kube.configure(namespaceTerminationSeconds=0.5)
        self.create_ns("doomed")
        rv = self.list_rv()
        with self.kube.watch("/api/v1/namespaces", {"resourceVersion": rv, "fieldSelector": "metadata.name=doomed"}) as w:
            self.kube.delete_namespace("doomed")
            r = self.api("POST", "/api/v1/namespaces/doomed/secrets", pull_secret("ecr-pull", "doomed"))
            self.assertEqual(r.status, 403)
            self.assertEqual(r.json["message"], 'secrets "ecr-pull" is forbidden: unable to create new content in '
                                                "namespace doomed because it is being terminated")
            self.assertEqual(r.json["details"]["causes"][0]["reason"], "NamespaceTerminating")
            events = w.collect(count=2, timeout=10)
        self.assertEqual([e["type"] for e in events], ["MODIFIED", "DELETED"])
        self.assertEqual(events[0]["object"]["status"]["phase"], "Terminating")
        self.assertIn("deletionTimestamp", events[0]["object"]["metadata"])

    def test_latency_and_scale(self):
        cfg = default_config()
        cfg["namespaces"] += [f"ns-{i:04d}" for i in range(1000)]
        cfg["objects"] = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s-{i}",
                           "namespace": f"ns-{i % 1000:04d}"}, "data": {"k": "dg=="}} for i in range(1000)]
        with FakeKube(cfg) as kube:
            t = time.monotonic()
            nss = kube.get("/api/v1/namespaces")
            self.assertEqual(len(nss["items"]), 1004)
            self.assertEqual(len(kube.get("/api/v1/secrets")["items"]), 1000)
            self.assertLess(time.monotonic() - t, 2.0)
            rv = nss["metadata"]["resourceVersion"]
            ws = [kube.watch("/api/v1/namespaces", {"resourceVersion": rv}),
                  kube.watch("/api/v1/secrets", {"resourceVersion": rv, "fieldSelector": "metadata.name=ecr-pull"}),
                  kube.watch("/api/v1/serviceaccounts", {"resourceVersion": rv}),
                  kube.watch("/api/v1/pods", {"resourceVersion": rv}),
                  kube.watch("/api/v1/secrets", {"resourceVersion": rv})]
            try:
                kube.wait_for_watch(count=5)
                lat = []
                for i in range(20):
                    kube.create_namespace(f"new-{i}")
                    self.assertEqual(ws[0].next_event(5)["object"]["metadata"]["name"], f"new-{i}")
                    self.assertEqual(ws[2].next_event(5)["object"]["metadata"]["namespace"], f"new-{i}")
                    kube.api("POST", f"/api/v1/namespaces/ns-{i:04d}/secrets", pull_secret("ecr-pull", f"ns-{i:04d}"))
                    self.assertEqual(ws[1].next_event(5)["object"]["metadata"]["namespace"], f"ns-{i:04d}")
                    ws[4].next_event(5)
                    lat += [ws[0].arrivals[-1], ws[1].arrivals[-1]]
                posts = kube.requests(method="POST")
                self.assertEqual(len(posts), 40)
                delays = sorted(a - p["time"] for a, p in zip(lat, posts))
                # From the server's answer to the create to the event parsed by the watcher: a few ms.
                self.assertLess(delays[len(delays) // 2], 0.02, delays)
                self.assertLess(delays[-1], 0.25, delays)
                self.assertEqual(ws[3].collect(timeout=0.2), [])
            finally:
                for w in ws:
                    w.close()


@needs_kubectl
class KubectlWatchTest(FakeKubeTestCase):

    def test_get_w_for_namespaces_and_all_secrets(self):
        kc = self.kube.write_kubeconfig()
        procs = [subprocess.Popen([find_kubectl(), "--kubeconfig", kc, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=self.kube.kubectl_env())
                 for args in (("get", "ns", "-w"), ("get", "secrets", "-A", "-w"))]
        try:
            self.kube.wait_for_watch("/api/v1/namespaces", timeout=30)
            self.kube.wait_for_watch("/api/v1/secrets", timeout=30)
            self.kube.create_namespace("team-w")
            self.api("POST", "/api/v1/namespaces/team-w/secrets", pull_secret("ecr-pull", "team-w"))
            self.kube.delete_namespace("team-w")
            time.sleep(0.5)
        finally:
            for p in procs:
                p.terminate()
        ns_out, sec_out = (p.communicate(timeout=10)[0] for p in procs)
        self.assertRegex(ns_out, r"team-w\s+Active")
        self.assertRegex(ns_out, r"team-w\s+Terminating")
        self.assertRegex(sec_out, r"NAMESPACE\s+NAME\s+TYPE\s+DATA\s+AGE")
        self.assertEqual(len(re.findall(r"team-w\s+ecr-pull\s+kubernetes.io/dockerconfigjson\s+1", sec_out)), 2,
                         sec_out)  # ADDED, then DELETED with the namespace


class RbacNamedListWatchTest(FakeKubeTestCase):
    """fieldSelector=metadata.name=<n> makes a list or watch a request for <n> (resourceNames rules)."""

    USER = "pull-watcher"
    RBAC_USER = "rbac-watcher"

    def setUp(self):
        super().setUp()
        rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"],
                "resourceNames": ["ecr-pull"]}
        self.kube.add_user(self.USER, token="fake-token-pull-watcher", rules=(dict(rule, namespaces="*"),))
        self.kube.add_user(self.RBAC_USER, token="fake-token-rbac-watcher")
        self.kube.seed({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": "pull-watch"}, "rules": [rule]})
        self.kube.seed({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": "pull-watch"},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": "pull-watch"},
                        "subjects": [{"kind": "User", "name": self.RBAC_USER}]})

    def test_named_list_and_watch(self):
        for user in (self.USER, self.RBAC_USER):
            with self.subTest(user=user):
                ok = self.api("GET", "/api/v1/secrets", user=user,
                              query={"fieldSelector": "metadata.name=ecr-pull"})
                self.assertEqual(ok.status, 200, ok.body)
                r = self.api("GET", "/api/v1/secrets", user=user)
                self.assertEqual(r.status, 403)
                self.assertEqual(r.json["message"], f'secrets is forbidden: User "{user}" cannot list resource '
                                                    '"secrets" in API group "" at the cluster scope')
                r = self.api("GET", "/api/v1/secrets", user=user, query={"fieldSelector": "metadata.name=other"})
                self.assertEqual(r.json["message"], f'secrets "other" is forbidden: User "{user}" cannot list '
                                                    'resource "secrets" in API group "" at the cluster scope')
                with self.kube.watch("/api/v1/secrets", {"fieldSelector": "metadata.name=ecr-pull",
                                                         "timeoutSeconds": "1"}, user=user) as w:
                    self.assertEqual((w.status, w.wait_end(10)), (200, "eof"))
                with self.kube.watch("/api/v1/secrets", {"timeoutSeconds": "1"}, user=user) as w:
                    self.assertEqual(w.status, 403)
                    self.assertIn('cannot watch resource "secrets"', json.loads(w.body)["message"])

    @needs_kubectl
    def test_kubectl_with_a_name_selector(self):
        kc = self.kube.write_kubeconfig(user=self.RBAC_USER)
        self.create_ns("team-r")
        self.api("POST", "/api/v1/namespaces/team-r/secrets", pull_secret("ecr-pull", "team-r"))
        r = self.kube.kubectl("get", "secrets", "-A", "--field-selector", "metadata.name=ecr-pull", kubeconfig=kc)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"team-r\s+ecr-pull")
        r = self.kube.kubectl("get", "secrets", "-A", kubeconfig=kc)
        self.assertIn("Error from server (Forbidden)", r.stderr)


LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"


def lease(name="ecr-renew", holder="pod-a_1", renew="2026-01-01T00:00:10.000000Z", rv=None, **spec):
    md = {"name": name}
    if rv:
        md["resourceVersion"] = rv
    sp = {"holderIdentity": holder, "leaseDurationSeconds": 15, "acquireTime": "2026-01-01T00:00:00.000000Z",
          "renewTime": renew, "leaseTransitions": 0}
    sp.update(spec)
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": md, "spec": sp}


class LeaseTest(FakeKubeTestCase):

    def test_lifecycle_and_conflicts(self):
        r = self.api("POST", LEASE_PATH, lease())
        self.assertEqual(r.status, 201, r.body)
        rv = r.json["metadata"]["resourceVersion"]
        r = self.api("POST", LEASE_PATH, lease())
        self.assertEqual((r.status, r.json["message"]),
                         (409, 'leases.coordination.k8s.io "ecr-renew" already exists'))
        self.assertEqual(self.api("GET", LEASE_PATH + "/ecr-renew").json["spec"]["holderIdentity"], "pod-a_1")
        r = self.api("PUT", LEASE_PATH + "/ecr-renew", lease(renew="2026-01-01T00:00:12.000000Z", rv=rv))
        self.assertEqual(r.status, 200, r.body)
        r = self.api("PUT", LEASE_PATH + "/ecr-renew", lease(holder="pod-b_2", rv=rv, leaseTransitions=1))
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json, {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'Operation cannot be fulfilled on leases.coordination.k8s.io "ecr-renew": the object has '
                       "been modified; please apply your changes to the latest version and try again",
            "reason": "Conflict", "details": {"name": "ecr-renew", "group": "coordination.k8s.io", "kind": "leases"},
            "code": 409})
        # Leases do not allow unconditional updates...
        r = self.api("PUT", LEASE_PATH + "/ecr-renew", lease())
        self.assertEqual((r.status, r.json["message"]), (422, 'leases.coordination.k8s.io "ecr-renew" is invalid: '
                         "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"))
        # ... but do allow create on update.
        r = self.api("PUT", LEASE_PATH + "/by-put", lease("by-put"))
        self.assertEqual(r.status, 201, r.body)
        r = self.api("PATCH", LEASE_PATH + "/ecr-renew", {"spec": {"holderIdentity": ""}},
                     content_type="application/merge-patch+json")
        self.assertEqual((r.status, r.json["spec"]["holderIdentity"]), (200, ""))
        names = [i["metadata"]["name"] for i in self.api("GET", LEASE_PATH).json["items"]]
        self.assertEqual(names, ["by-put", "ecr-renew"])
        self.assertEqual(self.api("DELETE", LEASE_PATH + "/by-put").status, 200)
        self.assertEqual(self.api("GET", LEASE_PATH + "/by-put").status, 404)
        res = [x for x in self.api("GET", "/apis/coordination.k8s.io/v1").json["resources"] if x["name"] == "leases"]
        self.assertTrue(res and res[0]["namespaced"] and "watch" in res[0]["verbs"])
        self.assertIn("coordination.k8s.io", {g["name"] for g in self.api("GET", "/apis").json["groups"]})

    def test_micro_time_and_validation(self):
        cases = {
            "2026-01-01T00:00:10Z": 'cannot parse "Z" as ".000000"',
            "2026-01-01T00:00:10.123Z": 'cannot parse ".123Z" as ".000000"',
            "2026-01-01T00:00:10.1234567Z": 'cannot parse "7Z" as "Z07:00"',
        }
        for value, tail in cases.items():
            with self.subTest(value=value):
                r = self.api("POST", LEASE_PATH, lease(renew=value))
                self.assertEqual(r.status, 400)
                self.assertEqual(r.json["reason"], "BadRequest")
                self.assertEqual(r.json["message"], f'Lease in version "v1" cannot be handled as a Lease: parsing '
                                                    f'time "{value}" as "2006-01-02T15:04:05.000000Z07:00": {tail}')
        r = self.api("POST", LEASE_PATH, lease(leaseDurationSeconds="15"))
        self.assertEqual(r.json["message"], 'Lease in version "v1" cannot be handled as a Lease: json: cannot '
                                            "unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds"
                                            " of type int32")
        r = self.api("POST", LEASE_PATH, lease(leaseDurationSeconds=0))
        self.assertEqual((r.status, r.json["message"]), (422, 'Lease.coordination.k8s.io "ecr-renew" is invalid: '
                         "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"))
        r = self.api("POST", LEASE_PATH, lease(leaseTransitions=-1))
        self.assertEqual((r.status, r.json["details"]["causes"]), (422, [{
            "reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0",
            "field": "spec.leaseTransitions"}]))
        # An offset is accepted and stored as UTC, as Go re-encodes it.
        r = self.api("POST", LEASE_PATH, lease(renew="2026-01-01T02:00:10.500000+02:00"))
        self.assertEqual(r.json["spec"]["renewTime"], "2026-01-01T00:00:10.500000Z")
        rv = r.json["metadata"]["resourceVersion"]
        r = self.api("PATCH", LEASE_PATH + "/ecr-renew", {"spec": {"renewTime": "2026-01-01T00:00:11Z"}},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 422)
        self.assertIn('patch: Invalid value: "{', r.json["message"])
        self.assertTrue(r.json["message"].endswith('cannot parse "Z" as ".000000"'))
        self.assertEqual(self.api("GET", LEASE_PATH + "/ecr-renew").json["metadata"]["resourceVersion"], rv)

    def test_watch_leases(self):
        rv = self.api("GET", LEASE_PATH).json["metadata"]["resourceVersion"]
        with self.kube.watch(LEASE_PATH, {"resourceVersion": rv, "fieldSelector": "metadata.name=ecr-renew"}) as w:
            created = self.api("POST", LEASE_PATH, lease()).json
            self.api("PUT", LEASE_PATH + "/ecr-renew", lease(holder="pod-b_2", rv=created["metadata"]["resourceVersion"]))
            events = w.collect(count=2, timeout=10)
        self.assertEqual([(e["type"], e["object"]["spec"]["holderIdentity"]) for e in events],
                         [("ADDED", "pod-a_1"), ("MODIFIED", "pod-b_2")])

    @needs_kubectl
    def test_kubectl_get_lease(self):
        self.api("POST", LEASE_PATH, lease(holder="ecr-renew-6d9f7-x2k_4f1c"))
        r = self.kube.kubectl("get", "lease", "-n", "kube-system", check=True)
        self.assertRegex(r.stdout, r"NAME\s+HOLDER\s+AGE\n")
        self.assertRegex(r.stdout, r"ecr-renew\s+ecr-renew-6d9f7-x2k_4f1c\s+\d+s")


def event(name="ecr-pull.18a7c2f3b4d5e6f7", ns="team-e", reason="Refreshed", etype="Normal", **over):
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
          "involvedObject": {"apiVersion": "v1", "kind": "Secret", "namespace": ns, "name": "ecr-pull",
                             "uid": "3b2d6d2e-0000-4000-8000-000000000001"},
          "reason": reason, "message": "token valid until 2026-01-01T12:00:00Z", "type": etype,
          "source": {"component": "ecr-renew", "host": "node-1"},
          "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 1,
          "reportingComponent": "ecr-renew", "reportingInstance": "node-1", "eventTime": None}
    ev.update(over)
    return ev


class EventTest(FakeKubeTestCase):

    def setUp(self):
        super().setUp()
        self.create_ns("team-e")
        self.path = "/api/v1/namespaces/team-e/events"

    def test_create_get_update_patch_delete(self):
        r = self.api("POST", self.path, event(lastTimestamp="2026-01-01T00:00:05.250Z"))
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json["lastTimestamp"], "2026-01-01T00:00:05Z")  # metav1.Time: whole seconds
        self.assertIsNone(r.json["eventTime"])
        base = self.path + "/ecr-pull.18a7c2f3b4d5e6f7"
        r = self.api("PATCH", base, {"count": 2, "lastTimestamp": "2026-01-01T00:01:00Z"},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual((r.status, r.json["count"]), (200, 2))
        r = self.api("PATCH", base, {"count": 3}, content_type="application/merge-patch+json")
        self.assertEqual(r.json["count"], 3)
        body = r.json
        body["message"] = "again"
        r = self.api("PUT", base, body)
        self.assertEqual((r.status, r.json["message"]), (200, "again"))
        self.assertEqual(self.api("GET", base).json["count"], 3)
        self.assertEqual(self.api("DELETE", base).status, 200)
        self.assertEqual(self.api("GET", base).status, 404)

    def test_legacy_validation(self):
        r = self.api("POST", self.path, event(involvedObject={"kind": "Secret", "namespace": "other", "name": "x"}))
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["message"], 'Event "ecr-pull.18a7c2f3b4d5e6f7" is invalid: involvedObject.namespace: '
                                            'Invalid value: "other": does not match event.namespace')
        # A cluster-scoped involved object (a Namespace): the event belongs in "default".
        ns_ev = event("team-e.1", involvedObject={"apiVersion": "v1", "kind": "Namespace", "name": "team-e"})
        self.assertEqual(self.api("POST", self.path, ns_ev).status, 422)
        ns_ev["metadata"]["namespace"] = "default"
        self.assertEqual(self.api("POST", "/api/v1/namespaces/default/events", ns_ev).status, 201)
        r = self.api("POST", self.path, event(etype="Info"))
        self.assertEqual((r.status, r.json["details"]["causes"]), (422, [{
            "reason": "FieldValueInvalid", "message": 'Invalid value: "": has invalid value: Info', "field": "type"}]))
        r = self.api("POST", self.path, event(reason=""))
        self.assertEqual(r.json["message"], 'Event "ecr-pull.18a7c2f3b4d5e6f7" is invalid: reason: Required value')
        r = self.api("POST", self.path, event(eventTime="2026-01-01T00:00:00Z"))
        self.assertEqual(r.status, 400)
        self.assertIn('cannot parse "Z" as ".000000"', r.json["message"])
        # eventTime set: the other legacy branch (reportingComponent, reportingInstance, action, reason).
        r = self.api("POST", self.path, event(eventTime="2026-01-01T00:00:00.000000Z", reportingInstance=""))
        self.assertEqual(r.json["message"], 'Event "ecr-pull.18a7c2f3b4d5e6f7" is invalid: [reportingInstance: '
                                            "Required value, action: Required value]")
        # kube-apiserver itself checks neither type nor reason on core/v1: the fake can be told to match.
        self.kube.configure(strictEventValidation=False)
        self.assertEqual(self.api("POST", self.path, event(etype="Info", reason="")).status, 201)

    def test_field_selectors_and_watch(self):
        rv = self.api("GET", self.path).json["metadata"]["resourceVersion"]
        with self.kube.watch("/api/v1/events", {"resourceVersion": rv, "fieldSelector": "reason=Failed"}) as w:
            self.api("POST", self.path, event("a.1"))
            self.api("POST", self.path, event("b.1", reason="Failed", etype="Warning",
                                              source={"component": "other"}, reportingComponent="other"))
            self.api("POST", self.path, event("c.1", involvedObject={
                "kind": "Pod", "namespace": "team-e", "name": "web-1", "uid": "u-2"}))
            self.assertEqual(ns_names(w.collect(count=1, timeout=10)), [("ADDED", "b.1")])

        def names(sel):
            r = self.api("GET", "/api/v1/events", query={"fieldSelector": sel})
            self.assertEqual(r.status, 200, r.body)
            return [i["metadata"]["name"] for i in r.json["items"]]
        self.assertEqual(names("involvedObject.kind=Pod"), ["c.1"])
        self.assertEqual(names("involvedObject.name=ecr-pull,involvedObject.namespace=team-e"), ["a.1", "b.1"])
        self.assertEqual(names("involvedObject.uid=u-2"), ["c.1"])
        self.assertEqual(names("type=Warning"), ["b.1"])
        self.assertEqual(names("reason!=Refreshed"), ["b.1"])
        self.assertEqual(names("source=ecr-renew"), ["a.1", "c.1"])
        self.assertEqual(names("reportingComponent=other"), ["b.1"])
        self.assertEqual(self.api("GET", "/api/v1/events", query={"fieldSelector": "count=1"}).status, 400)

    @needs_kubectl
    def test_kubectl_get_events(self):
        self.api("POST", self.path, event(count=4))
        self.api("POST", self.path, event("web.1", reason="BackOff", etype="Warning", involvedObject={
            "kind": "Pod", "namespace": "team-e", "name": "web-1"}, message="Back-off pulling image"))
        r = self.kube.kubectl("get", "events", "-n", "team-e", check=True)
        self.assertRegex(r.stdout, r"LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n")
        self.assertRegex(r.stdout, r"Normal\s+Refreshed\s+secret/ecr-pull\s+token valid until")
        r = self.kube.kubectl("get", "events", "-A", "--field-selector", "reason=BackOff", "-o", "wide", check=True)
        self.assertRegex(r.stdout, r"NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE"
                                   r"\s+FIRST SEEN\s+COUNT\s+NAME")
        self.assertRegex(r.stdout, r"team-e\s+\S+\s+Warning\s+BackOff\s+pod/web-1\s+ecr-renew, node-1\s+Back-off")
        self.assertNotIn("Refreshed", r.stdout)
        r = self.kube.kubectl("get", "events", "-n", "team-e", "--field-selector", "reason=Refreshed",
                              "-o", "custom-columns=COUNT:.count,REASON:.reason", check=True)
        self.assertRegex(r.stdout, r"4\s+Refreshed")


SA_PATH = "/api/v1/namespaces/team-s/serviceaccounts/default"


class ServiceAccountTest(FakeKubeTestCase):

    def test_default_sa_is_created_with_the_namespace(self):
        rv = self.api("GET", "/api/v1/namespaces").json["metadata"]["resourceVersion"]
        with self.kube.watch("/api/v1/serviceaccounts", {"resourceVersion": rv}) as w:
            ns = self.kube.create_namespace("team-s")
            ev = w.next_event(5)
        self.assertEqual((ev["type"], ev["object"]["metadata"]["namespace"], ev["object"]["metadata"]["name"]),
                         ("ADDED", "team-s", "default"))
        self.assertEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(ns["metadata"]["resourceVersion"]) + 1)
        self.assertIsNotNone(self.kube.service_account("kube-system"))  # seeded namespaces have one too
        # The delay setting leaves a window in which the namespace has no ServiceAccount yet.
        self.kube.configure(defaultServiceAccountDelaySeconds=0.3)
        self.kube.create_namespace("late")
        self.assertIsNone(self.kube.service_account("late"))
        time.sleep(0.6)
        self.assertIsNotNone(self.kube.service_account("late"))

    def test_json_patch_with_test_precondition(self):
        self.kube.create_namespace("team-s")
        rv = self.api("GET", SA_PATH).json["metadata"]["resourceVersion"]
        jp = "application/json-patch+json"
        r = self.api("PATCH", SA_PATH, [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                        {"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "ecr-pull"}}],
                     content_type=jp)
        self.assertEqual(r.status, 422)  # no list yet
        self.assertEqual(r.json, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": "the server rejected our request due to an error in our request",
                                  "reason": "Invalid", "details": {"causes": [{
                                      "message": 'add operation does not apply: doc is missing path: '
                                                 '"/imagePullSecrets/-": missing value'}]}, "code": 422})
        r = self.api("PATCH", SA_PATH, [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                        {"op": "add", "path": "/imagePullSecrets", "value": [{"name": "other"}]}],
                     content_type=jp)
        self.assertEqual(r.status, 200, r.body)
        r = self.api("PATCH", SA_PATH, [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                        {"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "ecr-pull"}}],
                     content_type=jp)
        self.assertEqual((r.status, r.json["details"]["causes"][0]["message"]),
                         (422, "testing value /metadata/resourceVersion failed: test failed"))
        rv = self.api("GET", SA_PATH).json["metadata"]["resourceVersion"]
        # test compares exactly: the number is not the string.
        r = self.api("PATCH", SA_PATH, [{"op": "test", "path": "/metadata/resourceVersion", "value": int(rv)}],
                     content_type=jp)
        self.assertEqual(r.status, 422)
        r = self.api("PATCH", SA_PATH, [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                        {"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "ecr-pull"}}],
                     content_type=jp)
        self.assertEqual(r.json["imagePullSecrets"], [{"name": "other"}, {"name": "ecr-pull"}])
        self.assertEqual(self.api("PATCH", SA_PATH, {"op": "add"}, content_type=jp).status, 400)
        # A strategic merge patch replaces the (atomic) list: the classic way to wipe other pull secrets.
        r = self.api("PATCH", SA_PATH, {"imagePullSecrets": [{"name": "ecr-pull"}]},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual(r.json["imagePullSecrets"], [{"name": "ecr-pull"}])

    @needs_kubectl
    def test_kubectl_patch_json(self):
        self.kube.create_namespace("team-s")
        r = self.kube.kubectl("patch", "sa", "default", "-n", "team-s", "--type", "json", "-p",
                              '[{"op":"add","path":"/imagePullSecrets","value":[{"name":"ecr-pull"}]}]')
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "serviceaccount/default patched"), r.stderr)
        r = self.kube.kubectl("patch", "sa", "default", "-n", "team-s", "--type", "json", "-p",
                              '[{"op":"test","path":"/imagePullSecrets/0/name","value":"nope"}]')
        self.assertNotEqual(r.returncode, 0)
        # kubectl prints the Status's cause (its field is empty): what it shows for kube-apiserver too.
        self.assertIn("The request is invalid: : testing value /imagePullSecrets/0/name failed: test failed",
                      r.stderr)
        self.assertEqual(self.kube.service_account("team-s")["imagePullSecrets"], [{"name": "ecr-pull"}])


PODS = "/api/v1/namespaces/team-p/pods"


class PodTest(FakeKubeTestCase):

    def setUp(self):
        super().setUp()
        self.kube.create_namespace("team-p")

    def give_sa_pull_secret(self, name="ecr-pull"):
        r = self.api("PATCH", "/api/v1/namespaces/team-p/serviceaccounts/default",
                     {"imagePullSecrets": [{"name": name}]}, content_type="application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)

    def test_service_account_admission_copies_pull_secrets_once(self):
        early = self.kube.create_pod("team-p", "early")  # before the SA was patched: no reference, ever
        self.assertNotIn("imagePullSecrets", early["spec"])
        self.assertEqual((early["spec"]["serviceAccountName"], early["status"]["phase"]), ("default", "Pending"))
        self.give_sa_pull_secret()
        late = self.kube.create_pod("team-p", "late")
        self.assertEqual(late["spec"]["imagePullSecrets"], [{"name": "ecr-pull"}])
        own = self.kube.create_pod("team-p", "own", image_pull_secrets=["mine"])
        self.assertEqual(own["spec"]["imagePullSecrets"], [{"name": "mine"}])
        self.assertNotIn("imagePullSecrets", self.api("GET", PODS + "/early").json["spec"])
        r = self.api("POST", PODS, {"metadata": {"generateName": "x-"}, "spec": {
            "serviceAccountName": "missing", "containers": [{"name": "a", "image": "i"}]}})
        self.assertEqual((r.status, r.json["message"]), (403, 'pods "x-" is forbidden: error looking up service '
                                                              'account team-p/missing: serviceaccount "missing" not found'))

    def test_spec_is_immutable_status_is_not(self):
        pod = self.kube.create_pod("team-p", "web")
        pod["spec"]["imagePullSecrets"] = [{"name": "ecr-pull"}]
        r = self.api("PUT", PODS + "/web", pod)
        self.assertEqual(r.status, 422)
        self.assertTrue(r.json["message"].startswith('Pod "web" is invalid: spec: Forbidden: pod updates may not '
                                                     "change fields other than `spec.containers[*].image`"))
        r = self.api("PATCH", PODS + "/web", {"spec": {"imagePullSecrets": [{"name": "ecr-pull"}]}},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual(r.status, 422)
        r = self.api("PATCH", PODS + "/web", {"spec": {"containers": [{"name": "app", "image": "registry.example/app:2"}]},
                                              "metadata": {"labels": {"a": "b"}}},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual((r.status, r.json["spec"]["containers"][0]["image"]), (200, "registry.example/app:2"))
        p = self.kube.set_pod_waiting("team-p", "web", "ErrImagePull", image="123.dkr.ecr/app:2")
        st = p["status"]["containerStatuses"][0]
        self.assertEqual((st["state"]["waiting"]["reason"], st["image"]), ("ErrImagePull", "123.dkr.ecr/app:2"))
        cur = self.api("GET", PODS + "/web").json
        cur["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] = "ImagePullBackOff"
        r = self.api("PUT", PODS + "/web/status", cur)
        self.assertEqual((r.status, r.json["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]),
                         (200, "ImagePullBackOff"))
        # The main endpoint ignores status; /status ignores spec.
        cur = r.json
        cur["status"]["phase"] = "Running"
        self.assertEqual(self.api("PUT", PODS + "/web", cur).json["status"]["phase"], "Pending")
        r = self.api("GET", PODS, query={"fieldSelector": "status.phase=Pending,spec.serviceAccountName=default"})
        self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], ["web"])

    def test_delete_preconditions(self):
        pod = self.kube.create_pod("team-p", "web")
        uid, rv = pod["metadata"]["uid"], pod["metadata"]["resourceVersion"]
        r = self.api("DELETE", PODS + "/web", {"preconditions": {"uid": "not-it"}})
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json["message"], 'Operation cannot be fulfilled on pods "web": Precondition failed: UID in '
                                            f"precondition: not-it, UID in object meta: {uid}")
        self.api("PATCH", PODS + "/web", {"metadata": {"labels": {"x": "y"}}}, content_type="application/merge-patch+json")
        r = self.api("DELETE", PODS + "/web", {"preconditions": {"uid": uid, "resourceVersion": rv}})
        self.assertEqual(r.status, 409)
        self.assertIn(f"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta:",
                      r.json["message"])
        r = self.api("DELETE", PODS + "/web", {"preconditions": {"uid": uid}})
        self.assertEqual((r.status, r.json["kind"], r.json["metadata"]["uid"]), (200, "Pod", uid))

    def test_healing_an_owned_pod(self):
        rs = self.kube.create_pod("team-p", "web-5d8f-abcde", owner_kind="ReplicaSet", owner_name="web-5d8f")
        sts = self.kube.create_pod("team-p", "db-0", owner_kind="StatefulSet", owner_name="db")
        self.give_sa_pull_secret()
        rv = self.api("GET", PODS).json["metadata"]["resourceVersion"]
        with self.kube.watch(PODS, {"resourceVersion": rv}) as w:
            self.api("DELETE", PODS + "/web-5d8f-abcde")
            with self.assertRaises(RuntimeError):  # it must be gone first
                self.kube.recreate_owned_pod("team-p", "db-0")
            new = self.kube.recreate_owned_pod("team-p", "web-5d8f-abcde")
            events = w.collect(count=2, timeout=10)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("DELETED", "web-5d8f-abcde"), ("ADDED", new["metadata"]["name"])])
        self.assertRegex(new["metadata"]["name"], r"^web-5d8f-[a-z0-9]{5}$")
        self.assertNotEqual(new["metadata"]["uid"], rs["metadata"]["uid"])
        self.assertEqual(new["metadata"]["ownerReferences"], rs["metadata"]["ownerReferences"])
        self.assertEqual(new["spec"]["imagePullSecrets"], [{"name": "ecr-pull"}])  # healed by admission
        self.api("DELETE", PODS + "/db-0")
        again = self.kube.recreate_owned_pod("team-p", "db-0")
        self.assertEqual(again["metadata"]["name"], "db-0")
        self.assertNotEqual(again["metadata"]["uid"], sts["metadata"]["uid"])
        # Automatic mode: every deleted owned pod comes back by itself.
        self.kube.configure(recreateOwnedPods=True)
        self.api("DELETE", PODS + "/db-0")
        back = self.api("GET", PODS + "/db-0").json
        self.assertEqual(back["spec"]["imagePullSecrets"], [{"name": "ecr-pull"}])
        plain = self.kube.create_pod("team-p", "plain")
        self.api("DELETE", PODS + "/plain")
        self.assertEqual(self.api("GET", PODS + "/plain").status, 404)
        self.assertIsNotNone(plain)

    @needs_kubectl
    def test_kubectl_get_and_delete_pods(self):
        self.kube.create_pod("team-p", "web-1", owner_kind="ReplicaSet", owner_name="web-5d8f")
        self.kube.create_pod("team-p", "web-2")
        self.kube.set_pod_waiting("team-p", "web-1", "ImagePullBackOff")
        r = self.kube.kubectl("get", "pods", "-n", "team-p", check=True)
        self.assertRegex(r.stdout, r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n")
        self.assertRegex(r.stdout, r"web-1\s+0/1\s+ImagePullBackOff\s+0\s+\d+s")
        self.assertRegex(r.stdout, r"web-2\s+0/1\s+Pending\s+0\s+\d+s")
        r = self.kube.kubectl("delete", "pod", "web-1", "-n", "team-p", check=True)
        self.assertIn('pod "web-1" deleted', r.stdout)
        self.assertEqual(self.api("GET", PODS + "/web-1").status, 404)


SVC_PATH = "/api/v1/namespaces/team-v/services"
SERVICE_CIDR = "10.96.0.0/12"


def service(name="web", ports=None, **spec):
    sp = {"selector": {"app": "web"}, "ports": ports if ports is not None else [{"name": "http", "port": 80,
                                                                                  "targetPort": "http"}]}
    sp.update(spec)
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": sp}


SERVICE_MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team-v
  labels:
    app.kubernetes.io/name: web
spec:
  selector:
    app.kubernetes.io/name: web
    app.kubernetes.io/component: server
  publishNotReadyAddresses: true
  ports:
    - name: http
      port: __PORT__
      targetPort: http
"""


class ServiceTest(FakeKubeTestCase):
    """core/v1 Services: defaulting, allocation, validation, updates, RBAC and discovery."""

    def setUp(self):
        super().setUp()
        self.kube.create_namespace("team-v")

    def create(self, obj, status=201):
        r = self.api("POST", SVC_PATH, obj)
        self.assertEqual(r.status, status, r.body)
        return r.json

    def assert_in_cidr(self, ip):
        import ipaddress
        self.assertIn(ipaddress.ip_address(ip), ipaddress.ip_network(SERVICE_CIDR))
        self.assertNotIn(ip, ("10.96.0.0", "10.96.0.1", "10.111.255.255"))

    def test_defaults_and_cluster_ip_allocation(self):
        svc = self.create(service(ports=[{"name": "http", "port": 80, "targetPort": "http"},
                                         {"name": "metrics", "port": 9090}]))
        spec = svc["spec"]
        self.assertEqual((spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"]),
                         ("ClusterIP", "None", "Cluster"))
        self.assertEqual([(p["protocol"], p["targetPort"]) for p in spec["ports"]], [("TCP", "http"), ("TCP", 9090)])
        self.assert_in_cidr(spec["clusterIP"])
        self.assertEqual(spec["clusterIPs"], [spec["clusterIP"]])
        self.assertEqual((spec["ipFamilies"], spec["ipFamilyPolicy"]), (["IPv4"], "SingleStack"))
        self.assertNotIn("externalTrafficPolicy", spec)
        self.assertEqual(svc["status"], {"loadBalancer": {}})
        self.assertEqual(list(svc), ["kind", "apiVersion", "metadata", "spec", "status"])
        self.assertEqual(self.api("GET", SVC_PATH + "/web").json, svc)
        # Every Service gets an address of its own; one asked for is kept.
        ips = {spec["clusterIP"]}
        for i in range(20):
            ips.add(self.create(service(f"s{i}"))["spec"]["clusterIP"])
        self.assertEqual(len(ips), 21)
        fixed = self.create(service("fixed", clusterIP="10.96.0.10"))["spec"]
        self.assertEqual((fixed["clusterIP"], fixed["clusterIPs"]), ("10.96.0.10", ["10.96.0.10"]))
        r = self.api("POST", SVC_PATH, service("again", clusterIP="10.96.0.10"))
        self.assertEqual((r.status, r.json["reason"]), (422, "Invalid"))
        self.assertEqual(r.json["message"], 'Service "again" is invalid: spec.clusterIPs: Invalid value: '
                                            '[]string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP '
                                            "is already allocated")
        r = self.api("POST", SVC_PATH, service("far", clusterIP="192.168.0.1"))
        self.assertEqual(r.json["message"], 'Service "far" is invalid: spec.clusterIPs: Invalid value: '
                                            '[]string{"192.168.0.1"}: failed to allocate IP 192.168.0.1: the provided '
                                            "IP (192.168.0.1) is not in the valid range. The range of valid IPs is "
                                            "10.96.0.0/12")
        r = self.api("POST", SVC_PATH, service("six", clusterIP="fd00::10"))
        self.assertEqual(r.json["message"], 'Service "six" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": '
                                            "not configured on this cluster")
        r = self.api("POST", SVC_PATH, service("dual", ipFamilyPolicy="RequireDualStack"))
        self.assertEqual(r.json["message"], 'Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: '
                                            '"RequireDualStack": this cluster is not configured for dual-stack '
                                            "services")
        # A deleted Service frees its address; dry runs allocate but keep nothing.
        self.assertEqual(self.api("DELETE", SVC_PATH + "/fixed").status, 200)
        self.create(service("again", clusterIP="10.96.0.10"))
        r = self.api("POST", SVC_PATH, service("dry"), query={"dryRun": "All"})
        self.assertEqual(r.status, 201, r.body)
        self.assert_in_cidr(r.json["spec"]["clusterIP"])
        self.assertEqual(self.api("GET", SVC_PATH + "/dry").status, 404)

    def test_the_other_types(self):
        hl = self.create(service("headless", clusterIP="None"))["spec"]
        self.assertEqual((hl["clusterIP"], hl["clusterIPs"], hl["ipFamilies"], hl["ipFamilyPolicy"]),
                         ("None", ["None"], ["IPv4"], "SingleStack"))
        bare = self.create({"metadata": {"name": "bare"}, "spec": {"clusterIP": "None"}})["spec"]
        self.assertEqual((bare["ipFamilies"], bare["ipFamilyPolicy"]), (["IPv4", "IPv6"], "RequireDualStack"))
        en = self.create({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName",
                                                                 "externalName": "db.example.com"}})["spec"]
        self.assertEqual(en, {"type": "ExternalName", "sessionAffinity": "None", "externalName": "db.example.com"})
        np = self.create(service("np", type="NodePort"))["spec"]
        self.assertEqual(np["externalTrafficPolicy"], "Cluster")
        self.assertTrue(30000 <= np["ports"][0]["nodePort"] <= 32767, np)
        lb = self.create(service("lb", type="LoadBalancer", ports=[{"port": 443, "nodePort": 31443}]))
        self.assertEqual((lb["spec"]["ports"][0]["nodePort"], lb["spec"]["allocateLoadBalancerNodePorts"]),
                         (31443, True))
        r = self.api("POST", SVC_PATH, service("lb2", type="LoadBalancer", ports=[{"port": 443, "nodePort": 31443}]))
        self.assertEqual(r.json["message"], 'Service "lb2" is invalid: spec.ports[0].nodePort: Invalid value: 31443: '
                                            "provided port is already allocated")
        r = self.api("POST", SVC_PATH, service("np2", type="NodePort", ports=[{"port": 80, "nodePort": 80}]))
        self.assertEqual(r.json["message"], 'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 80: '
                                            "provided port is not in the valid range. The range of valid ports is "
                                            "30000-32767")
        aff = self.create(service("sticky", sessionAffinity="ClientIP"))["spec"]
        self.assertEqual(aff["sessionAffinityConfig"], {"clientIP": {"timeoutSeconds": 10800}})

    def test_validation(self):
        def invalid(obj, message):
            r = self.api("POST", SVC_PATH, obj)
            self.assertEqual((r.status, r.json.get("reason")), (422, "Invalid"), r.body)
            self.assertEqual(r.json["message"], message)
            self.assertEqual(r.json["details"]["kind"], "Service")
            return r.json
        st = invalid(service("two", ports=[{"port": 80}, {"name": "b", "port": 81}]),
                     'Service "two" is invalid: spec.ports[0].name: Required value')
        self.assertEqual(st["details"]["causes"], [{"reason": "FieldValueRequired", "message": "Required value",
                                                    "field": "spec.ports[0].name"}])
        invalid(service("dup", ports=[{"name": "a", "port": 80}, {"name": "a", "port": 81}]),
                'Service "dup" is invalid: spec.ports[1].name: Duplicate value: "a"')
        invalid(service("bad", ports=[{"name": "Http_1", "port": 80}]),
                'Service "bad" is invalid: spec.ports[0].name: Invalid value: "Http_1": a lowercase RFC 1123 label '
                "must consist of lower case alphanumeric characters or '-', and must start and end with an "
                "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        invalid(service("range", ports=[{"port": 70000, "targetPort": 0}]),
                'Service "range" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, '
                "inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive]")
        invalid(service("proto", ports=[{"port": 80, "protocol": "HTTP"}]),
                'Service "proto" is invalid: spec.ports[0].protocol: Unsupported value: "HTTP": supported values: '
                '"SCTP", "TCP", "UDP"')
        invalid(service("tp", ports=[{"port": 80, "targetPort": "web--port"}]),
                'Service "tp" is invalid: spec.ports[0].targetPort: Invalid value: "web--port": must not contain '
                "consecutive hyphens")
        invalid(service("same", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
                'Service "same" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", '
                'Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, '
                'IntVal:0, StrVal:""}, NodePort:0}')
        self.create(service("udp", ports=[{"name": "a", "port": 53}, {"name": "b", "port": 53, "protocol": "UDP"}]))
        st = invalid(service("sel", selector={"app": "-web-"}), 'Service "sel" is invalid: spec.selector: Invalid '
                     'value: "-web-": a valid label must be an empty string or consist of alphanumeric characters, '
                     "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                     "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"
                     "[A-Za-z0-9])?')")
        invalid(service("key", selector={"bad key": "x"}), 'Service "key" is invalid: spec.selector: Invalid value: '
                '"bad key": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start '
                "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
                "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
        invalid(service("noports", ports=[]), 'Service "noports" is invalid: spec.ports: Required value')
        invalid(service("kind", type="Magic"), 'Service "kind" is invalid: spec.type: Unsupported value: "Magic": '
                'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')
        invalid(service("cip", ports=[{"port": 80, "nodePort": 30080}]),
                'Service "cip" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is '
                "'ClusterIP'")
        invalid(service("etp", externalTrafficPolicy="Local"), 'Service "etp" is invalid: spec.externalTrafficPolicy: '
                'Invalid value: "Local": may only be set for externally-accessible services')
        invalid(service("9lives"), 'Service "9lives" is invalid: metadata.name: Invalid value: "9lives": a DNS-1035 '
                "label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
                "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
                "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        # Wrong JSON types are Go's decode errors (400), as for kube-apiserver.
        r = self.api("POST", SVC_PATH, service("typed", ports=[{"port": "80"}]))
        self.assertEqual((r.status, r.json["message"]), (400, 'Service in version "v1" cannot be handled as a '
                         "Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of "
                         "type int32"))
        self.assertEqual(self.api("GET", SVC_PATH).json["items"][0]["metadata"]["name"], "udp")

    def test_updates_keep_the_cluster_ip_and_may_not_change_it(self):
        svc = self.create(service())
        ip = svc["spec"]["clusterIP"]
        # A PUT of the manifest as written (no clusterIP, no ipFamilies) keeps what was allocated.
        body = service(ports=[{"name": "http", "port": 8080, "targetPort": "http"}])
        body["metadata"]["resourceVersion"] = svc["metadata"]["resourceVersion"]
        r = self.api("PUT", SVC_PATH + "/web", body)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json["spec"]["clusterIP"], r.json["spec"]["clusterIPs"], r.json["spec"]["ipFamilies"]),
                         (ip, [ip], ["IPv4"]))
        self.assertEqual(r.json["spec"]["ports"][0]["port"], 8080)
        for ctype, patch in (("application/merge-patch+json", {"spec": {"clusterIP": "10.96.0.77"}}),
                             ("application/strategic-merge-patch+json", {"spec": {"clusterIPs": ["10.96.0.77"],
                                                                                  "clusterIP": "10.96.0.77"}})):
            with self.subTest(ctype=ctype):
                r = self.api("PATCH", SVC_PATH + "/web", patch, content_type=ctype)
                self.assertEqual((r.status, r.json["message"]),
                                 (422, 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: '
                                       '[]string{"10.96.0.77"}: may not change once set'))
        # Ports merge on port in a strategic merge patch.
        r = self.api("PATCH", SVC_PATH + "/web", {"spec": {"ports": [{"name": "metrics", "port": 9090}]}},
                     content_type="application/strategic-merge-patch+json")
        self.assertEqual([(p["name"], p["port"], p["targetPort"]) for p in r.json["spec"]["ports"]],
                         [("http", 8080, "http"), ("metrics", 9090, 9090)])
        # To ExternalName and back: the address goes, a new one comes.
        r = self.api("PATCH", SVC_PATH + "/web", {"spec": {"type": "ExternalName", "externalName": "web.example"}},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
            self.assertNotIn(key, r.json["spec"])
        r = self.api("PATCH", SVC_PATH + "/web", {"spec": {"type": "ClusterIP", "externalName": None}},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)
        self.assert_in_cidr(r.json["spec"]["clusterIP"])
        # NodePort to ClusterIP drops the node ports it allocated.
        np = self.create(service("np", type="NodePort"))
        r = self.api("PATCH", SVC_PATH + "/np", {"spec": {"type": "ClusterIP"}},
                     content_type="application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("nodePort", r.json["spec"]["ports"][0])
        self.assertNotIn("externalTrafficPolicy", r.json["spec"])
        self.assertEqual(r.json["spec"]["clusterIP"], np["spec"]["clusterIP"])
        # Status is written through /status only; PUT to a missing Service creates it.
        cur = self.api("GET", SVC_PATH + "/np").json
        cur["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}
        self.assertEqual(self.api("PUT", SVC_PATH + "/np", cur).json["status"], {"loadBalancer": {}})
        self.assertEqual(self.api("PUT", SVC_PATH + "/made-by-put", service("made-by-put")).status, 201)

    def test_list_watch_field_selectors_delete_and_discovery(self):
        rv = self.api("GET", SVC_PATH).json["metadata"]["resourceVersion"]
        with self.kube.watch(SVC_PATH, {"resourceVersion": rv}) as w:
            self.create(service())
            self.create(service("np", type="NodePort"))
            self.api("PATCH", SVC_PATH + "/web", {"metadata": {"labels": {"x": "y"}}},
                     content_type="application/merge-patch+json")
            r = self.api("DELETE", SVC_PATH + "/web")
            events = w.collect(count=4, timeout=10)
        self.assertEqual((r.status, r.json["kind"], r.json["metadata"]["name"]), (200, "Service", "web"))
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "web"), ("ADDED", "np"), ("MODIFIED", "web"), ("DELETED", "web")])
        ip = self.api("GET", SVC_PATH + "/np").json["spec"]["clusterIP"]
        for selector, names in (("spec.type=NodePort", ["np"]), ("spec.type!=NodePort", []),
                                (f"spec.clusterIP={ip}", ["np"]), ("metadata.name=np", ["np"])):
            with self.subTest(selector=selector):
                r = self.api("GET", "/api/v1/services", query={"fieldSelector": selector})
                self.assertEqual([i["metadata"]["name"] for i in r.json["items"]], names)
        r = self.api("GET", SVC_PATH, query={"fieldSelector": "spec.selector=x"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["kind"], "Status")
        res = {x["name"]: x for x in self.api("GET", "/api/v1").json["resources"]}
        svc = res["services"]
        self.assertEqual((svc["kind"], svc["singularName"], svc["namespaced"], svc["shortNames"], svc["categories"]),
                         ("Service", "service", True, ["svc"], ["all"]))
        self.assertEqual(set(svc["verbs"]), {"create", "delete", "deletecollection", "get", "list", "patch",
                                             "update", "watch"})
        self.assertEqual(res["services/status"]["verbs"], ["get", "patch", "update"])
        # A namespace's deletion takes its Services along.
        self.kube.delete_namespace("team-v")
        self.assertEqual(self.kube.objects("Service"), [])

    def test_rbac(self):
        self.create(service())
        user = "svc-reader"
        self.kube.add_user(user, token="fake-token-svc-reader")
        r = self.api("GET", SVC_PATH, user=user)
        self.assertEqual((r.status, r.json["message"]),
                         (403, f'services is forbidden: User "{user}" cannot list resource "services" in API group '
                               '"" in the namespace "team-v"'))
        self.kube.seed({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": {"name": "svc-read", "namespace": "team-v"},
                        "rules": [{"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}]})
        self.kube.seed({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": "svc-read", "namespace": "team-v"},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "svc-read"},
                        "subjects": [{"kind": "User", "name": user}]})
        self.assertEqual(self.api("GET", SVC_PATH, user=user).status, 200)
        self.assertEqual(self.api("GET", SVC_PATH + "/web", user=user).status, 200)
        self.assertEqual(self.api("GET", "/api/v1/namespaces/default/services", user=user).status, 403)
        r = self.api("DELETE", SVC_PATH + "/web", user=user)
        self.assertEqual((r.status, r.json["message"]),
                         (403, f'services "web" is forbidden: User "{user}" cannot delete resource "services" in API '
                               'group "" in the namespace "team-v"'))
        # The status subresource is a resource of its own for RBAC.
        r = self.api("PATCH", SVC_PATH + "/web/status", {"status": {}}, user=user,
                     content_type="application/merge-patch+json")
        self.assertIn('cannot patch resource "services/status"', r.json["message"])

    @needs_kubectl
    def test_kubectl_apply_get_and_delete(self):
        path = os.path.join(self.kube.workdir, "service.yaml")
        with open(path, "w") as f:
            f.write(SERVICE_MANIFEST.replace("__PORT__", "8080"))
        r = self.kube.kubectl("apply", "-f", path, check=True)
        self.assertEqual(r.stdout.strip(), "service/web created")
        r = self.kube.kubectl("apply", "-f", path, check=True)
        self.assertEqual((r.stdout.strip(), r.stderr.strip()), ("service/web unchanged", ""))
        r = self.kube.kubectl("get", "svc", "-n", "team-v", check=True)
        self.assertRegex(r.stdout, r"^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n")
        self.assertRegex(r.stdout, r"\nweb\s+ClusterIP\s+10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+\s+<none>\s+8080/TCP\s+"
                                   r"\d+s\n")
        r = self.kube.kubectl("get", "services", "-n", "team-v", "-o", "wide", check=True)
        self.assertRegex(r.stdout, r"SELECTOR\n.*app\.kubernetes\.io/component=server,app\.kubernetes\.io/name=web\n")
        svc = json.loads(self.kube.kubectl("get", "svc", "web", "-n", "team-v", "-o", "json", check=True).stdout)
        self.assertEqual(svc["spec"]["selector"], {"app.kubernetes.io/name": "web",
                                                   "app.kubernetes.io/component": "server"})
        self.assertEqual(svc["spec"]["ports"], [{"name": "http", "port": 8080, "protocol": "TCP",
                                                 "targetPort": "http"}])
        self.assertIs(svc["spec"]["publishNotReadyAddresses"], True)
        self.assert_in_cidr(svc["spec"]["clusterIP"])
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", svc["metadata"]["annotations"])
        ip = svc["spec"]["clusterIP"]
        # A changed manifest is patched in place: same address, new port.
        with open(path, "w") as f:
            f.write(SERVICE_MANIFEST.replace("__PORT__", "9090"))
        r = self.kube.kubectl("apply", "-f", path, check=True)
        self.assertEqual(r.stdout.strip(), "service/web configured")
        self.assertEqual(self.kube.requests(method="PATCH")[-1]["contentType"],
                         "application/strategic-merge-patch+json")
        svc = json.loads(self.kube.kubectl("get", "svc", "web", "-n", "team-v", "-o", "json", check=True).stdout)
        self.assertEqual(([p["port"] for p in svc["spec"]["ports"]], svc["spec"]["clusterIP"]), ([9090], ip))
        # A manifest that moves the cluster IP is refused, as kube-apiserver refuses it.
        with open(path, "w") as f:
            f.write(SERVICE_MANIFEST.replace("__PORT__", "9090").replace("spec:\n", "spec:\n  clusterIP: 10.96.0.50\n"))
        r = self.kube.kubectl("apply", "-f", path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.50"}: '
                      "may not change once set", r.stderr)
        r = self.kube.kubectl("create", "service", "clusterip", "Web2", "--tcp=80:8080", "-n", "team-v")
        self.assertIn('Service "Web2" is invalid: metadata.name: Invalid value: "Web2": a DNS-1035 label', r.stderr)
        r = self.kube.kubectl("get", "all", "-n", "team-v", check=True)
        self.assertIn("service/web", r.stdout)
        r = self.kube.kubectl("delete", "svc", "web", "-n", "team-v", check=True)
        self.assertEqual(r.stdout.strip(), 'service "web" deleted')
        r = self.kube.kubectl("get", "svc", "web", "-n", "team-v")
        self.assertIn('Error from server (NotFound): services "web" not found', r.stderr)
        # What the ServiceAccount of default_config() may not do.
        r = self.kube.kubectl("get", "svc", "-n", "team-v", user=SA)
        self.assertIn(f'Error from server (Forbidden): services is forbidden: User "{SA}" cannot list resource '
                      '"services" in API group "" in the namespace "team-v"', r.stderr)

    @needs_kubectl
    def test_kubectl_apply_k(self):
        d = os.path.join(self.kube.workdir, "kustomize-svc")
        os.makedirs(d, exist_ok=True)
        files = {
            "kustomization.yaml": "namespace: shop\nresources:\n  - namespace.yaml\n  - services.yaml\n"
                                  "labels:\n  - pairs:\n      team: shop\n    includeSelectors: true\n",
            "namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
            "services.yaml": SERVICE_MANIFEST.replace("__PORT__", "80").replace("  namespace: team-v\n", "") +
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: edge\nspec:\n  type: NodePort\n"
            "  selector:\n    app.kubernetes.io/name: web\n  ports:\n    - port: 443\n      targetPort: 8443\n",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        r = self.kube.kubectl("apply", "-k", d, check=True)
        for line in ("namespace/shop created", "service/edge created", "service/web created"):
            self.assertIn(line, r.stdout)
        r = self.kube.kubectl("apply", "-k", d, check=True)
        for line in ("namespace/shop unchanged", "service/edge unchanged", "service/web unchanged"):
            self.assertIn(line, r.stdout)
        r = self.kube.kubectl("get", "svc", "-n", "shop", check=True)
        self.assertRegex(r.stdout, r"edge\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+443:3\d{4}/TCP\s+")
        self.assertRegex(r.stdout, r"web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80/TCP\s+")
        web = json.loads(self.kube.kubectl("get", "svc", "web", "-n", "shop", "-o", "json", check=True).stdout)
        self.assertEqual(web["spec"]["selector"], {"app.kubernetes.io/name": "web",
                                                   "app.kubernetes.io/component": "server", "team": "shop"})
        self.assertEqual(web["metadata"]["labels"]["team"], "shop")
        r = self.kube.kubectl("delete", "svc", "edge", "-n", "shop", check=True)
        self.assertIn('service "edge" deleted', r.stdout)
        self.assertEqual([o["metadata"]["name"] for o in self.kube.objects("Service", "shop")], ["web"])


class HarnessTest(unittest.TestCase):

    def test_incluster_dir_and_cleanup(self):
        kube = FakeKube().start()
        try:
            d = kube.write_incluster_dir(namespace="ecr")
            with open(os.path.join(d, "token")) as f:
                token = f.read()
            env = kube.incluster_env()
            ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
            c = http.client.HTTPSConnection(env["KUBERNETES_SERVICE_HOST"], int(env["KUBERNETES_SERVICE_PORT"]),
                                            context=ctx)
            c.request("GET", "/api/v1/namespaces/default/secrets", headers={"Authorization": f"Bearer {token}"})
            r = c.getresponse()
            r.read()
            c.close()
            # the ServiceAccount may not list secrets
            self.assertEqual(r.status, 403)
            with open(os.path.join(d, "namespace")) as f:
                self.assertEqual(f.read(), "ecr")
            pid, workdir = kube.proc.pid, kube.workdir
        finally:
            kube.stop()
        with self.assertRaises(ProcessLookupError):
            os.killpg(pid, 0)
        self.assertFalse(os.path.exists(workdir))

    def test_anonymous_mode(self):
        # "anonymous": true behaves like a default kube-apiserver: no credentials = system:anonymous.
        with FakeKube(default_config(anonymous=True)) as kube:
            self.assertEqual(kube.api("GET", "/version", user=None).status, 200)
            r = kube.api("GET", "/api/v1/namespaces/default/secrets", user=None)
            self.assertEqual(r.status, 403)
            self.assertEqual(r.json["message"], 'secrets is forbidden: User "system:anonymous" cannot list resource '
                                                '"secrets" in API group "" in the namespace "default"')
            r = kube.api("GET", "/api", user=None)
            self.assertEqual(r.json["message"], 'forbidden: User "system:anonymous" cannot get path "/api"')
            self.assertEqual(kube.api("GET", "/api", token="wrong").status, 401)

    def test_expired_client_cert_is_rejected(self):
        with FakeKube() as kube:
            crt = kube.issue_client_cert("old", not_after_offset=-60)
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                kube.api("GET", "/api/v1/namespaces", cert=crt, user=None)
            crt = kube.issue_client_cert("fresh", groups=("system:masters",))
            self.assertEqual(kube.api("GET", "/api/v1/namespaces", cert=crt, user=None).status, 200)


if __name__ == "__main__":
    unittest.main()
