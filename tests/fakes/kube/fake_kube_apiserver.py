#!/usr/bin/env python3
"""FAKE kube-apiserver for tests.  Not a Kubernetes API server.

A single-process, in-memory stand-in for kube-apiserver that speaks the wire
format closely enough for real clients (kubectl 1.27-1.33, libcurl-based code
such as ecr-renew) to be exercised against it: HTTPS + HTTP/1.1 keep-alive,
bearer-token and client-certificate authentication, a simplified RBAC, JSON
discovery, a generic object store with resourceVersion/uid semantics, the
validation rules a pull-secret writer runs into, kube-shaped Status errors,
watch, and an admin API under /_fake/ for fault injection and introspection.

Run `fake_kube_apiserver.py --help`; the config format is described at
`load_config` and in README.md beside this file.

Only the Python 3.11 standard library plus `cryptography` and PyYAML are used.

Known deviations from a real kube-apiserver (a client could notice these):
- Wire: JSON (and YAML request bodies) only.  A protobuf or CBOR body gets 415;
  an Accept that allows only protobuf gets 406.  HTTP/1.1 only (ALPN offers no h2).
- Client certificates are checked during the TLS handshake (Python ssl), so an
  untrusted or expired certificate fails the handshake.  kube-apiserver uses
  RequestClientCert and answers 401 instead.  One CA signs both the serving
  and the client certificates.
- Requests without credentials get 401 unless "anonymous": true is set;
  kube-apiserver's default is anonymous-auth=true, which gives a 403 as
  system:anonymous.
- Authorization: simplified config rules plus the stored RBAC objects.  Not
  modelled: aggregated ClusterRoles, the built-in ClusterRoles (cluster-admin,
  edit, view, ...) unless they are seeded, nonResourceURLs rules, the
  escalate and bind checks, and impersonation.  Forbidden messages never carry
  an "RBAC: ..." reason suffix.
- Discovery is the legacy, unaggregated kind (kubectl falls back to it) and
  lists only the kinds in KINDS.  OpenAPI v2 and v3 describe only the PATCH
  operations and their query parameters, which is enough for kubectl's
  field-validation probe.  There are no schemas, so `kubectl explain` fails.
- fieldValidation is accepted and ignored: unknown or ill-typed fields are
  stored and returned, not rejected (Strict) or pruned.
- Strategic merge patch uses merge keys looked up by field name (containers
  by name, env by name, ports by containerPort or port, ...), not by Go
  struct tags.  apply-patch+yaml (server-side apply) is a strategic merge
  into the live object: field ownership, apply conflicts and the removal of
  fields dropped from the applied config are not modelled, and managedFields
  entries are simplified.
- Nothing runs: Jobs, CronJobs and Deployments never progress, and their
  status changes only through /status.  Deletion is immediate: finalizers,
  grace periods, propagationPolicy and garbage collection are ignored.  The
  exception is namespaces, which go Terminating and are emptied and removed
  after namespaceTerminationSeconds (0 by default).
- Defaulting and validation cover what pull-secret, RBAC and CronJob
  manifests exercise (see validate_* and default_*), not the full API.  Go's
  JSON error texts are reproduced for common syntax errors only.
- Watch: ?watch=true with a 5000-event replay buffer (410 Expired when the
  resourceVersion is older than that), no bookmarks, no legacy /watch/
  paths.  Lists ignore resourceVersion and resourceVersionMatch, and continue
  tokens never expire.
- No admission webhooks, quota, Pod Security, audit, TokenReview or
  SelfSubjectRulesReview.  SelfSubjectAccessReview (`kubectl auth can-i`) works.
- A conflict fault with bumpResourceVersion really writes the object: it
  sets the annotation fake-kube-apiserver/concurrent-write.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import hashlib
import http.server
import ipaddress
import itertools
import json
import os
import random
import re
import select
import socket
import socketserver
import ssl
import string
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FAKE_BANNER = "fake-kube-apiserver"
DEFAULT_VERSION = "v1.31.4"


def log(msg: str) -> None:
    # stderr only; the harness redirects it to a file.  Never pass secrets here.
    sys.stderr.write(f"{dt.datetime.now().isoformat(timespec='milliseconds')} {msg}\n")
    sys.stderr.flush()


def now_rfc3339() -> str:
    # kube serialises metav1.Time at second precision, UTC, with a Z.
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s: str) -> float:
    try:
        return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return time.time()


# ---------------------------------------------------------------------------
# Status errors, shaped exactly like k8s.io/apimachinery/pkg/api/errors
# ---------------------------------------------------------------------------

class ApiError(Exception):
    """An error that becomes a metav1.Status body with the matching HTTP code."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict:
        st: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": self.message}
        if self.reason:  # StatusReasonUnknown ("") is omitted by omitempty
            st["reason"] = self.reason
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def _details(res: "Kind | None", name: str = "", kind_field: str | None = None, **extra) -> dict:
    # kube puts the *resource* (plural) into details.kind for most errors,
    # the Kind only for Invalid.  Empty fields are omitted (omitempty).
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if res is not None and res.group:
        d["group"] = res.group
    k = kind_field if kind_field is not None else (res.resource if res else "")
    if k:
        d["kind"] = k
    d.update(extra)
    return d


def err_not_found(res: "Kind", name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def err_ns_not_found(ns: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})


def err_already_exists(res: "Kind", name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name))


def err_conflict(res: "Kind", name: str, why: str = "the object has been modified; please apply your changes "
                 "to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}',
                    _details(res, name))


def err_bad_request(msg: str) -> ApiError:
    return ApiError(400, "BadRequest", msg, None)


