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
import ssl
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
