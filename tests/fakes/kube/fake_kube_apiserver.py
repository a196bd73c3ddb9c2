#!/usr/bin/env python3
"""FAKE kube-apiserver for tests.  Not a Kubernetes API server.

A single-process, in-memory stand-in for kube-apiserver that speaks the wire
format closely enough for real clients (kubectl 1.27-1.33, libcurl-based code
such as ecr-renew) to be exercised against it: HTTPS + HTTP/1.1 keep-alive,
bearer-token and client-certificate authentication, a simplified RBAC, JSON
discovery, a generic object store with resourceVersion/uid semantics, the
validation rules a pull-secret writer runs into, kube-shaped Status errors,
list + watch as an informer uses them (bookmarks, selector transitions, a
bounded history with 410 Expired), Leases for leader election, core/v1
Events, ServiceAccounts, Pods with ServiceAccount admission and Services with
cluster IP and node port allocation, and an admin API under /_fake/ for fault
injection, watch settings and introspection.

Run `fake_kube_apiserver.py --help`; the config format is described at
`load_config` and in README.md beside this file.

Only the Python 3.11 standard library plus `cryptography` and PyYAML are used.

Known deviations from a real kube-apiserver (a client could notice these):
- Wire: JSON (and YAML request bodies) only.  A protobuf or CBOR body gets 415;
  an Accept that allows only protobuf gets 406.  HTTP/1.1 only (ALPN offers no h2).
  JSON is written like Go's encoder (compact, UTF-8, <, > and & escaped).
- Client certificates are checked during the TLS handshake (Python ssl), so an
  untrusted or expired certificate fails the handshake.  kube-apiserver uses
  RequestClientCert and answers 401 instead.  One CA signs both the serving
  and the client certificates.
- Requests without credentials get 401 unless "anonymous": true is set;
  kube-apiserver's default is anonymous-auth=true, which gives a 403 as
  system:anonymous.
- Authorization: simplified config rules plus the stored RBAC objects (a list
  or watch with fieldSelector=metadata.name=<n> is authorised for <n>, as in
  kube).  Not modelled: aggregated ClusterRoles, the built-in ClusterRoles
  (cluster-admin, edit, view, ...) unless they are seeded, nonResourceURLs
  rules, the escalate and bind checks, and impersonation.  Forbidden messages
  never carry an "RBAC: ..." reason suffix.
- Discovery is the legacy, unaggregated kind (kubectl falls back to it) and
  lists only the kinds in KINDS.  OpenAPI v2 and v3 describe only the PATCH
  operations and their query parameters, which is enough for kubectl's
  field-validation probe.  There are no schemas, so `kubectl explain` fails.
- fieldValidation is accepted and ignored: unknown fields are stored and
  returned, not rejected (Strict) or pruned.  Wrong JSON types get Go's 400
  decode error only for Lease, Event and a few Pod fields (see go_decode);
  elsewhere they are stored as sent.
- Strategic merge patch uses merge keys looked up by field name (containers
  by name, env by name, ports by containerPort or port, ...), not by Go
  struct tags; ServiceAccount.imagePullSecrets is the one exception modelled
  (atomic: replaced).  apply-patch+yaml (server-side apply) is a strategic
  merge into the live object: field ownership, apply conflicts and the removal
  of fields dropped from the applied config are not modelled, and
  managedFields entries are simplified.
- Nothing runs: no scheduler, kubelet or controllers.  Jobs, CronJobs and
  Deployments never progress; pod and workload status changes only through
  /status.  Deletion is immediate: finalizers, grace periods,
  propagationPolicy and garbage collection are ignored (kube, too, deletes an
  unscheduled pod at once; a pod with spec.nodeName would first go
  Terminating).  The stand-ins for controllers: namespaces go Terminating and
  are emptied and removed after namespaceTerminationSeconds (0 by default);
  every new namespace gets its "default" ServiceAccount in the same write (or
  defaultServiceAccountDelaySeconds later); a deleted pod with a controller
  ownerReference comes back only through /_fake/recreate-pod or with
  recreateOwnedPods, built from the deleted pod's own spec as it was before
  admission (no ReplicaSet or StatefulSet objects exist).
- Pod admission models ServiceAccount (serviceAccountName defaults to
  "default"; imagePullSecrets copied from the ServiceAccount at creation only,
  and only into a pod that names none; a missing ServiceAccount is a 403 at
  once, where kube retries "default" for a second or two), DefaultTolerationSeconds
  and Priority.  No service-account token volume is mounted; no LimitRanger,
  Pod Security or resource quota.  The "pod updates may not change fields"
  message ends with a list of changed fields, not Go's cmp.Diff.  Pods have no
  binding, eviction, log, exec or resize subresources.
- Events: core/v1 only (no events.k8s.io).  With strictEventValidation (the
  default) the fake is stricter than kube-apiserver, which on core/v1 checks
  neither `type` nor, for events without eventTime, `reason`: here type must be
  Normal or Warning and reason is required (422).  No --event-ttl: events stay
  until deleted.
- Leases: a PUT to a missing Lease creates it (AllowCreateOnUpdate) whatever
  resourceVersion it carries.  Coordinated leader election
  (strategy/preferredHolder) is only validated, never acted on.
- Services: the cluster is single-stack IPv4 with service CIDR 10.96.0.0/12
  and node ports 30000-32767.  A cluster IP is drawn at random above the
  static band (like kube's dynamic allocation), node ports at random from the
  whole range; both are unique across Services and freed with the Service.
  There is no "kubernetes" Service in default (10.96.0.1 is never handed out),
  no Endpoints or EndpointSlices, no services/proxy, no health-check node port,
  and a LoadBalancer stays <pending>.  Validation follows ValidateService for
  ports, selector, session affinity, types, traffic policies and cluster IPs
  (immutable on update), not loadBalancerSourceRanges or topology annotations.
- Defaulting and validation cover what pull-secret, RBAC, CronJob, Lease,
  Event, Pod and Service manifests exercise (see validate_* and default_*),
  not the full API.  Go's JSON and time.Parse error texts are reproduced for
  common cases only.
- Watch (see WatchStream): no legacy /watch/ paths and no watch-list
  (sendInitialEvents gets the 422 of a 1.31 server with the WatchList gate
  off).  One history of watchCacheEvents events serves all kinds (kube keeps
  a window per resource, also bounded by time); POST /_fake/compact stands in
  for etcd compaction.  Without timeoutSeconds a watch lasts exactly
  defaultWatchSeconds (kube: a random 1800-3600 s).  Bookmarks come every
  bookmarkIntervalSeconds and once at a timeout, right before the end (kube:
  about 2 s before).  A watch that falls further behind than the history
  keeps gets a 410 ERROR event (kube just closes a too-slow watcher).  A watch
  or list at a resourceVersion newer than the store's waits 3 s, then gets
  "Too large resource version" (an ERROR event, or HTTP 504).  An idle watch
  notices a client that hung up within about a second.
- Lists always show the current state: resourceVersion and
  resourceVersionMatch are validated but select no historic snapshot, and
  continuation pages show what changed since the first page (kube: one
  consistent snapshot).  Continue tokens and Exact lists expire (410) only
  through /_fake/compact, never by time.  /_fake/reset compacts too, so a
  watch resumed across a reset gets 410 (no DELETED events are sent for what
  the reset wiped).
- No admission webhooks, quota, Pod Security, audit, TokenReview or
  SelfSubjectRulesReview.  SelfSubjectAccessReview (`kubectl auth can-i`) works.
- A conflict fault with bumpResourceVersion really writes the object: it
  sets the annotation fake-kube-apiserver/concurrent-write.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import calendar
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
from collections import OrderedDict, deque
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

_GO_HTML_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                                  "\u2029": "\\u2029"})


def go_json(obj: Any) -> bytes:
    """JSON as Go's json.Encoder writes it: compact, UTF-8, with <, >, &, U+2028 and U+2029 escaped."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).translate(_GO_HTML_ESCAPES)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: keep it escaped
        return json.dumps(obj, separators=(",", ":")).translate(_GO_HTML_ESCAPES).encode()


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


class GoLiteral(str):
    """A bad value already rendered as Go's %#v, which field.Error falls back to for slices and
    structs (`[]string{"10.96.0.10"}`, `core.ServicePort{...}`)."""


def go_string_slice(values: Any) -> GoLiteral:
    if not values:
        return GoLiteral("[]string(nil)")
    return GoLiteral("[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}")


def go_value(v: Any) -> str:
    """Render a bad value the way field.Error does (%q for strings, %v for numbers)."""
    if isinstance(v, GoLiteral):
        return str(v)
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
# Go time.Parse for the two layouts kube decodes: metav1.Time (RFC3339) and
# metav1.MicroTime (RFC3339Micro, exactly six fractional digits).  The error
# texts follow Go's time.ParseError so a client sees what kube would quote.
# ---------------------------------------------------------------------------

RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_DIGIT = re.compile(r"^[0-9]+$")


def _go_time_quote(s: str) -> str:
    # time.quote: double quotes, with \ and " escaped and non-printables as \x escapes.
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode())
    out.append('"')
    return "".join(out)


def _go_getnum(v: str, fixed: bool) -> tuple[int | None, str]:
    if not v[:1].isdigit() or not v[:1].isascii():
        return None, v
    if not (v[1:2].isdigit() and v[1:2].isascii()):
        if fixed:
            return None, v
        return int(v[0]), v[1:]
    return int(v[:2]), v[2:]


def go_parse_time(value: str, micro: bool) -> tuple[dt.datetime | None, str | None]:
    """time.Parse(RFC3339 or RFC3339Micro, value): (aware datetime, None) or (None, Go's error text)."""
    layout = RFC3339_MICRO_LAYOUT if micro else RFC3339_LAYOUT
    q = _go_time_quote
    chunks = [("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05")]
    if micro:
        chunks.append(("", ".000000"))
    chunks += [("", "Z07:00"), ("", None)]
    v = value
    f = {"year": 0, "month": 0, "day": 0, "hour": 0, "minute": 0, "second": 0, "usec": 0, "offset": 0}

    def cannot(elem_layout: str, elem_value: str) -> str:
        return f"parsing time {q(value)} as {q(layout)}: cannot parse {q(elem_value)} as {q(elem_layout)}"

    for prefix, std in chunks:
        for c in prefix:
            if not v or v[0] != c:
                return None, cannot(prefix, v)
            v = v[1:]
        if std is None:
            if v:
                return None, f"parsing time {q(value)}: extra text: {q(v)}"
            break
        hold, bad, rng = v, False, ""
        if std == "2006":
            if len(v) < 4 or not _DIGIT.match(v[:4]):
                bad = True
            else:
                f["year"], v = int(v[:4]), v[4:]
        elif std in ("01", "02", "15", "04", "05"):
            n, v = _go_getnum(v, std != "15")
            if n is None:
                bad = True
            else:
                name, hi = {"01": ("month", 12), "02": ("day", 99), "15": ("hour", 23),
                            "04": ("minute", 59), "05": ("second", 59)}[std]
                f[name] = n
                if (name == "month" and n < 1) or n > hi:
                    rng = name
                if std == "05" and not micro and len(v) >= 2 and v[0] in ".," and v[1].isdigit():
                    # RFC3339 takes any number of fractional digits after the seconds.
                    k = 2
                    while k < len(v) and v[k].isdigit() and v[k].isascii():
                        k += 1
                    f["usec"] = int((v[1:k] + "000000")[:6])
                    v = v[k:]
        elif std == ".000000":
            if len(v) < 7 or v[0] not in ".," or not _DIGIT.match(v[1:7]):
                bad = True
            else:
                f["usec"], v = int(v[1:7]), v[7:]
        elif std == "Z07:00":
            if v[:1] == "Z":
                v = v[1:]
            elif len(v) < 6 or v[3] != ":" or v[0] not in "+-" or not _DIGIT.match(v[1:3] + v[4:6]):
                bad = True
            else:
                hh, mm = int(v[1:3]), int(v[4:6])
                if hh > 24:
                    rng = "time zone offset hour"
                elif mm > 60:
                    rng = "time zone offset minute"
                f["offset"] = (hh * 60 + mm) * 60 * (-1 if v[0] == "-" else 1)
                v = v[6:]
        if rng:
            return None, f"parsing time {q(value)}: {rng} out of range"
        if bad:
            return None, cannot(std, hold)
    mdays = calendar.monthrange(f["year"], f["month"])[1] if 1 <= f["year"] else 31
    if f["day"] < 1 or f["day"] > mdays:
        return None, f"parsing time {q(value)}: day out of range"
    try:
        t = dt.datetime(f["year"], f["month"], f["day"], f["hour"], f["minute"], f["second"], f["usec"],
                        tzinfo=dt.timezone(dt.timedelta(seconds=f["offset"])))
    except ValueError as e:  # year 0 and the like: Go takes them, Python cannot
        return None, f"parsing time {q(value)}: {e}"
    return t, None


