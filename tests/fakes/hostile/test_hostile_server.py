"""Self-tests of the HOSTILE FAKE server: every role's correct answer and every misbehaviour mode.

Run from the repository root:
    python3 -m unittest discover -s tests/fakes/hostile -t tests/fakes/hostile -v

The fake's passwords and tokens are secrets even though they are random: assertions
compare them silently (assertTrue(a == b, "...")) and never put them in a message.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import importlib.util
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET


def _load_harness():
    # By path under a unique name: tests/fakes/aws and tests/fakes/kube have a harness.py too.
    name = "hostile_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


HostileServer = _load_harness().HostileServer
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
STS_NS = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
ECR_RENEW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "build", "ecr-renew")


def sigv4(region: str, service: str = "ecr") -> str:
    return (f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{region}/{service}/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def pull_secret(name: str = "pull", ns: str | None = None, rv: str | None = None, password: str = "pw") -> dict:
    cfg = {"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {"username": "AWS", "password": password}}}
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    if rv:
        md["resourceVersion"] = rv
    return {"apiVersion": "v1", "kind": "Secret", "metadata": md, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(cfg).encode()).decode()}}


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read until the end of a response head; returns (head, bytes already read past it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_to_eof(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


class HostileTestCase(unittest.TestCase):
    hs: HostileServer

    @classmethod
    def setUpClass(cls):
        cls.hs = HostileServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.hs.stop()

    def setUp(self):
        self.hs.reset()

    # -- request helpers ---------------------------------------------------------

    def call(self, method: str, path: str, body: bytes | str | dict | None = None, headers: dict | None = None,
             *, https: bool = False, conn: http.client.HTTPConnection | None = None, timeout: float = 10):
        """One request; returns (status, headers dict lower-cased, body bytes)."""
        c = conn or (self.hs.https_connection(timeout) if https else self.hs.http_connection(timeout))
        data = json.dumps(body).encode() if isinstance(body, dict) else (body.encode() if isinstance(body, str)
                                                                         else body)
        try:
            c.request(method, path, body=data, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            if conn is None:
                c.close()

    def ecr(self, body: dict | None = None, region: str | None = None, public: bool = False, **kw):
        h = {"X-Amz-Target": PUBLIC_TARGET if public else ECR_TARGET,
             "Content-Type": "application/x-amz-json-1.1"}
        if region:
            h["Authorization"] = sigv4(region, "ecr-public" if public else "ecr")
        return self.call("POST", "/", body if body is not None else {}, h, **kw)

    def kube(self, method: str, path: str, body: dict | None = None, token: str | None = None, **kw):
        h = {"Authorization": f"Bearer {token or self.hs.kube_token}", "Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        st, hd, b = self.call(method, path, body, h, https=True, **kw)
        return st, hd, (json.loads(b) if b else None)

    def sts(self, action: str = "AssumeRoleWithWebIdentity", **kw):
        form = f"Action={action}&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr" \
               "&RoleSessionName=ecr-renew&WebIdentityToken=eyJ.fake.jwt&DurationSeconds=3600"
        return self.call("POST", "/", form, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                         **kw)

    def imds_token(self) -> str:
        st, _, body = self.call("PUT", "/latest/api/token", b"", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        self.assertEqual(st, 200)
        return body.decode("latin-1")

    def imds_get(self, path: str, token: str | None):
        return self.call("GET", path, None, {"X-aws-ec2-metadata-token": token} if token else {})

    def raw(self, data: bytes, *, port: int | None = None, host: str = "127.0.0.1", timeout: float = 5):
        sock = socket.create_connection((host, port or self.hs.http_port), timeout=timeout)
        sock.sendall(data)
        return sock

    def curl(self, *args: str, timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(["curl", "-sS", "--noproxy", "*", "--max-time", "10", *args],
                              capture_output=True, text=True, timeout=timeout)

    def token_password(self, entry: dict) -> bytes:
        user, _, pw = base64.b64decode(entry["authorizationToken"]).partition(b":")
        self.assertEqual(user, b"AWS")
        return pw

    def wait_canary(self, n: int, timeout: float = 5) -> list:
        deadline = time.time() + timeout
        while True:
            conns = self.hs.canary_connections()
            if len(conns) >= n and all(c["closed"] for c in conns) or time.time() > deadline:
                return conns
            time.sleep(0.05)


class TestStateAndAdmin(HostileTestCase):
    def test_state__ports_ca_and_password(self):
        hs = self.hs
        self.assertEqual(len({hs.http_port, hs.https_port, hs.canary_port}), 3)
        self.assertEqual(hs.canary_host, "127.0.0.2")
        with open(hs.ca_file) as f:
            self.assertTrue(f.read().startswith("-----BEGIN CERTIFICATE-----"))
        self.assertTrue(2300 <= len(hs.password) <= 2600, "password is ~2400 characters")
        self.assertTrue(re.fullmatch(r"[A-Za-z0-9+/=]+", hs.password) is not None, "password is base64-ish")
        self.assertFalse(hs.password == hs.public_password, "ECR and ECR Public passwords differ")
        self.assertIn(hs.password, hs.secrets())

    def test_state__password_unique_per_start(self):
        with HostileServer() as other:
            self.assertFalse(other.password == self.hs.password, "a new start has a new password")

    def test_admin__token_required_and_calls_not_logged(self):
        for headers in ({}, {"X-Hostile-Admin": "wrong"}):
            st, _, body = self.call("GET", "/_hostile/state", None, headers)
            self.assertEqual(st, 403)
            self.assertNotIn(b"password", body)
        st, _, _ = self.call("POST", "/_hostile/config", {"role": "ecr", "mode": "raw"})
        self.assertEqual(st, 403)
        self.assertEqual(self.hs.rules(), [])
        self.assertEqual(self.hs.requests(), [], "admin calls are not logged")

    def test_admin__bad_rules_refused(self):
        for rule in ({"role": "ecr", "mode": "nope"}, {"role": "s3", "mode": "raw"},
                     {"role": "ecr", "mode": "raw", "count": 0},
                     {"role": "ecr", "mode": "raw", "match": {"path_regex": "("}},
                     {"role": "ecr", "mode": "drip", "bytes": "many"},
                     {"role": "ecr", "mode": "fields", "password_bytes_b64": "%%%"},
                     {"role": "ecr", "mode": "generate", "generator": "yaml_tiny"},
                     {"role": "ecr", "mode": "raw", "headers": [["no-value"]]}):
            with self.assertRaisesRegex(RuntimeError, "400"):
                self.hs.configure(rule)
        self.assertEqual(self.hs.rules(), [])


class TestCorrectAnswers(HostileTestCase):
    def test_ecr__default_entry(self):
        t0 = time.time()
        st, hd, body = self.ecr()
        self.assertEqual(st, 200)
        self.assertEqual(hd["content-type"], "application/x-amz-json-1.1")
        self.assertEqual(int(hd["content-length"]), len(body))
        self.assertRegex(body.decode(), r'"expiresAt":\d+\.\d+[,}]')
        [entry] = json.loads(body)["authorizationData"]
        self.assertEqual(entry["proxyEndpoint"], "https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
        self.assertTrue(self.token_password(entry) == self.hs.password.encode(), "token holds the password")
        self.assertAlmostEqual(entry["expiresAt"], t0 + 43200, delta=60)

    def test_ecr__region_from_sigv4_scope_and_registry_ids(self):
        st, _, body = self.ecr({"registryIds": ["111111111111", "222222222222"]}, region="eu-west-1")
        self.assertEqual(st, 200)
        entries = json.loads(body)["authorizationData"]
        self.assertEqual([e["proxyEndpoint"] for e in entries],
                         ["https://111111111111.dkr.ecr.eu-west-1.amazonaws.com",
                          "https://222222222222.dkr.ecr.eu-west-1.amazonaws.com"])

    def test_ecr__bad_registry_id_and_unknown_operation(self):
        st, hd, body = self.ecr({"registryIds": ["12345"]})
        self.assertEqual((st, hd["x-amzn-errortype"], json.loads(body)["__type"]),
                         (400, "InvalidParameterException", "InvalidParameterException"))
        st, _, body = self.call("POST", "/", "{}", {"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.ListImages"})
        self.assertEqual((st, json.loads(body)["__type"]), (400, "UnknownOperationException"))

    def test_ecr_public__object_without_proxy_endpoint(self):
        st, _, body = self.ecr(public=True, region="us-east-1")
        self.assertEqual(st, 200)
        self.assertRegex(body.decode(), r'"expiresAt":1\.\d+E9')
        data = json.loads(body)["authorizationData"]
        self.assertIsInstance(data, dict)
        self.assertEqual(set(data), {"authorizationToken", "expiresAt"})
        self.assertTrue(self.token_password(data) == self.hs.public_password.encode(), "public password")
        self.assertAlmostEqual(data["expiresAt"], time.time() + 43200, delta=60)

    def test_sts__both_actions_answer_credentials(self):
        for action in ("AssumeRoleWithWebIdentity", "AssumeRole"):
            st, hd, body = self.sts(action)
            self.assertEqual((st, hd["content-type"]), (200, "text/xml"))
            root = ET.fromstring(body)
            self.assertEqual(root.tag, "{%s}%sResponse" % (STS_NS["s"], action))
            creds = root.find(f"s:{action}Result/s:Credentials", STS_NS)
            self.assertTrue(creds.find("s:AccessKeyId", STS_NS).text.startswith("ASIA"))
            self.assertTrue(creds.find("s:SecretAccessKey", STS_NS).text)
            self.assertTrue(creds.find("s:SessionToken", STS_NS).text)
            exp = creds.find("s:Expiration", STS_NS).text
            self.assertRegex(exp, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertAlmostEqual(time.mktime(time.strptime(exp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone,
                                   time.time() + 3600, delta=60)
        st, _, body = self.sts("GetCallerIdentity")
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>InvalidAction</Code>", body)

    def test_container__credentials_need_the_token(self):
        st, _, body = self.call("GET", "/v1/credentials", None, {"Authorization": self.hs.container_token})
        self.assertEqual(st, 200)
        doc = json.loads(body)
        self.assertEqual(set(doc), {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"})
        self.assertTrue(doc["AccessKeyId"].startswith("ASIA"))
        self.assertRegex(doc["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.call("GET", "/v1/credentials")[0], 401)

    def test_imds__v2_token_then_role_credentials_region(self):
        self.assertEqual(self.imds_get("/latest/meta-data/placement/region", None)[0], 401)
        self.assertEqual(self.call("PUT", "/latest/api/token", b"")[0], 400, "the TTL header is required")
        tok = self.imds_token()
        self.assertEqual(self.imds_get("/latest/meta-data/placement/region", "not-" + tok)[0], 401)
        st, _, role = self.imds_get("/latest/meta-data/iam/security-credentials/", tok)
        self.assertEqual((st, role), (200, b"ecr-renew-node"))
        st, _, body = self.imds_get("/latest/meta-data/iam/security-credentials/ecr-renew-node", tok)
        doc = json.loads(body)
        self.assertEqual((st, doc["Code"], doc["Type"]), (200, "Success", "AWS-HMAC"))
        self.assertTrue(doc["AccessKeyId"].startswith("ASIA") and doc["SecretAccessKey"] and doc["Token"])
        self.assertRegex(doc["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.imds_get("/latest/meta-data/placement/region", tok)[2], b"us-east-1")

    def test_unknown_request__404_role_unknown(self):
        self.assertEqual(self.call("GET", "/nothing-here")[0], 404)
        self.assertEqual(self.hs.requests()[0]["role"], "unknown")


class TestKube(HostileTestCase):
    def test_version_with_curl__token_and_ca_needed(self):
        hs = self.hs
        cp = self.curl("--cacert", hs.ca_file, "-H", f"Authorization: Bearer {hs.kube_token}", f"{hs.kube_url}/version")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(json.loads(cp.stdout)["gitVersion"], "v1.31.4")
        cp = self.curl("--cacert", hs.ca_file, "-H", "Authorization: Bearer wrong", f"{hs.kube_url}/version")
        self.assertEqual(json.loads(cp.stdout), {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                 "status": "Failure", "message": "Unauthorized",
                                                 "reason": "Unauthorized", "code": 401})
        cp = self.curl(f"{hs.kube_url}/version")
        self.assertEqual(cp.returncode, 60, "without the CA, certificate verification fails")
        cp = self.curl("--cacert", hs.ca_file, "-H", f"Authorization: Bearer {hs.kube_token}",
                       f"https://localhost:{hs.https_port}/version")
        self.assertEqual(cp.returncode, 0, "the certificate also names localhost")

    def test_secret__create_conflict_update(self):
        base = "/api/v1/namespaces/runtime/secrets"
        st, _, body = self.kube("GET", f"{base}/pull")
        self.assertEqual((st, body), (404, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                            "status": "Failure", "message": 'secrets "pull" not found',
                                            "reason": "NotFound", "details": {"name": "pull", "kind": "secrets"},
                                            "code": 404}))
        st, _, created = self.kube("POST", base, pull_secret())
        self.assertEqual(st, 201)
        md = created["metadata"]
        self.assertEqual(md["namespace"], "runtime")
        self.assertTrue(md["uid"] and md["resourceVersion"] and md["creationTimestamp"])
        st, _, body = self.kube("POST", base, pull_secret())
        self.assertEqual((st, body["reason"], body["details"]), (409, "AlreadyExists",
                                                                 {"name": "pull", "kind": "secrets"}))
        st, _, body = self.kube("PUT", f"{base}/pull", pull_secret(rv="1"))
        self.assertEqual((st, body["reason"], body["code"]), (409, "Conflict", 409))
        self.assertIn("the object has been modified", body["message"])
        st, _, updated = self.kube("PUT", f"{base}/pull", pull_secret(rv=md["resourceVersion"], password="pw2"))
        self.assertEqual(st, 200)
        self.assertEqual(updated["metadata"]["uid"], md["uid"])
        self.assertGreater(int(updated["metadata"]["resourceVersion"]), int(md["resourceVersion"]))
        self.assertEqual(self.kube("GET", f"{base}/pull")[2], updated)
        self.assertEqual(self.hs.kube_secret("runtime", "pull"), updated)
        [put] = self.hs.requests(role="kube", method="PUT")[-1:]
        self.assertEqual(put["body"]["metadata"]["resourceVersion"], md["resourceVersion"], "writes log the body")

    def test_secret__missing_namespace_invalid_and_bad_name(self):
        st, _, body = self.kube("POST", "/api/v1/namespaces/nope/secrets", pull_secret())
        self.assertEqual((st, body["details"]), (404, {"name": "nope", "kind": "namespaces"}))
        bad = pull_secret()
        bad["data"][".dockerconfigjson"] = base64.b64encode(b"{not json").decode()
        st, _, body = self.kube("POST", "/api/v1/namespaces/runtime/secrets", bad)
        self.assertEqual((st, body["reason"]), (422, "Invalid"))
        st, _, body = self.kube("POST", "/api/v1/namespaces/runtime/secrets", {"kind": "Secret", "data": {"a": "!!"},
                                                                              "metadata": {"name": "x"}})
        self.assertEqual((st, body["reason"]), (400, "BadRequest"))
        self.assertEqual(self.kube("DELETE", "/api/v1/namespaces/runtime/secrets/x")[0], 405)
        self.assertEqual(self.hs.kube_objects()["secrets"], [])

    def test_namespaces__get_list_pagination(self):
        st, _, ns = self.kube("GET", "/api/v1/namespaces/team-a")
        self.assertEqual((st, ns["kind"], ns["status"]["phase"]), (200, "Namespace", "Active"))
        self.assertEqual(self.kube("GET", "/api/v1/namespaces/nope")[2]["details"],
                         {"name": "nope", "kind": "namespaces"})
        st, _, page1 = self.kube("GET", "/api/v1/namespaces?limit=2")
        self.assertEqual([i["metadata"]["name"] for i in page1["items"]], ["default", "runtime"])
        self.assertEqual(page1["metadata"]["remainingItemCount"], 1)
        cont = page1["metadata"]["continue"]
        st, _, page2 = self.kube("GET", f"/api/v1/namespaces?limit=2&continue={cont}")
        self.assertEqual([i["metadata"]["name"] for i in page2["items"]], ["team-a"])
        self.assertNotIn("continue", page2["metadata"])
        self.assertEqual(self.kube("GET", "/api/v1/namespaces?limit=2&continue=garbage")[0], 400)

    def test_secrets__field_selector_across_namespaces_paginated(self):
        for ns in ("default", "runtime", "team-a"):
            self.hs.seed(pull_secret("pull", ns))
        self.hs.seed(pull_secret("other", "runtime"))
        names, cont, pages = [], "", 0
        while True:
            path = "/api/v1/secrets?fieldSelector=metadata.name%3Dpull&limit=1" + (f"&continue={cont}" if cont else "")
            st, _, page = self.kube("GET", path)
            self.assertEqual((st, page["kind"]), (200, "SecretList"))
            names += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"]]
            pages += 1
            cont = page["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(names, [("default", "pull"), ("runtime", "pull"), ("team-a", "pull")])
        self.assertEqual(pages, 3)
        st, _, body = self.kube("GET", "/api/v1/secrets?fieldSelector=spec.nope%3D1")
        self.assertEqual((st, body["reason"]), (400, "BadRequest"))

    def test_keep_alive__one_tls_connection_many_requests(self):
        conn = self.hs.https_connection()
        try:
            for _ in range(3):
                self.assertEqual(self.kube("GET", "/version", conn=conn)[0], 200)
        finally:
            conn.close()
        self.assertEqual(len({e["conn"] for e in self.hs.requests(role="kube")}), 1)

    def test_expect_100_continue__big_body_with_curl(self):
        big = pull_secret(password="p" * (2 << 20))
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(big, f)
            f.flush()
            cp = self.curl("-v", "--cacert", self.hs.ca_file, "-H", f"Authorization: Bearer {self.hs.kube_token}",
                           "-H", "Content-Type: application/json", "--data-binary", f"@{f.name}",
                           "-o", "/dev/null", "-w", "%{http_code}", f"{self.hs.kube_url}/api/v1/namespaces/runtime/secrets")
        self.assertEqual(cp.stdout, "201")
        self.assertIn("HTTP/1.1 100 Continue", cp.stderr)


class TestFieldsMode(HostileTestCase):
    def test_ecr__entry_override_delete_and_top(self):
        self.hs.misbehave("ecr", "fields", entry={"proxyEndpoint": "https://evil.example", "expiresAt": "__delete__"},
                          top={"nextToken": "x"})
        st, _, body = self.ecr({"registryIds": ["111111111111", "222222222222"]})
        doc = json.loads(body)
        self.assertEqual(doc["nextToken"], "x")
        for e in doc["authorizationData"]:
            self.assertEqual(e["proxyEndpoint"], "https://evil.example")
            self.assertNotIn("expiresAt", e)
        self.assertEqual(self.hs.requests()[0]["mode"], "fields")

    def test_ecr__password_bytes_crlf_non_utf8_and_3mb(self):
        for raw in (b"\xff\xfe\r\nX-Injected: 1\r\n\x00tail", os.urandom(3 << 20)):
            self.hs.reset()
            self.hs.misbehave("ecr", "fields", password_bytes_b64=base64.b64encode(raw).decode())
            st, _, body = self.ecr()
            self.assertEqual(st, 200)
            [entry] = json.loads(body)["authorizationData"]
            self.assertTrue(self.token_password(entry) == raw, "decoded password is exactly the given bytes")

    def test_ecr_public__entry_and_expires_format(self):
        self.hs.misbehave("ecr-public", "fields", entry={"proxyEndpoint": "https://evil.example"},
                          expires_format="int")
        st, _, body = self.ecr(public=True)
        self.assertRegex(body.decode(), r'"expiresAt":\d+[,}]')
        self.assertEqual(json.loads(body)["authorizationData"]["proxyEndpoint"], "https://evil.example")

    def test_sts__credential_fields_escaped_or_raw(self):
        self.hs.misbehave("sts", "fields", count=1, SessionToken="tok</SessionToken><Evil/>", Expiration="__delete__")
        root = ET.fromstring(self.sts()[2])
        creds = root.find("s:AssumeRoleWithWebIdentityResult/s:Credentials", STS_NS)
        self.assertEqual(creds.find("s:SessionToken", STS_NS).text, "tok</SessionToken><Evil/>")
        self.assertIsNone(creds.find("s:Expiration", STS_NS))
        self.hs.misbehave("sts", "fields", count=1, SessionToken="</SessionToken><Evil>", xml_raw=True)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(self.sts()[2])

    def test_container__token_and_expiration(self):
        self.hs.misbehave("container", "fields", Token="t\r\nX-Evil: 1", Expiration="not a date", Extra=1)
        doc = json.loads(self.call("GET", "/v1/credentials", None, {"Authorization": self.hs.container_token})[2])
        self.assertEqual((doc["Token"], doc["Expiration"], doc["Extra"]), ("t\r\nX-Evil: 1", "not a date", 1))

    def test_imds__token_with_crlf_region_role_and_code(self):
        self.hs.misbehave("imds", "fields", fields={"token": "abc\r\nX-Evil: 1", "region": "eu-west-1\r\nevil",
                                                    "role": "other-role", "Code": "AssumeRoleUnauthorizedAccess"})
        tok = self.imds_token()
        self.assertEqual(tok, "abc\r\nX-Evil: 1")
        # Sent as-is, the CR/LF splits the header: the fake sees token "abc" (invalid) and an extra header.
        sock = self.raw(b"GET /latest/meta-data/placement/region HTTP/1.1\r\nHost: x\r\n"
                        b"X-aws-ec2-metadata-token: " + tok.encode() + b"\r\nConnection: close\r\n\r\n")
        self.assertTrue(read_to_eof(sock).startswith(b"HTTP/1.1 401 "))
        sock.close()
        last = self.hs.requests(role="imds")[-1]
        self.assertIn(["X-Evil", "1"], last["headers"])
        self.hs.seed({"kind": "Namespace", "metadata": {"name": "unused"}})  # any admin call; tokens survive
        good = self.hs.state["imds_token"]
        self.assertEqual(self.imds_get("/latest/meta-data/placement/region", good)[2], b"eu-west-1\r\nevil")
        self.assertEqual(self.imds_get("/latest/meta-data/iam/security-credentials/", good)[2], b"other-role")
        doc = json.loads(self.imds_get("/latest/meta-data/iam/security-credentials/other-role", good)[2])
        self.assertEqual(doc["Code"], "AssumeRoleUnauthorizedAccess")

    def test_kube__object_merge_on_get_and_list_override(self):
        base = "/api/v1/namespaces/runtime/secrets/pull"
        self.hs.misbehave("kube", "fields", count=1, method="GET",
                          object={"type": "Opaque", "metadata": {"ownerReferences": [{"kind": "Foo", "name": "f"}]}})
        st, _, obj = self.kube("GET", base)
        self.assertEqual((st, obj["type"], obj["metadata"]["ownerReferences"][0]["kind"]), (200, "Opaque", "Foo"))
        self.assertEqual(obj["metadata"]["name"], "pull", "a missing Secret is synthesized")
        self.hs.seed(pull_secret("pull", "runtime"))
        self.hs.misbehave("kube", "fields", count=1, object={"metadata": {"labels": {"app.kubernetes.io/managed-by":
                                                                                     "Helm"}}, "data": "__delete__"})
        obj = self.kube("GET", base)[2]
        self.assertEqual(obj["metadata"]["labels"], {"app.kubernetes.io/managed-by": "Helm"})
        self.assertNotIn("data", obj)
        self.assertEqual(obj["type"], "kubernetes.io/dockerconfigjson", "stored fields are kept")
        self.hs.misbehave("kube", "fields", list={"metadata": {"continue": "loop-forever"}})
        self.assertEqual(self.kube("GET", "/api/v1/namespaces?limit=1")[2]["metadata"]["continue"], "loop-forever")

    def test_common__status_headers_content_type(self):
        self.hs.misbehave("ecr", "fields", status=500, headers=[["X-Extra", "1"]], content_type="text/html")
        st, hd, body = self.ecr()
        self.assertEqual((st, hd["x-extra"], hd["content-type"]), (500, "1", "text/html"))
        self.assertIn("authorizationData", json.loads(body))


class TestOtherModes(HostileTestCase):
    def test_raw__exact_status_headers_body(self):
        body = b"\x00\xffnot json\r\n"
        self.hs.misbehave("container", "raw", status=299, reason="Totally Fine", content_type="text/weird",
                          headers=[["X-A", "1"], ["X-A", "2"], ["x-lower", " spaced "]],
                          body_b64=base64.b64encode(body).decode())
        sock = self.raw(b"GET /v1/credentials HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = read_to_eof(sock)
        sock.close()
        head, _, got = resp.partition(b"\r\n\r\n")
        self.assertEqual(head.split(b"\r\n"), [b"HTTP/1.1 299 Totally Fine", b"Content-Type: text/weird",
                                               b"X-A: 1", b"X-A: 2", b"x-lower:  spaced ",
                                               b"Content-Length: %d" % len(body)])
        self.assertEqual(got, body)

    def test_raw__own_framing_then_close(self):
        self.hs.misbehave("ecr", "raw", headers=[["Content-Length", "100"]], body="short")
        sock = self.raw(f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECR_TARGET}\r\nContent-Length: 2\r\n\r\n{{}}"
                        .encode())
        resp = read_to_eof(sock)  # the fake closes: its own framing is not trusted for keep-alive
        sock.close()
        self.assertEqual(resp, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")

    def test_generate__sizes_and_framing(self):
        hs = self.hs
        hs.misbehave("ecr", "generate", count=1, generator="json_tiny_objects", bytes=1_000_000)
        st, hd, body = self.ecr()
        self.assertLessEqual(abs(len(body) - 1_000_000), 3)
        self.assertEqual(int(hd["content-length"]), len(body))
        self.assertEqual(set(json.loads(body)["authorizationData"][0]), set())
        hs.misbehave("kube", "generate", count=1, generator="json_tiny_objects", bytes=300_000, chunked=True)
        st, hd, body = self.kube("GET", "/api/v1/namespaces")
        self.assertEqual((hd.get("transfer-encoding"), hd.get("content-length")), ("chunked", None))
        self.assertEqual(body["kind"], "SecretList")
        self.assertGreater(len(body["items"]), 90_000)
        hs.misbehave("ecr", "generate", count=1, generator="json_deep", depth=50_000)
        body = self.ecr()[2]
        self.assertTrue(body.startswith(b'{"authorizationData":[[[') and body.endswith(b"]]]}"))
        self.assertEqual((body.count(b"["), body.count(b"]"), len(body)), (50_000, 50_000, 100_022))
        hs.misbehave("container", "generate", count=1, generator="json_long_string", bytes=2_000_000, key="Token")
        doc = json.loads(self.call("GET", "/v1/credentials")[2])
        self.assertEqual(doc, {"Token": "A" * 2_000_000})
        hs.misbehave("sts", "generate", count=1, generator="html", bytes=5000, status=502)
        st, hd, body = self.sts()
        self.assertEqual((st, hd["content-type"]), (502, "text/html; charset=utf-8"))
        self.assertTrue(body.startswith(b"<!DOCTYPE html>") and 4900 < len(body) <= 5000)

    def test_drip__slow_body_does_not_block_others(self):
        self.hs.misbehave("ecr", "drip", count=1, interval_ms=150, bytes=6)
        conn = self.hs.http_connection()
        t0 = time.time()
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": ECR_TARGET})
        r = conn.getresponse()
        t_head = time.time() - t0
        t1 = time.time()
        self.assertEqual(self.sts()[0], 200)  # another connection, answered while the drip goes on
        t_other = time.time() - t1
        body = r.read()
        elapsed = time.time() - t0
        conn.close()
        self.assertEqual((r.status, len(body)), (200, 6))
        self.assertEqual(body, b'{"auth')
        self.assertLess(t_head, 0.5, "headers come at once")
        self.assertLess(t_other, 0.5, "a dripping connection does not block the others")
        self.assertGreaterEqual(elapsed, 0.7)  # 5 intervals of 150 ms
        self.assertLess(elapsed, 5)

    def test_drip__padded_natural_answer_still_valid(self):
        self.hs.misbehave("ecr", "drip", count=1, interval_ms=0, bytes=5000)  # the natural answer is ~3.3 kB
        body = self.ecr()[2]
        self.assertEqual(len(body), 5000)
        self.assertTrue(body.endswith(b" "))
        self.assertIn("authorizationData", json.loads(body))

    def test_stall__client_timeout_and_after_headers(self):
        self.hs.misbehave("ecr", "stall", count=1)
        t0 = time.time()
        with self.assertRaises(TimeoutError):
            self.ecr(timeout=0.5)
        self.assertGreaterEqual(time.time() - t0, 0.45)
        self.hs.misbehave("ecr", "stall", count=1, after_headers=True)
        conn = self.hs.http_connection(timeout=0.5)
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": ECR_TARGET})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        with self.assertRaises(TimeoutError):
            r.read()
        conn.close()
        self.assertEqual([e["mode"] for e in self.hs.requests()], ["stall", "stall"])

    def test_stall__reset_releases_the_connection(self):
        self.hs.misbehave("container", "stall", seconds=30)
        sock = self.raw(b"GET /v1/credentials HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        t0 = time.time()
        self.hs.reset()
        self.assertEqual(sock.recv(10), b"", "the fake closes the stalled connection on reset")
        self.assertLess(time.time() - t0, 2)
        sock.close()

    def test_retry_after__role_shaped_errors(self):
        self.hs.misbehave("ecr", "retry_after", count=1)
        st, hd, body = self.ecr()
        self.assertEqual((st, hd["retry-after"], json.loads(body)["__type"]), (429, "86400", "ThrottlingException"))
        self.hs.misbehave("kube", "retry_after", count=1, status=503, seconds=7)
        st, hd, body = self.kube("GET", "/version")
        self.assertEqual((st, hd["retry-after"], body["reason"], body["code"], body["details"]),
                         (503, "7", "ServiceUnavailable", 503, {"retryAfterSeconds": 7}))
        self.hs.misbehave("kube", "retry_after", count=1, seconds=1)
        self.assertEqual(self.kube("GET", "/version")[2]["reason"], "TooManyRequests")
        self.hs.misbehave("sts", "retry_after", count=1)
        st, _, body = self.sts()
        self.assertEqual(st, 429)
        self.assertIn(b"<Code>Throttling</Code>", body)

    def test_huge_header__one_big_or_many(self):
        self.hs.misbehave("container", "huge_header", count=1)
        sock = self.raw(b"GET /v1/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: "
                        + self.hs.container_token.encode() + b"\r\n\r\n")
        head, rest = read_head(sock)
        sock.close()
        [pad] = [ln for ln in head.split(b"\r\n") if ln.startswith(b"X-Hostile-Padding: ")]
        self.assertEqual(len(pad), len(b"X-Hostile-Padding: ") + 200_000)
        self.assertIn(b"HTTP/1.1 200 OK", head)
        self.hs.misbehave("container", "huge_header", count=1)
        cp = self.curl("-o", "/dev/null", "-H", f"Authorization: {self.hs.container_token}",
                       f"{self.hs.http_url}/v1/credentials")
        self.assertNotEqual(cp.returncode, 0, "curl refuses a 200 kB header line (exit 27 with curl 7.88)")
        self.hs.misbehave("container", "huge_header", count=1, many=300)
        with self.assertRaises(http.client.HTTPException):  # http.client allows 100 headers
            self.call("GET", "/v1/credentials", None, {"Authorization": self.hs.container_token})
        self.hs.misbehave("container", "huge_header", count=1, many=300)
        sock = self.raw(b"GET /v1/credentials HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _ = read_head(sock)
        sock.close()
        self.assertEqual(len(re.findall(rb"\r\nX-Hostile-Padding-\d+: v{8}", head)), 300)

    def test_redirect__curl_does_not_follow_without_L(self):
        hs = self.hs
        hs.misbehave("ecr", "redirect", status=307)
        args = ["-X", "POST", "-H", f"X-Amz-Target: {ECR_TARGET}", "-d", "{}", "-o", "/dev/null",
                "-w", "%{http_code} %{num_redirects} %{redirect_url}"]
        cp = self.curl(*args, f"{hs.http_url}/some/path")
        self.assertEqual(cp.stdout, f"307 0 {hs.canary_url}/some/path")
        time.sleep(0.2)
        self.assertEqual(hs.canary_connections(), [], "not following means no canary connection")
        cp = self.curl("-L", *args, f"{hs.http_url}/some/path")
        [c] = self.wait_canary(1)
        self.assertEqual((c["tls"], c["request_line"]), (False, "POST /some/path HTTP/1.1"))
        self.assertIn(ECR_TARGET.encode(), base64.b64decode(c["data_b64"]), "the canary saw what was sent")
        self.assertEqual(c["bytes_received"], len(base64.b64decode(c["data_b64"])))

    def test_redirect__kube_to_https_canary(self):
        hs = self.hs
        hs.misbehave("kube", "redirect", scheme="https", method="GET")
        cp = self.curl("-L", "--cacert", hs.ca_file, "-H", f"Authorization: Bearer {hs.kube_token}",
                       "-o", "/dev/null", "-w", "%{http_code}", f"{hs.kube_url}/version")
        self.assertEqual(cp.stdout, "404", "followed to the canary, which answers 404")
        [c] = self.wait_canary(1)
        self.assertEqual((c["tls"], c["tls_error"], c["request_line"]), (True, None, "GET /version HTTP/1.1"))

    def test_close_and_reset__no_answer(self):
        self.hs.misbehave("ecr", "close", count=1)
        with self.assertRaises(http.client.RemoteDisconnected):
            self.ecr()
        self.hs.misbehave("ecr", "reset", count=1)
        sock = self.raw(f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECR_TARGET}\r\nContent-Length: 2\r\n\r\n{{}}"
                        .encode())
        with self.assertRaises(ConnectionResetError):
            sock.recv(100)
        sock.close()
        self.hs.misbehave("kube", "reset", count=1)
        with self.assertRaises((ConnectionResetError, ssl.SSLError)):
            self.kube("GET", "/version")
        self.assertEqual([(e["mode"], e["status"]) for e in self.hs.requests()],
                         [("close", 0), ("reset", 0), ("reset", 0)])

    def test_slow_headers__one_line_per_interval(self):
        self.hs.misbehave("ecr", "slow_headers", count=1, interval_ms=100, lines=3)
        sock = self.raw(f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECR_TARGET}\r\nContent-Length: 2\r\n"
                        "Connection: close\r\n\r\n{}".encode())
        t0 = time.time()
        first = sock.recv(100)
        t_first = time.time() - t0
        resp = first + read_to_eof(sock)
        elapsed = time.time() - t0
        sock.close()
        self.assertTrue(first.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertLess(t_first, 0.3)
        self.assertGreaterEqual(elapsed, 0.6)  # 3 filler + ~4 real header lines + the blank line
        head, _, body = resp.partition(b"\r\n\r\n")
        self.assertIn(b"X-Hostile-Slow-2: 2", head)
        self.assertIn("authorizationData", json.loads(body))


class TestRules(HostileTestCase):
    def test_count__rule_reverts_to_correct(self):
        self.hs.misbehave("ecr", "raw", count=2, status=500, body="boom")
        self.assertEqual(self.hs.rules()[0]["remaining"], 2)
        self.assertEqual([self.ecr()[0] for _ in range(3)], [500, 500, 200])
        self.assertEqual(self.hs.rules(), [])
        self.assertEqual([e["mode"] for e in self.hs.requests()], ["raw", "raw", None])

    def test_match__method_and_path_regex(self):
        self.hs.seed(pull_secret("pull", "runtime"))
        self.hs.misbehave("kube", "retry_after", method="PUT", path_regex=r"/secrets/pull$")
        path = "/api/v1/namespaces/runtime/secrets/pull"
        st, _, obj = self.kube("GET", path)
        self.assertEqual(st, 200)
        self.assertEqual(self.kube("PUT", path, obj)[0], 429)
        self.assertEqual(self.kube("GET", "/api/v1/namespaces/runtime")[0], 200)
        self.assertEqual(self.hs.rules()[0]["hits"], 1)

    def test_first_match_wins_and_role_star(self):
        self.hs.configure({"role": "ecr", "mode": "raw", "status": 501}, {"role": "*", "mode": "raw", "status": 502})
        self.assertEqual(self.ecr()[0], 501)
        self.assertEqual(self.sts()[0], 502)
        self.hs.clear_rules()
        self.assertEqual(self.sts()[0], 200)

    def test_fields_combined_with_drip(self):
        self.hs.misbehave("ecr", "drip", count=1, interval_ms=0, fields={"entry": {"proxyEndpoint": "https://x"}})
        self.assertEqual(json.loads(self.ecr()[2])["authorizationData"][0]["proxyEndpoint"], "https://x")

    def test_apply__side_effect_before_closing(self):
        self.hs.misbehave("kube", "close", count=1, method="POST", apply=True)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.kube("POST", "/api/v1/namespaces/runtime/secrets", pull_secret())
        self.assertIsNotNone(self.hs.kube_secret("runtime", "pull"), "the write happened, the answer did not")
        self.assertEqual(self.kube("POST", "/api/v1/namespaces/runtime/secrets", pull_secret())[0], 409)


class TestRequestLogAndCanary(HostileTestCase):
    def test_log__raw_head_header_order_and_smuggled_lines(self):
        head = (b"POST /latest/api/token?x=1 HTTP/1.1\r\nHost: x\r\nX-Spaced:   v  \r\nNoColonLine\r\n"
                b"X-Bare: a\nX-Smuggled: yes\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 5\r\n\r\n")
        sock = self.raw(head + b"hello")
        read_head(sock)
        sock.close()
        [e] = self.hs.requests(role="imds", method="POST")
        self.assertEqual(self.hs.raw_head(e), head)
        self.assertEqual(e["headers"], [["Host", "x"], ["X-Spaced", "v"], ["NoColonLine", None], ["X-Bare", "a"],
                                        ["X-Smuggled", "yes"], ["X-aws-ec2-metadata-token-ttl-seconds", "60"],
                                        ["Content-Length", "5"]])
        self.assertEqual((e["path"], e["query"], e["body_len"], e["body_sha256"], e["status"], e["listener"]),
                         ("/latest/api/token", "x=1", 5, hashlib.sha256(b"hello").hexdigest(), 405, "http"))
        self.assertEqual(self.hs.requests(role="kube"), [])
        self.assertEqual(len(self.hs.requests(clear=True)), 1)
        self.assertEqual(self.hs.requests(), [])

    def test_log__fields_present(self):
        self.ecr()
        [e] = self.hs.requests()
        for k in ("seq", "time", "role", "method", "path", "query", "headers", "raw_head_b64", "body_len",
                  "body_sha256", "body", "conn", "status", "mode"):
            self.assertIn(k, e)
        self.assertEqual((e["role"], e["target"], e["status"]), ("ecr", ECR_TARGET, 200))

    def test_canary__plain_tls_and_silent_connections(self):
        hs = self.hs
        sock = self.raw(b"hello canary\r\n\r\n", host=hs.canary_host, port=hs.canary_port)
        self.assertTrue(read_to_eof(sock).startswith(b"HTTP/1.1 404 "))
        sock.close()
        ctx = ssl.create_default_context(cafile=hs.ca_file)
        with socket.create_connection((hs.canary_host, hs.canary_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /leak HTTP/1.1\r\nHost: localhost\r\n\r\n")
                self.assertTrue(read_to_eof(tls).startswith(b"HTTP/1.1 404 "))
        socket.create_connection((hs.canary_host, hs.canary_port), timeout=5).close()
        conns = self.wait_canary(3)
        self.assertEqual([(c["tls"], c["bytes_received"]) for c in conns], [(False, 16), (True, 39), (False, 0)])
        self.assertEqual((conns[1]["sni"], conns[1]["request_line"]), ("localhost", "GET /leak HTTP/1.1"))
        self.assertTrue(all(c["time"] > time.time() - 30 for c in conns))


class TestHarness(HostileTestCase):
    def test_env__clean_and_per_credential_source(self):
        hs = self.hs
        base = {"PATH": "/usr/bin", "LANG": "C.UTF-8", "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "x",
                "KUBECONFIG": "/etc/k", "HTTPS_PROXY": "http://proxy:3128", "HOME": "/root"}
        common = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_ECR": hs.http_url, "AWS_ENDPOINT_URL_STS": hs.http_url,
                  "AWS_EC2_METADATA_SERVICE_ENDPOINT": hs.http_url, "no_proxy": "*", "PATH": "/usr/bin",
                  "LANG": "C.UTF-8"}
        for source in ("static", "web_identity", "container", "imds", "none"):
            env = hs.env(source, base=base)
            for k, v in common.items():
                self.assertEqual(env[k], v, k)
            for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "HTTPS_PROXY"):
                self.assertNotIn(k, env)
            self.assertTrue(env["HOME"].startswith(hs.workdir) and os.path.isdir(env["HOME"]))
            with open(env["KUBECONFIG"]) as f:
                self.assertEqual(json.load(f)["clusters"][0]["cluster"]["server"], hs.kube_url)
            self.assertEqual(env["AWS_EC2_METADATA_DISABLED"], "false" if source == "imds" else "true")
            self.assertEqual("AWS_ACCESS_KEY_ID" in env, source == "static")
            self.assertEqual("AWS_ROLE_ARN" in env, source == "web_identity")
            self.assertEqual("AWS_CONTAINER_CREDENTIALS_FULL_URI" in env, source == "container")
        env = hs.env("web_identity")
        with open(env["AWS_WEB_IDENTITY_TOKEN_FILE"]) as f:
            self.assertTrue(f.read() == hs.web_identity_token)
        self.assertEqual(hs.env("container")["AWS_CONTAINER_CREDENTIALS_FULL_URI"], f"{hs.http_url}/v1/credentials")
        with self.assertRaises(ValueError):
            hs.env("profile")

    def test_secrets__listed_found_and_redacted(self):
        hs = self.hs
        values = hs.secrets()
        for v in (hs.password, hs.public_password, hs.kube_token, hs.container_token, hs.static_key[1]):
            self.assertIn(v, values)
        self.assertIn(hs.static_key[0], values, "access key ids count too, by default")
        self.assertNotIn(hs.static_key[0], hs.secrets(include_key_ids=False))
        out = f"log: token={hs.password[100:120]}... ok"
        self.assertEqual(hs.find_leaks(out), ["ecr_password"])
        self.assertEqual(hs.find_leaks("nothing secret here"), [])
        self.assertEqual(hs.redact(f"a {hs.kube_token} b"), "a <kube_token> b")

    def test_kubeconfig__token_ca_file_and_data(self):
        hs = self.hs
        with open(hs.write_kubeconfig(ca="data", namespace="runtime")) as f:
            kc = json.load(f)
        with open(hs.ca_file, "rb") as f:
            self.assertEqual(base64.b64decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]), f.read())
        self.assertEqual(kc["contexts"][0]["context"]["namespace"], "runtime")
        path = hs.write_kubeconfig()
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            kc = json.load(f)
        ctx = ssl.create_default_context(cafile=kc["clusters"][0]["cluster"]["certificate-authority"])
        conn = http.client.HTTPSConnection("127.0.0.1", hs.https_port, context=ctx, timeout=5)
        conn.request("GET", "/version", headers={"Authorization": "Bearer " + kc["users"][0]["user"]["token"]})
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

    @unittest.skipUnless(os.access(ECR_RENEW, os.X_OK), "build/ecr-renew not built")
    def test_end_to_end__ecr_renew_sync_succeeds_from_every_source(self):
        hs = self.hs
        for source in ("static", "web_identity", "container", "imds"):
            with self.subTest(source=source):
                hs.reset()
                cp = subprocess.run([ECR_RENEW, "sync", "-n", "runtime,team-a"], env=hs.env(source),
                                    capture_output=True, text=True, timeout=60)
                out = cp.stdout + cp.stderr
                self.assertEqual(cp.returncode, 0, hs.redact(out))
                self.assertEqual(hs.find_leaks(out), [])
                secret = hs.kube_secret("team-a", "ecr-registry-secret")
                auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
                [entry] = auths.values()
                self.assertTrue(entry["password"] == hs.password, "the Secret holds the fake's password")
                self.assertEqual(hs.canary_connections(), [])


if __name__ == "__main__":
    unittest.main()
