#!/usr/bin/env python3
"""FAKE EC2 instance metadata service (IMDSv2 only) for ecr-renew's tests.

A strict stand-in for ``http://169.254.169.254`` on 127.0.0.1:

    python3 fake_imds.py --aws-state STATE.json [--port 0] [--role-arn ARN]
                         [--user admin] [--duration 3600] [--region R]
                         [--session-name S] [--aws-endpoint URL]
                         [--instance-id ID] [--availability-zone AZ]

* ``PUT /latest/api/token`` needs ``X-aws-ec2-metadata-token-ttl-seconds``
  with an integer in 1..21600 (else 400) and returns an opaque token, the
  TTL echoed in the same header.
* Every GET needs ``X-aws-ec2-metadata-token`` holding a token that was
  issued here and has not expired; otherwise 401 (IMDSv1 is off, as with
  ``HttpTokens=required``).
* Any request carrying ``X-Forwarded-For`` is refused with 403, as EC2 does
  so that a proxy on the instance cannot fetch tokens.
* Served paths: ``/latest/meta-data/`` (index), ``.../iam/security-credentials/``
  (the role name), ``.../iam/security-credentials/<role>`` (``{"Code":
  "Success", "LastUpdated", "Type": "AWS-HMAC", "AccessKeyId",
  "SecretAccessKey", "Token", "Expiration"}``), ``.../iam/info``,
  ``.../placement/region``, ``.../placement/availability-zone``,
  ``.../instance-id``, ``/latest/dynamic/instance-identity/document``.
  Anything else is 404; methods other than GET/PUT are 405.
* The credentials are real temporary credentials: the fake calls the fake
  AWS's STS ``AssumeRole`` for ``--role-arn`` (default: role
  ``ecr-renew-node`` of the state file), signed with ``--user``'s keys from
  the state file, so they are enforced under IAM like any session.  They
  are cached and renewed 5 minutes before expiry.

Admin endpoints (no token needed, not logged):
  GET/DELETE /_fake/requests   request log: method, path, route, status,
                               token_sent, token_valid, ttl asked, XFF seen,
                               User-Agent, fault.  Never a token or a key.
  POST/GET/DELETE /_fake/faults  {"match": route|"*", "kind": "throttle"|
                               "500"|"503"|"drop"|"delay", "count": n,
                               "seconds": s}; routes are ``token``,
                               ``role-name``, ``credentials``, ``region``,
                               ``other``.  throttle = 429 as IMDS does.
  POST /_fake/rotate           hand out fresh credentials from now on
  POST /_fake/tokens/expire    invalidate every IMDSv2 token issued so far
  GET  /_fake/health

DEVIATIONS FROM EC2's IMDS: only the paths above exist; no IMDSv1
fallback; no hop-limit (TTL) handling on the token response, so the
"container needs hop limit 2" failure cannot be reproduced; the EC2 service
principal is played by an IAM user (see fake_aws's docstring); when
AssumeRole fails the credentials document is ``{"Code":
"AssumeRoleUnauthorizedAccess", "Message": ..., "LastUpdated": ...}`` with
HTTP 200, which is what EC2 reports for a role it cannot assume, but the
message text is this fake's; error bodies are short HTML-free text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakecommon import (  # noqa: E402
    FaultTable,
    RequestLog,
    add_role_source_arguments,
    iso_utc,
    make_logger,
    role_source_from_args,
    serve_until_signalled,
)

log = make_logger("fake_imds")
FAULT_KINDS = ("throttle", "500", "503", "drop", "delay")
MAX_TOKEN_TTL = 21600
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"


class Imds:
    def __init__(self, source: Any, region: str, account_id: str, instance_id: str, az: str):
        self.source = source
        self.region = region
        self.account_id = account_id
        self.instance_id = instance_id
        self.az = az
        self.role_name = source.role_arn.rsplit("/", 1)[-1]
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.lock = threading.Lock()
        self.faults = FaultTable(FAULT_KINDS)
        self.requests = RequestLog()

    def issue_token(self, ttl: int) -> str:
        token = "AQAEA" + secrets.token_urlsafe(42)
        with self.lock:
            self.tokens[token] = time.monotonic() + ttl
        return token

    def token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and expiry > time.monotonic()

    def expire_tokens(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
        return count

    def credentials_document(self) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            creds = self.source.get()
        except (ClientError, BotoCoreError) as err:
            log(f"AssumeRole {self.source.role_arn} failed: {err}")
            return {"Code": "AssumeRoleUnauthorizedAccess",
                    "Message": f"EC2 cannot assume the role {self.role_name}.",
                    "LastUpdated": iso_utc(datetime.now(timezone.utc))}
        return {
            "Code": "Success",
            "LastUpdated": iso_utc(creds["LastUpdated"]),
            "Type": "AWS-HMAC",
            "AccessKeyId": creds["AccessKeyId"],
            "SecretAccessKey": creds["SecretAccessKey"],
            "Token": creds["Token"],
            "Expiration": iso_utc(creds["Expiration"]),
        }

    def metadata(self, path: str) -> tuple[str, int, str]:
        """(route, status, body) for an authorised GET."""
        creds_prefix = "/latest/meta-data/iam/security-credentials/"
        if path == creds_prefix:
            return "role-name", 200, self.role_name
        if path.startswith(creds_prefix):
            if path[len(creds_prefix):] != self.role_name:
                return "credentials", 404, "Not Found"
            return "credentials", 200, json.dumps(self.credentials_document(), indent=2)
        fixed = {
            "/latest/meta-data/": "ami-id\ninstance-id\niam/\nplacement/",
            "/latest/meta-data/iam/": "info\nsecurity-credentials/",
            "/latest/meta-data/iam/info": json.dumps({
                "Code": "Success", "LastUpdated": iso_utc(datetime.now(timezone.utc)),
                "InstanceProfileArn": f"arn:aws:iam::{self.account_id}:instance-profile/{self.role_name}",
                "InstanceProfileId": "AIPAFAKEINSTANCEPROFILE"}, indent=2),
            "/latest/meta-data/instance-id": self.instance_id,
            "/latest/meta-data/ami-id": "ami-0fake0fake0fake000",
            "/latest/meta-data/placement/": "availability-zone\nregion",
            "/latest/meta-data/placement/availability-zone": self.az,
            "/latest/dynamic/instance-identity/document": json.dumps({
                "accountId": self.account_id, "region": self.region, "availabilityZone": self.az,
                "instanceId": self.instance_id, "instanceType": "m5.large",
                "imageId": "ami-0fake0fake0fake000", "architecture": "x86_64"}, indent=2),
        }
        if path == "/latest/meta-data/placement/region":
            return "region", 200, self.region
        if path in fixed:
            return "other", 200, fixed[path]
        return "other", 404, "Not Found"


def make_handler(imds: Imds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "EC2ws"
        sys_version = ""

        def log_message(self, fmt: str, *args: Any) -> None:
            pass  # one line per request is logged by _finish, without headers

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: str | bytes, ctype: str = "text/plain",
                  extra: dict[str, str] | None = None) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.close_connection = True

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            body = self._body()
            if path.startswith("/_fake/"):
                self._admin(path, body)
                return
            entry = imds.requests.add({
                "method": self.command, "path": path, "route": None, "status": None,
                "token_sent": TOKEN_HEADER.lower() in (k.lower() for k in self.headers.keys()),
                "token_valid": None, "ttl": None,
                "x_forwarded_for": self.headers.get("X-Forwarded-For") is not None,
                "user_agent": self.headers.get("User-Agent"), "fault": None,
            })
            status = None
            try:
                status = self._metadata_request(path, entry)
            finally:
                entry["status"] = status
                log(f"{self.command} {path} -> {status}")

        def _route_of(self, path: str) -> str:
            if path == "/latest/api/token":
                return "token"
            if path == "/latest/meta-data/iam/security-credentials/":
                return "role-name"
            if path.startswith("/latest/meta-data/iam/security-credentials/"):
                return "credentials"
            if path == "/latest/meta-data/placement/region":
                return "region"
            return "other"

        def _metadata_request(self, path: str, entry: dict[str, Any]) -> int | None:
            route = entry["route"] = self._route_of(path)
            fault = imds.faults.take(route)
            if fault is not None:
                entry["fault"] = fault.kind
                if fault.kind == "drop":
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    self.close_connection = True
                    return None
                if fault.kind == "delay":
                    time.sleep(fault.seconds)
                else:
                    status = {"throttle": 429, "500": 500, "503": 503}[fault.kind]
                    self._send(status, {429: "Too Many Requests", 500: "Internal Server Error",
                                        503: "Service Unavailable"}[status])
                    return status
            if self.headers.get("X-Forwarded-For") is not None:
                self._send(403, "Forbidden")
                return 403
            if self.command == "PUT" and route == "token":
                return self._put_token(entry)
            if self.command != "GET" or route == "token":
                self._send(405, "Method Not Allowed", extra={"Allow": "PUT" if route == "token" else "GET"})
                return 405
            entry["token_valid"] = imds.token_valid(self.headers.get(TOKEN_HEADER))
            if not entry["token_valid"]:
                self._send(401, "Unauthorized")
                return 401
            _, status, body = imds.metadata(path)
            self._send(status, body)
            return status

        def _put_token(self, entry: dict[str, Any]) -> int:
            raw = (self.headers.get(TTL_HEADER) or "").strip()
            ttl = int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else None
            entry["ttl"] = ttl
            if ttl is None or not 1 <= ttl <= MAX_TOKEN_TTL:
                self._send(400, "Bad Request")
                return 400
            self._send(200, imds.issue_token(ttl), extra={TTL_HEADER: str(ttl)})
            return 200

        def _admin(self, path: str, body: bytes) -> None:
            try:
                spec = json.loads(body) if body.strip() else {}
                key = (self.command, path.rstrip("/"))
                routes = {
                    ("GET", "/_fake/health"): lambda: {"ok": True},
                    ("GET", "/_fake/requests"): imds.requests.snapshot,
                    ("DELETE", "/_fake/requests"): lambda: (imds.requests.clear(), {"cleared": True})[1],
                    ("POST", "/_fake/faults"): lambda: imds.faults.add(spec).describe(),
                    ("GET", "/_fake/faults"): imds.faults.describe,
                    ("DELETE", "/_fake/faults"): lambda: (imds.faults.clear(), {"cleared": True})[1],
                    ("POST", "/_fake/rotate"): lambda: (imds.source.rotate(), {"rotated": True})[1],
                    ("POST", "/_fake/tokens/expire"): lambda: {"expired": imds.expire_tokens()},
                }
                if key not in routes:
                    self._send(404, json.dumps({"error": f"no admin route {key[0]} {key[1]}"}), "application/json")
                    return
                self._send(200, json.dumps(routes[key]()), "application/json")
            except (ValueError, TypeError) as err:
                self._send(400, json.dumps({"error": str(err)}), "application/json")

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake IMDSv2 serving real fake-AWS role credentials.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free)")
    add_role_source_arguments(parser, default_session="i-0fake0fake0fake000")
    parser.add_argument("--instance-id", default="i-0fake0fake0fake000")
    parser.add_argument("--availability-zone")
    args = parser.parse_args(argv)
    source, state = role_source_from_args(args)
    region = args.region or state["region"]
    imds = Imds(source, region, state["account_id"], args.instance_id, args.availability_zone or f"{region}a")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(imds))
    server.daemon_threads = True
    return serve_until_signalled(server, server.server_address[1])


if __name__ == "__main__":
    sys.exit(main())
