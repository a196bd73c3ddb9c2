"""Test harness for the FAKE kube-apiserver (fake_kube_apiserver.py).

Integration tests import this module:

    from harness import FakeKube, default_config

    with FakeKube() as kube:                       # starts on a free port, stops on exit
        kc = kube.write_kubeconfig(user=kube.SA)   # token auth as the ecr-renew ServiceAccount
        r = kube.kubectl("get", "ns", user="admin")
        kube.inject_fault("conflict", method="PUT", path=r"/secrets/", bump_resource_version=True)
        ... run the program under test with KUBECONFIG=kc ...
        log = kube.requests()                      # what the client sent (no secrets, no tokens)

For a controller (list + watch, leader election, Events, ServiceAccounts, pods):

        kube.set_watch_options(bookmark_interval=1, max_watch_seconds=5)
        kube.wait_for_watch("/api/v1/namespaces")          # the controller's watch is open
        kube.create_namespace("team-a")                    # and its "default" ServiceAccount
        kube.inject_watch_fault("drop", path="/secrets", after_events=1)
        kube.compact()                                     # resuming watches get 410
        pod = kube.create_pod("team-a", owner_kind="ReplicaSet", owner_name="web-5d8f")
        kube.set_pod_waiting("team-a", pod["metadata"]["name"], "ImagePullBackOff")
        with kube.watch("/api/v1/namespaces", {"resourceVersion": rv}) as w:
            ev = w.next_event(timeout=5)

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
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

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

    def requests(self, *, clear: bool = False, method: str | None = None, path_contains: str | None = None,
                 watch: bool | None = None) -> list:
        """The request log: dicts with seq (grows with the log's order), time (float epoch when the entry was
        logged: the request's end, or for a watch its stream's start), startTime (when the request arrived),
        conn (TLS connection id), method, path, query, user, authMethod, status, dropped, contentType, accept,
        userAgent, fault, durationMs, requestBytes and watch.  A watch is logged when its stream starts, and its
        entry then gains ended, endTime, endReason (timeout, expired, dropped, clientClosed, reset), events and
        durationMs as it goes.  Admin (/_fake/) calls are not logged.  clear=True empties it after reading.
        "API server write to client reaction" latency: later_entry["startTime"] - write_entry["time"]."""
        log = self.admin("DELETE" if clear else "GET", "/_fake/requests").json
        return [r for r in log if (method is None or r["method"] == method)
                and (path_contains is None or path_contains in r["path"])
                and (watch is None or r.get("watch") == watch)]

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
        """Back to the configured initial state; clears faults and the request log and restores the
        settings.  resourceVersions keep increasing (as on a real cluster), open watches end, and the
        history is compacted (a re-watch from an older RV gets 410); users added at runtime are dropped."""
        self.admin("POST", "/_fake/reset")

    # -- runtime settings, watch behaviour ---------------------------------------------

    def configure(self, **settings: Any) -> dict:
        """Change runtime settings (config keys, camelCase: bookmarkIntervalSeconds, defaultWatchSeconds,
        maxWatchSeconds, watchCacheEvents, namespaceTerminationSeconds, defaultServiceAccount,
        defaultServiceAccountDelaySeconds, recreateOwnedPods, recreateOwnedPodsDelaySeconds,
        strictEventValidation).  They last until reset().  Returns all settings."""
        return self.admin("POST", "/_fake/settings", settings).json

    def settings(self) -> dict:
        return self.admin("GET", "/_fake/settings").json

    def set_watch_options(self, *, bookmark_interval: float | None = None, max_watch_seconds: float | None = None,
                          default_watch_seconds: float | None = None, watch_cache_events: int | None = None) -> dict:
        """Bookmark period, the cap on every watch's length (0 = none; short values make streams end normally
        every few seconds), the length of watches without timeoutSeconds, and how many events the history
        keeps for watches that resume from a resourceVersion.  Open watches pick up the first three."""
        names = {"bookmarkIntervalSeconds": bookmark_interval, "maxWatchSeconds": max_watch_seconds,
                 "defaultWatchSeconds": default_watch_seconds, "watchCacheEvents": watch_cache_events}
        return self.configure(**{k: v for k, v in names.items() if v is not None})

    def compact(self) -> str:
        """Forget the event history up to now: a watch from an older resourceVersion gets the 410 ERROR event,
        and a continue token from before gets HTTP 410.  Returns the resourceVersion compacted to."""
        return self.admin("POST", "/_fake/compact").json["resourceVersion"]

    def inject_watch_fault(self, kind: str, *, path: str = ".*", count: int = 1, after_events: int | None = None,
                           after_seconds: float | None = None, reset: bool = False,
                           message: str | None = None) -> dict:
        """Faults for the next `count` watch requests whose URL path matches `path` (re.search).
        kind "drop": the stream is cut without the terminating chunk once `after_events` events were written
        or `after_seconds` passed (whichever first; neither: right after the headers); reset=True sends a TCP
        RST.  kind "expired": 200 and one ERROR event (410 Expired, "too old resource version", or
        `message`), then a normal end."""
        fk = {"drop": "watchDrop", "expired": "watchExpired"}.get(kind, kind)
        spec: dict[str, Any] = {"kind": fk, "method": "GET", "path": path, "count": count, "reset": reset}
        if after_events is not None:
            spec["afterEvents"] = after_events
        if after_seconds is not None:
            spec["afterSeconds"] = after_seconds
        if message:
            spec["message"] = message
        return self.admin("POST", "/_fake/faults", spec).json

    def open_watches(self) -> list:
        """Watch streams open right now: id, seq (its request-log entry), path, query, user, startTime, events."""
        return self.admin("GET", "/_fake/watches").json

    def wait_for_watch(self, path_contains: str = "", *, count: int = 1, user: str | None = None,
                       query_contains: str = "", timeout: float = 10.0) -> list:
        """Wait until at least `count` open watches match; returns them (raises TimeoutError)."""
        end = time.monotonic() + timeout
        while True:
            ws = [w for w in self.open_watches() if path_contains in w["path"]
                  and query_contains in (w["query"] or "") and (user is None or w["user"] == user)]
            if len(ws) >= count:
                return ws
            if time.monotonic() >= end:
                raise TimeoutError(f"no {count} open watch(es) on {path_contains!r}; open: {self.open_watches()}")
            time.sleep(0.02)

    def watch(self, path: str, query: dict | None = None, *, user: str | None = ADMIN_USER,
              token: str | None = None, headers: dict | None = None) -> "WatchStream":
        """Open a watch (watch=true is added) and return a WatchStream: iterate it for parsed events, or use
        next_event(timeout), collect(...), close().  Use it as a context manager."""
        q = {"watch": "true"}
        q.update(query or {})
        return WatchStream(self, path, q, user=user, token=token, headers=headers)

    # -- objects for controller tests (all through the real API as admin: they appear in the request log) -----

    def get(self, path: str, *, user: str = ADMIN_USER) -> Any:
        r = self.api("GET", path, user=user)
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {r.body[:300]!r}")
        return r.json

    def _expect(self, r: Response, ok: tuple, what: str) -> Any:
        if r.status not in ok:
            raise RuntimeError(f"{what}: {r.status} {r.body[:500]!r}")
        return r.json

    def create_namespace(self, name: str, *, labels: dict | None = None, annotations: dict | None = None,
                         user: str = ADMIN_USER) -> dict:
        md: dict[str, Any] = {"name": name}
        if labels:
            md["labels"] = labels
        if annotations:
            md["annotations"] = annotations
        r = self.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": md},
                     user=user)
        return self._expect(r, (201,), f"create namespace {name}")

    def delete_namespace(self, name: str, *, user: str = ADMIN_USER) -> dict:
        return self._expect(self.api("DELETE", f"/api/v1/namespaces/{name}", user=user), (200,),
                            f"delete namespace {name}")

    def service_account(self, namespace: str, name: str = "default") -> dict | None:
        return self.get_object("ServiceAccount", namespace, name)

    def create_pod(self, namespace: str, name: str | None = None, *, image: str = "registry.example/app:1",
                   containers: list | None = None, service_account: str | None = None,
                   image_pull_secrets: list | None = None, owner_kind: str | None = None,
                   owner_name: str | None = None, labels: dict | None = None, generate_name: str | None = None,
                   user: str = ADMIN_USER) -> dict:
        """Create a pod through the API (ServiceAccount admission applies).  owner_kind (ReplicaSet,
        StatefulSet, DaemonSet, Job) and owner_name add a controller ownerReference with a made-up uid."""
        md: dict[str, Any] = {}
        if name:
            md["name"] = name
        if generate_name:
            md["generateName"] = generate_name
        if labels:
            md["labels"] = labels
        if owner_kind:
            api_version = "batch/v1" if owner_kind == "Job" else "apps/v1"
            oname = owner_name or (name or generate_name or "owner").rstrip("-")
            md["ownerReferences"] = [{"apiVersion": api_version, "kind": owner_kind, "name": oname,
                                      "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{owner_kind}/{oname}")),
                                      "controller": True, "blockOwnerDeletion": True}]
        spec: dict[str, Any] = {"containers": containers or [{"name": "app", "image": image}]}
        if service_account:
            spec["serviceAccountName"] = service_account
        if image_pull_secrets is not None:
            spec["imagePullSecrets"] = [{"name": n} if isinstance(n, str) else n for n in image_pull_secrets]
        r = self.api("POST", f"/api/v1/namespaces/{namespace}/pods",
                     {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}, user=user)
        return self._expect(r, (201,), f"create pod in {namespace}")

    def set_pod_waiting(self, namespace: str, name: str, reason: str = "ImagePullBackOff", image: str | None = None,
                        *, container: str | None = None, message: str | None = None) -> dict:
        """Set a container of the pod (the first one unless `container`) waiting with `reason` (ErrImagePull,
        ImagePullBackOff, ...) through PATCH .../pods/<name>/status, as a kubelet would."""
        pod = self.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
        statuses = []
        target = container or pod["spec"]["containers"][0]["name"]
        for c in pod["spec"]["containers"]:
            img = c.get("image", "")
            if c["name"] == target:
                img = image or img
                msg = message or (f'Back-off pulling image "{img}"' if reason == "ImagePullBackOff"
                                  else f'failed to pull image "{img}": 401 Unauthorized')
                state = {"waiting": {"reason": reason, "message": msg}}
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
            statuses.append({"name": c["name"], "state": state, "lastState": {}, "ready": False,
                             "restartCount": 0, "image": img, "imageID": "", "started": False})
        r = self.api("PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}/status",
                     {"status": {"phase": "Pending", "containerStatuses": statuses}},
                     content_type="application/merge-patch+json")
        return self._expect(r, (200,), f"set pod {namespace}/{name} waiting")

    def recreate_owned_pod(self, namespace: str, name: str) -> dict:
        """Act as the deleted pod's controller: create its replacement (new uid; a new generated name
        unless it is a StatefulSet pod) from the pod's spec as it was before admission, through the normal
        create path.  The pod must be deleted already.  configure(recreateOwnedPods=True) does this by
        itself on every delete."""
        return self.admin("POST", "/_fake/recreate-pod", {"namespace": namespace, "name": name}).json


class WatchStream:
    """A watch request read on a background thread: events are parsed as they arrive and queued with their
    arrival time.  end_reason is None while open, then "eof" (the server ended it with the zero-length
    chunk), "dropped" (cut without it), "closed" (by close()), or "http <status>" (not a stream)."""

    def __init__(self, kube: FakeKube, path: str, query: dict, *, user: str | None = ADMIN_USER,
                 token: str | None = None, headers: dict | None = None):
        self.path = path + "?" + urllib.parse.urlencode(query)
        self.events: list[dict] = []            # everything received so far, in order
        self.arrivals: list[float] = []         # time.time() at which each event was parsed
        self.end_reason: str | None = None
        self._q: queue.Queue = queue.Queue()
        self._conn = kube.connection(timeout=30)
        h = {"Accept": "application/json", "User-Agent": "fake-kube-harness/1"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        elif user is not None:
            h["Authorization"] = f"Bearer {kube.token_for(user)}"
        h.update(headers or {})
        self._conn.request("GET", self.path, headers=h)
        self.response = self._conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        if self.status != 200:
            self.body = self.response.read()
            self.end_reason = f"http {self.status}"
            self._q.put(None)
            self._conn.close()
            return
        self._conn.sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buf = b""
        reason = "eof"
        try:
            while True:
                chunk = self.response.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        ev = json.loads(line)
                        self.events.append(ev)
                        self.arrivals.append(time.time())
                        self._q.put(ev)
        except Exception:  # IncompleteRead, SSLEOFError, ... or http.client's own errors after close()
            reason = "closed" if self.end_reason == "closed" else "dropped"
        if self.end_reason is None:
            self.end_reason = reason
        self._q.put(None)

    def next_event(self, timeout: float = 10.0) -> dict | None:
        """The next event; None once the stream has ended.  Raises TimeoutError if nothing came in time."""
        try:
            ev = self._q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no watch event on {self.path} within {timeout}s") from None
        if ev is None:
            self._q.put(None)  # stay ended for later callers
        return ev

    def __iter__(self) -> Iterator[dict]:
        while True:
            ev = self.next_event(timeout=3600)
            if ev is None:
                return
            yield ev

    def collect(self, *, count: int | None = None, until: Callable[[dict], bool] | None = None,
                timeout: float = 10.0) -> list:
        """Events until `count` were read, `until(event)` is true, the stream ends, or `timeout` passes."""
        out: list[dict] = []
        end = time.monotonic() + timeout
        while count is None or len(out) < count:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                ev = self.next_event(timeout=left)
            except TimeoutError:
                break
            if ev is None:
                break
            out.append(ev)
            if until is not None and until(ev):
                break
        return out

    def wait_end(self, timeout: float = 10.0) -> str | None:
        """Drain until the stream ends; returns end_reason (None if still open after timeout)."""
        self.collect(timeout=timeout)
        return self.end_reason

    def close(self) -> None:
        if self.end_reason is None:
            self.end_reason = "closed"
        try:
            if self._conn.sock is not None:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._conn.close()

    def __enter__(self) -> "WatchStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