def format_micro_time(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_time(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_kind(v: Any) -> str:
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    return "object"


def go_decode(obj: dict, schema: dict, struct: str, path: str = "") -> str | None:
    """Check the typed fields of a decoded body the way Go's json decoding into the API struct would,
    and normalise metav1.Time / MicroTime values as Go re-encodes them.  Returns the first error text
    (as json.Unmarshal or time.Parse word it) or None.  schema maps field -> type, where a type is
    "string", "int32", "bool", "intorstring", "time", "microtime", ("array", elem_type) or
    ("struct", GoName, go_type_string, sub_schema)."""
    for key, typ in schema.items():
        if key not in obj or obj[key] is None:
            continue
        val = obj[key]
        fpath = f"{path}.{key}" if path else key

        def type_err(gotype: str, shown: str | None = None) -> str:
            what = shown or _json_kind(val)
            return f"json: cannot unmarshal {what} into Go struct field {struct}.{fpath} of type {gotype}"
        if typ == "string":
            if not isinstance(val, str):
                return type_err("string")
        elif typ == "bool":
            if not isinstance(val, bool):
                return type_err("bool")
        elif typ == "int32":
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                return type_err("int32")
            if isinstance(val, float) or not -2 ** 31 <= val < 2 ** 31:
                return type_err("int32", f"number {val}")
        elif typ == "intorstring":
            # intstr.IntOrString: a JSON string, else decoded as an int32 (the error gets the field context).
            if isinstance(val, str):
                continue
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                return type_err("int32")
            if isinstance(val, float) or not -2 ** 31 <= val < 2 ** 31:
                return type_err("int32", f"number {val}")
        elif typ in ("time", "microtime"):
            if not isinstance(val, str):
                # Time.UnmarshalJSON decodes into a plain string first: no struct context.
                return f"json: cannot unmarshal {_json_kind(val)} into Go value of type string"
            t, err = go_parse_time(val, typ == "microtime")
            if err:
                return err
            obj[key] = format_micro_time(t) if typ == "microtime" else format_time(t)
        elif isinstance(typ, tuple) and typ[0] == "array":
            if not isinstance(val, list):
                return type_err(f"[]{typ[1][2] if isinstance(typ[1], tuple) else typ[1]}")
            if isinstance(typ[1], tuple):
                for i, item in enumerate(val):
                    if item is None:
                        continue
                    if not isinstance(item, dict):
                        return (f"json: cannot unmarshal {_json_kind(item)} into Go struct field "
                                f"{struct}.{fpath} of type {typ[1][2]}")
                    e = go_decode(item, typ[1][3], typ[1][1], fpath)
                    if e:
                        return e
        elif isinstance(typ, tuple) and typ[0] == "struct":
            if not isinstance(val, dict):
                return type_err(typ[2])
            e = go_decode(val, typ[3], typ[1], fpath)
            if e:
                return e
    return None


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
DNS1035_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MSG_DNS1035_LABEL = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                     "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                     "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
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


def name_is_dns1035_label(name: str) -> list[str]:
    # Service names (ValidateServiceName = NameIsDNS1035Label): a label that starts with a letter.
    msgs = []
    if len(name) > 63:
        msgs.append("must be no more than 63 characters")
    if not DNS1035_LABEL_RE.match(name):
        msgs.append(MSG_DNS1035_LABEL)
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
    # Extra selectable fields beyond metadata.*: field label -> value getter.
    field_getters: dict = field(default_factory=dict)
    # Typed-field check and time normalisation at decode time (see go_decode): a 400, not a 422.
    decode_schema: dict | None = None
    # PrepareForCreate: server-owned fields reset on create (e.g. a Pod's status).
    prepare_create: Callable[[dict], None] | None = None
    # The registry strategy's AllowCreateOnUpdate / AllowUnconditionalUpdate.
    allow_create_on_update: bool = False
    allow_unconditional_update: bool = True

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


# --- coordination.k8s.io/v1 Lease --------------------------------------------

LEASE_SCHEMA = {
    "metadata": ("struct", "ObjectMeta", "v1.ObjectMeta", {}),
    "spec": ("struct", "LeaseSpec", "v1.LeaseSpec", {
        "holderIdentity": "string", "leaseDurationSeconds": "int32", "acquireTime": "microtime",
        "renewTime": "microtime", "leaseTransitions": "int32", "strategy": "string", "preferredHolder": "string"}),
}


def validate_lease(obj: dict, old: dict | None) -> list[FieldError]:
    # pkg/apis/coordination/validation ValidateLeaseSpec.
    errs: list[FieldError] = []
    spec = obj.get("spec") or {}
    d = spec.get("leaseDurationSeconds")
    if d is not None and d <= 0:
        errs.append(FieldError("Invalid", "spec.leaseDurationSeconds", d, "must be greater than 0"))
    t = spec.get("leaseTransitions")
    if t is not None and t < 0:
        errs.append(FieldError("Invalid", "spec.leaseTransitions", t, "must be greater than or equal to 0"))
    if spec.get("preferredHolder") and not spec.get("strategy"):
        errs.append(FieldError("Forbidden", "spec.preferredHolder", None,
                               "preferredHolder can only be set when strategy is set"))
    return errs


# --- core/v1 Event ----------------------------------------------------------

_OBJREF = {k: "string" for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
EVENT_SCHEMA = {
    "metadata": ("struct", "ObjectMeta", "v1.ObjectMeta", {}),
    "involvedObject": ("struct", "ObjectReference", "v1.ObjectReference", _OBJREF),
    "related": ("struct", "ObjectReference", "v1.ObjectReference", _OBJREF),
    "reason": "string", "message": "string", "type": "string", "action": "string",
    "reportingComponent": "string", "reportingInstance": "string",
    "source": ("struct", "EventSource", "v1.EventSource", {"component": "string", "host": "string"}),
    "firstTimestamp": "time", "lastTimestamp": "time", "eventTime": "microtime", "count": "int32",
    "series": ("struct", "EventSeries", "v1.EventSeries", {"count": "int32", "lastObservedTime": "microtime"}),
}


def validate_event(obj: dict, old: dict | None, strict: bool = True) -> list[FieldError]:
    """legacyValidateEvent (pkg/apis/core/validation/events.go) for core/v1, which checks the same
    on create and update.  `strict` adds what the fake checks on top (see the module docstring)."""
    errs: list[FieldError] = []
    ns = obj["metadata"].get("namespace", "")
    inv = obj.get("involvedObject") or {}
    inv_ns = inv.get("namespace", "") or ""
    if not obj.get("eventTime"):
        if not inv_ns:
            if ns not in ("", "default"):
                errs.append(FieldError("Invalid", "involvedObject.namespace", inv_ns, "does not match event.namespace"))
        elif ns != inv_ns:
            errs.append(FieldError("Invalid", "involvedObject.namespace", inv_ns, "does not match event.namespace"))
    else:
        if not inv_ns and ns not in ("default", "kube-system"):
            errs.append(FieldError("Invalid", "involvedObject.namespace", inv_ns, "does not match event.namespace"))
        rc = obj.get("reportingComponent") or ""
        if not rc:
            errs.append(FieldError("Required", "reportingComponent"))
        else:
            errs += validate_qualified_name(rc, "reportingComponent")
        for fld, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
            v = obj.get(fld) or ""
            if not v:
                errs.append(FieldError("Required", fld))
            elif len(v) > limit:
                errs.append(FieldError("Invalid", fld, "", f"can have at most {limit} characters"))
        if len(obj.get("message") or "") > 1024:
            errs.append(FieldError("Invalid", "message", "", "can have at most 1024 characters"))
    if strict:
        # Not checked by kube-apiserver for core/v1 events (only for events.k8s.io/v1); see the docstring.
        if not obj.get("eventTime") and not obj.get("reason"):
            errs.append(FieldError("Required", "reason"))
        if obj.get("type") not in ("Normal", "Warning"):
            errs.append(FieldError("Invalid", "type", "", f"has invalid value: {obj.get('type') or ''}"))
    return errs


def event_get(fld: str) -> Callable[[dict], str]:
    if fld == "source":
        # ToSelectableFields: source.component, else reportingComponent.
        return lambda o: (o.get("source") or {}).get("component") or o.get("reportingComponent") or ""
    if fld.startswith("involvedObject."):
        sub = fld.split(".", 1)[1]
        return lambda o: str((o.get("involvedObject") or {}).get(sub) or "")
    return lambda o: str(o.get(fld) or "")


EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type")


def _since(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    return human_duration(time.time() - parse_rfc3339(ts[:19] + "Z"))


def event_cols(o: dict) -> list:
    # printEvent (pkg/printers/internalversion), Wide: the server always sends every column.
    first = _since(o.get("firstTimestamp")) if o.get("firstTimestamp") else _since(o.get("eventTime"))
    last = _since(o.get("lastTimestamp")) if o.get("lastTimestamp") else first
    count = o.get("count") or 0
    series = o.get("series")
    if series:
        last = _since(series.get("lastObservedTime"))
        count = series.get("count") or 0
    elif count == 0:
        count = 1
    inv = o.get("involvedObject") or {}
    target = (f"{(inv.get('kind') or '').lower()}/{inv['name']}" if inv.get("name")
              else (inv.get("kind") or "").lower())
    src = o.get("source") or {}
    comp = src.get("component") or o.get("reportingComponent") or ""
    inst = src.get("host") or o.get("reportingInstance") or ""
    return [last, o.get("type", ""), o.get("reason", ""), target, inv.get("fieldPath", ""),
            f"{comp}, {inst}" if inst else comp, (o.get("message") or "").strip(), first, count,
            o["metadata"]["name"]]


EVENT_COLUMNS = [("Last Seen", "string", "", "", 0), ("Type", "string", "", "", 0), ("Reason", "string", "", "", 0),
                 ("Object", "string", "", "", 0), ("Subobject", "string", "", "", 1),
                 ("Source", "string", "", "", 1), ("Message", "string", "", "", 0),
                 ("First Seen", "string", "", "", 1), ("Count", "string", "", "", 1),
                 ("Name", "string", "name", "", 1)]


# --- core/v1 Pod --------------------------------------------------------------

POD_SCHEMA = {
    "metadata": ("struct", "ObjectMeta", "v1.ObjectMeta", {}),
    "spec": ("struct", "PodSpec", "v1.PodSpec", {
        "containers": ("array", ("struct", "Container", "v1.Container", {"name": "string", "image": "string"})),
        "initContainers": ("array", ("struct", "Container", "v1.Container", {"name": "string", "image": "string"})),
        "imagePullSecrets": ("array", ("struct", "LocalObjectReference", "v1.LocalObjectReference",
                                       {"name": "string"})),
        "serviceAccountName": "string", "nodeName": "string", "restartPolicy": "string"}),
}

POD_CONTROLLER_KINDS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def default_pod(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("enableServiceLinks", True)
        if spec.get("serviceAccountName"):
            # v1 conversion mirrors the field into the deprecated serviceAccount.
            spec["serviceAccount"] = spec["serviceAccountName"]


def pod_qos(spec: dict) -> str:
    cs = [c for c in (spec.get("containers") or []) + (spec.get("initContainers") or []) if isinstance(c, dict)]
    reqs = [((c.get("resources") or {}).get("requests") or {}) for c in cs]
    lims = [((c.get("resources") or {}).get("limits") or {}) for c in cs]
    if not any(reqs) and not any(lims):
        return "BestEffort"
    if all(lim.get("cpu") and lim.get("memory") and {k: req.get(k, lim.get(k)) for k in ("cpu", "memory")} ==
           {k: lim.get(k) for k in ("cpu", "memory")} for req, lim in zip(reqs, lims)):
        return "Guaranteed"
    return "Burstable"


def prepare_pod_create(obj: dict) -> None:
    # podStrategy.PrepareForCreate: status is the server's.
    obj["status"] = {"phase": "Pending", "qosClass": pod_qos(obj.get("spec") or {})}


POD_MUTABLE_MSG = ("pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                   "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                   "previously negative)")


def validate_pod(obj: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        errs.append(FieldError("Required", "spec.containers"))
    for key in ("initContainers", "containers"):
        seen = set()
        for i, c in enumerate(spec.get(key) or []):
            if not isinstance(c, dict):
                continue
            p = f"spec.{key}[{i}]"
            n = c.get("name", "")
            if not n:
                errs.append(FieldError("Required", f"{p}.name"))
            else:
                for m in name_is_dns_label(n):
                    errs.append(FieldError("Invalid", f"{p}.name", n, m))
                if n in seen:
                    errs.append(FieldError("Duplicate", f"{p}.name", n))
                seen.add(n)
            if not c.get("image"):
                errs.append(FieldError("Required", f"{p}.image"))
    rp = spec.get("restartPolicy")
    if rp not in ("Always", "OnFailure", "Never"):
        errs.append(FieldError("NotSupported", "spec.restartPolicy", rp,
                               'supported values: "Always", "OnFailure", "Never"'))
    san = spec.get("serviceAccountName")
    if san:
        for m in name_is_dns_subdomain(san):
            errs.append(FieldError("Invalid", "spec.serviceAccountName", san, m))
    if old is not None:
        errs += _pod_spec_immutable(spec, old.get("spec") or {})
    return errs


def _pod_spec_immutable(new: dict, old: dict) -> list[FieldError]:
    # ValidatePodUpdate: munge the mutable fields from old into new, then they must be equal.
    m = copy.deepcopy(new)
    for key in ("containers", "initContainers"):
        nc, oc = m.get(key) or [], old.get(key) or []
        if len(nc) == len(oc):
            for a, b in zip(nc, oc):
                if isinstance(a, dict) and isinstance(b, dict):
                    a["image"] = b.get("image")
                    if "image" not in b:
                        a.pop("image", None)
    for key in ("activeDeadlineSeconds",):
        if key in old:
            m[key] = old[key]
        else:
            m.pop(key, None)
    ot = old.get("tolerations") or []
    if (m.get("tolerations") or [])[:len(ot)] == ot:
        if "tolerations" in old:
            m["tolerations"] = old["tolerations"]
        else:
            m.pop("tolerations", None)
    og = old.get("terminationGracePeriodSeconds")
    if isinstance(og, int) and og < 0 and m.get("terminationGracePeriodSeconds") == 1:
        m["terminationGracePeriodSeconds"] = og
    if m == old:
        return []
    changed = sorted(k for k in set(m) | set(old) if m.get(k) != old.get(k))
    diff = "\n".join(f"  core.PodSpec.{k}: changed" for k in changed)
    return [FieldError("Forbidden", "spec", None, f"{POD_MUTABLE_MSG}\n{diff}")]


def pod_cols(o: dict) -> list:
    # printPod, simplified: phase, then the container states (last container wins), Terminating on top.
    spec, st = o.get("spec") or {}, o.get("status") or {}
    total = len(spec.get("containers") or [])
    reason = st.get("reason") or st.get("phase") or ""
    ready = restarts = 0
    for cs in reversed(st.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        w, t = state.get("waiting") or None, state.get("terminated") or None
        if w and w.get("reason"):
            reason = w["reason"]
        elif t and t.get("reason"):
            reason = t["reason"]
        elif t:
            reason = f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t.get('exitCode', 0)}"
        elif cs.get("ready") and state.get("running") is not None:
            ready += 1
    if o["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    return [o["metadata"]["name"], f"{ready}/{total}", reason, str(restarts), age(o),
            st.get("podIP") or "<none>", spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>",
            f"0/{len(gates)}" if gates else "<none>"]


# --- core/v1 Service ----------------------------------------------------------
# A single-stack IPv4 cluster: kube-apiserver --service-cluster-ip-range=10.96.0.0/12 and the default
# --service-node-port-range.  Allocation (cluster IPs, node ports) is done by FakeServer._allocate_service,
# which needs the store; everything here works on the object alone.

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# The lower part of the range is kept for static allocation (ServiceIPStaticSubrange): min(max(16, size/16), 256).
SERVICE_STATIC_BAND = min(max(16, SERVICE_CIDR.num_addresses // 16), 256)
NODE_PORT_RANGE = (30000, 32767)
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SERVICE_PROTOCOLS = ("SCTP", "TCP", "UDP")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
KUBELET_PORT = 10250
MAX_CLIENT_IP_AFFINITY_SECONDS = 86400
PORT_NAME_CHARSET_RE = re.compile(r"^[-a-z0-9]+$")
PORT_NAME_LETTER_RE = re.compile(r"[a-z]")

_SERVICE_PORT = ("struct", "ServicePort", "v1.ServicePort", {
    "name": "string", "protocol": "string", "appProtocol": "string", "port": "int32", "targetPort": "intorstring",
    "nodePort": "int32"})
SERVICE_SCHEMA = {
    "metadata": ("struct", "ObjectMeta", "v1.ObjectMeta", {}),
    "spec": ("struct", "ServiceSpec", "v1.ServiceSpec", {
        "ports": ("array", _SERVICE_PORT), "clusterIP": "string", "clusterIPs": ("array", "string"),
        "type": "string", "externalIPs": ("array", "string"), "sessionAffinity": "string",
        "loadBalancerIP": "string", "loadBalancerSourceRanges": ("array", "string"), "externalName": "string",
        "externalTrafficPolicy": "string", "healthCheckNodePort": "int32", "publishNotReadyAddresses": "bool",
        "ipFamilies": ("array", "string"), "ipFamilyPolicy": "string", "allocateLoadBalancerNodePorts": "bool",
        "loadBalancerClass": "string", "internalTrafficPolicy": "string", "trafficDistribution": "string"}),
}
# Go's declaration order, which is the order kube-apiserver writes the fields in.
SERVICE_SPEC_ORDER = ("ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity",
                      "loadBalancerIP", "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy",
                      "healthCheckNodePort", "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
                      "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
                      "internalTrafficPolicy", "trafficDistribution")
SERVICE_PORT_ORDER = ("name", "protocol", "appProtocol", "port", "targetPort", "nodePort")


def _svc_spec(obj: dict) -> dict:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _svc_ports(spec: dict) -> list[dict]:
    ports = spec.get("ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def service_externally_accessible(spec: dict) -> bool:
    # pkg/api/service.ExternallyAccessible
    return spec.get("type") in ("LoadBalancer", "NodePort") or (
        spec.get("type") == "ClusterIP" and bool(spec.get("externalIPs")))


def service_needs_cluster_ip(spec: dict) -> bool:
    return spec.get("type") != "ExternalName"


def service_needs_node_ports(spec: dict) -> bool:
    return spec.get("type") == "NodePort" or (
        spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False)


def default_service(obj: dict) -> None:
    """SetDefaults_Service (pkg/apis/core/v1/defaults.go)."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig")
        cip = cfg.get("clientIP") if isinstance(cfg, dict) else None
        if not isinstance(cip, dict) or cip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for p in _svc_ports(spec):
        if not p.get("protocol"):
            p["protocol"] = "TCP"
        tp = p.get("targetPort")
        if tp is None or tp == "" or (tp == 0 and not isinstance(tp, bool)):
            p["targetPort"] = p.get("port", 0)
    if service_externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def order_service(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("type") == "ExternalName":
        # defaultOnReadInternalTrafficPolicy: never shown for ExternalName.
        spec.pop("internalTrafficPolicy", None)
    for p in _svc_ports(spec):
        ordered = {k: p[k] for k in SERVICE_PORT_ORDER if k in p} | {k: v for k, v in p.items()
                                                                       if k not in SERVICE_PORT_ORDER}
        p.clear()
        p.update(ordered)
    obj["spec"] = {k: spec[k] for k in SERVICE_SPEC_ORDER if k in spec} | {k: v for k, v in spec.items()
                                                                           if k not in SERVICE_SPEC_ORDER}
    if "status" in obj:
        obj["status"] = obj.pop("status")  # after spec, as Go writes it


def prepare_service_create(obj: dict) -> None:
    """svcStrategy.PrepareForCreate: status is the server's."""
    obj["status"] = {"loadBalancer": {}}
    order_service(obj)


def normalize_cluster_ips(spec: dict, ospec: dict | None) -> None:
    """normalizeClusterIPs: keep clusterIPs in step with a clusterIP the client set or changed."""
    if ospec is None:
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        return
    if (spec.get("clusterIP") or "") == (ospec.get("clusterIP") or ""):
        return
    if (spec.get("clusterIPs") or []) == (ospec.get("clusterIPs") or []):
        if not spec.get("clusterIP"):
            spec.pop("clusterIPs", None)
        else:
            spec["clusterIPs"] = [spec["clusterIP"]] + list(spec.get("clusterIPs") or [])[1:]


def begin_service_update(obj: dict, old: dict) -> None:
    """The registry's beginUpdate before allocation: patchAllocatedValues (a PUT or apply that leaves out
    clusterIP or node ports keeps the allocated ones), then normalizeClusterIPs."""
    spec, ospec = obj.setdefault("spec", {}), _svc_spec(old)
    if not isinstance(spec, dict):
        return
    if service_needs_cluster_ip(ospec) and service_needs_cluster_ip(spec):
        if not spec.get("clusterIP") and ospec.get("clusterIP"):
            spec["clusterIP"] = ospec["clusterIP"]
        if not spec.get("clusterIPs") and ospec.get("clusterIPs"):
            spec["clusterIPs"] = list(ospec["clusterIPs"])
    if service_needs_node_ports(ospec) and service_needs_node_ports(spec):
        used = {p.get("nodePort") for p in _svc_ports(ospec) if p.get("nodePort")} & \
               {p.get("nodePort") for p in _svc_ports(spec) if p.get("nodePort")}
        by_name = {(p.get("name", ""), p.get("protocol")): p.get("nodePort") for p in _svc_ports(ospec)}
        for p in _svc_ports(spec):
            if not p.get("nodePort"):
                val = by_name.get((p.get("name", ""), p.get("protocol")))
                if val and val not in used:
                    p["nodePort"] = val
    normalize_cluster_ips(spec, ospec)


def prepare_service_update(obj: dict, old: dict) -> None:
    """svcStrategy.PrepareForUpdate: dropTypeDependentFields (what a type change leaves behind, unless the
    client changed it too) and the load-balancer status of a Service that is no longer one."""
    spec, ospec = obj.setdefault("spec", {}), _svc_spec(old)
    if not isinstance(spec, dict):
        return
    if service_needs_cluster_ip(ospec) and not service_needs_cluster_ip(spec):
        if (spec.get("clusterIP") or "") == (ospec.get("clusterIP") or "") and \
                (spec.get("clusterIPs") or []) == (ospec.get("clusterIPs") or []):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == ospec.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == ospec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    node_types = ("NodePort", "LoadBalancer")
    if ospec.get("type") in node_types and spec.get("type") not in node_types:
        new_np = {p.get("nodePort") for p in _svc_ports(spec) if p.get("nodePort")}
        if new_np <= {p.get("nodePort") for p in _svc_ports(ospec) if p.get("nodePort")}:
            for p in _svc_ports(spec):
                p.pop("nodePort", None)
    if ospec.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer" and \
            spec.get("allocateLoadBalancerNodePorts") is not None and \
            spec.get("allocateLoadBalancerNodePorts") == ospec.get("allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)
    if ospec.get("type") in node_types and spec.get("type") not in node_types and \
            (spec.get("externalTrafficPolicy") or "") == (ospec.get("externalTrafficPolicy") or ""):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != "LoadBalancer":
        if not isinstance(obj.get("status"), dict):
            obj["status"] = {}
        obj["status"]["loadBalancer"] = {}
    order_service(obj)


def _is_valid_ip(ip: Any) -> bool:
    if not isinstance(ip, str):
        return False
    try:
        ipaddress.ip_address(ip)
        return True
    except ValueError:
        return False


MSG_VALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def _validate_port_num_or_name(tp: Any, path: str) -> list[FieldError]:
    # ValidatePortNumOrName: a number 1-65535 or an IANA_SVC_NAME.
    if isinstance(tp, int) and not isinstance(tp, bool):
        return [] if 1 <= tp <= 65535 else [FieldError("Invalid", path, tp, "must be between 1 and 65535, inclusive")]
    if isinstance(tp, str):
        msgs = []
        if len(tp) > 15:
            msgs.append("must be no more than 15 characters")
        if not PORT_NAME_CHARSET_RE.match(tp):
            msgs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        if not PORT_NAME_LETTER_RE.search(tp):
            msgs.append("must contain at least one letter (a-z)")
        if "--" in tp:
            msgs.append("must not contain consecutive hyphens")
        if tp and (tp[0] == "-" or tp[-1] == "-"):
            msgs.append("must not begin or end with a hyphen")
        return [FieldError("Invalid", path, tp, m) for m in msgs]
    return []


def _go_service_port_key(proto: Any, port: Any) -> GoLiteral:
    # The duplicate-port error prints its map key, a core.ServicePort with only Protocol and Port set, as %#v.
    return GoLiteral(f'core.ServicePort{{Name:"", Protocol:{go_quote(str(proto or ""))}, AppProtocol:(*string)(nil), '
                     f'Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}')


def _validate_service_cluster_ips(spec: dict) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields."""
    if spec.get("type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    cip = spec.get("clusterIP") or ""
    cips = spec.get("clusterIPs") or []
    if cip:
        if not cips:
            errs.append(FieldError("Required", "spec.clusterIPs"))
        elif cips[0] != cip:
            errs.append(FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips),
                                   "first value must match `clusterIP`"))
    elif cips:
        errs.append(FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips),
                               "must be empty when `clusterIP` is not specified"))
    seen = set()
    for i, fam in enumerate(spec.get("ipFamilies") or []):
        if fam not in ("IPv4", "IPv6"):
            errs.append(FieldError("NotSupported", f"spec.ipFamilies[{i}]", fam, 'supported values: "IPv4", "IPv6"'))
        if fam in seen:
            errs.append(FieldError("Duplicate", f"spec.ipFamilies[{i}]", fam))
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errs.append(FieldError("NotSupported", "spec.ipFamilyPolicy", policy,
                               'supported values: "PreferDualStack", "RequireDualStack", "SingleStack"'))
    bad = False
    for i, ip in enumerate(cips):
        if i == 0 and ip == "None":
            if len(cips) > 1:
                bad = True
                errs.append(FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips),
                                       "'None' must be the first and only value"))
            continue
        if not _is_valid_ip(ip):
            bad = True
            errs.append(FieldError("Invalid", f"spec.clusterIPs[{i}]", ip, MSG_VALID_IP))
    if len(cips) > 2:
        errs.append(FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips), "may only hold up to 2 values"))
    if bad:
        return errs
    if len(cips) > 1 and len({ipaddress.ip_address(ip).version for ip in cips}) != len(cips):
        errs.append(FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips),
                               "may specify no more than one IP for each IP family"))
    fams = spec.get("ipFamilies") or []
    if cip != "None" and cips and fams:
        for i, ip in enumerate(cips[:len(fams)]):
            v6 = ipaddress.ip_address(ip).version == 6
            if fams[i] == "IPv4" and v6:
                errs.append(FieldError("Invalid", f"spec.clusterIPs[{i}]", ip,
                                       f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if fams[i] == "IPv6" and not v6:
                errs.append(FieldError("Invalid", f"spec.clusterIPs[{i}]", ip,
                                       f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errs


def _validate_service_update(spec: dict, ospec: dict) -> list[FieldError]:
    """validateUpgradeDowngradeClusterIPs and validateUpgradeDowngradeIPFamilies: the primary cluster IP
    (and family) may not change once set, except to or from ExternalName."""
    errs: list[FieldError] = []
    if "ExternalName" in (spec.get("type"), ospec.get("type")):
        return errs
    if spec.get("clusterIP") == "None" and ospec.get("clusterIP") == "None":
        return errs
    new, old = spec.get("clusterIPs") or [], ospec.get("clusterIPs") or []
    shown = go_string_slice(new)
    if len(new) == len(old):
        for a, b in zip(old, new):
            if a != b:
                errs.append(FieldError("Invalid", "spec.clusterIPs[0]", shown, "may not change once set"))
    elif len(old) > len(new):
        if not new:
            errs.append(FieldError("Invalid", "spec.clusterIPs[0]", shown, "primary clusterIP can not be unset"))
        elif new[0] != old[0]:
            errs.append(FieldError("Invalid", "spec.clusterIPs[0]", shown, "may not change once set"))
        if len(new) == 1 and spec.get("ipFamilyPolicy") != "SingleStack":
            errs.append(FieldError("Invalid", "spec.clusterIPs[0]", shown,
                                   "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary "
                                   "clusterIP"))
    elif old and new[0] != old[0]:
        errs.append(FieldError("Invalid", "spec.clusterIPs[0]", shown, "may not change once set"))
    nf, of = spec.get("ipFamilies") or [], ospec.get("ipFamilies") or []
    if of and nf and nf[0] != of[0]:
        errs.append(FieldError("Invalid", "spec.ipFamilies[0]", GoLiteral(
            "[]core.IPFamily{" + ", ".join(go_quote(str(f)) for f in nf) + "}"), "may not change once set"))
    return errs


def validate_service(obj: dict, old: dict | None) -> list[FieldError]:
    """ValidateService (and, for an update, ValidateServiceUpdate's checks first)."""
    errs: list[FieldError] = []
    spec = _svc_spec(obj)
    if old is not None:
        errs += _validate_service_update(spec, _svc_spec(old))
    raw_ports = spec.get("ports") if isinstance(spec.get("ports"), list) else []
    stype = spec.get("type") or ""
    cip = spec.get("clusterIP") or ""
    headless = cip == "None"
    if not raw_ports and not headless and stype != "ExternalName":
        errs.append(FieldError("Required", "spec.ports"))
    if stype == "LoadBalancer":
        if headless:
            errs.append(FieldError("Invalid", "spec.clusterIP", cip, "may not be set to 'None' for LoadBalancer "
                                   "services"))
        for i, p in enumerate(raw_ports):
            if isinstance(p, dict) and p.get("port") == KUBELET_PORT:
                errs.append(FieldError("Invalid", f"spec.ports[{i}]", KUBELET_PORT, f"may not expose port "
                                       f"{KUBELET_PORT} externally since it is used by kubelet"))
    elif stype == "NodePort":
        if headless:
            errs.append(FieldError("Invalid", "spec.clusterIP", cip, "may not be set to 'None' for NodePort services"))
    elif stype == "ExternalName":
        if cip:
            errs.append(FieldError("Forbidden", "spec.clusterIP", None, "may not be set for ExternalName services"))
        if spec.get("ipFamilies"):
            errs.append(FieldError("Forbidden", "spec.ipFamilies", None, "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(FieldError("Forbidden", "spec.ipFamilyPolicy", None,
                                   "may not be set for ExternalName services"))
        cname = str(spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs += [FieldError("Invalid", "spec.externalName", cname, m) for m in name_is_dns_subdomain(cname)]
        else:
            errs.append(FieldError("Required", "spec.externalName"))
    names: set[str] = set()
    for i, p in enumerate(raw_ports):
        if not isinstance(p, dict):
            continue
        path = f"spec.ports[{i}]"
        name = p.get("name") or ""
        if len(raw_ports) > 1 and not name:
            errs.append(FieldError("Required", f"{path}.name"))
        elif name:
            errs += [FieldError("Invalid", f"{path}.name", name, m) for m in name_is_dns_label(name)]
            if name in names:
                errs.append(FieldError("Duplicate", f"{path}.name", name))
            names.add(name)
        port = p.get("port", 0)
        if not 1 <= port <= 65535:
            errs.append(FieldError("Invalid", f"{path}.port", port, "must be between 1 and 65535, inclusive"))
        proto = p.get("protocol") or ""
        if not proto:
            errs.append(FieldError("Required", f"{path}.protocol"))
        elif proto not in SERVICE_PROTOCOLS:
            errs.append(FieldError("NotSupported", f"{path}.protocol", proto, 'supported values: "SCTP", "TCP", "UDP"'))
        errs += _validate_port_num_or_name(p.get("targetPort"), f"{path}.targetPort")
        if p.get("appProtocol") is not None:
            errs += validate_qualified_name(str(p["appProtocol"]), f"{path}.appProtocol")
    if spec.get("selector") is not None:
        errs += validate_labels(spec.get("selector"), "spec.selector")
    sa = spec.get("sessionAffinity") or ""
    if not sa:
        errs.append(FieldError("Required", "spec.sessionAffinity"))
    elif sa not in ("ClientIP", "None"):
        errs.append(FieldError("NotSupported", "spec.sessionAffinity", sa, 'supported values: "ClientIP", "None"'))
    if sa == "ClientIP":
        cfg = spec.get("sessionAffinityConfig")
        why = "when session affinity type is ClientIP"
        if not isinstance(cfg, dict):
            errs.append(FieldError("Required", "spec.sessionAffinityConfig", None, why))
        elif not isinstance(cfg.get("clientIP"), dict):
            errs.append(FieldError("Required", "spec.sessionAffinityConfig.clientIP", None, why))
        elif cfg["clientIP"].get("timeoutSeconds") is None:
            errs.append(FieldError("Required", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", None, why))
        else:
            t = cfg["clientIP"]["timeoutSeconds"]
            if not isinstance(t, int) or not 0 < t <= MAX_CLIENT_IP_AFFINITY_SECONDS:
                errs.append(FieldError("Invalid", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", t,
                                       f"must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"))
    elif sa == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.append(FieldError("Forbidden", "spec.sessionAffinityConfig", None,
                               "must not be set when session affinity is None"))
    errs += _validate_service_cluster_ips(spec)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not _is_valid_ip(ip):
            errs.append(FieldError("Invalid", f"spec.externalIPs[{i}]", ip, MSG_VALID_IP))
    if not stype:
        errs.append(FieldError("Required", "spec.type"))
    elif stype not in SERVICE_TYPES:
        errs.append(FieldError("NotSupported", "spec.type", stype,
                               'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'))
    ports = [(i, p) for i, p in enumerate(raw_ports) if isinstance(p, dict)]
    if stype == "ClusterIP":
        for i, p in ports:
            if p.get("nodePort"):
                errs.append(FieldError("Forbidden", f"spec.ports[{i}].nodePort", None,
                                       "may not be used when `type` is 'ClusterIP'"))
    seen_np, seen_port = set(), set()
    for i, p in ports:
        if p.get("nodePort"):
            key = (p.get("protocol"), p["nodePort"])
            if key in seen_np:
                errs.append(FieldError("Duplicate", f"spec.ports[{i}].nodePort", p["nodePort"]))
            seen_np.add(key)
    for i, p in ports:
        key = (p.get("protocol"), p.get("port", 0))
        if key in seen_port:
            errs.append(FieldError("Duplicate", f"spec.ports[{i}]", _go_service_port_key(*key)))
        seen_port.add(key)
    etp = spec.get("externalTrafficPolicy") or ""
    if not service_externally_accessible(spec):
        if etp:
            errs.append(FieldError("Invalid", "spec.externalTrafficPolicy", etp,
                                   "may only be set for externally-accessible services"))
    elif not etp:
        errs.append(FieldError("Required", "spec.externalTrafficPolicy"))
    elif etp not in ("Cluster", "Local"):
        errs.append(FieldError("NotSupported", "spec.externalTrafficPolicy", etp,
                               'supported values: "Cluster", "Local"'))
    itp = spec.get("internalTrafficPolicy")
    if itp is None:
        if stype in ("NodePort", "LoadBalancer", "ClusterIP"):
            errs.append(FieldError("Required", "spec.internalTrafficPolicy"))
    elif itp not in ("Cluster", "Local"):
        errs.append(FieldError("NotSupported", "spec.internalTrafficPolicy", itp,
                               'supported values: "Cluster", "Local"'))
    return errs


def service_cols(o: dict) -> list:
    # printService: Name, Type, Cluster-IP, External-IP, Port(s), Age, Selector (wide).
    spec, st = _svc_spec(o), o.get("status") or {}
    stype = spec.get("type", "")
    cips = spec.get("clusterIPs") or []
    ext_ips = [str(x) for x in spec.get("externalIPs") or []]
    if stype in ("ClusterIP", "NodePort"):
        external = ",".join(ext_ips) or "<none>"
    elif stype == "LoadBalancer":
        ingress = ((st.get("loadBalancer") or {}).get("ingress") or [])
        lb = [i.get("ip") or i.get("hostname") for i in ingress if isinstance(i, dict) and
              (i.get("ip") or i.get("hostname"))]
        external = ",".join(lb + ext_ips) or "<pending>"
    elif stype == "ExternalName":
        external = spec.get("externalName", "")
    else:
        external = "<unknown>"
    ports = ",".join((f"{p.get('port', 0)}:{p['nodePort']}/{p.get('protocol', '')}" if p.get("nodePort")
                      else f"{p.get('port', 0)}/{p.get('protocol', '')}") for p in _svc_ports(spec))
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [o["metadata"]["name"], stype, cips[0] if cips else "<none>", external, ports or "<none>", age(o),
            selector]


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
                  field_selectors=("metadata.name", "status.phase"),
                  field_getters={"status.phase": lambda o: (o.get("status") or {}).get("phase", "")}))
    K.append(Kind(*core, "secrets", "Secret", "secret", True, [], defaulter=default_secret, validator=validate_secret,
                  column_defs=[NAME_COL, ("Type", "string", "", "", 0), ("Data", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}), age(o)],
                  field_selectors=("metadata.name", "metadata.namespace", "type"),
                  field_getters={"type": lambda o: o.get("type", "")}))
    K.append(Kind(*core, "configmaps", "ConfigMap", "configmap", True, ["cm"], validator=validate_configmap,
                  column_defs=[NAME_COL, ("Data", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"],
                                     len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]))
    K.append(Kind(*core, "serviceaccounts", "ServiceAccount", "serviceaccount", True, ["sa"],
                  column_defs=[NAME_COL, ("Secrets", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], len(o.get("secrets") or []), age(o)]))
    K.append(Kind(*core, "events", "Event", "event", True, ["ev"], name_check=name_is_path_segment,
                  validator=validate_event, decode_schema=EVENT_SCHEMA, column_defs=EVENT_COLUMNS,
                  columns=event_cols, field_selectors=("metadata.name", "metadata.namespace") + EVENT_FIELDS,
                  field_getters={f: event_get(f) for f in EVENT_FIELDS}))
    pod_fields = {
        "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName") or "",
        "spec.restartPolicy": lambda o: (o.get("spec") or {}).get("restartPolicy") or "",
        "spec.schedulerName": lambda o: (o.get("spec") or {}).get("schedulerName") or "",
        "spec.serviceAccountName": lambda o: (o.get("spec") or {}).get("serviceAccountName") or "",
        "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
        "status.phase": lambda o: (o.get("status") or {}).get("phase") or "",
        "status.podIP": lambda o: (o.get("status") or {}).get("podIP") or "",
        "status.nominatedNodeName": lambda o: (o.get("status") or {}).get("nominatedNodeName") or "",
    }
    K.append(Kind(*core, "pods", "Pod", "pod", True, ["po"], has_status=True, categories=["all"],
                  defaulter=default_pod, validator=validate_pod, decode_schema=POD_SCHEMA,
                  prepare_create=prepare_pod_create, return_deleted_object=True,
                  column_defs=[NAME_COL, ("Ready", "string", "", "", 0), ("Status", "string", "", "", 0),
                               ("Restarts", "string", "", "", 0), AGE_COL, ("IP", "string", "", "", 1),
                               ("Node", "string", "", "", 1), ("Nominated Node", "string", "", "", 1),
                               ("Readiness Gates", "string", "", "", 1)],
                  columns=pod_cols, field_selectors=("metadata.name", "metadata.namespace") + tuple(pod_fields),
                  field_getters=pod_fields))
    svc_fields = {
        "spec.clusterIP": lambda o: _svc_spec(o).get("clusterIP") or "",
        "spec.type": lambda o: _svc_spec(o).get("type") or "",
    }
    K.append(Kind(*core, "services", "Service", "service", True, ["svc"], name_check=name_is_dns1035_label,
                  has_status=True, categories=["all"], defaulter=default_service, validator=validate_service,
                  decode_schema=SERVICE_SCHEMA, prepare_create=prepare_service_create, return_deleted_object=True,
                  column_defs=[NAME_COL, ("Type", "string", "", "", 0), ("Cluster-IP", "string", "", "", 0),
                               ("External-IP", "string", "", "", 0), ("Port(s)", "string", "", "", 0), AGE_COL,
                               ("Selector", "string", "", "", 1)],
                  columns=service_cols, field_selectors=("metadata.name", "metadata.namespace") + tuple(svc_fields),
                  field_getters=svc_fields, allow_create_on_update=True))
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
    coord = "coordination.k8s.io", "v1"
    K.append(Kind(*coord, "leases", "Lease", "lease", True, [], validator=validate_lease, decode_schema=LEASE_SCHEMA,
                  column_defs=[NAME_COL, ("Holder", "string", "", "", 0), AGE_COL],
                  columns=lambda o: [o["metadata"]["name"], (o.get("spec") or {}).get("holderIdentity") or "",
                                     age(o)],
                  allow_create_on_update=True, allow_unconditional_update=False))
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
# The GroupKind ListOptions validation errors name (NewInvalid(meta.k8s.io/ListOptions)).
LIST_OPTIONS_KIND = Kind("meta.k8s.io", "v1", "listoptions", "ListOptions", "", False)


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


def _field_requirements(s: str) -> list[tuple[str, bool, str]]:
    """fields.ParseSelector: terms split on unescaped commas; `\,` `\=` `\\` escape a value."""
    terms, cur, i = [], [], 0
    s = s or ""
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    terms.append("".join(cur))
    reqs = []
    for part in terms:
        if not part.strip():
            continue
        m = re.match(r"^([^\s!=\\]+)\s*(==|=|!=)(.*)$", part.strip())
        if not m:
            raise err_bad_request(f"invalid selector: '{s}'; can't understand '{part}'")
        val = re.sub(r"\\(.)", r"\1", m.group(3))
        reqs.append((m.group(1), m.group(2) != "!=", val))
    return reqs


def parse_field_selector(s: str, kind: Kind) -> Callable[[dict], bool]:
    reqs = _field_requirements(s)
    for fld, _, _ in reqs:
        if fld not in kind.field_selectors and fld not in ("metadata.name", "metadata.namespace"):
            raise err_bad_request(f'field label not supported: {fld}')

    def get(obj, fld):
        if fld == "metadata.name":
            return obj["metadata"].get("name", "")
        if fld == "metadata.namespace":
            return obj["metadata"].get("namespace", "")
        g = kind.field_getters.get(fld)
        return g(obj) if g else ""

    def match(obj: dict) -> bool:
        return all((get(obj, f) == v) == eq for f, eq, v in reqs)
    return match


def field_selector_exact_name(s: str) -> str:
    """RequiresExactMatch("metadata.name") as RequestInfoFactory uses it: the name a list or watch
    is authorised for, or "" (a bad selector is ignored here; the handler reports it)."""
    try:
        reqs = _field_requirements(s)
    except ApiError:
        return ""
    for fld, eq, val in reqs:
        if fld == "metadata.name" and eq and val and not name_is_path_segment(val):
            return val
    return ""


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
# Top-level lists whose Go field has no patchStrategy although another kind's field of that name has one:
# ServiceAccount.imagePullSecrets is +listType=atomic (PodSpec.imagePullSecrets merges on name).
SMP_ATOMIC_TOP_LEVEL = {"ServiceAccount": ("imagePullSecrets",)}


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


def strategic_merge_for_kind(kind: Kind, cur: dict, patch: dict) -> dict:
    new = strategic_merge_patch(cur, patch)
    for fld in SMP_ATOMIC_TOP_LEVEL.get(kind.kind, ()):
        # No patchStrategy on the Go field: the list in the patch replaces the stored one.
        if fld in patch:
            if patch[fld] is None:
                new.pop(fld, None)
            else:
                new[fld] = copy.deepcopy(patch[fld])
    return new


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


class JSONPatchDecodeError(ValueError):
    """jsonpatch.DecodePatch failed: kube answers 400."""


class JSONPatchApplyError(ValueError):
    """Patch.Apply failed: kube answers 422 (NewGenericServerResponse)."""


def json_equal(a: Any, b: Any) -> bool:
    """evanphx/json-patch lazyNode.equal: objects and arrays structurally, scalars by their JSON text,
    so 1 != 1.0, true != 1 and "1" != 1 (Python's == would say otherwise for the first two)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return type(a) is type(b) and a == b


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 as gopkg.in/evanphx/json-patch.v4 applies it, with its error strings."""
    if not isinstance(ops, list):
        raise JSONPatchDecodeError(f"json: cannot unmarshal {_json_kind(ops)} into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise JSONPatchDecodeError(f"json: cannot unmarshal {_json_kind(op)} into Go value of type "
                                       "jsonpatch.Operation")
    doc = copy.deepcopy(doc)

    def container(d, parts):
        # findObject: walk to the parent of the last segment; None if any step is missing.
        for p in parts[:-1]:
            if isinstance(d, list):
                if not re.match(r"^(0|[1-9][0-9]*)$", p) or int(p) >= len(d):
                    return None
                d = d[int(p)]
            elif isinstance(d, dict) and p in d:
                d = d[p]
            else:
                return None
            if not isinstance(d, (dict, list)):
                return None
        return d

    def index(par, key, for_add=False):
        if key == "-" and for_add:
            return len(par)
        if not re.match(r"^-?[0-9]+$", key):
            raise JSONPatchApplyError(f'strconv.Atoi: parsing "{key}": invalid syntax')
        i = int(key)
        hi = len(par) if for_add else len(par) - 1
        if i < 0 or i > hi:
            raise JSONPatchApplyError(f"Unable to access invalid index: {i}: invalid index referenced")
        return i

    def get(d, parts):
        for p in parts:
            if isinstance(d, list):
                if not re.match(r"^(0|[1-9][0-9]*)$", p) or int(p) >= len(d):
                    return None, False
                d = d[int(p)]
            elif isinstance(d, dict) and p in d:
                d = d[p]
            else:
                return None, False
        return d, True

    def add(d, parts, val, opname, path):
        if not parts:
            return val
        par = container(d, parts)
        if par is None:
            raise JSONPatchApplyError(f'{opname} operation does not apply: doc is missing path: "{path}": '
                                      "missing value")
        key = parts[-1]
        if isinstance(par, list):
            try:
                par.insert(index(par, key, True), val)
            except JSONPatchApplyError as e:
                raise JSONPatchApplyError(f"error in add for path: '{path}': {e}")
        else:
            par[key] = val
        return d

    def remove(d, parts, opname, path):
        par = container(d, parts) if parts else None
        if par is None:
            raise JSONPatchApplyError(f'{opname} operation does not apply: doc is missing path: "{path}": '
                                      "missing value")
        key = parts[-1]
        if isinstance(par, list):
            try:
                return par.pop(index(par, key))
            except JSONPatchApplyError as e:
                raise JSONPatchApplyError(f"error in remove for path: '{path}': {e}")
        if key not in par:
            raise JSONPatchApplyError(f"error in remove for path: '{path}': Unable to remove nonexistent key: "
                                      f"{key}: missing value")
        return par.pop(key)

    for op in ops:
        kind = op.get("op")
        path = op.get("path", "")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise JSONPatchApplyError(f"{kind} operation failed to decode path")
        parts = _pointer(path)
        if kind == "add":
            doc = add(doc, parts, copy.deepcopy(op.get("value")), "add", path)
        elif kind == "remove":
            remove(doc, parts, "remove", path)
        elif kind == "replace":
            if not parts:
                doc = copy.deepcopy(op.get("value"))
                continue
            par = container(doc, parts)
            if par is None:
                raise JSONPatchApplyError(f"replace operation does not apply: doc is missing path: {path}: "
                                          "missing value")
            _, ok = get(doc, parts)
            if not ok:
                raise JSONPatchApplyError(f"replace operation does not apply: doc is missing key: {path}: "
                                          "missing value")
            if isinstance(par, list):
                par[int(parts[-1])] = copy.deepcopy(op.get("value"))
            else:
                par[parts[-1]] = copy.deepcopy(op.get("value"))
        elif kind in ("move", "copy"):
            frm = op.get("from", "")
            fparts = _pointer(frm) if isinstance(frm, str) and (not frm or frm.startswith("/")) else None
            if fparts is None:
                raise JSONPatchApplyError(f"{kind} operation failed to decode from")
            val, ok = get(doc, fparts)
            if not ok:
                raise JSONPatchApplyError(f'{kind} operation does not apply: doc is missing from path: "{frm}": '
                                          "missing value")
            if kind == "move":
                remove(doc, fparts, "move", frm)
            else:
                val = copy.deepcopy(val)
            doc = add(doc, parts, val, kind, path)
        elif kind == "test":
            if parts and container(doc, parts) is None:
                raise JSONPatchApplyError(f"test operation does not apply: is missing path: {path}: missing value")
            val, ok = get(doc, parts)
            want = op.get("value")
            if not ok:
                if want is None:
                    continue
                raise JSONPatchApplyError(f"testing value {path} failed: test failed")
            if want is None and "value" not in op:
                raise JSONPatchApplyError(f"testing value {path} failed: test failed")
            if not json_equal(val, want):
                raise JSONPatchApplyError(f"testing value {path} failed: test failed")
        else:
            raise JSONPatchApplyError(f"Unexpected kind: {kind}")
    return doc


# ---------------------------------------------------------------------------
# The object store
# ---------------------------------------------------------------------------

SYSTEM_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
               "deletionTimestamp", "deletionGracePeriodSeconds")


class HistoryEvent:
    """One write, as the watch cache keeps it: the new object and the one it replaced (for
    selector transitions), plus the object's JSON, encoded once for every watcher."""
    __slots__ = ("rv", "kind_key", "etype", "obj", "prev", "_json")

    def __init__(self, rv: int, kind_key: str, etype: str, obj: dict, prev: dict | None):
        self.rv, self.kind_key, self.etype, self.obj, self.prev = rv, kind_key, etype, obj, prev
        self._json: bytes | None = None

    def obj_json(self) -> bytes:
        if self._json is None:
            self._json = go_json(self.obj)
        return self._json


class Store:
    """All objects, one global resourceVersion counter, and the bounded event history watches read.

    Stored objects are never changed in place: every write stores a new dict, so the history can
    hold references.  The history is a list with an absolute index: a watch keeps its own offset
    and reads only what was appended since, under `lock`, woken by `cond`."""

    def __init__(self, cache_events: int = 5000):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 100  # start above 0: clients treat "0" specially
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.by_kind: dict[str, dict[tuple[str, str], dict]] = {}
        self.history: list[HistoryEvent] = []
        self.hist_base = 0          # absolute index of history[0]
        self.cache_events = cache_events
        self.min_rv = self.rv       # a watch from an older RV gets 410 (grows with evictions and compaction)
        self.compacted_rv = 0       # continue tokens and Exact lists older than this get 410
        self.epoch = 0              # bumped by /_fake/reset: open watches end

    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def get(self, kind: Kind, ns: str, name: str) -> dict | None:
        return self.objects.get((kind.key, ns or "", name))

    def clear(self) -> None:
        self.objects.clear()
        self.by_kind.clear()

    def put(self, kind: Kind, obj: dict, event: str) -> None:
        md = obj["metadata"]
        key = (kind.key, md.get("namespace", ""), md["name"])
        prev = self.objects.get(key)
        self.objects[key] = obj
        self.by_kind.setdefault(kind.key, {})[key[1:]] = obj
        self._event(kind, event, obj, prev)

    def remove(self, kind: Kind, ns: str, name: str, final: dict) -> None:
        prev = self.objects.pop((kind.key, ns or "", name), None)
        self.by_kind.get(kind.key, {}).pop((ns or "", name), None)
        self._event(kind, "DELETED", final, prev)

    def _event(self, kind: Kind, etype: str, obj: dict, prev: dict | None) -> None:
        self.history.append(HistoryEvent(int(obj["metadata"]["resourceVersion"]), kind.key, etype,
                                         copy.deepcopy(obj), prev))
        cap = max(1, self.cache_events)
        if len(self.history) > 2 * cap + 16:
            # Trim in chunks (amortised O(1)); oldest_watchable() keeps the window exact.
            drop = len(self.history) - cap
            self.min_rv = max(self.min_rv, self.history[drop - 1].rv)
            del self.history[:drop]
            self.hist_base += drop
        self.cond.notify_all()

    def total(self) -> int:
        return self.hist_base + len(self.history)

    def oldest_watchable(self) -> int:
        """The oldest RV a watch may start from (kube's "oldest-1"): older ones get 410 Expired."""
        n, cap = len(self.history), max(1, self.cache_events)
        if n > cap:
            return max(self.min_rv, self.history[n - cap - 1].rv)
        return self.min_rv

    def index_after(self, rv: int) -> int:
        """Absolute index of the first retained event newer than rv."""
        return self.hist_base + bisect.bisect_right(self.history, rv, key=lambda e: e.rv)

    def events_from(self, idx: int) -> list[HistoryEvent] | None:
        """Events from absolute index idx on; None if some of them were already trimmed."""
        if idx < self.hist_base:
            return None
        return self.history[idx - self.hist_base:]

    def compact(self) -> int:
        """Forget the history up to now, as etcd compaction plus a fresh watch cache would."""
        self.min_rv = max(self.min_rv, self.rv)
        self.compacted_rv = self.rv
        return self.rv

    def list(self, kind: Kind, ns: str | None) -> list[dict]:
        objs = self.by_kind.get(kind.key, {})
        out = [o for (n, _), o in objs.items() if ns is None or n == ns]
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
               "delay", "watchDrop", "watchExpired"}
# These match only watch requests, and act on the stream instead of the response.
WATCH_FAULT_KINDS = {"watchDrop", "watchExpired"}
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
    after_events: int | None = None     # watchDrop: drop once this many events were written
    after_seconds: float | None = None  # watchDrop: drop this long after the stream started
    reset: bool = False                 # watchDrop: TCP RST instead of a plain close

    def __post_init__(self):
        self.path_re = re.compile(self.path)

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "method": self.method, "path": self.path,
                "remaining": self.count, "hits": self.hits, "retryAfter": self.retry_after,
                "bumpResourceVersion": self.bump_resource_version, "code": self.code, "reason": self.reason,
                "message": self.message, "seconds": self.seconds, "afterEvents": self.after_events,
                "afterSeconds": self.after_seconds, "reset": self.reset}


# Runtime settings: config keys that tests may also change through POST /_fake/settings.
SETTINGS_DEFAULTS: dict[str, Any] = {
    "namespaceTerminationSeconds": 0.0,   # how long a deleted namespace stays Terminating
    "bookmarkIntervalSeconds": 60.0,      # BOOKMARK period on watches with allowWatchBookmarks=true
    "defaultWatchSeconds": 1800.0,        # watch length when the client sends no timeoutSeconds
    "maxWatchSeconds": 0.0,               # cap on every watch's length; 0 = no cap
    "watchCacheEvents": 5000,             # events kept for watches that resume from a resourceVersion
    "defaultServiceAccount": True,        # create the "default" ServiceAccount in every new namespace
    "defaultServiceAccountDelaySeconds": 0.0,  # ... this long after the namespace (0: in the same write)
    "recreateOwnedPods": False,           # emulate a ReplicaSet & co.: a deleted owned pod comes back
    "recreateOwnedPodsDelaySeconds": 0.0,
    "strictEventValidation": True,        # core/v1 Events: also require reason and type Normal|Warning
}


def coerce_settings(src: dict, base: dict | None = None) -> dict:
    out = dict(base if base is not None else SETTINGS_DEFAULTS)
    for k, v in src.items():
        if k not in SETTINGS_DEFAULTS:
            raise ValueError(f"unknown setting {k!r}; one of {sorted(SETTINGS_DEFAULTS)}")
        d = SETTINGS_DEFAULTS[k]
        if isinstance(d, bool):
            if not isinstance(v, bool):
                raise ValueError(f"{k} must be true or false")
            out[k] = v
        elif isinstance(d, int):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{k} must be a positive integer")
            out[k] = v
        else:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{k} must be a number >= 0")
            out[k] = float(v)
    return out


def validate_owner_references(refs: Any) -> list[FieldError]:
    """apimachinery ValidateOwnerReferences (field path without an index, as kube reports it)."""
    errs: list[FieldError] = []
    if not refs:
        return errs
    if not isinstance(refs, list):
        return [FieldError("Invalid", "metadata.ownerReferences", refs, "must be a list")]
    first = ""
    for r in refs:
        if not isinstance(r, dict):
            errs.append(FieldError("Invalid", "metadata.ownerReferences", r, "must be an object"))
            continue
        av = r.get("apiVersion") or ""
        if not av.rsplit("/", 1)[-1]:
            errs.append(FieldError("Invalid", "metadata.ownerReferences.apiVersion", av, "version must not be empty"))
        for fld in ("kind", "name", "uid"):
            if not r.get(fld):
                errs.append(FieldError("Invalid", f"metadata.ownerReferences.{fld}", r.get(fld) or "",
                                       f"{fld} must not be empty"))
        if r.get("controller") is True:
            cur = f"{r.get('kind')}/{r.get('name')}"
            if first:
                errs.append(FieldError("Invalid", "metadata.ownerReferences", refs,
                                       'Only one reference can have Controller set to true. Found "true" in '
                                       f"references for {first} and {cur}"))
            else:
                first = cur
    return errs


def controller_ref(obj: dict) -> dict | None:
    for r in obj["metadata"].get("ownerReferences") or []:
        if isinstance(r, dict) and r.get("controller") is True:
            return r
    return None


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
        try:
            self.settings = coerce_settings({k: v for k, v in config.items() if k in SETTINGS_DEFAULTS})
        except ValueError as e:
            raise SystemExit(f"bad config: {e}")
        self.store.cache_events = self.settings["watchCacheEvents"]
        # Open watches (id -> info dict) for GET /_fake/watches.
        self.watches: dict[int, dict] = {}
        self.watch_ids = itertools.count(1)
        # What a pod's controller would create it from (spec before admission), by uid; and the same for
        # recently deleted pods, by (namespace, name): the source of recreate_owned_pod.
        self.pod_templates: dict[str, dict] = {}
        self.deleted_pods: OrderedDict = OrderedDict()
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

    @property
    def ns_termination_seconds(self) -> float:
        return self.settings["namespaceTerminationSeconds"]

    def update_settings(self, changes: dict) -> dict:
        with self.store.lock:
            self.settings = coerce_settings(changes, self.settings)
            self.store.cache_events = self.settings["watchCacheEvents"]
            self.store.cond.notify_all()  # open watches re-read their deadline and bookmark period
            return dict(self.settings)

    def reset(self) -> None:
        """Back to the config's initial state.  Open watches end, and the history is compacted, so a
        client that re-watches from an RV it saw before gets 410 and relists (no DELETED events are
        sent for what the reset wiped)."""
        st = self.store
        with st.lock:
            self.settings = coerce_settings({k: v for k, v in self.config.items() if k in SETTINGS_DEFAULTS})
            st.cache_events = self.settings["watchCacheEvents"]
            self._load_auth(self.config)
            self.pod_templates.clear()
            self.deleted_pods.clear()
            self.seed(self.config)
            st.compact()
            st.epoch += 1
            st.cond.notify_all()

    def seed(self, config: dict) -> None:
        st = self.store
        with st.lock:
            st.clear()
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
                self.seed_object(kind, ns if kind.namespaced else "", copy.deepcopy(obj), manager="fake-seed")

    def seed_object(self, kind: Kind, ns: str, obj: dict, manager: str) -> dict:
        """Create; but a ServiceAccount "default" (which the fake made with the namespace) is replaced."""
        md = obj.get("metadata") or {}
        if kind.kind == "ServiceAccount" and md.get("name") == "default":
            with self.store.lock:
                cur = self.store.get(kind, ns, "default")
                if cur is not None:
                    md["resourceVersion"] = cur["metadata"]["resourceVersion"]
                    obj["metadata"] = md
                    return self.update_object(kind, ns, "default", obj, manager=manager)
        return self.create_object(kind, ns, obj, manager=manager)

    @staticmethod
    def kind_for_object(obj: dict) -> Kind | None:
        av = obj.get("apiVersion", "")
        g, v = (av.split("/", 1) if "/" in av else ("", av))
        return BY_GVK.get((g, v, obj.get("kind", "")))

    # -- object lifecycle ----------------------------------------------------

    def _prepare(self, kind: Kind, ns: str, obj: dict, patched: bool = False) -> dict:
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
        if kind.decode_schema:
            before = json.dumps(obj, separators=(",", ":")) if patched else ""
            err = go_decode(obj, kind.decode_schema, kind.kind)
            if err and patched:
                # jsonPatcher/smpPatcher: the patched document does not decode.
                raise ApiError(422, "Invalid", f' "" is invalid: patch: Invalid value: {go_quote(before)}: {err}',
                               {"causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: "
                                            f"{go_quote(before)}: {err}", "field": "patch"}]})
            if err:
                raise err_bad_request(f'{kind.kind} in version "{kind.version}" cannot be handled as a '
                                      f"{kind.kind}: {err}")
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
        errs += validate_owner_references(md.get("ownerReferences"))
        return errs

    def _validate(self, kind: Kind, obj: dict, old: dict | None) -> list[FieldError]:
        if kind.kind == "Event":
            return validate_event(obj, old, strict=self.settings["strictEventValidation"])
        return kind.validator(obj, old) if kind.validator else []

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

    @staticmethod
    def _admission_name(md: dict) -> str:
        # admission.NewForbidden names the object before name generation: name, else generateName.
        return md.get("name") or md.get("generateName") or "Unknown"

    def _namespace_lifecycle(self, kind: Kind, ns: str, md: dict) -> None:
        phase = self.store.namespace_state(ns)
        if phase is None:
            raise err_ns_not_found(ns)
        if phase == "Terminating":
            name = self._admission_name(md)
            e = ApiError(403, "Forbidden",
                         f'{kind.qualified} "{name}" is forbidden: unable to create new content '
                         f"in namespace {ns} because it is being terminated", _details(kind, name))
            e.details["causes"] = [{"reason": "NamespaceTerminating",
                                    "message": f"namespace {ns} is being terminated",
                                    "field": "metadata.namespace"}]
            raise e

    def _admit_pod(self, ns: str, obj: dict) -> dict:
        """The mutating admission a pod create meets (ServiceAccount, DefaultTolerationSeconds, Priority).
        Returns what the pod's controller would recreate it from: its spec before admission."""
        md = obj["metadata"]
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        template = {"metadata": {k: copy.deepcopy(md[k]) for k in ("labels", "annotations", "ownerReferences")
                                 if k in md}, "spec": copy.deepcopy(spec)}
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = "default"
        san = spec["serviceAccountName"]
        sa = self.store.get(BY_GVR[("", "v1", "serviceaccounts")], ns, san)
        if sa is None:
            pods = BY_GVR[("", "v1", "pods")]
            name = self._admission_name(md)
            raise ApiError(403, "Forbidden", f'pods "{name}" is forbidden: error looking up service account '
                           f'{ns}/{san}: serviceaccount "{san}" not found', _details(pods, name))
        # Copied once, at creation, and only into a pod that names none itself.
        if not spec.get("imagePullSecrets"):
            refs = [{"name": r.get("name", "")} for r in sa.get("imagePullSecrets") or [] if isinstance(r, dict)]
            if refs:
                spec["imagePullSecrets"] = refs
            else:
                spec.pop("imagePullSecrets", None)
        tol = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if isinstance(tol, list) and not any(isinstance(t, dict) and t.get("key") == key for t in tol):
                tol.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        return template

    def _allocate_service(self, kind: Kind, obj: dict, old: dict | None) -> None:
        """The Service registry's allocators (beginCreate / beginUpdate, which kube runs before
        PrepareForCreate/Update and validation): IP families and policy (initIPFamilyFields, for a
        single-stack IPv4 cluster), the cluster IP from SERVICE_CIDR and the node ports from
        NODE_PORT_RANGE, unique across all Services.  Nothing is reserved apart from the stored
        objects, so a dry run allocates too and a deleted Service frees its addresses."""
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        name = obj["metadata"].get("name", "")
        if old is None:
            normalize_cluster_ips(spec, None)
        if not service_needs_cluster_ip(spec):
            return
        # "Loose pre-validation" of the cluster IP fields, before anything is allocated.
        errs = _validate_service_cluster_ips(spec)
        if errs:
            raise err_invalid(kind, name, errs)
        mine = set((_svc_spec(old).get("clusterIPs") or []) if old else [])
        my_ports = {p.get("nodePort") for p in _svc_ports(_svc_spec(old))} if old else set()
        used_ips: set[str] = set()
        used_ports: set[int] = set()
        for o in self.store.list(kind, None):
            if old is not None and o["metadata"]["uid"] == old["metadata"]["uid"]:
                continue
            used_ips.update(ip for ip in _svc_spec(o).get("clusterIPs") or [] if ip != "None")
            used_ports.update(p["nodePort"] for p in _svc_ports(_svc_spec(o)) if p.get("nodePort"))
        # initIPFamilyFields
        headless = spec.get("clusterIP") == "None"
        fams = list(spec.get("ipFamilies") or [])
        policy = spec.get("ipFamilyPolicy")
        if headless and not spec.get("selector"):
            # Headless without a selector: no IPs to allocate, so no single-stack limit either.
            if policy is None:
                policy = "RequireDualStack"
            if not fams:
                fams = ["IPv4"]
            if len(fams) < 2 and policy != "SingleStack":
                fams.append("IPv6" if fams[0] == "IPv4" else "IPv4")
        else:
            for i, ip in enumerate(spec.get("clusterIPs") or []):
                if ip == "None":
                    break
                fam = "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
                if i >= len(fams):
                    fams.append(fam)
            if policy is None:
                policy = "RequireDualStack" if len(fams) == 2 else "SingleStack"
            if policy == "RequireDualStack":
                errs.append(FieldError("Invalid", "spec.ipFamilyPolicy", policy,
                                       "this cluster is not configured for dual-stack services"))
            if len(fams) > 1 and policy == "SingleStack":
                errs.append(FieldError("Invalid", "spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or "
                                       "'PreferDualStack' when multiple IP families are specified"))
            for i, fam in enumerate(fams):
                if fam != "IPv4":
                    errs.append(FieldError("Invalid", f"spec.ipFamilies[{i}]", fam, "not configured on this cluster"))
            if not fams:
                fams = ["IPv4"]
        if errs:
            raise err_invalid(kind, name, errs)
        spec["ipFamilies"] = fams
        spec["ipFamilyPolicy"] = policy
        # The cluster IP: allocated on create, and on an update from ExternalName.  Otherwise a changed
        # one is left to validation ("may not change once set").
        cips = spec.get("clusterIPs") or []
        if old is not None and service_needs_cluster_ip(_svc_spec(old)):
            pass
        elif not cips:
            first = int(SERVICE_CIDR.network_address) + SERVICE_STATIC_BAND + 1
            last = int(SERVICE_CIDR.broadcast_address) - 1
            while True:
                ip = str(ipaddress.ip_address(random.randint(first, last)))
                if ip not in used_ips:
                    break
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        elif cips[0] != "None":
            for ip in cips:
                if ip in mine:
                    continue
                addr = ipaddress.ip_address(ip)
                if addr.version == 4 and (addr not in SERVICE_CIDR or addr in (SERVICE_CIDR.network_address,
                                                                               SERVICE_CIDR.broadcast_address)):
                    why = (f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is "
                           f"{SERVICE_CIDR}")
                elif ip in used_ips:
                    why = "provided IP is already allocated"
                else:
                    continue
                raise err_invalid(kind, name, [FieldError("Invalid", "spec.clusterIPs", go_string_slice(cips),
                                                          f"failed to allocate IP {ip}: {why}")])
        # Node ports.
        if service_needs_node_ports(spec):
            lo, hi = NODE_PORT_RANGE
            taken = set(used_ports)
            for i, p in enumerate(_svc_ports(spec)):
                np = p.get("nodePort")
                if not np:
                    continue
                if np in my_ports and old is not None:
                    taken.add(np)
                    continue
                why = ("provided port is not in the valid range. The range of valid ports is "
                       f"{lo}-{hi}" if not lo <= np <= hi else
                       "provided port is already allocated" if np in taken else "")
                if why:
                    raise err_invalid(kind, name, [FieldError("Invalid", f"spec.ports[{i}].nodePort", np, why)])
                taken.add(np)
            for p in _svc_ports(spec):
                if not p.get("nodePort"):
                    free = [n for n in range(lo, hi + 1) if n not in taken]
                    if not free:
                        raise err_internal("range is full")
                    p["nodePort"] = random.choice(free)
                    taken.add(p["nodePort"])
        order_service(obj)

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
                self._namespace_lifecycle(kind, ns, md)
            template = None
            if kind.kind == "Pod":
                if kind.defaulter:
                    kind.defaulter(obj)
                template = self._admit_pod(ns, obj)
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
            if kind.kind == "Service":
                self._allocate_service(kind, obj, None)
            if kind.prepare_create:
                kind.prepare_create(obj)
            errs = self._validate_meta(kind, obj, True)
            errs += self._validate(kind, obj, None)
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
            if template is not None:
                self.pod_templates[md["uid"]] = template
            if kind.kind == "Namespace" and self.settings["defaultServiceAccount"]:
                self._schedule(self.settings["defaultServiceAccountDelaySeconds"], self._create_default_sa,
                               md["name"])
            return copy.deepcopy(obj)

    @staticmethod
    def _schedule(delay: float, fn: Callable, *args) -> None:
        if delay <= 0:
            fn(*args)
            return
        t = threading.Timer(delay, fn, args=args)
        t.daemon = True
        t.start()

    def _create_default_sa(self, ns: str) -> None:
        # Stand-in for the ServiceAccount controller of kube-controller-manager.
        with self.store.lock:
            sak = BY_GVR[("", "v1", "serviceaccounts")]
            if self.store.namespace_state(ns) != "Active" or self.store.get(sak, ns, "default") is not None:
                return
            try:
                self.create_object(sak, ns, {"apiVersion": "v1", "kind": "ServiceAccount",
                                             "metadata": {"name": "default"}},
                                   manager="kube-controller-manager", skip_admission=True)
            except ApiError as e:
                log(f"default ServiceAccount in {ns}: {e.message}")

    def update_object(self, kind: Kind, ns: str, name: str, obj: dict, manager: str = "unknown",
                      dry_run: bool = False, subresource: str = "", operation: str = "Update",
                      expected_old: dict | None = None, check_name: bool = False, patched: bool = False,
                      created: list | None = None) -> dict:
        """PUT / PATCH / status writes.  `created` (a list) asks for create-on-update where the kind
        allows it (Lease): True is appended to it when the object was created."""
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
        obj = self._prepare(kind, ns, obj, patched=patched)
        md = obj["metadata"]
        if md.get("name") and md["name"] != name:
            raise err_bad_request(f"the name of the object ({md['name']}) does not match the name on the URL ({name})")
        md["name"] = name
        with st.lock:
            old = st.get(kind, ns, name)
            if old is None and created is not None and kind.allow_create_on_update and not subresource:
                # Store.Update with AllowCreateOnUpdate: the object is created (any resourceVersion is dropped).
                md.pop("resourceVersion", None)
                out = self.create_object(kind, ns, obj, manager=manager, dry_run=dry_run)
                created.append(True)
                return out
            if old is None:
                raise err_not_found(kind, name)
            if expected_old is not None and expected_old["metadata"]["resourceVersion"] != \
                    old["metadata"]["resourceVersion"]:
                # A patch raced with another writer; the caller recomputes.
                raise err_conflict(kind, name)
            rv = md.get("resourceVersion")
            if not rv and not kind.allow_unconditional_update and expected_old is None:
                # Store.Update without AllowUnconditionalUpdate: the (uint64) 0 is printed as %#v.
                gk = f"{kind.resource}.{kind.group}" if kind.group else kind.resource
                msg = "Invalid value: 0x0: must be specified for an update"
                raise ApiError(422, "Invalid", f'{gk} "{name}" is invalid: metadata.resourceVersion: {msg}',
                               _details(kind, name, causes=[{"reason": "FieldValueInvalid", "message": msg,
                                                             "field": "metadata.resourceVersion"}]))
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
            if kind.kind == "Service" and subresource != "status":
                begin_service_update(obj, old)
                self._allocate_service(kind, obj, old)
                prepare_service_update(obj, old)
            if kind.has_generation:
                gen = old["metadata"].get("generation", 1)
                if obj.get("spec") != old.get("spec"):
                    gen += 1
                md["generation"] = gen
            errs = self._validate_meta(kind, obj, False)
            errs += self._validate(kind, obj, old)
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
            if kind.kind == "Pod":
                self._pod_deleted(ns, old)
            if kind.return_deleted_object:
                return 200, final
            # Store.finalizeDelete: a Success Status naming the deleted object.
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": _details(kind, name, uid=old["metadata"]["uid"])}

    def _pod_deleted(self, ns: str, old: dict) -> None:
        tmpl = self.pod_templates.pop(old["metadata"]["uid"], None)
        if tmpl is None:
            return
        self.deleted_pods[(ns, old["metadata"]["name"])] = tmpl
        while len(self.deleted_pods) > 1000:
            self.deleted_pods.popitem(last=False)
        ref = controller_ref(old)
        if self.settings["recreateOwnedPods"] and ref and ref.get("kind") in POD_CONTROLLER_KINDS:
            self._schedule(self.settings["recreateOwnedPodsDelaySeconds"], self._recreate_quietly, ns,
                           old["metadata"]["name"])

    def _recreate_quietly(self, ns: str, name: str) -> None:
        try:
            self.recreate_owned_pod(ns, name)
        except ApiError as e:
            log(f"recreate pod {ns}/{name}: {e.message}")

    def recreate_owned_pod(self, ns: str, name: str) -> dict:
        """What the pod's controller (ReplicaSet, StatefulSet, DaemonSet, Job) does once a pod it owns is
        gone: create a new one from its template, through the normal create path (admission included):
        a new uid, and a new generated name unless the owner is a StatefulSet (which reuses the name)."""
        pods = BY_GVR[("", "v1", "pods")]
        with self.store.lock:
            if self.store.get(pods, ns, name) is not None:
                raise ApiError(409, "Conflict", f'pod "{name}" still exists: a controller replaces a pod only '
                               "once it is gone", _details(pods, name))
            tmpl = self.deleted_pods.get((ns, name))
            if tmpl is None:
                raise ApiError(404, "NotFound", f'no deleted pod "{name}" in namespace "{ns}" to recreate',
                               _details(pods, name))
            ref = next((r for r in tmpl["metadata"].get("ownerReferences") or []
                        if isinstance(r, dict) and r.get("controller") is True), None)
            if not ref or ref.get("kind") not in POD_CONTROLLER_KINDS:
                raise ApiError(400, "BadRequest", f'pod "{name}" has no controller ownerReference of kind '
                               + "/".join(POD_CONTROLLER_KINDS), _details(pods, name))
            md = copy.deepcopy(tmpl["metadata"])
            if ref["kind"] == "StatefulSet":
                md["name"] = name
            else:
                md["generateName"] = f"{ref.get('name')}-"
            obj = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": copy.deepcopy(tmpl["spec"])}
            out = self.create_object(pods, ns, obj, manager="kube-controller-manager")
            self.deleted_pods.pop((ns, name), None)
            return out

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
                        if k.kind == "Pod":
                            self.pod_templates.pop(o["metadata"]["uid"], None)
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
        self._log_answer()
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
        self._send(code, go_json(obj) + b"\n", JSON_CT, headers)

    def _send_error(self, e: ApiError) -> None:
        self._send_json(e.code, e.status(), e.headers)

    def _dispatch(self):
        start = self.req_start = time.time()
        self.audit_id = str(uuid.uuid4())
        self.resp_code = 0
        self.fault_kind = ""
        self.watch_fault: Fault | None = None
        self.is_watch = False
        self.log_entry: dict | None = None   # set when a watch stream starts (logged then, updated at its end)
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

    def _log_entry(self, start: float, dropped: bool) -> dict:
        now = time.time()
        return {
            "seq": 0, "time": now, "startTime": start,
            "conn": self.conn_id, "method": self.command, "path": self.url_path, "query": self.raw_query,
            "user": self.user.name if self.user else None, "authMethod": self.user.method if self.user else None,
            "status": self.resp_code, "dropped": dropped, "contentType": self.headers.get("Content-Type"),
            "accept": self.headers.get("Accept"), "userAgent": self.headers.get("User-Agent"),
            "fault": self.fault_kind or None, "durationMs": int((now - start) * 1000),
            "requestBytes": len(self.body) if hasattr(self, "body") else 0, "watch": self.is_watch,
        }

    def _append_log(self, entry: dict) -> None:
        # seq and time are taken under the log's lock, so both grow with the log's order.
        with self.srv.req_lock:
            entry["seq"] = next(self.srv.req_seq)
            entry["time"] = time.time()
            self.srv.requests.append(entry)

    def _log_answer(self) -> None:
        """Log the request as the server starts to answer it: after the work (a create's commit) is done,
        before the response is written.  A watch is logged here too, when its stream starts."""
        if self.log_entry is not None or self.url_path.startswith("/_fake/"):
            return
        entry = self._log_entry(self.req_start, False)
        if self.is_watch and self.resp_code == 200:
            entry.update({"durationMs": None, "ended": False, "events": 0, "endReason": None, "endTime": None})
        self._append_log(entry)
        self.log_entry = entry

    def _record(self, start: float, dropped: bool) -> None:
        if self.log_entry is None:
            # Nothing was answered (a dropped request): log it now.
            self._append_log(self._log_entry(start, dropped))
            return
        with self.srv.req_lock:
            e = self.log_entry
            e["durationMs"] = int((time.time() - start) * 1000)
            e["dropped"] = dropped
            if e.get("ended") is False:
                # A watch stream: say how it ended.
                e["endTime"] = time.time()
                e["ended"] = True
                if dropped:
                    e["endReason"] = "dropped"

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
                if f.kind in WATCH_FAULT_KINDS and not self.is_watch:
                    continue
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
        if fault.kind in WATCH_FAULT_KINDS:
            self.watch_fault = fault  # acted on by _watch, once the stream has started
            return
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
        watch = self.query.get("watch", "").lower() in ("true", "1", "t")
        self.is_watch = watch and self.command in ("GET", "HEAD") and len(rest) == 1
        method = self.command
        verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method.lower())
        if not name and method in ("GET", "HEAD"):
            verb = "watch" if watch else "list"
        elif not name and method == "DELETE":
            verb = "deletecollection"
        authz_name = name
        if verb in ("list", "watch"):
            # RequestInfoFactory: a list or watch with fieldSelector=metadata.name=<n> is a request for <n>.
            authz_name = field_selector_exact_name(self.query.get("fieldSelector", ""))
        attrs = Attrs(self.user, verb, group, resource, sub, ns, authz_name, path)
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
            return self._watch(kind, ns or None) if watch else self._list(kind, ns or None)
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
            created: list = []
            out = self.srv.update_object(kind, ns, name, obj, manager=self.field_manager, dry_run=dry_run,
                                         subresource=sub, check_name=True, created=created)
            return self._send_json(201 if created else 200, out)
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
            # Stored objects are never changed in place, so the list can share them.
            items = [o for o in st.list(kind, ns) if lsel(o["metadata"].get("labels")) and fsel(o)]
            return items, str(st.rv)

    def _validate_list_options(self, watch: bool) -> None:
        """apimachinery's ValidateListOptions, for a 1.31 server (WatchList gate off)."""
        q = self.query
        match = q.get("resourceVersionMatch", "")
        sie = "sendInitialEvents" in q
        errs: list[FieldError] = []
        if watch:
            if sie:
                if match != "NotOlderThan":
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
                errs.append(FieldError("Forbidden", "sendInitialEvents", None,
                                       "sendInitialEvents is forbidden for watch unless the WatchList feature gate "
                                       "is enabled"))
            if match:
                if not sie:
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                                           "provided"))
                if match != "NotOlderThan":
                    errs.append(FieldError("NotSupported", "resourceVersionMatch", match,
                                           'supported values: "NotOlderThan"'))
                if q.get("continue"):
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           "resourceVersionMatch is forbidden when continue is provided"))
        else:
            if match:
                if not q.get("resourceVersion"):
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           "resourceVersionMatch is forbidden unless resourceVersion is provided"))
                if q.get("continue"):
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           "resourceVersionMatch is forbidden when continue is provided"))
                if match not in ("Exact", "NotOlderThan"):
                    errs.append(FieldError("NotSupported", "resourceVersionMatch", match,
                                           'supported values: "Exact", "NotOlderThan", ""'))
                if match == "Exact" and q.get("resourceVersion") == "0":
                    errs.append(FieldError("Forbidden", "resourceVersionMatch", None,
                                           'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
            if sie:
                errs.append(FieldError("Forbidden", "sendInitialEvents", None, "sendInitialEvents is forbidden for list"))
        if errs:
            raise err_invalid(LIST_OPTIONS_KIND, "", errs)

    def _list(self, kind: Kind, ns: str | None):
        self._validate_list_options(False)
        st = self.srv.store
        cont = self.query.get("continue", "")
        qrv = self.query.get("resourceVersion", "")
        if cont and qrv not in ("", "0"):
            raise err_bad_request("specifying resource version is not allowed when using continue")
        if qrv and not cont:
            try:
                qrv_int = int(qrv)
                if qrv_int < 0:
                    raise ValueError
            except ValueError:
                raise ApiError(400, "BadRequest", f'resourceVersion: Invalid value: "{qrv}": strconv.ParseUint: '
                               f'parsing "{qrv}": invalid syntax', None)
            if self.query.get("resourceVersionMatch") == "Exact" and qrv_int < st.compacted_rv:
                raise ApiError(410, "Expired", "The resourceVersion for the provided list is too old.", None)
            err = wait_for_rv(st, qrv_int)
            if err:
                raise err
        items, rv = self._selected(kind, ns)
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                start, rv = tok["start"], str(tok["rv"])
            except (ValueError, KeyError, TypeError):
                raise err_bad_request("continue key is not valid: illegal base64 data at input byte 0")
            if int(rv) < st.compacted_rv:
                raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter.", None)
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

    # -- watch -----------------------------------------------------------------

    WATCH_IDLE_CHECK = 1.0  # how often an idle watch looks for a client that hung up (off the hot path)

    def _watch(self, kind: Kind, ns: str | None):
        """Chunked stream of watch events, as informers and `kubectl get -w` use (see WatchStream)."""
        WatchStream(self, kind, ns).run()

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
                merged = strategic_merge_for_kind(kind, cur, obj)
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
        if ctype == "application/json-patch+json" and isinstance(patch, list) and len(patch) > 10000:
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: The allowed maximum operations "
                           f"in a JSON patch is 10000, got {len(patch)}", {})
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
                    new = strategic_merge_for_kind(kind, cur, patch)
            except JSONPatchApplyError as e:
                # patch.go: NewGenericServerResponse(422, ...): a generic message, the cause in details.
                raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                               {"causes": [{"message": str(e)}]})
            except ValueError as e:
                raise err_bad_request(str(e))
            if not isinstance(new, dict):
                raise err_bad_request("patch produced a non-object")
            if not isinstance(new.get("metadata"), dict):
                new["metadata"] = {}
            # A resourceVersion the patch sets (merge patch, or a JSON patch replace) is a precondition;
            # without one the server retries internally on conflict, so patches never 409 by themselves.
            prv = new["metadata"].get("resourceVersion")
            if isinstance(patch, dict):
                prv = (patch.get("metadata") or {}).get("resourceVersion") or None
            elif prv == cur["metadata"]["resourceVersion"]:
                prv = None
            new["metadata"]["resourceVersion"] = prv or cur["metadata"]["resourceVersion"]
            if (new["metadata"].get("name") or name) != name:
                raise err_bad_request(f"the name of the object ({new['metadata'].get('name')}) does not match the "
                                      f"name on the URL ({name})")
            try:
                out = self.srv.update_object(kind, ns, name, new, manager=self.field_manager, dry_run=dry_run,
                                             subresource=sub, operation="Update",
                                             expected_old=None if prv else cur, patched=True)
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
                                  s.get("reason", ""), s.get("message", ""), float(s.get("seconds", 0)),
                                  after_events=None if s.get("afterEvents") is None else int(s["afterEvents"]),
                                  after_seconds=None if s.get("afterSeconds") is None else float(s["afterSeconds"]),
                                  reset=bool(s.get("reset")))
                    except re.error as e:
                        return self._send_json(400, {"error": f"bad path regex: {e}"})
                    except (TypeError, ValueError) as e:
                        return self._send_json(400, {"error": f"bad fault spec: {e}"})
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
                return self._send_json(201, srv.seed_object(kind, ns, obj, manager="fake-admin"))
            except ApiError as e:
                return self._send_error(e)
        if path == "/_fake/reset" and m == "POST":
            srv.reset()
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
        if path == "/_fake/settings":
            if m == "POST":
                try:
                    return self._send_json(200, srv.update_settings(json.loads(self.body or b"{}")))
                except (ValueError, AttributeError) as e:
                    return self._send_json(400, {"error": str(e)})
            if m == "GET":
                return self._send_json(200, dict(srv.settings))
        if path == "/_fake/compact" and m == "POST":
            with srv.store.lock:
                return self._send_json(200, {"resourceVersion": str(srv.store.compact())})
        if path == "/_fake/watches" and m == "GET":
            with srv.store.lock:
                return self._send_json(200, sorted((dict(w) for w in srv.watches.values()), key=lambda w: w["id"]))
        if path == "/_fake/recreate-pod" and m == "POST":
            spec = json.loads(self.body or b"{}")
            try:
                return self._send_json(201, srv.recreate_owned_pod(spec.get("namespace", "default"),
                                                                   spec.get("name", "")))
            except ApiError as e:
                return self._send_error(e)
        if path == "/_fake/info" and m == "GET":
            return self._send_json(200, {"port": srv.port, "version": srv.version,
                                         "caFile": srv.pki.ca_cert_path, "stateDir": srv.pki.dir})
        return self._send_json(404, {"error": f"no admin endpoint {m} {path}"})