def err_resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def err_method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def err_internal(msg: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {msg}", {"causes": [{"message": msg}]})


class FieldError:
    """field.Error from k8s.io/apimachinery/pkg/util/validation/field."""

    TYPES = {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired",
             "Forbidden": "FieldValueForbidden", "NotSupported": "FieldValueNotSupported",
             "Duplicate": "FieldValueDuplicate", "TooLong": "FieldValueTooLong"}
    LABELS = {"Invalid": "Invalid value", "Required": "Required value", "Forbidden": "Forbidden",
              "NotSupported": "Unsupported value", "Duplicate": "Duplicate value", "TooLong": "Too long"}

    def __init__(self, etype: str, fld: str, value: Any = None, detail: str = ""):
        self.etype, self.field, self.value, self.detail = etype, fld, value, detail

    def body(self) -> str:
        label = self.LABELS[self.etype]
        if self.etype in ("Required", "Forbidden", "TooLong"):
            s = label
        else:
            s = f"{label}: {go_value(self.value)}"
        if self.detail:
            s += f": {self.detail}"
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def go_value(v: Any) -> str:
    """Render a bad value the way field.Error does (%q for strings, %v for numbers)."""
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if v is None:
        return "null"
    return json.dumps(v, separators=(",", ":"))


def go_quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def err_invalid(res: "Kind", name: str, errs: list[FieldError]) -> ApiError:
    causes = [{"reason": FieldError.TYPES[e.etype], "message": e.body(), "field": e.field} for e in errs]
    if len(errs) == 1:
        agg = str(errs[0])
    else:
        agg = "[" + ", ".join(str(e) for e in errs) + "]"
    gk = res.kind + (f".{res.group}" if res.group else "")
    details = {}
    if name:
        details["name"] = name
    if res.group:
        details["group"] = res.group
    details["kind"] = res.kind
    details["causes"] = causes
    return ApiError(422, "Invalid", f'{gk} "{name}" is invalid: {agg}', details)


# ---------------------------------------------------------------------------
# Go encoding/json syntax errors.  The API server quotes these verbatim in the
# 422 for an unparsable .dockerconfigjson, so clients may see them.
# ---------------------------------------------------------------------------

def _go_quote_char(c: int) -> str:
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    ch = chr(c)
    q = go_quote(ch)
    if 0x80 <= c:
        q = '"' + ch + '"'
    return "'" + q[1:-1] + "'"


class _GoJSONError(Exception):
    pass


def go_json_unmarshal_error(data: bytes, target: str = "map[string]interface {}") -> str | None:
    """Return Go's json.Unmarshal error text for `data` into a map, or None."""
    n = len(data)
    i = 0

    def ws(j):
        while j < n and data[j] in b" \t\r\n":
            j += 1
        return j

    def bad(j, ctx):
        if j >= n:
            raise _GoJSONError("unexpected end of JSON input")
        raise _GoJSONError(f"invalid character {_go_quote_char(data[j])} {ctx}")

    def value(j):
        j = ws(j)
        if j >= n:
            raise _GoJSONError("unexpected end of JSON input")
        c = data[j]
        if c == ord("{"):
            j = ws(j + 1)
            if j < n and data[j] == ord("}"):
                return j + 1
            while True:
                j = ws(j)
                if j >= n or data[j] != ord('"'):
                    bad(j, "looking for beginning of object key string")
                j = strlit(j)
                j = ws(j)
                if j >= n or data[j] != ord(":"):
                    bad(j, "after object key")
                j = value(j + 1)
                j = ws(j)
                if j < n and data[j] == ord(","):
                    j += 1
                    continue
                if j < n and data[j] == ord("}"):
                    return j + 1
                bad(j, "after object key:value pair")
        if c == ord("["):
            j = ws(j + 1)
            if j < n and data[j] == ord("]"):
                return j + 1
            while True:
                j = value(j)
                j = ws(j)
                if j < n and data[j] == ord(","):
                    j += 1
                    continue
                if j < n and data[j] == ord("]"):
                    return j + 1
                bad(j, "after array element")
        if c == ord('"'):
            return strlit(j)
        if c == ord("-") or ord("0") <= c <= ord("9"):
            return number(j)
        for lit in (b"true", b"false", b"null"):
            if c == lit[0]:
                for k in range(1, len(lit)):
                    if j + k >= n:
                        raise _GoJSONError("unexpected end of JSON input")
                    if data[j + k] != lit[k]:
                        raise _GoJSONError(f"invalid character {_go_quote_char(data[j + k])} in literal "
                                           f"{lit.decode()} (expecting {_go_quote_char(lit[k])})")
                return j + len(lit)
        bad(j, "looking for beginning of value")

    def strlit(j):
        j += 1
        while j < n:
            c = data[j]
            if c == ord('"'):
                return j + 1
            if c == ord("\\"):
                j += 1
                if j >= n:
                    break
                e = data[j]
                if e in b'"\\/bfnrt':
                    j += 1
                    continue
                if e == ord("u"):
                    for k in range(1, 5):
                        if j + k >= n:
                            raise _GoJSONError("unexpected end of JSON input")
                        if chr(data[j + k]) not in string.hexdigits:
                            raise _GoJSONError(f"invalid character {_go_quote_char(data[j + k])} "
                                               "in \\u hexadecimal character escape")
                    j += 5
                    continue
                raise _GoJSONError(f"invalid character {_go_quote_char(e)} in string escape code")
            if c < 0x20:
                raise _GoJSONError(f"invalid character {_go_quote_char(c)} in string literal")
            j += 1
        raise _GoJSONError("unexpected end of JSON input")

    def digits(j):
        k = j
        while k < n and ord("0") <= data[k] <= ord("9"):
            k += 1
        return k

    def number(j):
        if data[j] == ord("-"):
            j += 1
            if j >= n:
                raise _GoJSONError("unexpected end of JSON input")
            if not (ord("0") <= data[j] <= ord("9")):
                bad(j, "in numeric literal")
        if data[j] == ord("0"):
            j += 1
        else:
            j = digits(j)
        if j < n and data[j] == ord("."):
            j += 1
            if j >= n:
                raise _GoJSONError("unexpected end of JSON input")
            if not (ord("0") <= data[j] <= ord("9")):
                bad(j, "after decimal point in numeric literal")
            j = digits(j)
        if j < n and data[j] in b"eE":
            j += 1
            if j < n and data[j] in b"+-":
                j += 1
            if j >= n:
                raise _GoJSONError("unexpected end of JSON input")
            if not (ord("0") <= data[j] <= ord("9")):
                bad(j, "in exponent of numeric literal")
            j = digits(j)
        return j

    try:
        end = ws(value(i))
        if end < n:
            bad(end, "after top-level value")
    except _GoJSONError as e:
        return str(e)
    except RecursionError:
        return "exceeded max depth"
    # Syntactically valid: Unmarshal into a map rejects non-objects (null is fine).
    first = data[ws(0)]
    kinds = {ord("["): "array", ord('"'): "string", ord("t"): "bool", ord("f"): "bool"}
    if first == ord("{") or first == ord("n"):
        return None
    return f"json: cannot unmarshal {kinds.get(first, 'number')} into Go value of type {target}"


def go_b64decode(s: str) -> bytes:
    """base64.StdEncoding.DecodeString as encoding/json does for []byte fields.

    Go's decoder skips CR/LF, insists on padding, and reports the offset of
    the first bad byte: "illegal base64 data at input byte N"."""
    if not isinstance(s, str):
        raise ValueError("illegal base64 data at input byte 0")
    stripped = s.replace("\r", "").replace("\n", "")
    alphabet = set(string.ascii_letters + string.digits + "+/")
    # find the first illegal byte position in the original string
    pos = 0
    count = 0
    pad = 0
    for idx, ch in enumerate(s):
        if ch in "\r\n":
            continue
        if pad:
            if ch != "=":
                raise ValueError(f"illegal base64 data at input byte {idx}")
            pad += 1
            count += 1
            continue
        if ch == "=":
            # padding only valid at positions 2 or 3 of a quantum
            if count % 4 < 2:
                raise ValueError(f"illegal base64 data at input byte {idx}")
            pad = 1
            count += 1
            continue
        if ch not in alphabet:
            raise ValueError(f"illegal base64 data at input byte {idx}")
        count += 1
        pos = idx
    if count % 4 != 0:
        raise ValueError(f"illegal base64 data at input byte {len(s) - (count % 4) if count % 4 else pos}")
    try:
        return base64.b64decode(stripped, validate=True)
    except Exception:
        raise ValueError(f"illegal base64 data at input byte {max(0, len(s) - 1)}")


# ---------------------------------------------------------------------------
# Name validation (k8s.io/apimachinery/pkg/util/validation)
# ---------------------------------------------------------------------------

DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_CONFIG_KEY = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")


def name_is_dns_label(name: str) -> list[str]:
    msgs = []
    if len(name) > 63:
        msgs.append("must be no more than 63 characters")
    if not DNS1123_LABEL_RE.match(name):
        msgs.append(MSG_LABEL)
    return msgs


def name_is_dns_subdomain(name: str) -> list[str]:
    msgs = []
    if len(name) > 253:
        msgs.append("must be no more than 253 characters")
    if not DNS1123_SUBDOMAIN_RE.match(name):
        msgs.append(MSG_SUBDOMAIN)
    return msgs


def name_is_path_segment(name: str) -> list[str]:
    # RBAC objects accept anything that is a valid URL path segment ("system:foo" is fine).
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    for bad in ("/", "%"):
        if bad in name:
            return [f"may not contain '{bad}'"]
    return []


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if labels is None:
        return errs
    if not isinstance(labels, dict):
        return [FieldError("Invalid", path, labels, "must be a map")]
    for k, v in labels.items():
        errs += validate_qualified_name(k, path)
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE_RE.match(v):
            errs.append(FieldError("Invalid", path, v,
                                   "a valid label must be an empty string or consist of alphanumeric characters, "
                                   "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                                   "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
    return errs


def validate_qualified_name(k: str, path: str) -> list[FieldError]:
    name = k
    if "/" in k:
        prefix, name = k.split("/", 1)
        if name_is_dns_subdomain(prefix):
            return [FieldError("Invalid", path, k, "prefix part " + MSG_SUBDOMAIN)]
    if not name or len(name) > 63 or not QUALIFIED_NAME_RE.match(name):
        return [FieldError("Invalid", path, k,
                           "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
                           "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                           "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")]
    return []


# ---------------------------------------------------------------------------
# Kinds: one table row per resource.  Adding a kind = adding a Kind(...) below.
# ---------------------------------------------------------------------------

@dataclass
class Kind:
    group: str
    version: str
    resource: str           # plural, as in URLs
    kind: str
    singular: str
    namespaced: bool
    short_names: list[str] = field(default_factory=list)
    name_check: Callable[[str], list[str]] = name_is_dns_subdomain
    has_status: bool = False        # has a /status subresource; main endpoint ignores status
    has_generation: bool = False    # metadata.generation tracks spec changes
    categories: list[str] = field(default_factory=list)
    defaulter: Callable[[dict], None] | None = None
    validator: Callable[[dict, dict | None], list[FieldError]] | None = None
    columns: Callable[[dict], list] | None = None
    column_defs: list[tuple] | None = None
    return_deleted_object: bool = False
    field_selectors: tuple = ("metadata.name", "metadata.namespace")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        # schema.GroupResource.String(): "secrets" or "roles.rbac.authorization.k8s.io"
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def key(self) -> str:
        return f"{self.group}/{self.resource}"

    def verbs(self) -> list[str]:
        return ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


# --- defaulting -------------------------------------------------------------

def default_pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if not isinstance(c, dict):
                continue
            c.setdefault("resources", {})
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            image = c.get("image", "")
            if "imagePullPolicy" not in c:
                tag = image.rsplit("/", 1)[-1]
                latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
                c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def default_job_spec(spec: dict) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    tmpl = spec.setdefault("template", {})
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        ps = tmpl.setdefault("spec", {})
        if isinstance(ps, dict):
            default_pod_spec(ps)


def default_namespace(obj: dict) -> None:
    md = obj["metadata"]
    md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def default_secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"


def default_job(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    default_job_spec(spec)
    uid = obj["metadata"].get("uid", "")
    name = obj["metadata"].get("name", "")
    if not spec.get("manualSelector"):
        # The real Job strategy labels the pod template with the Job's uid and name.
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        lbl = spec["template"]["metadata"].setdefault("labels", {})
        lbl.setdefault("batch.kubernetes.io/controller-uid", uid)
        lbl.setdefault("batch.kubernetes.io/job-name", name)
        lbl.setdefault("controller-uid", uid)
        lbl.setdefault("job-name", name)
        ol = obj["metadata"].setdefault("labels", {})
        ol.setdefault("batch.kubernetes.io/controller-uid", uid)
        ol.setdefault("batch.kubernetes.io/job-name", name)
        ol.setdefault("controller-uid", uid)
        ol.setdefault("job-name", name)
    obj.setdefault("status", {})


def default_cronjob(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    jt = spec.setdefault("jobTemplate", {})
    if isinstance(jt, dict):
        jt.setdefault("metadata", {})
        js = jt.setdefault("spec", {})
        if isinstance(js, dict):
            js.setdefault("backoffLimit", 6)
            js.setdefault("completionMode", "NonIndexed")
            js.setdefault("suspend", False)
            tmpl = js.setdefault("template", {})
            if isinstance(tmpl, dict):
                tmpl.setdefault("metadata", {})
                ps = tmpl.setdefault("spec", {})
                if isinstance(ps, dict):
                    default_pod_spec(ps)
    obj.setdefault("status", {})


def default_deployment(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    tmpl = spec.setdefault("template", {})
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        ps = tmpl.setdefault("spec", {})
        if isinstance(ps, dict):
            default_pod_spec(ps)
    obj.setdefault("status", {})


# --- validation -------------------------------------------------------------

SECRET_MAX_BYTES = 1024 * 1024


def validate_secret(obj: dict, old: dict | None) -> list[FieldError]:
    # ValidateSecretUpdate order: immutable type, immutable data, then ValidateSecret(new).
    errs: list[FieldError] = []
    if old is not None:
        if obj.get("type") != old.get("type"):
            errs.append(FieldError("Invalid", "type", obj.get("type"), "field is immutable"))
        if old.get("immutable"):
            if not obj.get("immutable"):
                errs.append(FieldError("Forbidden", "immutable", None, "field is immutable when `immutable` is set"))
            if (obj.get("data") or {}) != (old.get("data") or {}):
                errs.append(FieldError("Forbidden", "data", None, "field is immutable when `immutable` is set"))
    data = obj.get("data") or {}
    total = 0
    decoded: dict[str, bytes] = {}
    for k, v in data.items():
        if not CONFIG_KEY_RE.match(k):
            errs.append(FieldError("Invalid", f"data[{k}]", k, MSG_CONFIG_KEY))
        decoded[k] = base64.b64decode(v) if isinstance(v, str) else b""
        total += len(decoded[k])
    if total > SECRET_MAX_BYTES:
        errs.append(FieldError("TooLong", "data", "", f"must have at most {SECRET_MAX_BYTES} bytes"))
    stype = obj.get("type", "Opaque")
    if stype in ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"):
        key = ".dockerconfigjson" if stype == "kubernetes.io/dockerconfigjson" else ".dockercfg"
        if key not in decoded:
            errs.append(FieldError("Required", f"data[{key}]"))
        else:
            # The real message redacts the value: Invalid value: "<secret contents redacted>": <json error>
            jerr = go_json_unmarshal_error(decoded[key])
            if jerr:
                errs.append(FieldError("Invalid", f"data[{key}]", "<secret contents redacted>", jerr))
    elif stype == "kubernetes.io/service-account-token":
        ann = (obj["metadata"].get("annotations") or {})
        if not ann.get("kubernetes.io/service-account.name"):
            errs.append(FieldError("Required", "metadata.annotations[kubernetes.io/service-account.name]"))
    elif stype == "kubernetes.io/basic-auth":
        if "username" not in decoded and "password" not in decoded:
            errs.append(FieldError("Required", "data[username]"))
            errs.append(FieldError("Required", "data[password]"))
    elif stype == "kubernetes.io/ssh-auth":
        if "ssh-privatekey" not in decoded:
            errs.append(FieldError("Required", "data[ssh-privatekey]"))
    elif stype == "kubernetes.io/tls":
        for k in ("tls.crt", "tls.key"):
            if k not in decoded:
                errs.append(FieldError("Required", f"data[{k}]"))
    return errs


def validate_configmap(obj: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    data = obj.get("data") or {}
    bdata = obj.get("binaryData") or {}
    for k in list(data) + list(bdata):
        if not CONFIG_KEY_RE.match(k):
            errs.append(FieldError("Invalid", f"data[{k}]", k, MSG_CONFIG_KEY))
    for k, v in data.items():
        if not isinstance(v, str):
            errs.append(FieldError("Invalid", f"data[{k}]", v, "must be a string"))
    for k in set(data) & set(bdata):
        errs.append(FieldError("Invalid", "data", k, "duplicate of key present in binaryData"))
    if old is not None and old.get("immutable"):
        if not obj.get("immutable"):
            errs.append(FieldError("Forbidden", "immutable", None, "field is immutable when `immutable` is set"))
        if data != (old.get("data") or {}) or bdata != (old.get("binaryData") or {}):
            errs.append(FieldError("Forbidden", "data", None, "field is immutable when `immutable` is set"))
    return errs


def _validate_rules(rules: Any, path: str) -> list[FieldError]:
    errs = []
    for i, r in enumerate(rules or []):
        if not isinstance(r, dict):
            errs.append(FieldError("Invalid", f"{path}[{i}]", r, "must be an object"))
            continue
        if not r.get("verbs"):
            errs.append(FieldError("Required", f"{path}[{i}].verbs", None, "verbs must contain at least one value"))
        if not r.get("nonResourceURLs") and r.get("apiGroups") is None:
            errs.append(FieldError("Required", f"{path}[{i}].apiGroups", None,
                                   "resource rules must supply at least one api group"))
        if not r.get("nonResourceURLs") and not r.get("resources"):
            errs.append(FieldError("Required", f"{path}[{i}].resources", None,
                                   "resource rules must supply at least one resource"))
    return errs


def validate_role(obj: dict, old: dict | None) -> list[FieldError]:
    return _validate_rules(obj.get("rules"), "rules")


def validate_binding(obj: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    ref = obj.get("roleRef")
    cluster = obj.get("kind") == "ClusterRoleBinding"
    if not isinstance(ref, dict) or not ref.get("name"):
        errs.append(FieldError("Required", "roleRef.name"))
    else:
        kinds = ["ClusterRole"] if cluster else ["Role", "ClusterRole"]
        if ref.get("kind") not in kinds:
            errs.append(FieldError("NotSupported", "roleRef.kind", ref.get("kind"),
                                   "supported values: " + ", ".join(f'"{k}"' for k in kinds)))
        if ref.get("apiGroup") != "rbac.authorization.k8s.io":
            errs.append(FieldError("NotSupported", "roleRef.apiGroup", ref.get("apiGroup", ""),
                                   'supported values: "rbac.authorization.k8s.io"'))
    for i, s in enumerate(obj.get("subjects") or []):
        if not isinstance(s, dict):
            continue
        if not s.get("name"):
            errs.append(FieldError("Required", f"subjects[{i}].name"))
        if s.get("kind") not in ("ServiceAccount", "User", "Group"):
            errs.append(FieldError("NotSupported", f"subjects[{i}].kind", s.get("kind", ""),
                                   'supported values: "ServiceAccount", "User", "Group"'))
        if s.get("kind") == "ServiceAccount" and cluster and not s.get("namespace"):
            errs.append(FieldError("Required", f"subjects[{i}].namespace"))
    if old is not None and old.get("roleRef") != obj.get("roleRef"):
        errs.append(FieldError("Invalid", "roleRef", obj.get("roleRef"), "cannot change roleRef"))
    return errs


CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
CRON_FIELD_RE = re.compile(r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$")


def _validate_pod_template(tmpl: Any, path: str, job: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = (tmpl or {}).get("spec") if isinstance(tmpl, dict) else None
    if not isinstance(spec, dict):
        return [FieldError("Required", f"{path}.spec")]
    containers = spec.get("containers")
    if not containers:
        errs.append(FieldError("Required", f"{path}.spec.containers"))
    for i, c in enumerate(containers or []):
        if not isinstance(c, dict):
            continue
        if not c.get("name"):
            errs.append(FieldError("Required", f"{path}.spec.containers[{i}].name"))
        if not c.get("image"):
            errs.append(FieldError("Required", f"{path}.spec.containers[{i}].image"))
    if job and spec.get("restartPolicy") not in ("OnFailure", "Never"):
        if spec.get("restartPolicy") in (None, "", "Always"):
            errs.append(FieldError("Required", f"{path}.spec.restartPolicy", None,
                                   'valid values: "OnFailure", "Never"'))
        else:
            errs.append(FieldError("NotSupported", f"{path}.spec.restartPolicy", spec.get("restartPolicy"),
                                   'supported values: "OnFailure", "Never"'))
    return errs


def validate_cronjob(obj: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    name = obj["metadata"].get("name", "")
    if len(name) > 52:
        errs.append(FieldError("Invalid", "metadata.name", name, "must be no more than 52 characters"))
    spec = obj.get("spec") or {}
    sched = spec.get("schedule")
    if not sched:
        errs.append(FieldError("Required", "spec.schedule"))
    else:
        s = re.sub(r"^(CRON_)?TZ=\S+\s+", "", sched.strip())
        parts = s.split()
        ok = (len(parts) == 1 and parts[0] in CRON_MACROS) or (
            len(parts) == 5 and all(CRON_FIELD_RE.match(p) for p in parts))
        if not ok:
            errs.append(FieldError("Invalid", "spec.schedule", sched,
                                   f"expected exactly 5 fields, found {len(parts)}: {sched}"
                                   if len(parts) != 5 else "unparseable schedule"))
        if "TZ=" in sched:
            errs.append(FieldError("Invalid", "spec.schedule", sched,
                                   "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    if spec.get("concurrencyPolicy") not in ("Allow", "Forbid", "Replace"):
        errs.append(FieldError("NotSupported", "spec.concurrencyPolicy", spec.get("concurrencyPolicy"),
                               'supported values: "Allow", "Forbid", "Replace"'))
    sd = spec.get("startingDeadlineSeconds")
    if sd is not None and (not isinstance(sd, int) or sd < 0):
        errs.append(FieldError("Invalid", "spec.startingDeadlineSeconds", sd,
                               "must be greater than or equal to 0"))
    jt = spec.get("jobTemplate") or {}
    errs += _validate_pod_template((jt.get("spec") or {}).get("template"), "spec.jobTemplate.spec.template", True)
    return errs


def validate_job(obj: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    name = obj["metadata"].get("name", "")
    if len(name) > 63:
        # The job-name label the server adds must be a valid label value.
        errs.append(FieldError("Invalid", "spec.template.labels", name, "must be no more than 63 characters"))
    spec = obj.get("spec") or {}
    errs += _validate_pod_template(spec.get("template"), "spec.template", True)
    if old is not None:
        os_ = old.get("spec") or {}
        if spec.get("template") != os_.get("template"):
            errs.append(FieldError("Invalid", "spec.template", spec.get("template"), "field is immutable"))
        if spec.get("selector") != os_.get("selector"):
            errs.append(FieldError("Invalid", "spec.selector", spec.get("selector"), "field is immutable"))
        if spec.get("completions") != os_.get("completions"):
            errs.append(FieldError("Invalid", "spec.completions", spec.get("completions"), "field is immutable"))
    return errs


def validate_deployment(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _validate_pod_template(spec.get("template"), "spec.template", False)
    if not (spec.get("selector") or {}).get("matchLabels") and not (spec.get("selector") or {}).get("matchExpressions"):
        errs.append(FieldError("Required", "spec.selector"))
    return errs


# --- table columns (server-side printing for `kubectl get`) ------------------

def human_duration(seconds: float) -> str:
    # k8s.io/apimachinery/pkg/util/duration.HumanDuration
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return f"{h // 24 // 365}y" if dy == 0 else f"{h // 24 // 365}y{dy}d"
    return f"{h // 24 // 365}y"


def age(obj: dict) -> str:
    return human_duration(time.time() - parse_rfc3339(obj["metadata"].get("creationTimestamp", "")))


AGE_COL = ("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object "
           "was created.", 0)
NAME_COL = ("Name", "string", "name", "Name must be unique within a namespace.", 0)


def _containers(o: dict, path: list[str]) -> list[dict]:
    cur: Any = o
    for p in path:
        cur = (cur or {}).get(p) if isinstance(cur, dict) else None
    return cur if isinstance(cur, list) else []


def build_kinds() -> list[Kind]:
    core = "", "v1"
    K = []
    K.append(Kind(*core, "namespaces", "Namespace", "namespace", False, ["ns"], name_check=name_is_dns_label,
                  has_status=True, defaulter=default_namespace, return_deleted_object=True,
                  column_defs=[NAME_COL, ("Status", "string", "", "The status of the namespace", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""), age(o)],
                  field_selectors=("metadata.name", "status.phase")))
    K.append(Kind(*core, "secrets", "Secret", "secret", True, [], defaulter=default_secret, validator=validate_secret,
                  column_defs=[NAME_COL, ("Type", "string", "", "", 0), ("Data", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}), age(o)],
                  field_selectors=("metadata.name", "metadata.namespace", "type")))
    K.append(Kind(*core, "configmaps", "ConfigMap", "configmap", True, ["cm"], validator=validate_configmap,
                  column_defs=[NAME_COL, ("Data", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"],
                                     len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]))
    K.append(Kind(*core, "serviceaccounts", "ServiceAccount", "serviceaccount", True, ["sa"],
                  column_defs=[NAME_COL, ("Secrets", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], len(o.get("secrets") or []), age(o)]))
    rbac = "rbac.authorization.k8s.io", "v1"
    created_at = ("Created At", "date", "", "", 0)
    K.append(Kind(*rbac, "roles", "Role", "role", True, [], name_check=name_is_path_segment, validator=validate_role,
                  column_defs=[NAME_COL, created_at],
                  columns=lambda o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]))
    K.append(Kind(*rbac, "clusterroles", "ClusterRole", "clusterrole", False, [], name_check=name_is_path_segment,
                  validator=validate_role, column_defs=[NAME_COL, created_at],
                  columns=lambda o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]))

    def binding_cols(o):
        subs = o.get("subjects") or []
        ref = o.get("roleRef") or {}
        pick = lambda k: ", ".join((f"{s.get('namespace', '')}/{s.get('name')}" if k == "ServiceAccount"
                                    else s.get("name", "")) for s in subs if s.get("kind") == k)
        return [o["metadata"]["name"], f"{ref.get('kind')}/{ref.get('name')}", age(o),
                pick("User"), pick("Group"), pick("ServiceAccount")]
    bdefs = [NAME_COL, ("Role", "string", "", "", 0), AGE_COL, ("Users", "string", "", "", 1),
             ("Groups", "string", "", "", 1), ("ServiceAccounts", "string", "", "", 1)]
    K.append(Kind(*rbac, "rolebindings", "RoleBinding", "rolebinding", True, [], name_check=name_is_path_segment,
                  validator=validate_binding, column_defs=bdefs, columns=binding_cols))
    K.append(Kind(*rbac, "clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", False, [],
                  name_check=name_is_path_segment, validator=validate_binding, column_defs=bdefs,
                  columns=binding_cols))
    batch = "batch", "v1"

    def cron_cols(o):
        s = o.get("spec") or {}
        st = o.get("status") or {}
        cs = _containers(o, ["spec", "jobTemplate", "spec", "template", "spec", "containers"])
        last = st.get("lastScheduleTime")
        return [o["metadata"]["name"], s.get("schedule", ""), s.get("timeZone") or "<none>",
                str(bool(s.get("suspend"))), len(st.get("active") or []),
                human_duration(time.time() - parse_rfc3339(last)) if last else "<none>", age(o),
                ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs), "<none>"]
    K.append(Kind(*batch, "cronjobs", "CronJob", "cronjob", True, ["cj"], has_status=True, has_generation=True,
                  categories=["all"], defaulter=default_cronjob, validator=validate_cronjob,
                  column_defs=[NAME_COL, ("Schedule", "string", "", "", 0), ("Timezone", "string", "", "", 0),
                               ("Suspend", "boolean", "", "", 0), ("Active", "integer", "", "", 0),
                               ("Last Schedule", "string", "", "", 0), AGE_COL,
                               ("Containers", "string", "", "", 1), ("Images", "string", "", "", 1),
                               ("Selector", "string", "", "", 1)],
                  columns=cron_cols))

    def job_cols(o):
        s = o.get("spec") or {}
        st = o.get("status") or {}
        cs = _containers(o, ["spec", "template", "spec", "containers"])
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        status = ("Complete" if conds.get("Complete") == "True" else
                  "Failed" if conds.get("Failed") == "True" else "Running")
        sel = ",".join(f"{k}={v}" for k, v in ((s.get("selector") or {}).get("matchLabels") or {}).items())
        return [o["metadata"]["name"], status, f"{st.get('succeeded', 0)}/{s.get('completions', 1)}",
                "", age(o), ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs), sel]
    K.append(Kind(*batch, "jobs", "Job", "job", True, [], has_status=True, has_generation=True, categories=["all"],
                  defaulter=default_job, validator=validate_job,
                  column_defs=[NAME_COL, ("Status", "string", "", "", 0), ("Completions", "string", "", "", 0),
                               ("Duration", "string", "", "", 0), AGE_COL, ("Containers", "string", "", "", 1),
                               ("Images", "string", "", "", 1), ("Selector", "string", "", "", 1)],
                  columns=job_cols))
    apps = "apps", "v1"

    def deploy_cols(o):
        s = o.get("spec") or {}
        st = o.get("status") or {}
        return [o["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{s.get('replicas', 1)}",
                st.get("updatedReplicas", 0), st.get("availableReplicas", 0), age(o)]
    K.append(Kind(*apps, "deployments", "Deployment", "deployment", True, ["deploy"], has_status=True,
                  has_generation=True, categories=["all"], defaulter=default_deployment, validator=validate_deployment,
                  column_defs=[NAME_COL, ("Ready", "string", "", "", 0), ("Up-to-date", "string", "", "", 0),
                               ("Available", "string", "", "", 0), AGE_COL],
                  columns=deploy_cols))
    return K


KINDS = build_kinds()
BY_GVR = {(k.group, k.version, k.resource): k for k in KINDS}
BY_GVK = {(k.group, k.version, k.kind): k for k in KINDS}
GROUPS: dict[str, list[str]] = {}
for _k in KINDS:
    GROUPS.setdefault(_k.group, [])
    if _k.version not in GROUPS[_k.group]:
        GROUPS[_k.group].append(_k.version)
# Groups with no stored kinds but served endpoints (SelfSubjectAccessReview for `kubectl auth can-i`).
AUTHZ_GROUP = "authorization.k8s.io"


# ---------------------------------------------------------------------------
# Label and field selectors (k8s.io/apimachinery/pkg/labels)
# ---------------------------------------------------------------------------

def _split_selector(s: str) -> list[str]:
    # split on commas that are not inside parentheses (for "k in (a,b)")
    out, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


def parse_label_selector(s: str) -> Callable[[dict], bool]:
    reqs = []
    for part in _split_selector(s or ""):
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", part)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((key, op, vals))
            continue
        m = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$", part)
        if m:
            reqs.append((m.group(1), "ne" if m.group(2) == "!=" else "eq", m.group(3)))
            continue
        m = re.match(r"^(!?)([^\s!=()]+)$", part)
        if m:
            reqs.append((m.group(2), "notexists" if m.group(1) else "exists", None))
            continue
        raise err_bad_request(f"unable to parse requirement: found '{part}', expected: '=', '!=', '==', 'in', notin'")
    for key, _, _ in reqs:
        if validate_qualified_name(key, "key"):
            raise err_bad_request(f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must '
                                  "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                                  "an alphanumeric character")

    def match(labels: dict) -> bool:
        labels = labels or {}
        for key, op, val in reqs:
            has = key in labels
            v = labels.get(key)
            if op == "eq" and not (has and v == val):
                return False
            if op == "ne" and has and v == val:
                return False
            if op == "exists" and not has:
                return False
            if op == "notexists" and has:
                return False
            if op == "in" and not (has and v in val):
                return False
            if op == "notin" and has and v in val:
                return False
        return True
    return match


def parse_field_selector(s: str, kind: Kind) -> Callable[[dict], bool]:
    reqs = []
    for part in _split_selector(s or ""):
        m = re.match(r"^([^\s!=]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise err_bad_request(f"invalid selector: '{s}'; can't understand '{part}'")
        fld = m.group(1)
        if fld not in kind.field_selectors and fld not in ("metadata.name", "metadata.namespace"):
            raise err_bad_request(f'field label not supported: {fld}')
        reqs.append((fld, m.group(2) != "!=", m.group(3)))

    def get(obj, fld):
        if fld == "metadata.name":
            return obj["metadata"].get("name", "")
        if fld == "metadata.namespace":
            return obj["metadata"].get("namespace", "")
        if fld == "type":
            return obj.get("type", "")
        if fld == "status.phase":
            return (obj.get("status") or {}).get("phase", "")
        return ""

    def match(obj: dict) -> bool:
        return all((get(obj, f) == v) == eq for f, eq, v in reqs)
    return match


# ---------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------

def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge_patch(result.get(k), v)
    return result


# Strategic merge patch needs the Go struct tags (patchMergeKey/patchStrategy).
# We approximate them by field name, which is right for every field a pull
# secret, RBAC object, Job or CronJob manifest uses.
SMP_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "secrets": "name", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "conditions": "type", "ownerReferences": "uid",
    "resourceClaims": "name", "ports": None,  # container ports merge on containerPort, service ports on port
}
SMP_PRIMITIVE_MERGE = {"finalizers"}


def _smp_merge_key(field_name: str, items: list) -> str | None:
    if field_name not in SMP_MERGE_KEYS:
        return None
    key = SMP_MERGE_KEYS[field_name]
    if key is None:
        key = "containerPort" if any(isinstance(i, dict) and "containerPort" in i for i in items) else "port"
    return key


def strategic_merge_patch(orig: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(orig, dict):
        orig = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = copy.deepcopy(orig)
    orders: dict[str, list] = {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v or []
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            fld = k.split("/", 1)[1]
            if isinstance(result.get(fld), list):
                result[fld] = [x for x in result[fld] if x not in (v or [])]
            continue
        if v is None:
            result.pop(k, None)
            continue
        cur = result.get(k)
        if isinstance(v, dict):
            merged = strategic_merge_patch(cur, v)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list):
            if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in v):
                result[k] = [copy.deepcopy(i) for i in v if not (isinstance(i, dict) and "$patch" in i)]
                continue
            mk = _smp_merge_key(k, (cur or []) + v)
            if mk and isinstance(cur, list):
                out = copy.deepcopy(cur)
                for item in v:
                    if not isinstance(item, dict):
                        continue
                    idx = next((n for n, o in enumerate(out) if isinstance(o, dict) and o.get(mk) == item.get(mk)),
                               None)
                    if item.get("$patch") == "delete":
                        if idx is not None:
                            out.pop(idx)
                        continue
                    if idx is None:
                        out.append({a: b for a, b in item.items() if a != "$patch"})
                    else:
                        out[idx] = strategic_merge_patch(out[idx], item)
                result[k] = out
            elif k in SMP_PRIMITIVE_MERGE and isinstance(cur, list):
                result[k] = cur + [x for x in v if x not in cur]
            else:
                result[k] = copy.deepcopy(v)
        else:
            result[k] = copy.deepcopy(v)
    for fld, order in orders.items():
        lst = result.get(fld)
        if not isinstance(lst, list):
            continue
        mk = _smp_merge_key(fld, lst)

        def ident(x, mk=mk):
            return x.get(mk) if (mk and isinstance(x, dict)) else json.dumps(x, sort_keys=True)
        wanted = [ident(o) for o in order]
        lst.sort(key=lambda x: wanted.index(ident(x)) if ident(x) in wanted else len(wanted))
    if isinstance(retain, list):
        for k in list(result):
            if k not in retain:
                result.pop(k)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902, with the error strings of evanphx/json-patch where cheap."""
    if not isinstance(ops, list):
        raise ValueError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)

    def parent(d, parts):
        for p in parts[:-1]:
            if isinstance(d, list):
                d = d[int(p)]
            elif isinstance(d, dict) and p in d:
                d = d[p]
            else:
                raise KeyError
        return d

    def get(d, parts):
        for p in parts:
            if isinstance(d, list):
                d = d[int(p)]
            else:
                d = d[p]
        return d

    def add(d, parts, val):
        if not parts:
            return val
        par = parent(d, parts)
        last = parts[-1]
        if isinstance(par, list):
            if last == "-":
                par.append(val)
            else:
                i = int(last)
                if i < 0 or i > len(par):
                    raise IndexError
                par.insert(i, val)
        else:
            par[last] = val
        return d

    def remove(d, parts):
        par = parent(d, parts)
        last = parts[-1]
        if isinstance(par, list):
            return par.pop(int(last))
        return par.pop(last)

    for op in ops:
        kind = op.get("op")
        path = op.get("path", "")
        try:
            parts = _pointer(path)
            if kind == "add":
                doc = add(doc, parts, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                remove(doc, parts)
            elif kind == "replace":
                if not parts:
                    doc = copy.deepcopy(op.get("value"))
                else:
                    get(doc, parts)
                    par = parent(doc, parts)
                    if isinstance(par, list):
                        par[int(parts[-1])] = copy.deepcopy(op.get("value"))
                    else:
                        par[parts[-1]] = copy.deepcopy(op.get("value"))
            elif kind == "move":
                val = remove(doc, _pointer(op.get("from", "")))
                doc = add(doc, parts, val)
            elif kind == "copy":
                val = copy.deepcopy(get(doc, _pointer(op.get("from", ""))))
                doc = add(doc, parts, val)
            elif kind == "test":
                if get(doc, parts) != op.get("value"):
                    raise AssertionError
            else:
                raise ValueError(f"Unexpected kind: {kind}")
        except AssertionError:
            raise ValueError(f"testing value {path} failed: test failed")
        except (KeyError, IndexError, TypeError, ValueError) as e:
            if isinstance(e, ValueError) and str(e).startswith("Unexpected kind"):
                raise
            raise ValueError(f"{kind} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


# ---------------------------------------------------------------------------
# The object store
# ---------------------------------------------------------------------------

SYSTEM_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
               "deletionTimestamp", "deletionGracePeriodSeconds")


class Store:
    """All objects, one global resourceVersion counter, and a bounded event log for watch."""

    def __init__(self):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 100  # start above 0: clients treat "0" specially
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.events: deque = deque(maxlen=5000)
        self.oldest_event_rv = self.rv

    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def get(self, kind: Kind, ns: str, name: str) -> dict | None:
        return self.objects.get((kind.key, ns or "", name))

    def put(self, kind: Kind, obj: dict, event: str) -> None:
        md = obj["metadata"]
        self.objects[(kind.key, md.get("namespace", ""), md["name"])] = obj
        self._event(kind, event, obj)

    def remove(self, kind: Kind, ns: str, name: str, final: dict) -> None:
        self.objects.pop((kind.key, ns or "", name), None)
        self._event(kind, "DELETED", final)

    def _event(self, kind: Kind, etype: str, obj: dict) -> None:
        if len(self.events) == self.events.maxlen:
            self.oldest_event_rv = self.events[0][0]
        self.events.append((int(obj["metadata"]["resourceVersion"]), kind.key, etype, copy.deepcopy(obj)))
        self.cond.notify_all()

    def list(self, kind: Kind, ns: str | None) -> list[dict]:
        out = [o for (k, n, _), o in self.objects.items() if k == kind.key and (ns is None or n == ns)]
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out

    def namespace_state(self, ns: str) -> str | None:
        o = self.objects.get(("/namespaces", "", ns))
        if o is None:
            return None
        return (o.get("status") or {}).get("phase", "Active")


# ---------------------------------------------------------------------------
# Authentication and authorization
# ---------------------------------------------------------------------------

@dataclass
class User:
    name: str
    groups: list[str]
    method: str  # "token", "cert", "anonymous"


def _match(lst: Any, value: str) -> bool:
    if lst is None:
        return False
    if isinstance(lst, str):
        lst = [lst]
    return "*" in lst or value in lst


@dataclass
class Attrs:
    user: User
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


def forbidden_error(a: Attrs, reason: str = "") -> ApiError:
    """responsewriters.Forbidden + apierrors.NewForbidden, field for field."""
    if not a.resource_request:
        msg = f'User "{a.user.name}" cannot {a.verb} path "{a.path}"'
    else:
        res = a.resource + (f"/{a.subresource}" if a.subresource else "")
        if a.namespace:
            msg = (f'User "{a.user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" '
                   f'in the namespace "{a.namespace}"')
        else:
            msg = f'User "{a.user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" at the cluster scope'
    if reason:
        msg = f"{msg}: {reason}"
    qualified = f"{a.resource}.{a.group}" if a.group else a.resource
    if not a.resource_request or not a.resource:
        message = f"forbidden: {msg}"
    elif a.name:
        message = f'{qualified} "{a.name}" is forbidden: {msg}'
    else:
        message = f"{qualified} is forbidden: {msg}"
    details: dict[str, Any] = {}
    if a.name:
        details["name"] = a.name
    if a.group:
        details["group"] = a.group
    if a.resource:
        details["kind"] = a.resource
    return ApiError(403, "Forbidden", message, details)


class Authorizer:
    """Union of (1) the simplified rules from the config and (2) RBAC objects in the store.

    (2) is what makes it possible to test shipped Role/RoleBinding manifests:
    apply them with an admin, then act as the ServiceAccount."""

    def __init__(self, server: "FakeServer"):
        self.server = server

    def allowed(self, a: Attrs) -> bool:
        u = a.user
        if "system:masters" in u.groups:
            return True
        if not a.resource_request:
            return self._nonresource_allowed(a)
        # Built-in: every authenticated user may ask what they may do (system:basic-user).
        if a.group == AUTHZ_GROUP and a.resource in ("selfsubjectaccessreviews", "selfsubjectrulesreviews") \
                and a.verb == "create" and "system:authenticated" in u.groups:
            return True
        for rule in self.server.rules_for(u):
            if self._config_rule_matches(rule, a):
                return True
        return self._rbac_allows(a)

    def _nonresource_allowed(self, a: Attrs) -> bool:
        # system:discovery / system:public-info-viewer are bound to authenticated
        # (and, for /version and health, unauthenticated) users by default.
        public = ("/version", "/healthz", "/livez", "/readyz")
        if a.path in public or a.path.startswith(tuple(p + "/" for p in public)):
            return True
        if "system:authenticated" not in a.user.groups:
            return False
        disc = ("/api", "/apis", "/openapi")
        return a.path in disc or a.path.startswith(tuple(p + "/" for p in disc))

    @staticmethod
    def _config_rule_matches(rule: dict, a: Attrs) -> bool:
        if not _match(rule.get("verbs", []), a.verb):
            return False
        if not _match(rule.get("apiGroups", [""]), a.group):
            return False
        res = a.resource + (f"/{a.subresource}" if a.subresource else "")
        resources = rule.get("resources", [])
        if not (_match(resources, res) or (a.subresource and f"*/{a.subresource}" in resources)):
            return False
        names = rule.get("resourceNames")
        if names and a.name not in names:
            return False
        nss = rule.get("namespaces", "*")
        if nss != "*" and not (isinstance(nss, list) and ("*" in nss or a.namespace in nss)):
            return False
        return True

    @staticmethod
    def _rbac_rule_matches(rule: dict, a: Attrs) -> bool:
        if not _match(rule.get("verbs"), a.verb):
            return False
        if not _match(rule.get("apiGroups"), a.group):
            return False
        res = a.resource + (f"/{a.subresource}" if a.subresource else "")
        resources = rule.get("resources") or []
        if not ("*" in resources or res in resources or (a.subresource and f"*/{a.subresource}" in resources)):
            return False
        names = rule.get("resourceNames")
        if names and a.name not in names:
            return False
        return True

    @staticmethod
    def _subject_matches(s: dict, u: User, binding_ns: str) -> bool:
        kind = s.get("kind")
        if kind == "User":
            return s.get("name") == u.name
        if kind == "Group":
            return s.get("name") in u.groups
        if kind == "ServiceAccount":
            ns = s.get("namespace") or binding_ns
            return u.name == f"system:serviceaccount:{ns}:{s.get('name')}"
        return False

    def _rbac_allows(self, a: Attrs) -> bool:
        st = self.server.store
        crole = BY_GVR[("rbac.authorization.k8s.io", "v1", "clusterroles")]
        role = BY_GVR[("rbac.authorization.k8s.io", "v1", "roles")]
        with st.lock:
            for b in st.list(BY_GVR[("rbac.authorization.k8s.io", "v1", "clusterrolebindings")], None):
                if any(self._subject_matches(s, a.user, "") for s in b.get("subjects") or []):
                    r = st.get(crole, "", (b.get("roleRef") or {}).get("name", ""))
                    if r and any(self._rbac_rule_matches(x, a) for x in r.get("rules") or []):
                        return True
            if a.namespace:
                for b in st.list(BY_GVR[("rbac.authorization.k8s.io", "v1", "rolebindings")], a.namespace):
                    if any(self._subject_matches(s, a.user, a.namespace) for s in b.get("subjects") or []):
                        ref = b.get("roleRef") or {}
                        r = (st.get(crole, "", ref.get("name", "")) if ref.get("kind") == "ClusterRole"
                             else st.get(role, a.namespace, ref.get("name", "")))
                        if r and any(self._rbac_rule_matches(x, a) for x in r.get("rules") or []):
                            return True
        return False


# ---------------------------------------------------------------------------
# PKI: a throwaway CA, a server certificate and client certificates
# ---------------------------------------------------------------------------

class PKI:
    def __init__(self, state_dir: str, key_type: str = "ec"):
        self.dir = state_dir
        self.key_type = key_type
        os.makedirs(self.dir, exist_ok=True)
        self.ca_cert_path = os.path.join(self.dir, "ca.crt")
        self.ca_key_path = os.path.join(self.dir, "ca.key")
        if os.path.exists(self.ca_cert_path) and os.path.exists(self.ca_key_path):
            # Reusing the CA lets a test restart the fake without rewriting kubeconfigs.
            with open(self.ca_cert_path, "rb") as f:
                self.ca_cert = x509.load_pem_x509_certificate(f.read())
            with open(self.ca_key_path, "rb") as f:
                self.ca_key = serialization.load_pem_private_key(f.read(), None)
        else:
            self.ca_key = self._key()
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-apiserver-ca")])
            t = dt.datetime.now(dt.timezone.utc)
            self.ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(t - dt.timedelta(hours=1)).not_valid_after(t + dt.timedelta(days=3650))
                            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                            .add_extension(x509.KeyUsage(True, False, True, False, False, True, False, False, False),
                                           critical=True)
                            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()),
                                           critical=False)
                            .sign(self.ca_key, hashes.SHA256()))
            self._write(self.ca_cert_path, self.ca_cert.public_bytes(serialization.Encoding.PEM))
            self._write(self.ca_key_path, self._key_pem(self.ca_key), private=True)

    def _key(self):
        if self.key_type == "rsa":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return ec.generate_private_key(ec.SECP256R1())

    @staticmethod
    def _key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())

    @staticmethod
    def _write(path: str, data: bytes, private: bool = False) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def issue(self, cn: str, orgs: list[str], server_sans: list[str] | None = None,
              not_before: dt.datetime | None = None, not_after: dt.datetime | None = None) -> tuple[bytes, bytes]:
        key = self._key()
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
        t = dt.datetime.now(dt.timezone.utc)
        b = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(self.ca_cert.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(not_before or (t - dt.timedelta(hours=1)))
             .not_valid_after(not_after or (t + dt.timedelta(days=365)))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                            critical=False))
        if server_sans is not None:
            alt = []
            for s in server_sans:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(s)))
                except ValueError:
                    alt.append(x509.DNSName(s))
            b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = b.sign(self.ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), self._key_pem(key)

    def write_pair(self, stem: str, cert: bytes, key: bytes) -> tuple[str, str]:
        cp, kp = os.path.join(self.dir, stem + ".crt"), os.path.join(self.dir, stem + ".key")
        self._write(cp, cert)
        self._write(kp, key, private=True)
        return cp, kp


def safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


# ---------------------------------------------------------------------------
# Faults injected through /_fake/faults
# ---------------------------------------------------------------------------

FAULT_KINDS = {"conflict", "tooManyRequests", "internalError", "serviceUnavailable", "status", "drop", "reset",
               "delay"}
FAULT_ALIASES = {"409": "conflict", "429": "tooManyRequests", "500": "internalError", "503": "serviceUnavailable"}


@dataclass
class Fault:
    id: int
    kind: str
    method: str
    path: str
    count: int
    retry_after: int | None = None
    bump_resource_version: bool = False
    code: int = 500
    reason: str = ""
    message: str = ""
    seconds: float = 0.0
    hits: int = 0

    def __post_init__(self):
        self.path_re = re.compile(self.path)

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "method": self.method, "path": self.path,
                "remaining": self.count, "hits": self.hits, "retryAfter": self.retry_after,
                "bumpResourceVersion": self.bump_resource_version, "code": self.code, "reason": self.reason,
                "message": self.message, "seconds": self.seconds}


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

class FakeServer:
    def __init__(self, config: dict, pki: PKI, port: int):
        self.config = config
        self.pki = pki
        self.port = port
        self.store = Store()
        self.authorizer = Authorizer(self)
        self.faults: list[Fault] = []
        self.fault_ids = itertools.count(1)
        self.fault_lock = threading.Lock()
        self.requests: deque = deque(maxlen=20000)
        self.req_seq = itertools.count(1)
        self.req_lock = threading.Lock()
        self.conn_ids = itertools.count(1)
        self.version = self._version(config.get("version", DEFAULT_VERSION))
        self.admin_token = config.get("adminToken", "fake-admin-token")
        self.anonymous = bool(config.get("anonymous", False))
        self.ns_termination_seconds = float(config.get("namespaceTerminationSeconds", 0))
        self.users: list[dict] = []
        self.group_rules: dict[str, list] = {}
        self._load_auth(config)
        self.seed(config)

    @staticmethod
    def _version(v: Any) -> dict:
        if isinstance(v, dict):
            base = {"major": "1", "minor": "31", "gitVersion": DEFAULT_VERSION}
            base.update(v)
            v = base
        else:
            m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(v))
            if not m:
                raise SystemExit(f"bad version {v!r}")
            v = {"major": m.group(1), "minor": m.group(2), "gitVersion": "v" + str(v).lstrip("v")}
        v.setdefault("gitCommit", "0000000000000000000000000000000000000000")
        v.setdefault("gitTreeState", "clean")
        v.setdefault("buildDate", "2025-01-01T00:00:00Z")
        v.setdefault("goVersion", "go1.22.0")
        v.setdefault("compiler", "gc")
        v.setdefault("platform", "linux/amd64")
        # Field order as kube-apiserver prints it.
        order = ["major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler",
                 "platform"]
        return {k: v[k] for k in order if k in v} | {k: x for k, x in v.items() if k not in order}

    def _load_auth(self, config: dict) -> None:
        self.users = copy.deepcopy(config.get("users", []))
        self.group_rules = {g: copy.deepcopy(d.get("rules", [])) if isinstance(d, dict) else copy.deepcopy(d)
                            for g, d in (config.get("groups") or {}).items()}
        for u in self.users:
            if u.get("clientCert"):
                groups = [g for g in u.get("groups", []) if g != "system:authenticated"]
                c, k = self.pki.issue(u["name"], groups)
                u["_cert_paths"] = self.pki.write_pair("client-" + safe_stem(u["name"]), c, k)

    def rules_for(self, u: User) -> list[dict]:
        rules: list[dict] = []
        for cu in self.users:
            if cu.get("name") == u.name:
                rules += cu.get("rules", [])
        for g in u.groups:
            rules += self.group_rules.get(g, [])
        return rules

    def user_for_token(self, token: str) -> User | None:
        for u in self.users:
            if u.get("token") and u["token"] == token and not u.get("disabled"):
                return User(u["name"], self._groups(u["name"], u.get("groups", [])), "token")
        return None

    @staticmethod
    def _groups(name: str, groups: list[str]) -> list[str]:
        gs = list(groups)
        if name.startswith("system:serviceaccount:"):
            # The ServiceAccount authenticator adds these.
            ns = name.split(":")[2]
            for g in ("system:serviceaccounts", f"system:serviceaccounts:{ns}"):
                if g not in gs:
                    gs.append(g)
        if "system:authenticated" not in gs:
            gs.append("system:authenticated")
        return gs

    # -- seeding -------------------------------------------------------------

    def seed(self, config: dict) -> None:
        st = self.store
        with st.lock:
            st.objects.clear()
            for ns in config.get("namespaces", ["default", "kube-system", "kube-public", "kube-node-lease"]):
                self.create_object(BY_GVR[("", "v1", "namespaces")], "",
                                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                                   manager="fake-seed", skip_admission=True)
            for obj in config.get("objects", []):
                kind = self.kind_for_object(obj)
                if kind is None:
                    raise SystemExit(f"config object of unknown kind: {obj.get('apiVersion')} {obj.get('kind')}")
                ns = (obj.get("metadata") or {}).get("namespace", "default" if kind.namespaced else "")
                if kind.namespaced and st.namespace_state(ns) is None:
                    self.create_object(BY_GVR[("", "v1", "namespaces")], "",
                                       {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                                       manager="fake-seed", skip_admission=True)
                self.create_object(kind, ns if kind.namespaced else "", copy.deepcopy(obj), manager="fake-seed")

    @staticmethod
    def kind_for_object(obj: dict) -> Kind | None:
        av = obj.get("apiVersion", "")
        g, v = (av.split("/", 1) if "/" in av else ("", av))
        return BY_GVK.get((g, v, obj.get("kind", "")))

    # -- object lifecycle ----------------------------------------------------

    def _prepare(self, kind: Kind, ns: str, obj: dict) -> dict:
        if not isinstance(obj, dict):
            raise err_bad_request(f"Object '{kind.kind}' is missing in 'null'")
        obj.setdefault("apiVersion", kind.group_version)
        obj.setdefault("kind", kind.kind)
        if obj["apiVersion"] != kind.group_version or obj["kind"] != kind.kind:
            raise err_bad_request(f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                                  f"API version ({kind.group_version})" if obj["apiVersion"] != kind.group_version
                                  else f'{obj["kind"]} in version "{kind.version}" cannot be handled as a '
                                       f'{kind.kind}: no kind "{obj["kind"]}" is registered for version '
                                       f'"{kind.group_version}" in scheme "pkg/api/legacyscheme/scheme.go:30"')
        md = obj.get("metadata")
        if md is None:
            md = obj["metadata"] = {}
        if not isinstance(md, dict):
            raise err_bad_request(f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
                                  "json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta")
        if kind.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise err_bad_request("the namespace of the provided object does not match the namespace sent on "
                                      "the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if kind.kind == "Secret":
            self._secret_decode(kind, obj)
        return obj

    @staticmethod
    def _secret_decode(kind: Kind, obj: dict) -> None:
        # Decoding happens before validation in the real server: bad base64 is a 400, not a 422.
        data = obj.get("data")
        if data is not None and not isinstance(data, dict):
            raise err_bad_request('Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal '
                                  f'{type(data).__name__} into Go struct field Secret.data of type map[string][]uint8')
        for k, v in (data or {}).items():
            if v is None:
                data[k] = ""
                continue
            try:
                # Stored as bytes and re-encoded on the way out, so "YW\nJj" comes back as "YWJj".
                data[k] = base64.b64encode(go_b64decode(v)).decode()
            except ValueError as e:
                raise err_bad_request(f'Secret in version "v1" cannot be handled as a Secret: {e}')
        sd = obj.pop("stringData", None)
        if sd:
            # Conversion from v1 merges stringData into data; stringData is never stored.
            if obj.get("data") is None:
                obj["data"] = {}
            data = obj["data"]
            for k, v in sd.items():
                if not isinstance(v, str):
                    raise err_bad_request('Secret in version "v1" cannot be handled as a Secret: json: cannot '
                                          'unmarshal number into Go struct field Secret.stringData of type string')
                data[k] = base64.b64encode(v.encode()).decode()
        if obj.get("data") == {}:
            obj.pop("data")

    def _validate_meta(self, kind: Kind, obj: dict, creating: bool) -> list[FieldError]:
        md = obj["metadata"]
        errs: list[FieldError] = []
        name = md.get("name", "")
        if not name:
            if creating and md.get("generateName"):
                pass
            else:
                errs.append(FieldError("Required", "metadata.name", None, "name or generateName is required"))
        else:
            for m in kind.name_check(name):
                errs.append(FieldError("Invalid", "metadata.name", name, m))
        errs += validate_labels(md.get("labels"), "metadata.labels")
        ann = md.get("annotations") or {}
        if not isinstance(ann, dict):
            errs.append(FieldError("Invalid", "metadata.annotations", ann, "must be a map"))
        else:
            for k, v in ann.items():
                errs += validate_qualified_name(k, "metadata.annotations")
            if sum(len(k) + len(str(v)) for k, v in ann.items()) > 256 * 1024:
                errs.append(FieldError("TooLong", "metadata.annotations", "", "must have at most 262144 bytes"))
        return errs

    def _managed_fields(self, obj: dict, old: dict | None, manager: str, operation: str,
                        subresource: str = "") -> None:
        def fields(v: Any) -> dict:
            if isinstance(v, dict):
                return {f"f:{k}": fields(x) for k, x in v.items()}
            return {}
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
        if subresource == "status":
            body = {"status": obj.get("status")}
        md = {k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations", "finalizers",
                                                                "ownerReferences")}
        fv = fields(body)
        if md:
            fv["f:metadata"] = fields(md)
        entries = [e for e in (old or {}).get("metadata", {}).get("managedFields", [])
                   if not (e.get("manager") == manager and e.get("operation") == operation
                           and e.get("subresource", "") == subresource)]
        entry = {"manager": manager, "operation": operation, "apiVersion": obj["apiVersion"], "time": now_rfc3339(),
                 "fieldsType": "FieldsV1", "fieldsV1": fv}
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
        obj["metadata"]["managedFields"] = entries

    def create_object(self, kind: Kind, ns: str, obj: dict, manager: str = "unknown", dry_run: bool = False,
                      skip_admission: bool = False, operation: str = "Update") -> dict:
        st = self.store
        obj = self._prepare(kind, ns, obj)
        md = obj["metadata"]
        if md.get("resourceVersion"):
            # storage.ErrResourceVersionSetOnCreate is not a StatusError: a 500 with no reason.
            raise ApiError(500, "", "resourceVersion should not be set on objects to be created", None)
        with st.lock:
            if kind.namespaced and not skip_admission:
                phase = st.namespace_state(ns)
                if phase is None:
                    raise err_ns_not_found(ns)
                if phase == "Terminating":
                    e = ApiError(403, "Forbidden",
                                 f'{kind.qualified} "{md.get("name", "")}" is forbidden: unable to create new content '
                                 f"in namespace {ns} because it is being terminated",
                                 _details(kind, md.get("name", "")))
                    e.details["causes"] = [{"reason": "NamespaceTerminating",
                                            "message": f"namespace {ns} is being terminated",
                                            "field": "metadata.namespace"}]
                    raise e
            if not md.get("name") and md.get("generateName"):
                suffix = "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
                md["name"] = md["generateName"] + suffix
            for k in SYSTEM_META:
                md.pop(k, None)
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            if kind.has_generation:
                md["generation"] = 1
            if kind.defaulter and md.get("name"):
                kind.defaulter(obj)
            errs = self._validate_meta(kind, obj, True)
            if kind.validator:
                errs += kind.validator(obj, None)
            if errs:
                raise err_invalid(kind, md.get("name", ""), errs)
            if st.get(kind, ns, md["name"]) is not None:
                raise err_already_exists(kind, md["name"])
            self._managed_fields(obj, None, manager, operation)
            if dry_run:
                return copy.deepcopy(obj)
            md["resourceVersion"] = st.next_rv()
            obj = _ordered(obj)
            st.put(kind, obj, "ADDED")
            return copy.deepcopy(obj)

    def update_object(self, kind: Kind, ns: str, name: str, obj: dict, manager: str = "unknown",
                      dry_run: bool = False, subresource: str = "", operation: str = "Update",
                      expected_old: dict | None = None, check_name: bool = False) -> dict:
        st = self.store
        if check_name and isinstance(obj, dict):
            # checkName() of the PUT handler: the body must name the object, in the URL's namespace.
            bmd = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            if bmd.get("name", "") != name:
                raise err_bad_request(f"the name of the object ({bmd.get('name', '')}) does not match the name on "
                                      f"the URL ({name})")
            if kind.namespaced and bmd.get("namespace") and bmd["namespace"] != ns:
                raise err_bad_request(f"the namespace of the object ({bmd['namespace']}) does not match the "
                                      f"namespace on the request ({ns})")
        obj = self._prepare(kind, ns, obj)
        md = obj["metadata"]
        if md.get("name") and md["name"] != name:
            raise err_bad_request(f"the name of the object ({md['name']}) does not match the name on the URL ({name})")
        md["name"] = name
        with st.lock:
            old = st.get(kind, ns, name)
            if old is None:
                raise err_not_found(kind, name)
            if expected_old is not None and expected_old["metadata"]["resourceVersion"] != \
                    old["metadata"]["resourceVersion"]:
                # A patch raced with another writer; the caller recomputes.
                raise err_conflict(kind, name)
            rv = md.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise err_conflict(kind, name)
            if md.get("uid") and md["uid"] != old["metadata"]["uid"]:
                raise err_conflict(kind, name, f"Precondition failed: UID in precondition: {md['uid']}, "
                                               f"UID in object meta: {old['metadata']['uid']}")
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in old["metadata"]:
                    md[k] = old["metadata"][k]
                else:
                    md.pop(k, None)
            md.pop("managedFields", None)
            md.pop("generation", None)
            if subresource == "status":
                # Only .status changes through /status (ResetObjectMetaForStatus + spec reset).
                new = copy.deepcopy(old)
                new["status"] = obj.get("status", {})
                obj = new
                md = obj["metadata"]
            elif kind.has_status:
                if "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                else:
                    obj.pop("status", None)
            if kind.defaulter:
                kind.defaulter(obj)
            if kind.has_generation:
                gen = old["metadata"].get("generation", 1)
                if obj.get("spec") != old.get("spec"):
                    gen += 1
                md["generation"] = gen
            errs = self._validate_meta(kind, obj, False)
            if kind.validator:
                errs += kind.validator(obj, old)
            if errs:
                raise err_invalid(kind, name, errs)
            if _same_object(obj, old):
                # etcd3 GuaranteedUpdate skips no-op writes: same resourceVersion comes back.
                return copy.deepcopy(old)
            self._managed_fields(obj, old, manager, operation, subresource)
            if dry_run:
                md["resourceVersion"] = old["metadata"]["resourceVersion"]
                return copy.deepcopy(obj)
            md["resourceVersion"] = st.next_rv()
            obj = _ordered(obj)
            st.put(kind, obj, "MODIFIED")
            return copy.deepcopy(obj)

    def touch(self, kind: Kind, ns: str, name: str) -> None:
        """Simulate a concurrent writer: bump the stored object's resourceVersion."""
        st = self.store
        with st.lock:
            old = st.get(kind, ns, name)
            if old is None:
                return
            new = copy.deepcopy(old)
            new["metadata"].setdefault("annotations", {})["fake-kube-apiserver/concurrent-write"] = \
                str(st.rv + 1)
            new["metadata"]["resourceVersion"] = st.next_rv()
            st.put(kind, new, "MODIFIED")

    def delete_object(self, kind: Kind, ns: str, name: str, options: dict, dry_run: bool = False) -> tuple[int, dict]:
        st = self.store
        with st.lock:
            old = st.get(kind, ns, name)
            if old is None:
                raise err_not_found(kind, name)
            pre = (options or {}).get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise err_conflict(kind, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                               f"UID in object meta: {old['metadata']['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise err_conflict(kind, name, "Precondition failed: ResourceVersion in precondition: "
                                               f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                               f"{old['metadata']['resourceVersion']}")
            if kind.kind == "Namespace":
                return 200, self._delete_namespace(kind, old, dry_run)
            if dry_run:
                return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": _details(kind, name, uid=old["metadata"]["uid"])}
            final = copy.deepcopy(old)
            final["metadata"]["resourceVersion"] = st.next_rv()
            st.remove(kind, ns, name, final)
            if kind.return_deleted_object:
                return 200, final
            # Store.finalizeDelete: a Success Status naming the deleted object.
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": _details(kind, name, uid=old["metadata"]["uid"])}

    def _delete_namespace(self, kind: Kind, old: dict, dry_run: bool) -> dict:
        st = self.store
        if old["metadata"].get("deletionTimestamp"):
            return copy.deepcopy(old)
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = now_rfc3339()
        new["status"] = {"phase": "Terminating"}
        if dry_run:
            return new
        new["metadata"]["resourceVersion"] = st.next_rv()
        st.put(kind, new, "MODIFIED")
        name = old["metadata"]["name"]
        if self.ns_termination_seconds > 0:
            t = threading.Timer(self.ns_termination_seconds, self._finalize_namespace, args=(name,))
            t.daemon = True
            t.start()
        else:
            self._finalize_namespace(name)
        return copy.deepcopy(new)

    def _finalize_namespace(self, name: str) -> None:
        # Stand-in for the namespace controller: delete the contents, then the namespace.
        st = self.store
        nsk = BY_GVR[("", "v1", "namespaces")]
        with st.lock:
            cur = st.get(nsk, "", name)
            if cur is None or not cur["metadata"].get("deletionTimestamp"):
                return
            for k in KINDS:
                if k.namespaced:
                    for o in st.list(k, name):
                        final = copy.deepcopy(o)
                        final["metadata"]["resourceVersion"] = st.next_rv()
                        st.remove(k, name, o["metadata"]["name"], final)
            final = copy.deepcopy(cur)
            final["spec"] = {}
            final["metadata"]["resourceVersion"] = st.next_rv()
            st.remove(nsk, "", name, final)


def _same_object(a: dict, b: dict) -> bool:
    def strip(o):
        o = copy.deepcopy(o)
        for k in ("resourceVersion", "managedFields"):
            o["metadata"].pop(k, None)
        return o
    return strip(a) == strip(b)


def _ordered(obj: dict) -> dict:
    # Go serialises struct fields in declaration order: kind, apiVersion, metadata first.
    out = {}
    for k in ("kind", "apiVersion", "metadata"):
        if k in obj:
            out[k] = obj[k]
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    md = out.get("metadata", {})
    order = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
             "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
             "finalizers", "managedFields"]
    out["metadata"] = {k: md[k] for k in order if k in md} | {k: v for k, v in md.items() if k not in order}
    return out


def list_item(obj: dict) -> dict:
    # Typed lists of built-in kinds carry no kind/apiVersion on their items.
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


# ---------------------------------------------------------------------------
# Discovery and OpenAPI documents
# ---------------------------------------------------------------------------

def api_resource_list(group: str, version: str) -> dict:
    gv = f"{group}/{version}" if group else version
    resources = []
    for k in KINDS:
        if k.group != group or k.version != version:
            continue
        r = {"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced, "kind": k.kind,
             "verbs": k.verbs()}
        if k.short_names:
            r["shortNames"] = k.short_names
        if k.categories:
            r["categories"] = k.categories
        r["storageVersionHash"] = base64.b64encode(hashlib.sha256(k.key.encode()).digest()[:8]).decode()
        resources.append(r)
        if k.has_status:
            resources.append({"name": f"{k.resource}/status", "singularName": "", "namespaced": k.namespaced,
                              "kind": k.kind, "verbs": ["get", "patch", "update"]})
    if group == AUTHZ_GROUP:
        resources.append({"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                          "namespaced": False, "kind": "SelfSubjectAccessReview", "verbs": ["create"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def api_group_list() -> dict:
    groups = []
    for g, versions in list(GROUPS.items()) + [(AUTHZ_GROUP, ["v1"])]:
        if g == "":
            continue
        vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
        groups.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def openapi_v3_doc(group: str, version: str, gitversion: str) -> dict:
    """Just enough OpenAPI v3 for kubectl's field-validation probe.

    kubectl checks that the PATCH operation for the object's GVK lists a
    `fieldValidation` query parameter; then it leaves validation to the server.
    The PATCH operations deliberately carry no requestBody, so kubectl does not
    try to compute strategic-merge patches from (absent) schemas and falls back
    to its compiled-in Go types, as it does for old servers."""
    paths = {}
    for k in KINDS:
        if k.group != group or k.version != version:
            continue
        prefix = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        item = (f"{prefix}/namespaces/{{namespace}}/{k.resource}/{{name}}" if k.namespaced
                else f"{prefix}/{k.resource}/{{name}}")
        gvk = {"group": group, "version": version, "kind": k.kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
        op = lambda action, extra=None: {"operationId": f"{action}{k.kind}", "x-kubernetes-action": action,
                                         "x-kubernetes-group-version-kind": gvk,
                                         "parameters": params if extra else [],
                                         "responses": {"200": {"description": "OK"}}}
        paths[item] = {"get": op("get"), "put": op("put", True), "patch": op("patch", True),
                       "delete": op("delete")}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (fake-kube-apiserver)", "version": gitversion},
            "paths": paths, "components": {"schemas": {}}}


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb(field_no: int, value: Any) -> bytes:
    """One protobuf field: bytes/str/nested message (bytes) are length-delimited, bool/int are varints."""
    if isinstance(value, bool) or isinstance(value, int):
        return _pb_varint(field_no << 3) + _pb_varint(int(value))
    if isinstance(value, str):
        value = value.encode()
    return _pb_varint((field_no << 3) | 2) + _pb_varint(len(value)) + value


def openapi_v2_doc(gitversion: str) -> tuple[bytes, dict]:
    """/openapi/v2 as gnostic's openapi_v2.Document protobuf (and the same as JSON).

    kubectl <= 1.28 probes for `fieldValidation` support here (protobuf only)
    before `apply`/`create -f` with validation on.  Like the v3 document this
    lists only PATCH operations, each tagged with its GVK and the query
    parameters; no schema definitions, so kubectl falls back to compiled-in
    types for strategic merge patches."""
    paths_pb = b""
    paths_json: dict[str, Any] = {}
    for k in KINDS:
        prefix = f"/api/{k.version}" if not k.group else f"/apis/{k.group}/{k.version}"
        item = (f"{prefix}/namespaces/{{namespace}}/{k.resource}/{{name}}" if k.namespaced
                else f"{prefix}/{k.resource}/{{name}}")
        gvk_yaml = f"group: {json.dumps(k.group)}\nkind: {k.kind}\nversion: {k.version}\n"
        params_pb = b""
        params_json = []
        for n in ("dryRun", "fieldManager", "fieldValidation", "force"):
            # ParametersItem.parameter(1) -> Parameter.non_body_parameter(2)
            #   -> NonBodyParameter.query_parameter_sub_schema(3) -> {in(2), name(4), type(6), unique_items(20)}
            q = _pb(2, "query") + _pb(4, n) + _pb(6, "string") + _pb(20, True)
            params_pb += _pb(8, _pb(1, _pb(2, _pb(3, q))))
            params_json.append({"uniqueItems": True, "type": "string", "name": n, "in": "query"})
        responses = _pb(1, _pb(1, "200") + _pb(2, _pb(1, _pb(1, "OK"))))
        ext = _pb(1, "x-kubernetes-group-version-kind") + _pb(2, _pb(2, gvk_yaml))
        op = _pb(5, f"patch{k.kind}") + params_pb + _pb(9, responses) + _pb(13, ext)
        paths_pb += _pb(2, _pb(1, item) + _pb(2, _pb(8, op)))
        paths_json[item] = {"patch": {"operationId": f"patch{k.kind}", "parameters": params_json,
                                      "responses": {"200": {"description": "OK"}},
                                      "x-kubernetes-group-version-kind": {"group": k.group, "kind": k.kind,
                                                                          "version": k.version}}}
    info = _pb(1, "Kubernetes (fake-kube-apiserver)") + _pb(2, gitversion)
    doc_pb = _pb(1, "2.0") + _pb(2, info) + _pb(8, paths_pb)
    doc_json = {"swagger": "2.0", "info": {"title": "Kubernetes (fake-kube-apiserver)", "version": gitversion},
                "paths": paths_json, "definitions": {}}
    return doc_pb, doc_json


# ---------------------------------------------------------------------------
# HTTP layer
# ---------------------------------------------------------------------------

class DropConnection(Exception):
    def __init__(self, reset: bool = False):
        self.reset = reset


JSON_CT = "application/json"
MAX_REQUEST_BYTES = 3 * 1024 * 1024
FLOWSCHEMA_UID = str(uuid.uuid4())
PRIORITYLEVEL_UID = str(uuid.uuid4())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    sys_version = ""
    # Idle keep-alive connections are closed after this long (Go's client copes either way).
    timeout = 300

    srv: FakeServer  # set on the class by main()

    # -- connection lifecycle --------------------------------------------------

    def setup(self):
        # The TLS handshake runs here, in this connection's own thread, so a
        # slow or broken client never blocks the accept loop.
        self.conn_id = next(self.srv.conn_ids)
        sock = self.request
        sock.settimeout(15)
        try:
            sock.do_handshake()
        except (ssl.SSLError, OSError) as e:
            log(f"conn={self.conn_id} TLS handshake failed: {e}")
            self.handshake_ok = False
            super().setup()
            self.close_connection = True
            return
        self.handshake_ok = True
        sock.settimeout(self.timeout)
        self.peer_user: User | None = None
        der = sock.getpeercert(binary_form=True)
        if der:
            cert = x509.load_der_x509_certificate(der)
            cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
            orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
            if cn:
                self.peer_user = User(cn[0], self.srv._groups(cn[0], orgs), "cert")
        super().setup()

    def handle(self):
        if not getattr(self, "handshake_ok", False):
            return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError):
            pass
        except DropConnection:
            pass

    def log_message(self, fmt, *args):  # the request log replaces stdlib's access log
        pass

    # -- request plumbing ----------------------------------------------------

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_REQUEST_BYTES:
            # kube-apiserver refuses bodies over 3 MiB before decoding them.
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_REQUEST_BYTES}",
                           {})
        return self.rfile.read(n) if n else b""

    def _send(self, code: int, body: bytes, ctype: str = JSON_CT, headers: dict | None = None) -> None:
        self.resp_code = code
        self.send_response(code)
        self.send_header("Audit-Id", self.audit_id)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        if getattr(self, "user", None) is not None:
            # API Priority and Fairness labels every authenticated response.
            self.send_header("X-Kubernetes-Pf-Flowschema-Uid", FLOWSCHEMA_UID)
            self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", PRIORITYLEVEL_UID)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, code: int, obj: Any, headers: dict | None = None) -> None:
        body = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self._send(code, body, JSON_CT, headers)

    def _send_error(self, e: ApiError) -> None:
        self._send_json(e.code, e.status(), e.headers)

    def _dispatch(self):
        start = time.time()
        self.audit_id = str(uuid.uuid4())
        self.resp_code = 0
        self.fault_kind = ""
        self.user: User | None = None
        url = urllib.parse.urlsplit(self.path)
        self.url_path = url.path
        self.raw_query = url.query
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        dropped = False
        try:
            self.body = self._read_body()
            if self.url_path.startswith("/_fake/"):
                self._admin()
            else:
                self._api()
        except DropConnection as d:
            dropped = True
            self.resp_code = 0
            self.close_connection = True
            if d.reset:
                # SO_LINGER 0 turns close() into a TCP RST.
                try:
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
            try:
                self.request.close()
            except OSError:
                pass
        except ApiError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the fake: say so loudly, answer like kube would
            log(f"internal error: {e}\n{traceback.format_exc()}")
            self._send_error(err_internal(str(e)))
        finally:
            if not self.url_path.startswith("/_fake/"):
                self._record(start, dropped)
        if dropped:
            raise DropConnection()

    def _record(self, start: float, dropped: bool) -> None:
        entry = {
            "seq": next(self.srv.req_seq), "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "conn": self.conn_id, "method": self.command, "path": self.url_path, "query": self.raw_query,
            "user": self.user.name if self.user else None, "authMethod": self.user.method if self.user else None,
            "status": self.resp_code, "dropped": dropped, "contentType": self.headers.get("Content-Type"),
            "accept": self.headers.get("Accept"), "userAgent": self.headers.get("User-Agent"),
            "fault": self.fault_kind or None, "durationMs": int((time.time() - start) * 1000),
            "requestBytes": len(self.body) if hasattr(self, "body") else 0,
        }
        with self.srv.req_lock:
            self.srv.requests.append(entry)

    # -- authentication --------------------------------------------------------

    def _authenticate(self) -> User | None:
        # Union authenticator order as in kube-apiserver: x509 first, then bearer tokens.
        if self.peer_user is not None:
            return self.peer_user
        auth = self.headers.get("Authorization")
        if auth:
            parts = auth.split(" ", 1)
            if len(parts) == 2 and parts[0].lower() == "bearer" and parts[1].strip():
                u = self.srv.user_for_token(parts[1].strip())
                if u is not None:
                    return u
            raise ApiError(401, "Unauthorized", "Unauthorized", None)
        if self.srv.anonymous:
            return User("system:anonymous", ["system:unauthenticated"], "anonymous")
        raise ApiError(401, "Unauthorized", "Unauthorized", None)

    # -- faults --------------------------------------------------------------

    def _apply_faults(self, kind: Kind | None, ns: str, name: str) -> None:
        with self.srv.fault_lock:
            fault = None
            for f in self.srv.faults:
                if f.count > 0 and (f.method in ("*", self.command)) and f.path_re.search(self.url_path):
                    f.count -= 1
                    f.hits += 1
                    fault = f
                    break
            self.srv.faults = [f for f in self.srv.faults if f.count > 0]
        if fault is None:
            return
        self.fault_kind = fault.kind
        log(f"fault {fault.kind} on {self.command} {self.url_path}")
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return
        if fault.kind in ("drop", "reset"):
            raise DropConnection(reset=fault.kind == "reset")
        if fault.kind == "conflict":
            if not name and self.body:
                try:
                    name = (json.loads(self.body).get("metadata") or {}).get("name", "")
                except (ValueError, AttributeError):
                    pass
            if fault.bump_resource_version and kind is not None and name:
                self.srv.touch(kind, ns, name)
            k = kind or BY_GVR[("", "v1", "secrets")]
            raise err_conflict(k, name)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.kind == "tooManyRequests":
            ra = fault.retry_after if fault.retry_after is not None else 1
            headers["Retry-After"] = str(ra)
            raise ApiError(429, "TooManyRequests", fault.message or "Too many requests, please try again later.",
                           {"retryAfterSeconds": ra}, headers)
        if fault.kind == "internalError":
            e = err_internal(fault.message or "injected fault")
            e.headers = headers
            raise e
        if fault.kind == "serviceUnavailable":
            det = {"retryAfterSeconds": fault.retry_after} if fault.retry_after is not None else {}
            raise ApiError(503, "ServiceUnavailable", fault.message or "the server is currently unable to handle "
                           "the request", det, headers)
        if fault.kind == "status":
            raise ApiError(fault.code, fault.reason, fault.message or "injected fault", {}, headers)

    # -- the API -------------------------------------------------------------

    def _api(self):
        path = self.url_path
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.user = self._authenticate()
        # Non-resource endpoints.
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            self._authz(Attrs(self.user, "get", path=path, resource_request=False))
            self._apply_faults(None, "", "")
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version" or path == "/version/":
            self._authz(Attrs(self.user, "get", path=path, resource_request=False))
            self._apply_faults(None, "", "")
            return self._send_json(200, self.srv.version)
        if path.startswith("/openapi/"):
            self._authz(Attrs(self.user, "get", path=path, resource_request=False))
            self._apply_faults(None, "", "")
            return self._openapi(path)
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            self._authz(Attrs(self.user, self.command.lower(), path=path, resource_request=False))
            return self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
        if parts[0] == "api":
            if len(parts) == 1:
                self._authz(Attrs(self.user, "get", path=path, resource_request=False))
                self._apply_faults(None, "", "")
                return self._send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                             "serverAddressByClientCIDRs": [
                                                 {"clientCIDR": "0.0.0.0/0",
                                                  "serverAddress": f"127.0.0.1:{self.srv.port}"}]})
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 1:
                self._authz(Attrs(self.user, "get", path=path, resource_request=False))
                self._apply_faults(None, "", "")
                return self._send_json(200, api_group_list())
            group = parts[1]
            if len(parts) == 2:
                self._authz(Attrs(self.user, "get", path=path, resource_request=False))
                versions = GROUPS.get(group) or (["v1"] if group == AUTHZ_GROUP else None)
                if not versions:
                    raise err_resource_not_found()
                vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
                return self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": group,
                                             "versions": vs, "preferredVersion": vs[0]})
            version, rest = parts[2], parts[3:]
        known_gv = version in GROUPS.get(group, []) or (group == AUTHZ_GROUP and version == "v1")
        if not rest:
            self._authz(Attrs(self.user, "get", path=path, resource_request=False))
            if not known_gv:
                raise err_resource_not_found()
            self._apply_faults(None, "", "")
            return self._send_json(200, api_resource_list(group, version))

        # Resource request: work out the RBAC attributes the way RequestInfoFactory does.
        ns = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            ns = rest[1]
            rest = rest[2:]
        elif rest[0] == "namespaces" and len(rest) >= 2:
            ns = rest[1]  # the namespace object itself is authorised "in" its own namespace
        if len(rest) > 3:
            raise err_resource_not_found()
        resource = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        watch = self.query.get("watch", "") in ("true", "1")
        method = self.command
        verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method.lower())
        if not name and method in ("GET", "HEAD"):
            verb = "watch" if watch else "list"
        elif not name and method == "DELETE":
            verb = "deletecollection"
        attrs = Attrs(self.user, verb, group, resource, sub, ns, name, path)
        self._authz(attrs)
        kind = BY_GVR.get((group, version, resource)) if known_gv else None
        self._apply_faults(kind, ns if (kind and kind.namespaced) else "", name)

        if group == AUTHZ_GROUP and resource == "selfsubjectaccessreviews" and method == "POST" and not name:
            return self._ssar()
        if kind is None:
            raise err_resource_not_found()
        if kind.namespaced is False and kind.kind != "Namespace" and ns:
            raise err_resource_not_found()
        if kind.kind == "Namespace":
            ns = ""
        if sub and not (sub == "status" and kind.has_status):
            raise err_resource_not_found()
        if ctype in ("application/vnd.kubernetes.protobuf", "application/cbor") and method in ("POST", "PUT",
                                                                                             "PATCH"):
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json, application/yaml", {})
        accept = self.headers.get("Accept") or "*/*"
        if not any(a.split(";")[0].strip() in ("application/json", "*/*", "application/*", "")
                   for a in accept.split(",")):
            raise ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json, "
                           "application/json;stream=watch", {})
        self.field_manager = self.query.get("fieldManager") or \
            (self.headers.get("User-Agent") or "unknown").split("/")[0] or "unknown"
        dry_run = "dryRun" in self.query
        if dry_run and self.query["dryRun"] != "All":
            raise err_invalid_dryrun(self.query["dryRun"])

        if method in ("GET", "HEAD"):
            if name:
                return self._get(kind, ns, name)
            if kind.namespaced is False and ns and kind.kind != "Namespace":
                raise err_resource_not_found()
            return self._watch(kind, ns) if watch else self._list(kind, ns or None)
        if method == "POST":
            if name:
                raise err_method_not_allowed()
            if kind.namespaced and not ns:
                raise err_method_not_allowed()
            obj = self._decode_body()
            if self.headers.get("Content-Type", "").startswith("application/apply-patch"):
                raise err_bad_request("apply patches must use PATCH")
            created = self.srv.create_object(kind, ns, obj, manager=self.field_manager, dry_run=dry_run)
            return self._send_json(201, created)
        if method == "PUT":
            if not name:
                raise err_method_not_allowed()
            obj = self._decode_body()
            return self._send_json(200, self.srv.update_object(kind, ns, name, obj, manager=self.field_manager,
                                                               dry_run=dry_run, subresource=sub, check_name=True))
        if method == "PATCH":
            if not name:
                raise err_method_not_allowed()
            return self._patch(kind, ns, name, sub, ctype, dry_run)
        if method == "DELETE":
            opts = {}
            if self.body.strip():
                try:
                    opts = json.loads(self.body)
                except ValueError as e:
                    raise err_bad_request(f"couldn't get version/kind; json parse error: {e}")
            if name:
                code, out = self.srv.delete_object(kind, ns, name, opts, dry_run=dry_run)
                return self._send_json(code, out)
            return self._delete_collection(kind, ns, opts, dry_run)
        raise err_method_not_allowed()

    def _authz(self, attrs: Attrs) -> None:
        if not self.srv.authorizer.allowed(attrs):
            raise forbidden_error(attrs)

    def _decode_body(self) -> Any:
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if not self.body.strip():
            raise err_bad_request("the body of the request was in an unknown format - accepted media types "
                                  "include: application/json, application/yaml")
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(self.body)
            return json.loads(self.body)
        except (ValueError, yaml.YAMLError) as e:
            raise err_bad_request(f"couldn't get version/kind; json parse error: {e}")

    def _get(self, kind: Kind, ns: str, name: str):
        with self.srv.store.lock:
            obj = self.srv.store.get(kind, ns, name)
            if obj is None:
                raise err_not_found(kind, name)
            obj = copy.deepcopy(obj)
        if self._wants_table():
            return self._send_json(200, self._table(kind, [obj], obj["metadata"]["resourceVersion"]))
        return self._send_json(200, obj)

    def _wants_table(self) -> bool:
        return "as=Table" in (self.headers.get("Accept") or "")

    def _table(self, kind: Kind, objs: list[dict], rv: str, cont: str = "", remaining: int | None = None) -> dict:
        defs = kind.column_defs or [NAME_COL, ("Created At", "date", "", "", 0)]
        include = self.query.get("includeObject", "PartialObjectMetadata")
        rows = []
        for o in objs:
            cells = (kind.columns(o) if kind.columns else [o["metadata"]["name"],
                                                           o["metadata"].get("creationTimestamp")])
            row: dict[str, Any] = {"cells": cells}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": o["metadata"]}
            rows.append(row)
        md: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            md["continue"] = cont
        if remaining:
            md["remainingItemCount"] = remaining
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
                "columnDefinitions": [{"name": n, "type": t, "format": f, "description": d, "priority": p}
                                      for n, t, f, d, p in defs],
                "rows": rows}

    def _selected(self, kind: Kind, ns: str | None) -> tuple[list[dict], str]:
        lsel = parse_label_selector(self.query.get("labelSelector", ""))
        fsel = parse_field_selector(self.query.get("fieldSelector", ""), kind)
        st = self.srv.store
        with st.lock:
            items = [copy.deepcopy(o) for o in st.list(kind, ns)
                     if lsel(o["metadata"].get("labels")) and fsel(o)]
            return items, str(st.rv)

    def _list(self, kind: Kind, ns: str | None):
        items, rv = self._selected(kind, ns)
        cont = self.query.get("continue", "")
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                start, rv = tok["start"], str(tok["rv"])
            except (ValueError, KeyError, TypeError):
                raise err_bad_request("continue key is not valid: illegal base64 data at input byte 0")
            items = [o for o in items if f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" > start]
        limit = int(self.query.get("limit") or 0)
        next_cont, remaining = "", None
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            remaining = len(items) - limit
            items = items[:limit]
            tok = {"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{last.get('namespace', '')}/{last['name']}"}
            next_cont = base64.urlsafe_b64encode(json.dumps(tok, separators=(",", ":")).encode()).decode().rstrip("=")
        if self._wants_table():
            return self._send_json(200, self._table(kind, items, rv, next_cont, remaining))
        md: dict[str, Any] = {"resourceVersion": rv}
        if next_cont:
            md["continue"] = next_cont
            md["remainingItemCount"] = remaining
        return self._send_json(200, {"kind": f"{kind.kind}List", "apiVersion": kind.group_version, "metadata": md,
                                     "items": [list_item(o) for o in items]})

    def _watch(self, kind: Kind, ns: str | None):
        """Chunked stream of watch events, as `kubectl get -w` and informers use."""
        st = self.srv.store
        lsel = parse_label_selector(self.query.get("labelSelector", ""))
        fsel = parse_field_selector(self.query.get("fieldSelector", ""), kind)
        timeout = float(self.query.get("timeoutSeconds") or 1800)
        since = self.query.get("resourceVersion", "")
        deadline = time.time() + timeout
        self.resp_code = 200
        self.send_response(200)
        self.send_header("Audit-Id", self.audit_id)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        as_table = self._wants_table()

        def chunk(ev: dict) -> None:
            if as_table and ev["type"] != "ERROR":
                # `kubectl get -w` asks for Table events: one row per event.
                ev = {"type": ev["type"], "object": self._table(kind, [ev["object"]],
                                                                ev["object"]["metadata"]["resourceVersion"])}
            data = json.dumps(ev, separators=(",", ":")).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def wanted(o):
            return ((ns is None or o["metadata"].get("namespace", "") == ns)
                    and lsel(o["metadata"].get("labels")) and fsel(o))
        with st.lock:
            if since in ("", "0"):
                for o in st.list(kind, ns):
                    if wanted(o):
                        chunk({"type": "ADDED", "object": o})
                last = st.rv
            else:
                last = int(since)
                if last < st.oldest_event_rv:
                    chunk({"type": "ERROR", "object": ApiError(
                        410, "Expired", f"too old resource version: {last} ({st.oldest_event_rv})", {}).status()})
                    self.wfile.write(b"0\r\n\r\n")
                    self.close_connection = True
                    return
        try:
            while time.time() < deadline:
                with st.lock:
                    pending = [e for e in st.events if e[0] > last and e[1] == kind.key]
                    if pending:
                        last = max(e[0] for e in pending)
                    else:
                        last = max(last, st.events[-1][0] if st.events else last)
                        st.cond.wait(timeout=0.5)
                for _, _, etype, obj in pending:
                    if wanted(obj):
                        chunk({"type": etype, "object": obj})
                r, _, _ = select.select([self.request], [], [], 0)
                if r:  # the client hung up (it never sends anything on a watch)
                    break
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def _patch(self, kind: Kind, ns: str, name: str, sub: str, ctype: str, dry_run: bool):
        st = self.srv.store
        if ctype == "application/apply-patch+yaml":
            if not self.query.get("fieldManager"):
                raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                               "value: is required for apply patch",
                               {"group": "meta.k8s.io", "kind": "PatchOptions",
                                "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required "
                                            "for apply patch", "field": "fieldManager"}]})
            obj = self._decode_body()
            if not isinstance(obj, dict):
                raise err_bad_request("error decoding YAML: object expected")
            with st.lock:
                cur = st.get(kind, ns, name)
                if cur is None:
                    if (obj.get("metadata") or {}).get("name", name) != name:
                        raise err_bad_request("the name of the object does not match the name on the URL")
                    obj.setdefault("metadata", {})["name"] = name
                    return self._send_json(201, self.srv.create_object(
                        kind, ns, obj, manager=self.field_manager, dry_run=dry_run, operation="Apply"))
                # Approximation of server-side apply: merge the applied config into the live object.
                merged = strategic_merge_patch(cur, obj)
                merged["metadata"]["resourceVersion"] = (obj.get("metadata") or {}).get("resourceVersion") or \
                    cur["metadata"]["resourceVersion"]
                return self._send_json(200, self.srv.update_object(
                    kind, ns, name, merged, manager=self.field_manager, dry_run=dry_run, subresource=sub,
                    operation="Apply", expected_old=cur))
        if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                         "application/json-patch+json"):
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml, application/strategic-merge-patch+json", {})
        try:
            patch = json.loads(self.body or b"null")
        except ValueError as e:
            raise err_bad_request(f"error decoding patch: {e}")
        for attempt in range(5):
            with st.lock:
                cur = st.get(kind, ns, name)
                if cur is None:
                    raise err_not_found(kind, name)
                cur = copy.deepcopy(cur)
            try:
                if ctype == "application/json-patch+json":
                    new = json_patch(cur, patch)
                elif ctype == "application/merge-patch+json":
                    if not isinstance(patch, dict):
                        raise ValueError("invalid JSON document")
                    new = json_merge_patch(cur, patch)
                else:
                    if not isinstance(patch, dict):
                        raise err_bad_request("json: cannot unmarshal array into Go value of type "
                                              "map[string]interface {}")
                    new = strategic_merge_patch(cur, patch)
            except ValueError as e:
                raise ApiError(422 if ctype == "application/json-patch+json" else 400,
                               "Invalid" if ctype == "application/json-patch+json" else "BadRequest", str(e), None)
            if not isinstance(new, dict):
                raise err_bad_request("patch produced a non-object")
            new.setdefault("metadata", {})
            # A resourceVersion in the patch is a precondition; without one the
            # server retries internally on conflict, so patches never 409 by themselves.
            prv = None
            if isinstance(patch, dict):
                prv = (patch.get("metadata") or {}).get("resourceVersion")
            new["metadata"]["resourceVersion"] = prv or cur["metadata"]["resourceVersion"]
            if (new["metadata"].get("name") or name) != name:
                raise err_bad_request(f"the name of the object ({new['metadata'].get('name')}) does not match the "
                                      f"name on the URL ({name})")
            try:
                out = self.srv.update_object(kind, ns, name, new, manager=self.field_manager, dry_run=dry_run,
                                             subresource=sub, operation="Update",
                                             expected_old=None if prv else cur)
            except ApiError as e:
                if e.reason == "Conflict" and not prv and attempt < 4:
                    continue
                raise
            return self._send_json(200, out)
        raise err_conflict(kind, name)

    def _delete_collection(self, kind: Kind, ns: str, opts: dict, dry_run: bool):
        items, rv = self._selected(kind, ns or None)
        deleted = []
        for o in items:
            try:
                _, out = self.srv.delete_object(kind, o["metadata"].get("namespace", ""), o["metadata"]["name"],
                                                opts, dry_run=dry_run)
                deleted.append(list_item(o))
            except ApiError:
                pass
        return self._send_json(200, {"kind": f"{kind.kind}List", "apiVersion": kind.group_version,
                                     "metadata": {"resourceVersion": str(self.srv.store.rv)}, "items": deleted})

    def _ssar(self):
        body = self._decode_body()
        spec = (body or {}).get("spec") or {}
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            a = Attrs(self.user, ra.get("verb", ""), ra.get("group", ""), ra.get("resource", ""),
                      ra.get("subresource", ""), ra.get("namespace", ""), ra.get("name", ""))
        elif nra:
            a = Attrs(self.user, nra.get("verb", ""), path=nra.get("path", ""), resource_request=False)
        else:
            raise err_invalid(Kind(AUTHZ_GROUP, "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", "",
                                   False), "", [FieldError("Invalid", "spec.resourceAttributes", None,
                                                           "exactly one of nonResourceAttributes or "
                                                           "resourceAttributes must be specified")])
        allowed = self.srv.authorizer.allowed(a)
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": {"allowed": allowed}}
        if allowed:
            out["status"]["reason"] = "allowed by fake-kube-apiserver rules"
        return self._send_json(201, out)

    def _openapi(self, path: str):
        gitv = self.srv.version["gitVersion"]
        if path.rstrip("/") == "/openapi/v3":
            paths = {}
            for g, versions in GROUPS.items():
                for v in versions:
                    rel = f"api/{v}" if not g else f"apis/{g}/{v}"
                    doc = json.dumps(openapi_v3_doc(g, v, gitv), sort_keys=True).encode()
                    h = hashlib.sha512(doc).hexdigest()[:64].upper()
                    paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={h}"}
            return self._send_json(200, {"paths": paths})
        if path.startswith("/openapi/v3/"):
            rel = path[len("/openapi/v3/"):].strip("/").split("/")
            if rel[0] == "api" and len(rel) == 2:
                g, v = "", rel[1]
            elif rel[0] == "apis" and len(rel) == 3:
                g, v = rel[1], rel[2]
            else:
                raise err_resource_not_found()
            if v not in GROUPS.get(g, []):
                raise err_resource_not_found()
            return self._send_json(200, openapi_v3_doc(g, v, gitv))
        if path.rstrip("/") == "/openapi/v2":
            doc_pb, doc_json = openapi_v2_doc(gitv)
            accept = self.headers.get("Accept") or ""
            etag = '"' + hashlib.sha512(doc_pb).hexdigest()[:64].upper() + '"'
            if "protobuf" in accept.split(",")[0]:
                return self._send(200, doc_pb, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                                  {"Etag": etag, "Vary": "Accept"})
            return self._send_json(200, doc_json, {"Etag": etag, "Vary": "Accept"})
        return self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    # -- the admin API -------------------------------------------------------

    def _admin(self):
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {self.srv.admin_token}":
            return self._send_json(401, {"error": "admin token required"})
        path, m = self.url_path.rstrip("/"), self.command
        srv = self.srv
        if path == "/_fake/faults":
            if m == "GET":
                with srv.fault_lock:
                    return self._send_json(200, [f.to_json() for f in srv.faults])
            if m == "DELETE":
                with srv.fault_lock:
                    srv.faults = []
                return self._send_json(200, {})
            if m == "POST":
                spec = json.loads(self.body or b"{}")
                specs = spec if isinstance(spec, list) else [spec]
                out = []
                for s in specs:
                    kind = FAULT_ALIASES.get(str(s.get("kind")), s.get("kind"))
                    if kind not in FAULT_KINDS:
                        return self._send_json(400, {"error": f"unknown fault kind {s.get('kind')!r}; "
                                                              f"one of {sorted(FAULT_KINDS)}"})
                    try:
                        f = Fault(next(srv.fault_ids), kind, (s.get("method") or "*").upper(),
                                  s.get("path", ".*"), int(s.get("count", 1)), s.get("retryAfter"),
                                  bool(s.get("bumpResourceVersion")), int(s.get("code", 500)),
                                  s.get("reason", ""), s.get("message", ""), float(s.get("seconds", 0)))
                    except re.error as e:
                        return self._send_json(400, {"error": f"bad path regex: {e}"})
                    with srv.fault_lock:
                        srv.faults.append(f)
                    out.append(f.to_json())
                return self._send_json(201, out if isinstance(spec, list) else out[0])
        if path == "/_fake/requests":
            with srv.req_lock:
                data = list(srv.requests)
                if m == "DELETE":
                    srv.requests.clear()
            return self._send_json(200, data)
        if path == "/_fake/objects" and m == "GET":
            with srv.store.lock:
                objs = [copy.deepcopy(o) for o in srv.store.objects.values()]
            objs.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            return self._send_json(200, {"resourceVersion": str(srv.store.rv), "items": objs})
        if path == "/_fake/objects" and m == "POST":
            # Seed an object bypassing auth (still validated), e.g. to pre-create state.
            obj = json.loads(self.body)
            kind = srv.kind_for_object(obj)
            if kind is None:
                return self._send_json(400, {"error": "unknown kind"})
            ns = (obj.get("metadata") or {}).get("namespace", "default") if kind.namespaced else ""
            try:
                return self._send_json(201, srv.create_object(kind, ns, obj, manager="fake-admin"))
            except ApiError as e:
                return self._send_error(e)
        if path == "/_fake/reset" and m == "POST":
            with srv.store.lock:
                srv._load_auth(srv.config)
                srv.seed(srv.config)
            with srv.fault_lock:
                srv.faults = []
            with srv.req_lock:
                srv.requests.clear()
            return self._send_json(200, {"resourceVersion": str(srv.store.rv)})
        if path == "/_fake/users" and m == "POST":
            # Add or replace a user (e.g. rotate a ServiceAccount token mid-test).
            u = json.loads(self.body)
            srv.users = [x for x in srv.users if x.get("name") != u.get("name")] + [u]
            res = {"name": u.get("name")}
            if u.get("clientCert"):
                c, k = srv.pki.issue(u["name"], u.get("groups", []))
                res["certFile"], res["keyFile"] = srv.pki.write_pair("client-" + safe_stem(u["name"]), c, k)
            return self._send_json(200, res)
        if path == "/_fake/certs" and m == "POST":
            # Issue an ad-hoc client certificate (any CN/O; optionally already expired).
            spec = json.loads(self.body or b"{}")
            t = dt.datetime.now(dt.timezone.utc)
            nb = t + dt.timedelta(seconds=float(spec.get("notBeforeOffsetSeconds", -3600)))
            na = t + dt.timedelta(seconds=float(spec.get("notAfterOffsetSeconds", 365 * 86400)))
            c, k = srv.pki.issue(spec.get("cn", "user"), spec.get("o", []), not_before=nb, not_after=na)
            return self._send_json(200, {"cert": c.decode(), "key": k.decode()})
        if path == "/_fake/info" and m == "GET":
            return self._send_json(200, {"port": srv.port, "version": srv.version,
                                         "caFile": srv.pki.ca_cert_path, "stateDir": srv.pki.dir})
        return self._send_json(404, {"error": f"no admin endpoint {m} {path}"})


def err_invalid_dryrun(v: str) -> ApiError:
    return ApiError(400, "BadRequest", f'dryRun: Unsupported value: "{v}": supported values: "All"', None)


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, ctx: ssl.SSLContext):
        self.ctx = ctx
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # Go's net package (kube-apiserver) sets TCP_NODELAY; without it the
        # handler's small writes meet the client's delayed ACK and every
        # answer waits ~40 ms, which would distort timings.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Handshake deferred to the handler thread (see Handler.setup).
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


def make_ssl_context(pki: PKI, cert_path: str, key_path: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    # Ask for (but do not require) a client certificate, like kube-apiserver with --client-ca-file.
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_verify_locations(pki.ca_cert_path)
    # HTTP/1.1 only: Go clients then never try HTTP/2 on this connection.
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def load_config(path: str | None) -> dict:
    """Config JSON (every key optional):

    {
      "version": "v1.31.4" | {"major": "1", "minor": "31", "gitVersion": "v1.31.4", ...},
      "adminToken": "token for /_fake/ endpoints",
      "anonymous": false,                    # true: no credentials = system:anonymous (then RBAC), else 401
      "namespaceTerminationSeconds": 0,      # how long a deleted namespace stays Terminating
      "users": [
        {"name": "admin", "token": "t1", "groups": ["system:masters"]},
        {"name": "system:serviceaccount:kube-system:ecr-renew-sa", "token": "t2",
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"],
                    "namespaces": "*", "resourceNames": []}]},
        {"name": "alice", "clientCert": true, "groups": ["devs"]}     # writes client-alice.crt/.key
      ],
      "groups": {"devs": {"rules": [...]}},
      "namespaces": ["default", "kube-system", ...],
      "objects": [ {k8s object}, ... ]
    }
    """
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="FAKE kube-apiserver for tests (HTTPS, in-memory).")
    ap.add_argument("--port", type=int, default=0, help="listen port; 0 picks a free one")
    ap.add_argument("--bind", default="127.0.0.1", help="listen address (loopback by default)")
    ap.add_argument("--state-dir", required=True, help="where ca.crt, server.crt, client certs are written")
    ap.add_argument("--config", help="JSON config file (see load_config)")
    ap.add_argument("--san", action="append", default=[], help="extra server certificate SAN (DNS name or IP)")
    ap.add_argument("--key-type", choices=("ec", "rsa"), default="ec", help="key algorithm for generated certs")
    ap.add_argument("--version", dest="kube_version", help="reported version, e.g. v1.30.2 (overrides config)")
    args = ap.parse_args(argv)

    config = load_config(args.config)
    if args.kube_version:
        config["version"] = args.kube_version
    pki = PKI(args.state_dir, args.key_type)
    sans = ["127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"] + args.san
    cert, key = pki.issue("kube-apiserver", [], server_sans=sans)
    cert_path, key_path = pki.write_pair("server", cert, key)

    ctx = make_ssl_context(pki, cert_path, key_path)
    httpd = TLSServer((args.bind, args.port), Handler, ctx)
    port = httpd.server_address[1]
    srv = FakeServer(config, pki, port)
    Handler.srv = srv
    with open(os.path.join(args.state_dir, "server.json"), "w") as f:
        json.dump({"port": port, "url": f"https://127.0.0.1:{port}", "caFile": pki.ca_cert_path,
                   "pid": os.getpid()}, f)
    log(f"{FAKE_BANNER} listening on https://{args.bind}:{port} (version {srv.version['gitVersion']})")
    print(f"READY port={port}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
