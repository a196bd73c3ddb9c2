#!/usr/bin/env python3
"""HOSTILE FAKE for security and robustness tests.  Not AWS, not Kubernetes.

One process that plays, on loopback only, every peer ecr-renew talks to, and
that can be told, rule by rule, to misbehave:

  HTTPS port (127.0.0.1)  role kube: a tiny Kubernetes API (version, secrets,
                          namespaces), bearer-token auth, kube-shaped Status errors.
  HTTP port  (127.0.0.1)  role ecr (X-Amz-Target AmazonEC2ContainerRegistry_V20150921.*),
                          ecr-public (X-Amz-Target SpencerFrontendService.*),
                          sts (form Action=AssumeRoleWithWebIdentity|AssumeRole),
                          container (GET /v1/credentials), imds (/latest/..., IMDSv2),
                          plus the admin API under /_hostile/.
  canary     (127.0.0.2)  records every connection attempt (plain or TLS) and answers
                          404; a client that reaches it has gone somewhere it should not.

By default every role answers correctly and plausibly, so a normal client run
succeeds end to end.  Rules posted to /_hostile/config switch a role to one of
the misbehaviour modes (see MODES and README.md beside this file).  The fake
checks no signatures: it is about hostile answers, not about authentication.

The request log and /_hostile/state hold secrets (tokens, passwords, raw request
heads): tests may assert on them but must never print them.

    hostile_server.py --state-dir DIR [--config FILE.json] [--http-port 0]
                      [--https-port 0] [--canary-port 0] [--canary-host 127.0.0.2]

prints ``READY http=N https=N canary=N`` on stdout once listening; diagnostics
go to stderr.  Python 3.11 standard library plus `cryptography` only.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import hashlib
import http
import ipaddress
import itertools
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from xml.sax.saxutils import escape as xml_escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROLES = ("ecr", "ecr-public", "sts", "container", "imds", "kube")
ECR_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
ECR_PUBLIC_PREFIX = "SpencerFrontendService."
DELETE = "__delete__"          # a field value that removes the key (mode "fields")
MAX_HEAD = 1 << 20             # request line + headers
MAX_BODY = 256 << 20
CANARY_CAP = 256 << 10         # bytes of each canary connection kept in its log entry
LOG_LIMIT = 20000
IDLE_TIMEOUT = 120
COMMON_FIELD_KEYS = ("status", "headers", "content_type")


def log(msg: str) -> None:
    # stderr only (the harness saves it to a file).  Never pass secrets here.
    sys.stderr.write(f"{dt.datetime.now().isoformat(timespec='milliseconds')} hostile: {msg}\n")
    sys.stderr.flush()


def utc_iso(offset: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def jbytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def enc(s: Any) -> bytes:
    """Text to wire bytes: latin-1 when possible (so \\u0000-\\u00ff are raw bytes), else UTF-8."""
    s = str(s)
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def merge(base: Any, over: Any) -> Any:
    """Deep merge for mode "fields": dicts recurse, other values replace, "__delete__" removes."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return copy.deepcopy(over)
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, str) and v == DELETE:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def rand_key_id(prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(16))


def make_password() -> str:
    # Real ECR passwords are ~2-3 kB of base64; 1800 random bytes give 2400 characters.
    return base64.b64encode(secrets.token_bytes(1800)).decode()


def make_credentials(prefix: str = "ASIA") -> dict:
    return {"AccessKeyId": rand_key_id(prefix), "SecretAccessKey": secrets.token_urlsafe(30)[:40],
            "SessionToken": "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(480)).decode()}


# ---------------------------------------------------------------------------
# PKI: a CA in the state dir (kept across restarts) and one serving certificate
# ---------------------------------------------------------------------------

def _write(path: str, data: bytes, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_pki(state_dir: str, sans: list[str]) -> tuple[str, str, str]:
    ca_path, ca_key_path = os.path.join(state_dir, "ca.crt"), os.path.join(state_dir, "ca.key")
    now = dt.datetime.now(dt.timezone.utc)
    if os.path.exists(ca_path) and os.path.exists(ca_key_path):
        with open(ca_path, "rb") as f:
            ca = x509.load_pem_x509_certificate(f.read())
        with open(ca_key_path, "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile-fake-ca")])
        ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
              .not_valid_after(now + dt.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        _write(ca_path, ca.public_bytes(serialization.Encoding.PEM))
        _write(ca_key_path, _key_pem(ca_key), private=True)
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for s in sans:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(s)))
        except ValueError:
            alt.append(x509.DNSName(s))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile-fake")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(state_dir, "server.crt"), os.path.join(state_dir, "server.key")
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    _write(key_path, _key_pem(key), private=True)
    return ca_path, cert_path, key_path


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    ctx.set_alpn_protocols(["http/1.1"])

    def remember_sni(sock: Any, server_name: str | None, _ctx: Any) -> None:
        sock.hostile_sni = server_name  # SSLSocket has a __dict__; read back by the handlers
    ctx.sni_callback = remember_sni
    return ctx


# ---------------------------------------------------------------------------
# Requests, responses, rules, shared state
# ---------------------------------------------------------------------------

@dataclass
class Request:
    conn: int
    listener: str                      # "http" or "https"
    method: str
    target: str                        # as sent: path?query
    version: str
    headers: list                      # [[name, value-or-None], ...] in wire order
    raw_head: bytes
    body: bytes = b""
    role: str = "unknown"
    form: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def q(self, name: str, default: str | None = None) -> str | None:
        vals = urllib.parse.parse_qs(self.query, keep_blank_values=True).get(name)
        return vals[0] if vals else default

    def header(self, name: str, default: str | None = None) -> str | None:
        for n, v in self.headers:
            if v is not None and n.lower() == name.lower():
                return v
        return default

    @property
    def wants_close(self) -> bool:
        c = (self.header("Connection") or "").lower()
        return "close" in c or (self.version == "HTTP/1.0" and "keep-alive" not in c)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list = field(default_factory=list)  # [(name, value)]; framing headers are added when sent
    reason: str | None = None


MODES = ("fields", "raw", "generate", "drip", "stall", "retry_after", "huge_header", "redirect", "close",
         "reset", "slow_headers")
RULE_META = ("role", "mode", "count", "match")


def parse_rule(spec: Any, rule_id: int) -> dict:
    if not isinstance(spec, dict):
        raise ValueError("a rule must be a JSON object")
    role, mode, count, match = spec.get("role"), spec.get("mode"), spec.get("count"), spec.get("match") or {}
    if role not in ROLES + ("*",):
        raise ValueError(f"'role' must be one of {', '.join(ROLES)} or '*'")
    if mode not in MODES:
        raise ValueError(f"'mode' must be one of {', '.join(MODES)}")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("'count' must be a positive integer")
    if not isinstance(match, dict) or set(match) - {"method", "path_regex"}:
        raise ValueError("'match' takes only 'method' and 'path_regex'")
    if "path_regex" in match:
        try:
            re.compile(match["path_regex"])
        except (re.error, TypeError) as e:
            raise ValueError(f"bad path_regex: {e}") from None
    params = {k: v for k, v in spec.items() if k not in RULE_META}
    check_params(mode, params)
    return {"id": rule_id, "role": role, "mode": mode, "count": count, "remaining": count, "match": match,
            "params": params, "hits": 0}