def wait_for_rv(st: Store, rv: int, seconds: float = 3.0) -> ApiError | None:
    """The watch cache's waitUntilFreshAndBlock: an RV newer than the store's is waited for, then 504."""
    deadline = time.time() + seconds
    with st.lock:
        while st.rv < rv and time.time() < deadline:
            st.cond.wait(deadline - time.time())
        if st.rv >= rv:
            return None
        return ApiError(504, "Timeout", f"Timeout: Too large resource version: {rv}, current: {st.rv}",
                        {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                         "retryAfterSeconds": 1})


class WatchStream:
    """One watch request: 200, chunked, one JSON event per line, until the server-side timeout (a
    normal end: final bookmark if asked for, then the zero-length chunk), the client leaving, or an
    injected fault.

    The watch keeps an absolute offset into Store.history and, under the store lock, takes only what
    was appended since; it sleeps on Store.cond, which every write notifies, so an event reaches it
    as soon as the writer releases the lock.  Selector transitions follow the watch cache
    (cacheWatcher.convertToWatchEvent): the filter is applied to both the new and the previous object."""

    def __init__(self, h: "Handler", kind: Kind, ns: str | None):
        self.h, self.kind, self.ns = h, kind, ns
        self.srv, self.st = h.srv, h.srv.store
        q = h.query
        self.lsel = parse_label_selector(q.get("labelSelector", ""))
        self.fsel = parse_field_selector(q.get("fieldSelector", ""), kind)
        h._validate_list_options(True)
        self.since = q.get("resourceVersion", "")
        self.since_rv = 0
        if self.since not in ("", "0"):
            try:
                self.since_rv = int(self.since)
                if self.since_rv < 0:
                    raise ValueError
            except ValueError:
                raise ApiError(422, "Invalid", f'{kind.qualified} "" is invalid: resourceVersion: Invalid value: '
                               f'"{self.since}": invalid resource version: strconv.ParseUint: parsing '
                               f'"{self.since}": invalid syntax', _details(kind, ""))
        ts = q.get("timeoutSeconds", "")
        self.requested_timeout = None
        if ts:
            try:
                self.requested_timeout = int(ts)
            except ValueError:
                raise err_bad_request(f'timeoutSeconds: strconv.ParseInt: parsing "{ts}": invalid syntax')
        self.bookmarks = q.get("allowWatchBookmarks", "").lower() in ("true", "1", "t")
        self.as_table = h._wants_table()
        self.fault = h.watch_fault
        self.events_sent = 0
        self.start = time.time()

    # -- what a watcher sees -----------------------------------------------------

    def wanted(self, o: dict) -> bool:
        return ((self.ns is None or o["metadata"].get("namespace", "") == self.ns)
                and self.lsel(o["metadata"].get("labels")) and self.fsel(o))

    def convert(self, e: HistoryEvent) -> tuple[str, dict, bytes | None] | None:
        if e.kind_key != self.kind.key:
            return None
        cur = e.etype != "DELETED" and self.wanted(e.obj)
        old = e.prev is not None and self.wanted(e.prev)
        if cur:
            # Starts to match: ADDED, even for a MODIFIED write; keeps matching: the write's own type.
            return ("MODIFIED" if old else "ADDED"), e.obj, e.obj_json()
        if not old:
            return None
        if e.etype == "DELETED":
            return "DELETED", e.obj, e.obj_json()
        # Stops matching: DELETED carrying the previous content, at the event's resourceVersion.
        prev = dict(e.prev)
        prev["metadata"] = dict(prev["metadata"], resourceVersion=str(e.rv))
        return "DELETED", prev, None

    def encode(self, etype: str, obj: dict, obj_json: bytes | None = None) -> bytes:
        if self.as_table and etype == "BOOKMARK":
            obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"],
                   "columnDefinitions": [], "rows": []}
            obj_json = None
        elif self.as_table and etype != "ERROR":
            # `kubectl get -w` asks for Table events: one row per event.
            obj = self.h._table(self.kind, [obj], obj["metadata"]["resourceVersion"])
            obj_json = None
        if obj_json is None:
            obj_json = go_json(obj)
        line = b'{"type":"' + etype.encode() + b'","object":' + obj_json + b"}\n"
        return f"{len(line):x}\r\n".encode() + line + b"\r\n"

    def bookmark(self, rv: int) -> bytes:
        return self.encode("BOOKMARK", {"kind": self.kind.kind, "apiVersion": self.kind.group_version,
                                        "metadata": {"resourceVersion": str(rv)}})

    def error(self, e: ApiError) -> bytes:
        return self.encode("ERROR", e.status())

    # -- the stream --------------------------------------------------------------

    def deadline(self) -> float:
        s = self.srv.settings
        t = float(self.requested_timeout) if self.requested_timeout else s["defaultWatchSeconds"]
        if s["maxWatchSeconds"] > 0:
            t = min(t, s["maxWatchSeconds"])
        return self.start + t

    def send_headers(self) -> None:
        h = self.h
        h.resp_code = 200
        h._log_answer()
        h.send_response(200)
        h.send_header("Audit-Id", h.audit_id)
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Content-Type", "application/json")
        if h.user is not None:
            h.send_header("X-Kubernetes-Pf-Flowschema-Uid", FLOWSCHEMA_UID)
            h.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", PRIORITYLEVEL_UID)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()

    def write(self, data: bytes, events: int = 0) -> None:
        if data:
            self.h.wfile.write(data)
            self.h.wfile.flush()
        self.events_sent += events
        if self.h.log_entry is not None:
            self.h.log_entry["events"] = self.events_sent

    def end(self, reason: str, keep_alive: bool = True) -> None:
        self.h.wfile.write(b"0\r\n\r\n")
        self.h.wfile.flush()
        self.set_reason(reason)
        if not keep_alive:
            self.h.close_connection = True  # else as the client asked: keep-alive unless Connection: close

    def set_reason(self, reason: str) -> None:
        if self.h.log_entry is not None:
            self.h.log_entry["endReason"] = reason

    def client_gone(self) -> bool:
        try:
            r, _, _ = select.select([self.h.request], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(r)  # a watch client never sends anything: readable means it closed

    def drop_due(self, now: float) -> bool:
        f = self.fault
        if f is None or f.kind != "watchDrop":
            return False
        if f.after_events is None and f.after_seconds is None:
            return True
        if f.after_events is not None and self.events_sent >= f.after_events:
            return True
        return f.after_seconds is not None and now >= self.start + f.after_seconds

    def drop(self) -> None:
        self.set_reason("dropped")
        log(f"watch {self.h.url_path}: dropped by a watchDrop fault after {self.events_sent} events")
        raise DropConnection(reset=self.fault.reset)

    def run(self) -> None:
        st, srv = self.st, self.srv
        expired: ApiError | None = None
        initial: list[dict] = []
        if self.since_rv > st.rv:
            expired = wait_for_rv(st, self.since_rv)
        with st.lock:
            epoch = st.epoch
            caught_up = st.rv
            if expired is not None:
                pass
            elif self.fault is not None and self.fault.kind == "watchExpired":
                expired = ApiError(410, "Expired", self.fault.message or
                                   f"too old resource version: {self.since_rv} ({max(st.rv, self.since_rv + 1)})", None)
            elif self.since in ("", "0"):
                initial = [o for o in st.list(self.kind, self.ns) if self.wanted(o)]
                idx = st.total()
            elif self.since_rv < st.oldest_watchable():
                expired = ApiError(410, "Expired",
                                   f"too old resource version: {self.since_rv} ({st.oldest_watchable()})", None)
            else:
                idx = st.index_after(self.since_rv)
                caught_up = self.since_rv
        self.send_headers()
        info = {"id": next(srv.watch_ids), "seq": self.h.log_entry["seq"], "path": self.h.url_path,
                "query": self.h.raw_query, "user": self.h.user.name if self.h.user else None,
                "startTime": self.start, "conn": self.h.conn_id}
        with st.lock:
            srv.watches[info["id"]] = info
        try:
            if expired is not None:
                # Past authn, authz and admission the cacher reports errors as an ERROR event, then ends.
                self.write(self.error(expired), 1)
                self.end("expired" if expired.code == 410 else "tooLargeResourceVersion")
                return
            self.stream(initial, idx, caught_up, epoch, info)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            self.set_reason("clientClosed")
            self.h.close_connection = True
        finally:
            with st.lock:
                srv.watches.pop(info["id"], None)

    def stream(self, initial: list[dict], idx: int, caught_up: int, epoch: int, info: dict) -> None:
        st = self.st
        if self.drop_due(time.time()):
            self.drop()
        for o in initial:
            self.write(self.encode("ADDED", o), 1)
            info["events"] = self.events_sent
            if self.drop_due(time.time()):
                self.drop()
        interval = self.srv.settings["bookmarkIntervalSeconds"]
        next_bookmark = self.start + interval if interval > 0 else float("inf")
        while True:
            now = time.time()
            deadline = self.deadline()
            if self.drop_due(now):
                self.drop()
            if now >= deadline:
                if self.bookmarks:
                    self.write(self.bookmark(caught_up), 1)
                self.end("timeout")
                return
            if self.bookmarks and now >= next_bookmark:
                self.write(self.bookmark(caught_up), 1)
                interval = self.srv.settings["bookmarkIntervalSeconds"]
                next_bookmark = now + interval if interval > 0 else float("inf")
                continue
            with st.lock:
                evs = st.events_from(idx)
                if evs == [] and st.epoch == epoch:
                    wake = min(deadline, next_bookmark if self.bookmarks else deadline,
                               now + Handler.WATCH_IDLE_CHECK)
                    f = self.fault
                    if f is not None and f.kind == "watchDrop" and f.after_seconds is not None:
                        wake = min(wake, self.start + f.after_seconds)
                    st.cond.wait(max(0.0, wake - time.time()))
                    evs = st.events_from(idx)
                if evs is not None:
                    idx += len(evs)
                    caught_up = st.rv
                oldest = st.oldest_watchable()
                reset = st.epoch != epoch
            if reset:
                self.end("reset")
                return
            if evs is None:
                # It fell further behind than the history keeps: the real cacher drops such a watcher.
                self.write(self.error(ApiError(410, "Expired", f"too old resource version: {caught_up} "
                                                               f"({oldest})", None)), 1)
                self.end("expired")
                return
            out, n = [], 0
            for e in evs:
                c = self.convert(e)
                if c is None:
                    continue
                out.append(self.encode(*c))
                n += 1
                f = self.fault
                if f is not None and f.kind == "watchDrop" and f.after_events is not None and \
                        self.events_sent + n >= f.after_events:
                    break
            if out:
                self.write(b"".join(out), n)
                info["events"] = self.events_sent
            elif not evs and self.client_gone():
                self.set_reason("clientClosed")
                self.h.close_connection = True
                return


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
      "bookmarkIntervalSeconds": 60,         # BOOKMARK period (watches with allowWatchBookmarks=true)
      "defaultWatchSeconds": 1800,           # watch length without timeoutSeconds
      "maxWatchSeconds": 0,                  # cap on every watch; 0 = none
      "watchCacheEvents": 5000,              # events kept for watches resuming from a resourceVersion
      "defaultServiceAccount": true,         # every new namespace gets ServiceAccount "default" ...
      "defaultServiceAccountDelaySeconds": 0,  # ... this long after it (0: in the same write)
      "recreateOwnedPods": false,            # a deleted pod with a controller ownerReference comes back
      "recreateOwnedPodsDelaySeconds": 0,
      "strictEventValidation": true,         # core/v1 Events: reason required, type Normal|Warning
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

    The keys from namespaceTerminationSeconds to strictEventValidation are runtime
    settings too: POST /_fake/settings changes them until the next /_fake/reset.
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
