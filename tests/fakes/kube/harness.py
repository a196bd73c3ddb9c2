"""Test harness for the FAKE kube-apiserver (fake_kube_apiserver.py).

Integration tests import this module:

    from harness import FakeKube, default_config

    with FakeKube() as kube:                       # starts on a free port, stops on exit
        kc = kube.write_kubeconfig(user=kube.SA)   # token auth as the ecr-renew ServiceAccount
        r = kube.kubectl("get", "ns", user="admin")
        kube.inject_fault("conflict", method="PUT", path=r"/secrets/", bump_resource_version=True)
        ... run the program under test with KUBECONFIG=kc ...
        log = kube.requests()                      # what the client sent (no secrets, no tokens)

Everything a run creates lives under one temporary work directory, deleted by
stop() unless FAKE_KUBE_KEEP=1 is set (then its path is printed to stderr).
The server runs in its own process group; stop() kills the group, and an
atexit hook does the same for instances a test forgot to stop.
"""

from __future__ import annotations

import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_kube_apiserver.py")

ADMIN_USER = "admin"
SA_USER = "system:serviceaccount:kube-system:ecr-renew-sa"
NOBODY_USER = "nobody"
CERT_ADMIN_USER = "cert-admin"


def find_kubectl() -> str | None:
    """The kubectl to run: $FAKE_KUBE_KUBECTL, else the one on PATH (a version dispatcher here)."""
    return os.environ.get("FAKE_KUBE_KUBECTL") or shutil.which("kubectl")


def default_config(**overrides: Any) -> dict:
    """A ready-made config: an admin, the ecr-renew ServiceAccount with the rights
    `sync` needs, a user with no rights, and a client-certificate admin."""
    cfg: dict[str, Any] = {
        "version": "v1.31.4",
        "adminToken": "fake-admin-api-token",
        "namespaces": ["default", "kube-system", "kube-public", "kube-node-lease"],
        "users": [
            {"name": ADMIN_USER, "token": "fake-token-admin", "groups": ["system:masters"]},
            {"name": SA_USER, "token": "fake-token-ecr-renew-sa",
             "rules": [
                 {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update", "patch"],
                  "namespaces": "*"},
                 {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"],
                  "namespaces": "*"},
             ]},
            {"name": NOBODY_USER, "token": "fake-token-nobody"},
            {"name": CERT_ADMIN_USER, "clientCert": True, "groups": ["system:masters"]},
        ],
        "objects": [],
    }
    cfg.update(overrides)
    return cfg


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


_live: set["FakeKube"] = set()


@atexit.register
def _stop_all() -> None:
    for k in list(_live):
        k.stop()