NUMERIC_PARAMS = ("status", "bytes", "interval_ms", "depth", "many", "lines")


def check_params(mode: str, p: dict) -> None:
    """Refuse obviously bad parameters when the rule is posted, not when a request hits it."""
    numeric = NUMERIC_PARAMS + (("seconds",) if mode == "stall" else ())
    for k in numeric:
        if k in p and (not isinstance(p[k], (int, float)) or isinstance(p[k], bool) or p[k] < 0):
            raise ValueError(f"'{k}' must be a non-negative number")
    for k in ("body_b64", "password_bytes_b64"):
        if k in p:
            try:
                base64.b64decode(p[k], validate=True)
            except (ValueError, TypeError):
                raise ValueError(f"'{k}' is not valid base64") from None
    for k in ("fields", "entry", "top", "object", "list", "namespace"):
        if k in p and not isinstance(p[k], dict):
            raise ValueError(f"'{k}' must be a JSON object")
    if "headers" in p and not (isinstance(p["headers"], list)
                               and all(isinstance(h, list) and len(h) == 2 for h in p["headers"])):
        raise ValueError("'headers' must be a list of [name, value] pairs")
    if mode == "generate" and p.get("generator", "json_tiny_objects") not in GENERATORS:
        raise ValueError(f"'generator' must be one of {', '.join(GENERATORS)}")


def rule_matches(rule: dict, req: Request) -> bool:
    m = rule["match"]
    return (rule["role"] in ("*", req.role)
            and ("method" not in m or str(m["method"]).upper() == req.method.upper())
            and ("path_regex" not in m or re.search(m["path_regex"], req.target) is not None))