class FakeKube:
    ADMIN = ADMIN_USER
    SA = SA_USER
    NOBODY = NOBODY_USER
    CERT_ADMIN = CERT_ADMIN_USER

    def __init__(self, config: dict | None = None, *, version: str | None = None, sans: tuple = (),
                 key_type: str = "ec", workdir: str | None = None, extra_args: tuple = ()):
        self.config = config if config is not None else default_config()
        if version:
            self.config["version"] = version
        self.sans = list(sans)
        self.key_type = key_type
        self.extra_args = list(extra_args)
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="fake-kube-")
        self.state_dir = os.path.join(self.workdir, "state")
        self.kube_cache_dir = os.path.join(self.workdir, "kubecache")
        self.home_dir = os.path.join(self.workdir, "home")
        self.stderr_path = os.path.join(self.workdir, "fake-kube-apiserver.stderr")
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._kubeconfigs: dict[tuple, str] = {}

    # -- lifecycle -------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> "FakeKube":
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.home_dir, exist_ok=True)
        cfg_path = os.path.join(self.workdir, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(self.config, f, indent=1)
        cmd = [sys.executable, SERVER, "--port", "0", "--state-dir", self.state_dir, "--config", cfg_path,
               "--key-type", self.key_type]
        for s in self.sans:
            cmd += ["--san", s]
        cmd += self.extra_args
        self._stderr = open(self.stderr_path, "ab")
        # Own process group: stop() can kill the server and anything it spawned.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        _live.add(self)
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(b"READY port="):
            self.stop()
            raise RuntimeError(f"fake kube-apiserver did not start; see {self.stderr_path}:\n"
                               + self._tail_stderr())
        self.port = int(line[0].split(b"=", 1)[1])
        self._kubeconfigs.clear()
        return self

    def stop(self, cleanup: bool = True) -> None:
        """Kill the server's process group; with cleanup, delete the work dir (if the harness made it)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
            self._stderr.close()
        _live.discard(self)
        if cleanup and self._own_workdir and os.path.isdir(self.workdir):
            if os.environ.get("FAKE_KUBE_KEEP"):
                sys.stderr.write(f"fake-kube work dir kept: {self.workdir}\n")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self._own_workdir = False

    def restart(self) -> "FakeKube":
        """Stop and start again, same work dir and CA (state is lost, the port changes)."""
        self.stop(cleanup=False)
        return self.start()

    def __enter__(self) -> "FakeKube":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _tail_stderr(self, n: int = 4000) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def stderr_text(self) -> str:
        """The server's stderr so far (startup line, faults hit, internal errors)."""
        return self._tail_stderr(1 << 20)

    # -- facts -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        return os.path.join(self.state_dir, "ca.crt")

    @property
    def admin_token(self) -> str:
        return self.config.get("adminToken", "fake-admin-token")

    def user_entry(self, user: str) -> dict:
        for u in self.config.get("users", []):
            if u["name"] == user:
                return u
        raise KeyError(f"no user {user!r} in the fake's config")

    def token_for(self, user: str) -> str:
        return self.user_entry(user)["token"]

    def client_cert(self, user: str) -> tuple[str, str]:
        """(cert, key) paths of a configured user with "clientCert": true."""
        stem = "client-" + "".join(c if (c.isalnum() or c in "_.-") else "_" for c in user)
        return os.path.join(self.state_dir, stem + ".crt"), os.path.join(self.state_dir, stem + ".key")

    def issue_client_cert(self, cn: str, groups: tuple = (), not_before_offset: float = -3600,
                          not_after_offset: float = 365 * 86400) -> tuple[str, str]:
        """A client certificate signed by the fake's CA for any CN/O (offsets in seconds from now;
        a negative not_after_offset gives an expired certificate)."""
        r = self.admin("POST", "/_fake/certs", {"cn": cn, "o": list(groups),
                                                "notBeforeOffsetSeconds": not_before_offset,
                                                "notAfterOffsetSeconds": not_after_offset})
        stem = os.path.join(self.workdir, f"adhoc-{cn.replace(':', '_')}-{time.monotonic_ns()}")
        with open(stem + ".crt", "w") as f:
            f.write(r.json["cert"])
        fd = os.open(stem + ".key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(r.json["key"])
        return stem + ".crt", stem + ".key"

    # -- kubeconfig and in-cluster files -----------------------------------------

    def write_kubeconfig(self, path: str | None = None, *, user: str = ADMIN_USER, auth: str = "token",
                         token: str | None = None, ca: str = "file", insecure: bool = False,
                         server: str | None = None, namespace: str | None = "default",
                         tls_server_name: str | None = None, exec_api_version: str = "client.authentication.k8s.io/v1",
                         exec_token: str | None = None, exec_log: str | None = None,
                         exec_expiry_seconds: int | None = None, cert: tuple[str, str] | None = None,
                         context: str = "fake", extra_user_fields: dict | None = None) -> str:
        """Write a kubeconfig and return its path.

        auth: "token" (user's token or `token`), "token-file" (tokenFile), "cert" (client-certificate /
        client-key paths), "cert-data" (inline *-data), "exec" (an exec plugin printing an ExecCredential
        with the token; `exec_api_version` v1 or v1beta1; each call appends a line to `exec_log`),
        "basic" (username/password, which kube-apiserver does not accept), "none" (no credentials; note
        kubectl then prompts for a username on stdin).
        ca: "file" (certificate-authority path), "data" (certificate-authority-data), "none".
        insecure: insecure-skip-tls-verify (with no CA)."""
        if path is None:
            path = os.path.join(self.workdir, f"kubeconfig-{auth}-{user.replace(':', '_')}-{time.monotonic_ns()}")
        cluster: dict[str, Any] = {"server": server or self.url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        elif ca == "file":
            cluster["certificate-authority"] = self.ca_file
        elif ca == "data":
            cluster["certificate-authority-data"] = _b64file(self.ca_file)
        if tls_server_name:
            cluster["tls-server-name"] = tls_server_name
        u: dict[str, Any] = {}
        if auth == "token":
            u["token"] = token if token is not None else self.token_for(user)
        elif auth == "token-file":
            tf = path + ".token"
            with open(tf, "w") as f:
                f.write(token if token is not None else self.token_for(user))
            u["tokenFile"] = tf
        elif auth in ("cert", "cert-data"):
            crt, key = cert or self.client_cert(user)
            if auth == "cert":
                u["client-certificate"], u["client-key"] = crt, key
            else:
                u["client-certificate-data"], u["client-key-data"] = _b64file(crt), _b64file(key)
        elif auth == "exec":
            args = [self.exec_plugin_path(), "--token", exec_token or self.token_for(user),
                    "--api-version", exec_api_version]
            if exec_log:
                args += ["--log", exec_log]
            if exec_expiry_seconds is not None:
                args += ["--expiry-seconds", str(exec_expiry_seconds)]
            u["exec"] = {"apiVersion": exec_api_version, "command": sys.executable, "args": args,
                         "provideClusterInfo": False}
            # interactiveMode is mandatory in v1 and allowed in v1beta1.
            u["exec"]["interactiveMode"] = "Never"
        elif auth == "basic":
            u["username"], u["password"] = user, "not-a-kube-credential"
        elif auth != "none":
            raise ValueError(f"unknown auth {auth!r}")
        u.update(extra_user_fields or {})
        ctx: dict[str, Any] = {"cluster": "fake-cluster", "user": "fake-user"}
        if namespace:
            ctx["namespace"] = namespace
        doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
               "clusters": [{"name": "fake-cluster", "cluster": cluster}],
               "users": [{"name": "fake-user", "user": u}],
               "contexts": [{"name": context, "context": ctx}], "current-context": context}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)  # JSON is valid YAML; kubectl and libyaml both read it
        return path

    def exec_plugin_path(self) -> str:
        """A client-go exec credential plugin (Python script; args --token, --api-version, --log,
        --expiry-seconds, --fail) for hand-written kubeconfigs."""
        p = os.path.join(self.workdir, "exec-credential-plugin.py")
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write(EXEC_PLUGIN)
            os.chmod(p, 0o755)
        return p

    def write_incluster_dir(self, path: str | None = None, *, user: str = SA_USER, token: str | None = None,
                            namespace: str = "kube-system") -> str:
        """A directory laid out like /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt, namespace).
        Point the program at it and set incluster_env()."""
        path = path or os.path.join(self.workdir, f"incluster-{time.monotonic_ns()}")
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "token"), "w") as f:
            f.write(token if token is not None else self.token_for(user))
        shutil.copyfile(self.ca_file, os.path.join(path, "ca.crt"))
        with open(os.path.join(path, "namespace"), "w") as f:
            f.write(namespace)
        return path

    def incluster_env(self) -> dict:
        """KUBERNETES_SERVICE_HOST/PORT pointing at the fake."""
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(self.port),
                "KUBERNETES_SERVICE_PORT_HTTPS": str(self.port)}

    # -- kubectl ---------------------------------------------------------------

    def kubectl_env(self, env: dict | None = None) -> dict:
        e = {k: v for k, v in os.environ.items()
             if k not in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
        e["KUBECACHEDIR"] = self.kube_cache_dir  # fresh per FakeKube instance
        e["HOME"] = self.home_dir
        e["NO_PROXY"] = e["no_proxy"] = "127.0.0.1,localhost"
        e.update(env or {})
        return e

    def kubectl(self, *args: str, user: str = ADMIN_USER, kubeconfig: str | None = None, input: str | None = None,
                check: bool = False, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the real kubectl against the fake (token kubeconfig for `user` unless `kubeconfig` is given).
        Returns CompletedProcess with text stdout/stderr."""
        kc = kubeconfig
        if kc is None:
            key = ("token", user)
            if key not in self._kubeconfigs:
                self._kubeconfigs[key] = self.write_kubeconfig(user=user)
            kc = self._kubeconfigs[key]
        exe = find_kubectl()
        if not exe:
            raise RuntimeError("kubectl not found (set FAKE_KUBE_KUBECTL)")
        cp = subprocess.run([exe, "--kubeconfig", kc, *args], input=input, capture_output=True, text=True,
                            timeout=timeout, env=self.kubectl_env(env),
                            stdin=None if input is not None else subprocess.DEVNULL)
        if check and cp.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({cp.returncode}):\n{cp.stdout}\n{cp.stderr}")
        return cp

    # -- direct HTTP -------------------------------------------------------------

    def ssl_context(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if cert:
            ctx.load_cert_chain(*cert)
        return ctx

    def connection(self, cert: tuple[str, str] | None = None, timeout: float = 30) -> http.client.HTTPSConnection:
        """A keep-alive HTTPS connection to the fake (one TLS connection = one `conn` id in the log)."""
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(cert), timeout=timeout)

    def api(self, method: str, path: str, body: Any = None, *, user: str | None = ADMIN_USER,
            token: str | None = None, cert: tuple[str, str] | None = None, headers: dict | None = None,
            content_type: str | None = None, query: dict | None = None,
            conn: http.client.HTTPSConnection | None = None) -> Response:
        """One request to the Kubernetes API.  body: dict/list (JSON-encoded), str/bytes (sent as is).
        Auth: `token`, else `cert`, else the token of `user` (user=None sends no credentials)."""
        h = {"Accept": "application/json", "User-Agent": "fake-kube-harness/1"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        elif cert is None and user is not None:
            h["Authorization"] = f"Bearer {self.token_for(user)}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str)
                                                          else json.dumps(body).encode())
            h["Content-Type"] = content_type or "application/json"
        h.update(headers or {})
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        own = conn is None
        c = conn or self.connection(cert)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            if own:
                c.close()

    def admin(self, method: str, path: str, body: Any = None) -> Response:
        r = self.api(method, path, body, token=self.admin_token)
        if r.status >= 400:
            raise RuntimeError(f"admin call {method} {path} failed: {r.status} {r.body[:500]!r}")
        return r

    # -- faults, logs, state -------------------------------------------------------

    def inject_fault(self, kind: str, *, method: str = "*", path: str = ".*", count: int = 1,
                     retry_after: int | None = None, bump_resource_version: bool = False, code: int = 500,
                     reason: str = "", message: str = "", seconds: float = 0) -> dict:
        """Make the next `count` requests whose method matches and whose URL path matches the regex `path`
        (re.search) fail.  kind: conflict (409; bump_resource_version=True also bumps the stored object's
        resourceVersion, as a concurrent writer would), tooManyRequests (429 + Retry-After, default 1),
        internalError (500), serviceUnavailable (503, Retry-After if given), status (any code/reason/message),
        drop (close the connection without answering), reset (TCP RST), delay (sleep `seconds`, then serve).
        Faults apply after authentication, before authorization."""
        spec = {"kind": kind, "method": method, "path": path, "count": count,
                "bumpResourceVersion": bump_resource_version, "code": code, "reason": reason, "message": message,
                "seconds": seconds}
        if retry_after is not None:
            spec["retryAfter"] = retry_after
        return self.admin("POST", "/_fake/faults", spec).json

    def faults(self) -> list:
        """Faults still pending (with remaining counts)."""
        return self.admin("GET", "/_fake/faults").json

    def clear_faults(self) -> None:
        self.admin("DELETE", "/_fake/faults")

    def requests(self, *, clear: bool = False, method: str | None = None, path_contains: str | None = None) -> list:
        """The request log: dicts with seq, time, conn (TLS connection id), method, path, query, user,
        authMethod, status, dropped, contentType, accept, userAgent, fault, durationMs, requestBytes.
        Admin (/_fake/) calls are not logged.  clear=True empties it after reading."""
        log = self.admin("DELETE" if clear else "GET", "/_fake/requests").json
        return [r for r in log if (method is None or r["method"] == method)
                and (path_contains is None or path_contains in r["path"])]

    def clear_requests(self) -> None:
        self.admin("DELETE", "/_fake/requests")

    def objects(self, kind: str | None = None, namespace: str | None = None) -> list:
        """Every stored object (full, including Secret data), optionally filtered by Kind and namespace."""
        items = self.admin("GET", "/_fake/objects").json["items"]
        return [o for o in items if (kind is None or o["kind"] == kind)
                and (namespace is None or o["metadata"].get("namespace") == namespace)]

    def get_object(self, kind: str, namespace: str | None, name: str) -> dict | None:
        for o in self.objects(kind, namespace):
            if o["metadata"]["name"] == name:
                return o
        return None

    def seed(self, obj: dict) -> dict:
        """Create an object directly (no RBAC; validation still applies). Namespaced objects default to 'default'."""
        return self.admin("POST", "/_fake/objects", obj).json

    def add_user(self, name: str, *, token: str | None = None, groups: tuple = (), rules: tuple = (),
                 client_cert: bool = False) -> dict:
        """Add or replace a user at runtime (e.g. rotate a ServiceAccount token)."""
        u: dict[str, Any] = {"name": name, "groups": list(groups), "rules": list(rules)}
        if token:
            u["token"] = token
        if client_cert:
            u["clientCert"] = True
        self.config["users"] = [x for x in self.config.get("users", []) if x["name"] != name] + [u]
        return self.admin("POST", "/_fake/users", u).json

    def reset(self) -> None:
        """Back to the configured initial state; clears faults and the request log.  resourceVersions keep
        increasing (as on a real cluster); users added at runtime are dropped."""
        self.admin("POST", "/_fake/reset")


def _b64file(path: str) -> str:
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


EXEC_PLUGIN = r'''#!/usr/bin/env python3
"""client-go exec credential plugin for tests: prints an ExecCredential with a fixed token."""
import argparse, datetime, json, os, sys
ap = argparse.ArgumentParser()
ap.add_argument("--token", required=True)
ap.add_argument("--api-version", default="client.authentication.k8s.io/v1")
ap.add_argument("--log")
ap.add_argument("--expiry-seconds", type=int)
ap.add_argument("--fail", action="store_true")
a = ap.parse_args()
if a.log:
    with open(a.log, "a") as f:
        f.write(json.dumps({"time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                            "execInfo": os.environ.get("KUBERNETES_EXEC_INFO")}) + "\n")
if a.fail:
    sys.stderr.write("exec plugin: asked to fail\n")
    sys.exit(1)
status = {"token": a.token}
if a.expiry_seconds is not None:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=a.expiry_seconds)
    status["expirationTimestamp"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
json.dump({"apiVersion": a.api_version, "kind": "ExecCredential", "status": status}, sys.stdout)
'''