class State:
    """Everything the roles share; one lock guards it."""

    def __init__(self, cfg: dict, ports: dict, ca_path: str, state_dir: str):
        self.lock = threading.RLock()
        self.ports, self.ca_path, self.state_dir = ports, ca_path, state_dir
        self.canary_host = ports["canary_host"]
        self.admin_token = cfg.get("admin_token") or secrets.token_urlsafe(24)
        self.kube_token = cfg.get("kube_token") or "hostile-kube-" + secrets.token_urlsafe(24)
        self.kube_version = cfg.get("kube_version", "v1.31.4")
        self.account = cfg.get("account", "123456789012")
        self.region = cfg.get("region", "us-east-1")
        self.initial_namespaces = list(cfg.get("namespaces", ["default", "runtime", "team-a"]))
        self.password, self.public_password = make_password(), make_password()
        self.creds = {r: make_credentials() for r in ("sts", "container", "imds")}
        self.container_token = cfg.get("container_token") or "hostile-ctr-" + secrets.token_urlsafe(24)
        self.imds_token = "AQAEAHostile" + secrets.token_urlsafe(40)
        self.imds_role = cfg.get("imds_role", "ecr-renew-node")
        self.conn_ids = itertools.count(1)
        self.rule_ids = itertools.count(1)
        self.rv = 1000
        self.epoch = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Clear rules, logs and kube/imds state; wake every stalled or dripping connection."""
        with self.lock:
            self.rules: list[dict] = []
            self.requests: list[dict] = []
            self.canary: list[dict] = []
            self.seq = self.canary_seq = 0
            self.secrets: dict[tuple[str, str], dict] = {}
            self.namespaces = {ns: self.namespace_obj(ns) for ns in self.initial_namespaces}
            self.imds_tokens = {self.imds_token}
            old, self.epoch = self.epoch, threading.Event()
        old.set()

    def next_rv(self) -> str:
        with self.lock:
            self.rv += 1
            return str(self.rv)

    def namespace_obj(self, name: str) -> dict:
        return {"kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": self.next_rv(),
                             "creationTimestamp": utc_iso(),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def add_rules(self, specs: list) -> list[dict]:
        rules = [parse_rule(s, next(self.rule_ids)) for s in specs]
        with self.lock:
            self.rules.extend(rules)
        return rules

    def take_rule(self, req: Request) -> dict | None:
        with self.lock:
            for r in self.rules:
                if rule_matches(r, req):
                    r["hits"] += 1
                    if r["remaining"] is not None:
                        r["remaining"] -= 1
                        if r["remaining"] == 0:
                            self.rules.remove(r)
                    return copy.deepcopy(r)
        return None

    def log_request(self, req: Request, sni: str | None) -> dict:
        # Every key exists from the start: later updates never resize the dict under a reader.
        entry = {"seq": 0, "time": time.time(), "conn": req.conn, "listener": req.listener, "sni": sni,
                 "role": req.role, "method": req.method, "path": req.path, "query": req.query,
                 "headers": req.headers, "raw_head_b64": base64.b64encode(req.raw_head).decode(),
                 "body_len": len(req.body), "body_sha256": hashlib.sha256(req.body).hexdigest(),
                 "body": None, "target": req.header("X-Amz-Target"), "action": req.form.get("Action"),
                 "status": None, "mode": None, "rule": None}
        if req.role == "kube" and req.method in ("POST", "PUT", "PATCH", "DELETE") and req.body:
            try:
                entry["body"] = json.loads(req.body)
            except ValueError:
                entry["body"] = {"__unparsed__": req.body[:4096].decode("latin-1")}
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)
            del self.requests[:-LOG_LIMIT]
        return entry

    def add_canary(self, entry: dict) -> dict:
        with self.lock:
            self.canary_seq += 1
            entry["id"] = self.canary_seq
            self.canary.append(entry)
            del self.canary[:-LOG_LIMIT]
        return entry

    def describe(self) -> dict:
        """GET /_hostile/state.  Holds every secret the fake hands out: never print it."""
        p = self.ports
        return {"pid": os.getpid(), "http_port": p["http"], "https_port": p["https"],
                "canary_host": self.canary_host, "canary_port": p["canary"],
                "http_url": f"http://127.0.0.1:{p['http']}", "kube_url": f"https://127.0.0.1:{p['https']}",
                "ca_file": self.ca_path, "state_dir": self.state_dir, "admin_token": self.admin_token,
                "kube_token": self.kube_token, "kube_version": self.kube_version, "account": self.account,
                "region": self.region, "namespaces": self.initial_namespaces,
                "password": self.password, "public_password": self.public_password,
                "authorization_token": b64(b"AWS:" + self.password.encode()),
                "public_authorization_token": b64(b"AWS:" + self.public_password.encode()),
                "credentials": copy.deepcopy(self.creds), "container_token": self.container_token,
                "imds_token": self.imds_token, "imds_role": self.imds_role}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------
# Roles: the correct ("natural") answers.  fx holds mode "fields" overrides.
# ---------------------------------------------------------------------------

def aws_json_error(status: int, code: str, message: str) -> Response:
    return Response(status, jbytes({"__type": code, "message": message}),
                    [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", str(uuid.uuid4())),
                     ("x-amzn-ErrorType", code)])


def sigv4_region(req: Request) -> str | None:
    m = re.search(r"Credential=[^/,\s]*/\d{8}/([^/,\s]+)/", req.header("Authorization") or "")
    return m.group(1) if m else None


def expires_text(fmt: str) -> bytes:
    t = time.time() + 43200
    if fmt == "int":
        return str(int(t)).encode()
    if fmt == "exponent":                       # what ECR Public sends: 1.767268800123E9
        return f"{t / 1e9:.12f}".rstrip("0").encode() + b"E9"
    return f"{t:.3f}".encode()


def ecr_password(st: State, fx: dict, public: bool) -> bytes:
    if "password_bytes_b64" in fx:
        return base64.b64decode(fx["password_bytes_b64"])
    if "password" in fx:
        return enc(fx["password"])
    return (st.public_password if public else st.password).encode()


def ecr_answer(st: State, req: Request, fx: dict, public: bool = False) -> Response:
    op = (req.header("X-Amz-Target") or "").split(".", 1)[-1]
    if op != "GetAuthorizationToken":
        return aws_json_error(400, "UnknownOperationException", f"Operation {op!r} is not supported by this fake")
    try:
        doc = json.loads(req.body or b"{}")
        if not isinstance(doc, dict):
            raise ValueError
    except ValueError:
        return aws_json_error(400, "SerializationException", "Start of structure or map found where not expected")
    marker = "__HOSTILE_EXPIRES_AT__"
    entry = {"authorizationToken": b64(b"AWS:" + ecr_password(st, fx, public)), "expiresAt": marker}
    if public:
        out = {"authorizationData": merge(entry, fx.get("entry", {}))}
    else:
        ids = doc.get("registryIds") or [st.account]
        if (not isinstance(ids, list) or len(ids) > 10
                or not all(isinstance(i, str) and re.fullmatch(r"\d{12}", i) for i in ids)):
            return aws_json_error(400, "InvalidParameterException",
                                  "Invalid parameter at 'registryIds' failed to satisfy constraint: "
                                  "'Member must satisfy constraint: [Member must have length ≤ 12]'")
        region = sigv4_region(req) or st.region
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        out = {"authorizationData": [merge(dict(entry, proxyEndpoint=f"https://{i}.dkr.ecr.{region}.{suffix}"),
                                           fx.get("entry", {})) for i in ids]}
    out = merge(out, fx.get("top", {}))
    fmt = fx.get("expires_format", "exponent" if public else "fraction")
    body = jbytes(out).replace(f'"{marker}"'.encode(), expires_text(fmt))
    return Response(200, body, [("Content-Type", "application/x-amz-json-1.1"),
                                ("x-amzn-RequestId", str(uuid.uuid4()))])


def sts_error(status: int, code: str, message: str) -> Response:
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f'<Code>{code}</Code><Message>{xml_escape(message)}</Message></Error>'
            f'<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>')
    return Response(status, body.encode(), [("Content-Type", "text/xml")])


def sts_answer(st: State, req: Request, fx: dict) -> Response:
    action = req.form.get("Action")
    if action not in ("AssumeRoleWithWebIdentity", "AssumeRole"):
        return sts_error(400, "InvalidAction", f"Could not find operation {action} for version 2011-06-15")
    creds = dict(st.creds["sts"], Expiration=utc_iso(3600))
    for k, v in fx.items():
        if k in COMMON_FIELD_KEYS or k == "xml_raw":
            continue
        if v == DELETE:
            creds.pop(k, None)
        else:
            creds[k] = str(v)
    esc: Callable[[str], str] = (lambda s: s) if fx.get("xml_raw") else xml_escape
    cxml = "".join(f"<{k}>{esc(v)}</{k}>" for k, v in creds.items())
    role_arn = req.form.get("RoleArn") or f"arn:aws:iam::{st.account}:role/ecr-renew"
    session = req.form.get("RoleSessionName") or "session"
    arn = f"arn:aws:sts::{st.account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"
    extra = ""
    if action == "AssumeRoleWithWebIdentity":
        extra = ("<SubjectFromWebIdentityToken>system:serviceaccount:kube-system:ecr-renew-sa"
                 "</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>"
                 "<Provider>arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/HOSTILE</Provider>"
                 % st.account)
    body = (f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>'
            f'<Credentials>{cxml}</Credentials><AssumedRoleUser><AssumedRoleId>AROAHOSTILEFAKE:{xml_escape(session)}'
            f'</AssumedRoleId><Arn>{xml_escape(arn)}</Arn></AssumedRoleUser>{extra}</{action}Result>'
            f'<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>')
    return Response(200, body.encode(), [("Content-Type", "text/xml")])


def credentials_doc(st: State, role: str, fx: dict, skip: tuple = ()) -> dict:
    c = st.creds[role]
    doc: dict[str, Any] = {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                           "Token": c["SessionToken"], "Expiration": utc_iso(3600)}
    if role == "imds":
        doc = {"Code": "Success", "LastUpdated": utc_iso(-60), "Type": "AWS-HMAC", **doc}
    return merge(doc, {k: v for k, v in fx.items() if k not in COMMON_FIELD_KEYS + skip})


def text(status: int, body: str | bytes, ctype: str = "text/plain") -> Response:
    return Response(status, body if isinstance(body, bytes) else enc(body), [("Content-Type", ctype)])


def container_answer(st: State, req: Request, fx: dict) -> Response:
    if req.method != "GET":
        return text(405, "Method Not Allowed\n")
    if req.header("Authorization") != st.container_token:
        return Response(401, jbytes({"code": "AccessDeniedException", "message": "invalid authorization token"}),
                        [("Content-Type", "application/json")])
    return Response(200, jbytes(credentials_doc(st, "container", fx)), [("Content-Type", "application/json")])


IMDS_CREDS = "/latest/meta-data/iam/security-credentials/"


def imds_answer(st: State, req: Request, fx: dict) -> Response:
    if req.path == "/latest/api/token":
        if req.method != "PUT":
            return text(405, "")
        ttl = req.header("X-aws-ec2-metadata-token-ttl-seconds") or ""
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return text(400, "")
        token = str(fx.get("token", st.imds_token))
        with st.lock:
            st.imds_tokens.add(token)
        return Response(200, enc(token), [("Content-Type", "text/plain"),
                                          ("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
    if req.method != "GET":
        return text(405, "")
    if req.header("X-aws-ec2-metadata-token") not in st.imds_tokens:
        return text(401, "")
    role = str(fx.get("role", fx.get("role_name", st.imds_role)))
    if req.path in (IMDS_CREDS, IMDS_CREDS.rstrip("/")):
        return text(200, role)
    if req.path.startswith(IMDS_CREDS):
        if req.path[len(IMDS_CREDS):] not in (role, st.imds_role):
            return text(404, "")
        return text(200, jbytes(credentials_doc(st, "imds", fx, ("token", "region", "role", "role_name"))))
    if req.path == "/latest/meta-data/placement/region":
        return text(200, str(fx.get("region", st.region)))
    if req.path == "/latest/meta-data/placement/availability-zone":
        return text(200, str(fx.get("region", st.region)) + "a")
    return text(404, "")


# -- kube ---------------------------------------------------------------------

def kube_status(code: int, reason: str, message: str, details: dict | None = None) -> Response:
    st: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": message, "reason": reason}
    if details is not None:
        st["details"] = details
    st["code"] = code
    return Response(code, jbytes(st), [("Content-Type", "application/json"), ("Audit-Id", str(uuid.uuid4()))])


def kube_json(code: int, obj: Any) -> Response:
    return Response(code, jbytes(obj), [("Content-Type", "application/json"), ("Audit-Id", str(uuid.uuid4())),
                                        ("Cache-Control", "no-cache, private")])


def not_found(kind: str, name: str) -> Response:
    return kube_status(404, "NotFound", f'{kind} "{name}" not found', {"name": name, "kind": kind})


def kube_list(st: State, req: Request, kind: str, items: list[dict], fx: dict) -> Response:
    expr = req.q("fieldSelector")
    if expr:
        try:
            items = [o for o in items if field_selector_matches(expr, o)]
        except ValueError as e:
            return kube_status(400, "BadRequest", str(e))
    limit, cont = req.q("limit", "0") or "0", req.q("continue")
    try:
        limit_n = int(limit)
        start = json.loads(base64.urlsafe_b64decode(cont))["start"] if cont else 0
        if not isinstance(start, int) or start < 0 or limit_n < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return kube_status(400, "BadRequest", "continue key is not valid: hostile fake could not decode it")
    page = items[start:start + limit_n] if limit_n else items[start:]
    meta: dict[str, Any] = {"resourceVersion": str(st.rv)}
    if limit_n and start + limit_n < len(items):
        token = {"v": "meta.k8s.io/v1", "rv": st.rv, "start": start + limit_n}
        meta["continue"] = base64.urlsafe_b64encode(jbytes(token)).decode()
        meta["remainingItemCount"] = len(items) - start - limit_n
    items_out = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page]
    return kube_json(200, merge({"kind": kind + "List", "apiVersion": "v1", "metadata": meta,
                                 "items": items_out}, fx.get("list", {})))


def field_selector_matches(expr: str, obj: dict) -> bool:
    for term in filter(None, expr.split(",")):
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise ValueError(f"invalid selector: '{expr}'; can't understand '{term}'")
        key, op, want = m.group(1).strip(), m.group(2), m.group(3).strip()
        if key not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f"field label not supported: {key}")
        if (obj["metadata"].get(key.split(".", 1)[1]) == want) != (op != "!="):
            return False
    return True


def secret_problem(obj: dict, ns: str, name: str | None) -> Response | None:
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    if obj.get("kind", "Secret") != "Secret":
        return kube_status(400, "BadRequest", "the object provided is unrecognized (must be of type Secret)")
    if md.get("namespace") not in (None, "", ns):
        return kube_status(400, "BadRequest", "the namespace of the provided object does not match "
                                              "the namespace sent on the request")
    if not md.get("name"):
        return kube_status(422, "Invalid", "Secret \"\" is invalid: metadata.name: Required value: "
                                           "name or generateName is required",
                           {"kind": "Secret", "causes": [{"reason": "FieldValueRequired",
                                                          "message": "Required value", "field": "metadata.name"}]})
    if name is not None and md["name"] != name:
        return kube_status(400, "BadRequest", f"the name of the object ({md['name']}) does not match the name "
                                              f"on the URL ({name})")
    if not isinstance(obj.get("data") or {}, dict) or not isinstance(obj.get("stringData") or {}, dict):
        return kube_status(400, "BadRequest", 'Secret in version "v1" cannot be handled as a Secret: '
                                              'data and stringData must be objects')
    for k, v in (obj.get("data") or {}).items():
        try:
            base64.b64decode(v, validate=True)
        except (ValueError, TypeError):
            return kube_status(400, "BadRequest", 'Secret in version "v1" cannot be handled as a Secret: '
                                                  'illegal base64 data')
    if obj.get("type") == "kubernetes.io/dockerconfigjson":
        try:
            json.loads(base64.b64decode((obj.get("data") or {})[".dockerconfigjson"]))
        except (KeyError, ValueError):
            fld = "data[.dockerconfigjson]"
            return kube_status(422, "Invalid", f'Secret "{md["name"]}" is invalid: {fld}: Invalid value: '
                                               f'"<secret contents redacted>": not valid docker config JSON',
                               {"name": md["name"], "kind": "Secret",
                                "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value",
                                            "field": fld}]})
    return None


def store_secret(st: State, ns: str, obj: dict, old: dict | None) -> dict:
    obj = copy.deepcopy(obj)
    obj.update(kind="Secret", apiVersion="v1")
    obj.setdefault("type", "Opaque")
    data = dict(obj.get("data") or {})
    for k, v in (obj.pop("stringData", None) or {}).items():
        data[k] = b64(str(v).encode())
    if data:
        obj["data"] = data
    md = obj["metadata"]
    md["namespace"] = ns
    md["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
    md["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else utc_iso()
    md["resourceVersion"] = st.next_rv()
    st.secrets[(ns, md["name"])] = obj
    return obj


def kube_answer(st: State, req: Request, fx: dict) -> Response:
    if req.header("Authorization") != f"Bearer {st.kube_token}":
        return kube_status(401, "Unauthorized", "Unauthorized")
    path, m = req.path.rstrip("/") or "/", req.method
    if path == "/version" and m == "GET":
        minor = st.kube_version.lstrip("v").split(".")[1]
        return kube_json(200, {"major": "1", "minor": minor, "gitVersion": st.kube_version,
                               "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                               "goVersion": "go1.22.0", "compiler": "gc", "platform": "linux/amd64"})
    if path == "/api/v1/secrets" and m == "GET":
        with st.lock:
            items = [copy.deepcopy(st.secrets[k]) for k in sorted(st.secrets)]
        return kube_list(st, req, "Secret", items, fx)
    r = re.fullmatch(r"/api/v1/namespaces(?:/([^/]+)(?:/secrets(?:/([^/]+))?)?)?", path)
    if not r:
        return kube_status(404, "NotFound", "the server could not find the requested resource", {})
    ns, name = r.group(1), r.group(2)
    secrets_path = path.endswith("/secrets") or name is not None
    with st.lock:
        if ns is None:
            return namespaces_collection(st, req, fx)
        if not secrets_path:
            if m != "GET":
                return kube_status(405, "MethodNotAllowed", "the server does not allow this method on the "
                                                            "requested resource", {})
            obj = st.namespaces.get(ns)
            return kube_json(200, merge(obj, fx.get("namespace", {}))) if obj else not_found("namespaces", ns)
        if name is None:
            return secrets_collection(st, req, ns, fx)
        return secret_item(st, req, ns, name, fx)


def read_json_body(req: Request) -> tuple[dict | None, Response | None]:
    try:
        obj = json.loads(req.body)
        if isinstance(obj, dict):
            return obj, None
    except ValueError:
        pass
    return None, kube_status(400, "BadRequest", "the body of the request could not be decoded as a JSON object")


def namespaces_collection(st: State, req: Request, fx: dict) -> Response:
    if req.method == "GET":
        return kube_list(st, req, "Namespace", [copy.deepcopy(st.namespaces[k]) for k in sorted(st.namespaces)], fx)
    if req.method != "POST":
        return kube_status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                    "resource", {})
    obj, err = read_json_body(req)
    if err:
        return err
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        return kube_status(422, "Invalid", 'Namespace "" is invalid: metadata.name: Required value')
    if name in st.namespaces:
        return kube_status(409, "AlreadyExists", f'namespaces "{name}" already exists',
                           {"name": name, "kind": "namespaces"})
    st.namespaces[name] = st.namespace_obj(name)
    return kube_json(201, st.namespaces[name])


def secrets_collection(st: State, req: Request, ns: str, fx: dict) -> Response:
    if req.method == "GET":
        items = [copy.deepcopy(o) for (n, _), o in sorted(st.secrets.items()) if n == ns]
        return kube_list(st, req, "Secret", items, fx)
    if req.method != "POST":
        return kube_status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                    "resource", {})
    obj, err = read_json_body(req)
    if err or (err := secret_problem(obj, ns, None)):
        return err
    name = obj["metadata"]["name"]
    if ns not in st.namespaces:
        return not_found("namespaces", ns)
    if (ns, name) in st.secrets:
        return kube_status(409, "AlreadyExists", f'secrets "{name}" already exists', {"name": name, "kind": "secrets"})
    return kube_json(201, store_secret(st, ns, obj, None))


def secret_item(st: State, req: Request, ns: str, name: str, fx: dict) -> Response:
    old = st.secrets.get((ns, name))
    if req.method == "GET":
        if old is None and "object" not in fx:
            return not_found("secrets", name)
        base = old or {"kind": "Secret", "apiVersion": "v1", "type": "kubernetes.io/dockerconfigjson", "data": {},
                       "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                                    "resourceVersion": str(st.rv), "creationTimestamp": utc_iso(-86400)}}
        return kube_json(200, merge(base, fx.get("object", {})))
    if req.method != "PUT":
        return kube_status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                    "resource", {})
    obj, err = read_json_body(req)
    if err or (err := secret_problem(obj, ns, name)):
        return err
    if old is None:
        return not_found("secrets", name)
    rv = obj["metadata"].get("resourceVersion")
    if rv not in (None, "") and rv != old["metadata"]["resourceVersion"]:
        return kube_status(409, "Conflict", f'Operation cannot be fulfilled on secrets "{name}": the object has '
                                            'been modified; please apply your changes to the latest version and '
                                            'try again', {"name": name, "kind": "secrets"})
    return kube_json(200, store_secret(st, ns, obj, old))


def unknown_answer(st: State, req: Request, fx: dict) -> Response:
    return text(404, "hostile fake: no role serves this request\n")


ROLE_ANSWERS: dict[str, Callable[[State, Request, dict], Response]] = {
    "ecr": ecr_answer, "ecr-public": lambda st, req, fx: ecr_answer(st, req, fx, public=True),
    "sts": sts_answer, "container": container_answer, "imds": imds_answer, "kube": kube_answer,
    "unknown": unknown_answer}


def route(req: Request) -> str:
    target = req.header("X-Amz-Target") or ""
    if target.startswith(ECR_PUBLIC_PREFIX):
        return "ecr-public"
    if target.startswith(ECR_PREFIX):
        return "ecr"
    ctype = (req.header("Content-Type") or "").lower()
    if "x-www-form-urlencoded" in ctype or req.body.startswith(b"Action=") or "Action=" in req.query:
        form = urllib.parse.parse_qs(req.query + "&" + req.body.decode("latin-1"), keep_blank_values=True)
        req.form = {k: v[0] for k, v in form.items()}
        if "Action" in req.form:
            return "sts"
    if req.path.startswith(("/v1/credentials", "/v2/credentials")):
        return "container"
    if req.path.startswith("/latest/"):
        return "imds"
    if req.listener == "https" or re.match(r"/(api|apis|version|healthz|livez|readyz)(/|$)", req.path):
        return "kube"
    return "unknown"


# ---------------------------------------------------------------------------
# Misbehaviour modes.  Each sends (or withholds) the answer and says whether
# the connection may be kept alive.
# ---------------------------------------------------------------------------

def throttle_answer(role: str, status: int, retry_after: str) -> Response:
    if role in ("ecr", "ecr-public"):
        return aws_json_error(status, "ThrottlingException" if status == 429 else "ServerException", "Rate exceeded")
    if role == "sts":
        return sts_error(status, "Throttling" if status == 429 else "ServiceUnavailable", "Rate exceeded")
    if role == "kube":
        details = {"retryAfterSeconds": int(retry_after)} if retry_after.isdigit() else {}
        if status == 429:
            return kube_status(429, "TooManyRequests", "Too many requests, please try again later.", details)
        return kube_status(status, "ServiceUnavailable", "the server is currently unable to handle the request",
                           details)
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Hostile"
    return text(status, phrase + "\n")


class Modes:
    """Mode implementations; `h` is the connection handler, `p` the rule's params."""

    @staticmethod
    def fields(h: "Conn", req: Request, p: dict) -> bool:
        fx = {k: v for k, v in p.items() if k not in ("fields", "apply")}
        fx.update(p.get("fields") or {})
        return h.send(req, h.natural(req, fx))

    @staticmethod
    def raw(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        body = base64.b64decode(p["body_b64"]) if "body_b64" in p else enc(p.get("body", ""))
        headers = [(n, v) for n, v in p.get("headers", [])]
        if "content_type" in p:
            headers.insert(0, ("Content-Type", p["content_type"]))
        framed = any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers)
        if not framed:
            headers.append(("Content-Length", str(len(body))))
        h.write_head(int(p.get("status", 200)), headers, p.get("reason"))
        h.write(body)
        return not p.get("close", framed)

    @staticmethod
    def generate(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        length, chunks, ctype = GENERATORS[p.get("generator", "json_tiny_objects")](req.role, p)
        headers = [("Content-Type", p.get("content_type", ctype))]
        chunked = bool(p.get("chunked"))
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(length)))
        h.write_head(int(p.get("status", 200)), headers)
        for piece in chunks:
            if piece:
                h.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            h.write(b"0\r\n\r\n")
        return not req.wants_close

    @staticmethod
    def drip(h: "Conn", req: Request, p: dict) -> bool:
        ev, resp = h.st.epoch, h.natural(req, p.get("fields") or {})
        body = resp.body
        if "bytes" in p:  # truncate, or pad with spaces (still valid JSON) to the asked length
            n = int(p["bytes"])
            body = body[:n] + b" " * max(0, n - len(body))
        h.write_head(resp.status, h.std_headers(req, resp, len(body)), resp.reason)
        interval = float(p.get("interval_ms", 1000)) / 1000
        for i in range(len(body)):
            h.write(body[i:i + 1])
            if i + 1 < len(body) and ev.wait(interval):
                return False  # reset: give up on this connection
        return not req.wants_close

    @staticmethod
    def stall(h: "Conn", req: Request, p: dict) -> bool:
        ev = h.st.epoch
        if p.get("after_headers"):
            resp = h.natural(req, p.get("fields") or {})
            h.write_head(resp.status, h.std_headers(req, resp, len(resp.body)), resp.reason)
        else:
            h.maybe_apply(req, p)
        ev.wait(float(p.get("seconds", 3600)))
        return False

    @staticmethod
    def retry_after(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        ra = str(p.get("seconds", 86400))
        resp = throttle_answer(req.role, int(p.get("status", 429)), ra)
        resp.headers.append(("Retry-After", ra))
        return h.send(req, resp)

    @staticmethod
    def huge_header(h: "Conn", req: Request, p: dict) -> bool:
        resp = h.natural(req, p.get("fields") or {})
        name = p.get("name", "X-Hostile-Padding")
        if "many" in p:
            resp.headers += [(f"{name}-{i}", "v" * int(p.get("bytes", 8))) for i in range(int(p["many"]))]
        else:
            resp.headers.append((name, "a" * int(p.get("bytes", 200000))))
        return h.send(req, resp)

    @staticmethod
    def redirect(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        loc = p.get("location") or \
            f"{p.get('scheme', 'http')}://{h.st.canary_host}:{h.st.ports['canary']}{req.target}"
        resp = Response(int(p.get("status", 302)), b"redirected by the hostile fake\n",
                        [("Location", loc), ("Content-Type", "text/plain")])
        return h.send(req, resp)

    @staticmethod
    def close(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        h.abort(rst=False)
        return False

    @staticmethod
    def reset(h: "Conn", req: Request, p: dict) -> bool:
        h.maybe_apply(req, p)
        h.abort(rst=True)
        return False

    @staticmethod
    def slow_headers(h: "Conn", req: Request, p: dict) -> bool:
        ev, resp = h.st.epoch, h.natural(req, p.get("fields") or {})
        interval = float(p.get("interval_ms", 1000)) / 1000
        lines = [(f"X-Hostile-Slow-{i}", str(i)) for i in range(int(p.get("lines", 10)))]
        h.write_head(resp.status, [], resp.reason, end=False)
        for n, v in lines + h.std_headers(req, resp, len(resp.body)):
            if ev.wait(interval):
                return False
            h.write(enc(n) + b": " + enc(v) + b"\r\n")
        if ev.wait(interval):
            return False
        h.write(b"\r\n" + (resp.body if req.method != "HEAD" else b""))
        return not req.wants_close


# -- generators for mode "generate": (length, iterator of byte pieces, content type)

BLOCK = 1 << 16


def default_key(role: str) -> str | None:
    return {"ecr": "authorizationData", "ecr-public": "authorizationData", "kube": "items",
            "container": "Token", "imds": "Token"}.get(role)


def wrap(role: str, p: dict) -> tuple[bytes, bytes]:
    key = p.get("key", default_key(role))
    if key is None:
        return b"", b""
    lead = b'{"kind":"SecretList","apiVersion":"v1","metadata":{},' if role == "kube" and key == "items" else b"{"
    return lead + jbytes(str(key)) + b":", b"}"


def repeated(prefix: bytes, unit: bytes, n: int, suffix: bytes) -> tuple[int, Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        yield prefix
        per = max(1, BLOCK // max(1, len(unit)))
        block, left = unit * per, n
        while left >= per:
            yield block
            left -= per
        yield unit * left
        yield suffix
    return len(prefix) + n * len(unit) + len(suffix), pieces()


def gen_tiny_objects(role: str, p: dict) -> tuple[int, Iterator[bytes], str]:
    pre, post = wrap(role, p)
    elem = enc(p.get("element", "{}"))
    pre, post = pre + b"[" + elem, b"]" + post
    n = max(0, (int(p.get("bytes", 1 << 20)) - len(pre) - len(post)) // (len(elem) + 1))
    return (*repeated(pre, b"," + elem, n, post), "application/json")


def gen_deep(role: str, p: dict) -> tuple[int, Iterator[bytes], str]:
    pre, post = wrap(role, p)
    d = int(p.get("depth", 100000))
    n1, opening = repeated(pre, b"[", d, b"")
    n2, closing = repeated(b"", b"]", d, post)
    return n1 + n2, itertools.chain(opening, closing), "application/json"


def gen_long_string(role: str, p: dict) -> tuple[int, Iterator[bytes], str]:
    pre, post = wrap(role, p)
    return (*repeated(pre + b'"', enc(p.get("char", "A"))[:1] or b"A", int(p.get("bytes", 1 << 20)), b'"' + post),
            "application/json")


def gen_html(role: str, p: dict) -> tuple[int, Iterator[bytes], str]:
    pre = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>\n<h1>Bad Gateway</h1>\n"
    post, unit = b"</body></html>\n", b"<p>hostile fake</p>\n"
    n = max(0, (int(p.get("bytes", 2048)) - len(pre) - len(post)) // len(unit))
    return (*repeated(pre, unit, n, post), "text/html; charset=utf-8")


GENERATORS = {"json_tiny_objects": gen_tiny_objects, "json_deep": gen_deep, "json_long_string": gen_long_string,
              "html": gen_html}


# ---------------------------------------------------------------------------
# Connections: a small HTTP/1.1 server of its own, so every byte in and out
# is under the test's control (raw heads, exact headers, drip, RST).
# ---------------------------------------------------------------------------

class BadRequest(Exception):
    pass


class Conn(socketserver.BaseRequestHandler):
    server: "Server"

    def setup(self) -> None:
        self.st: State = self.server.st
        self.sock = self.request
        self.conn_id = next(self.st.conn_ids)
        self.entry: dict | None = None
        self.ok, self.sni = True, None
        if self.server.tls:
            try:  # the handshake runs in this connection's thread, never in the accept loop
                self.sock.settimeout(15)
                self.sock.do_handshake()
                self.sni = getattr(self.sock, "hostile_sni", None)
            except (OSError, ssl.SSLError) as e:
                log(f"conn={self.conn_id} TLS handshake failed: {e}")
                self.ok = False
        self.sock.settimeout(IDLE_TIMEOUT)
        self.rfile = self.sock.makefile("rb")

    def handle(self) -> None:
        try:
            while self.ok:
                req = self.read_request()
                if req is None or not self.serve(req):
                    break
        except BadRequest as e:
            self.try_send_plain(400, str(e))
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away, timed out, or sent garbage: nothing to answer

    def finish(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass

    # -- reading ----------------------------------------------------------------

    def read_request(self) -> Request | None:
        raw = bytearray()
        while True:
            line = self.rfile.readline(MAX_HEAD + 1)
            if not line:
                return None
            if not raw and line in (b"\r\n", b"\n"):
                continue  # RFC 9112 2.2: ignore empty lines before a request line
            raw += line
            if len(raw) > MAX_HEAD:
                self.try_send_plain(431, "request head too large")
                return None
            if line in (b"\r\n", b"\n"):
                break
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in bytes(raw).split(b"\n")]
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise BadRequest("malformed request line")
        headers: list = []
        for ln in lines[1:]:
            if ln:  # a header line is split at its first colon; a line without one keeps value null
                name, sep, value = ln.partition(b":")
                headers.append([name.decode("latin-1"), value.strip(b" \t").decode("latin-1") if sep else None])
        req = Request(self.conn_id, "https" if self.server.tls else "http", parts[0].decode("latin-1"),
                      parts[1].decode("latin-1"), parts[2].decode("latin-1"), headers, bytes(raw))
        req.body = self.read_body(req)
        return req

    def read_body(self, req: Request) -> bytes:
        te, cl = (req.header("Transfer-Encoding") or "").lower(), req.header("Content-Length")
        if "100-continue" in (req.header("Expect") or "").lower() and (te or (cl and cl != "0")):
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in te:
            out = bytearray()
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("bad chunk size") from None
                if size == 0:
                    while self.rfile.readline(MAX_HEAD) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise BadRequest("body too large")
                out += self.read_exact(size)
                self.rfile.readline(3)
        if cl is None:
            return b""
        if not cl.strip().isdigit() or int(cl) > MAX_BODY:
            raise BadRequest("bad Content-Length")
        return self.read_exact(int(cl))

    def read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ConnectionError("client closed inside the body")
        return data

    # -- serving ----------------------------------------------------------------

    def serve(self, req: Request) -> bool:
        if req.listener == "http" and req.path.startswith("/_hostile/"):
            self.entry = None  # admin calls are not logged
            return self.admin(req)
        req.role = route(req)
        self.entry = self.st.log_request(req, self.sni)
        rule = self.st.take_rule(req)
        keep = False
        try:
            if rule is None:
                keep = self.send(req, self.natural(req, {}))
            else:
                self.entry["mode"], self.entry["rule"] = rule["mode"], rule["id"]
                keep = getattr(Modes, rule["mode"])(self, req, rule["params"])
        finally:
            if self.entry["status"] is None:
                self.entry["status"] = 0  # no answer was sent
            log(f"conn={self.conn_id} {req.role} {req.method} {req.path} -> {self.entry['status']}"
                + (f" mode={rule['mode']}" if rule else ""))
        return keep and not req.wants_close

    def natural(self, req: Request, fx: dict) -> Response:
        """The correct answer for this request's role (with side effects), modified by `fx`."""
        try:
            resp = ROLE_ANSWERS[req.role](self.st, req, fx)
        except Exception:  # a bug in the fake: say so loudly, answer 500
            log(f"conn={self.conn_id} internal error:\n{traceback.format_exc()}")
            return text(500, "hostile fake internal error\n")
        if "status" in fx:
            resp.status = int(fx["status"])
        if "content_type" in fx:
            resp.headers = [(n, v) for n, v in resp.headers if n.lower() != "content-type"]
            resp.headers.insert(0, ("Content-Type", fx["content_type"]))
        resp.headers += [(n, v) for n, v in fx.get("headers", [])]
        return resp

    def maybe_apply(self, req: Request, p: dict) -> None:
        # Modes that send no natural answer skip its side effects unless asked ("apply": true).
        if p.get("apply"):
            self.natural(req, p.get("fields") or {})

    # -- writing ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if data:
            self.sock.sendall(data)

    def write_head(self, status: int, headers: list, reason: str | None = None, end: bool = True) -> None:
        if reason is None:
            try:
                reason = http.HTTPStatus(status).phrase
            except ValueError:
                reason = "Hostile"
        out = bytearray(b"HTTP/1.1 %d %s\r\n" % (status, enc(reason)))
        for n, v in headers:
            out += enc(n) + b": " + enc(v) + b"\r\n"
        if end:
            out += b"\r\n"
        if self.entry is not None:
            self.entry["status"] = status
        self.write(bytes(out))

    def std_headers(self, req: Request, resp: Response, length: int) -> list:
        h = [("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())), *resp.headers,
             ("Content-Length", str(length))]
        return h + ([("Connection", "close")] if req.wants_close else [])

    def send(self, req: Request, resp: Response) -> bool:
        self.write_head(resp.status, self.std_headers(req, resp, len(resp.body)), resp.reason)
        if req.method != "HEAD":
            self.write(resp.body)
        return not req.wants_close

    def send_json(self, req: Request, status: int, obj: Any) -> bool:
        return self.send(req, Response(status, jbytes(obj) + b"\n", [("Content-Type", "application/json")]))

    def try_send_plain(self, status: int, msg: str) -> None:
        self.entry = None  # a protocol error belongs to no logged request
        try:
            body = enc(msg + "\n")
            self.write_head(status, [("Content-Length", str(len(body))), ("Connection", "close")])
            self.write(body)
        except OSError:
            pass

    def abort(self, rst: bool) -> None:
        if rst:  # SO_LINGER {on, 0}: close() sends a TCP RST instead of a FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.rfile.close()  # the makefile() reference would otherwise keep the descriptor open
        self.sock.close()

    # -- admin API ----------------------------------------------------------------

    def admin(self, req: Request) -> bool:
        if req.header("X-Hostile-Admin") != self.st.admin_token:
            return self.send_json(req, 403, {"error": "admin calls need the X-Hostile-Admin header"})
        try:
            return self.admin_route(req)
        except ValueError as e:
            return self.send_json(req, 400, {"error": str(e)})

    def admin_route(self, req: Request) -> bool:
        st, what, m = self.st, req.path[len("/_hostile/"):].rstrip("/"), req.method
        body = json.loads(req.body) if req.body else None
        if what == "config" and m == "POST":
            return self.send_json(req, 200, {"rules": st.add_rules(body if isinstance(body, list) else [body])})
        if what == "config" and m in ("GET", "DELETE"):
            with st.lock:
                rules = copy.deepcopy(st.rules)
                if m == "DELETE":
                    st.rules.clear()
            return self.send_json(req, 200, {"rules": rules})
        if what == "reset" and m == "POST":
            st.reset()
            return self.send_json(req, 200, {"reset": True})
        if what == "requests" and m in ("GET", "DELETE"):
            flt = {k: req.q(k) for k in ("role", "method", "listener") if req.q(k)}
            with st.lock:
                out = [copy.deepcopy(e) for e in st.requests if all(str(e[k]) == v for k, v in flt.items())]
                if m == "DELETE":
                    st.requests.clear()
            return self.send_json(req, 200, out)
        if what == "canary" and m == "GET":
            with st.lock:
                return self.send_json(req, 200, [dict(e) for e in st.canary])
        if what == "state" and m == "GET":
            return self.send_json(req, 200, st.describe())
        if what == "kube/objects" and m == "GET":
            with st.lock:
                return self.send_json(req, 200, {"secrets": [st.secrets[k] for k in sorted(st.secrets)],
                                                 "namespaces": [st.namespaces[k] for k in sorted(st.namespaces)]})
        if what == "kube/objects" and m == "POST":
            return self.send_json(req, 200, seed_object(st, body))
        return self.send_json(req, 404, {"error": f"no admin call {m} /_hostile/{what}"})


def seed_object(st: State, obj: Any) -> dict:
    """Store a Secret or Namespace directly (no auth, no rules, light validation)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        raise ValueError("seed a JSON object with metadata.name")
    with st.lock:
        if obj.get("kind") == "Namespace":
            st.namespaces[obj["metadata"]["name"]] = merge(st.namespace_obj(obj["metadata"]["name"]), obj)
            return st.namespaces[obj["metadata"]["name"]]
        if obj.get("kind", "Secret") != "Secret":
            raise ValueError("only Secret and Namespace objects can be seeded")
        ns = obj["metadata"].get("namespace", "default")
        st.namespaces.setdefault(ns, st.namespace_obj(ns))
        return store_secret(st, ns, obj, st.secrets.get((ns, obj["metadata"]["name"])))


# ---------------------------------------------------------------------------
# Canary: record every connection attempt, plain or TLS, then answer 404
# ---------------------------------------------------------------------------

class CanaryConn(socketserver.BaseRequestHandler):
    server: "Server"

    def handle(self) -> None:
        st, sock = self.server.st, self.request
        peer = self.client_address
        entry = st.add_canary({"id": 0, "time": time.time(), "peer": f"{peer[0]}:{peer[1]}", "tls": False,
                               "sni": None, "tls_error": None, "bytes_received": 0, "data_b64": "",
                               "request_line": None, "closed": False})
        data = bytearray()
        try:
            sock.settimeout(3)
            if sock.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS handshake record
                entry["tls"] = True
                sock = self.server.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                try:
                    sock.do_handshake()
                finally:
                    entry["sni"] = getattr(sock, "hostile_sni", None)
            while b"\r\n\r\n" not in data and len(data) < CANARY_CAP:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                self.record(entry, data)
            head, _, rest = bytes(data).partition(b"\r\n\r\n")
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
            while m and len(rest) < min(int(m.group(1)), CANARY_CAP):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
                data += chunk
                self.record(entry, data)
            if data:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n"
                             b"Connection: close\r\n\r\nhostile fake canary: go away\n")
        except ssl.SSLError as e:
            entry["tls_error"] = str(e)
        except OSError:
            pass
        finally:
            entry["closed"] = True
            try:
                sock.close()
            except OSError:
                pass

    @staticmethod
    def record(entry: dict, data: bytearray) -> None:
        entry["bytes_received"] = len(data)
        entry["data_b64"] = b64(bytes(data[:CANARY_CAP]))
        if b"\r\n" in data and entry["request_line"] is None:
            entry["request_line"] = bytes(data).split(b"\r\n", 1)[0][:8192].decode("latin-1")


# ---------------------------------------------------------------------------
# Servers and main
# ---------------------------------------------------------------------------

class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple, handler: type, tls: ssl.SSLContext | None = None, wrap_tls: bool = True):
        self.tls, self.wrap_tls = tls, wrap_tls
        self.st: State = None  # type: ignore[assignment]  # set before serving
        super().__init__(addr, handler)

    def get_request(self) -> tuple:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None and self.wrap_tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log(f"unexpected error from {client_address}:\n{traceback.format_exc()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="HOSTILE FAKE AWS + Kubernetes server for tests (loopback only).")
    ap.add_argument("--state-dir", required=True, help="where ca.crt, server.crt/key and state.json are written")
    ap.add_argument("--config", help="JSON: admin_token, kube_token, namespaces, account, region, kube_version, "
                                     "container_token, imds_role")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--http-port", type=int, default=0)
    ap.add_argument("--https-port", type=int, default=0)
    ap.add_argument("--canary-host", default="127.0.0.2")
    ap.add_argument("--canary-port", type=int, default=0)
    ap.add_argument("--san", action="append", default=[], help="extra SAN for the serving certificate")
    args = ap.parse_args(argv)
    for host in (args.bind, args.canary_host):
        if not ipaddress.ip_address(host).is_loopback:
            ap.error(f"{host} is not a loopback address; this fake never listens elsewhere")
    cfg: dict = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            cfg = json.load(f)
    os.makedirs(args.state_dir, exist_ok=True)
    sans = ["127.0.0.1", args.canary_host, "::1", "localhost", "kubernetes", "kubernetes.default.svc"] + args.san
    ca_path, cert_path, key_path = make_pki(args.state_dir, sans)
    ctx = tls_context(cert_path, key_path)
    servers = {"http": Server((args.bind, args.http_port), Conn),
               "https": Server((args.bind, args.https_port), Conn, ctx),
               "canary": Server((args.canary_host, args.canary_port), CanaryConn, ctx, wrap_tls=False)}
    ports = {name: s.server_address[1] for name, s in servers.items()}
    ports["canary_host"] = args.canary_host
    st = State(cfg, ports, ca_path, args.state_dir)
    for s in servers.values():
        s.st = st
    path = os.path.join(args.state_dir, "state.json")
    _write(path, json.dumps(st.describe(), indent=1).encode(), private=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for name, s in servers.items():
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True).start()
    log(f"listening: http=127.0.0.1:{ports['http']} https=127.0.0.1:{ports['https']} "
        f"canary={args.canary_host}:{ports['canary']}")
    print(f"READY http={ports['http']} https={ports['https']} canary={ports['canary']}", flush=True)
    sys.stdout = sys.stderr  # nobody reads stdout after READY
    while not stop.wait(0.5):
        pass
    for s in servers.values():
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
