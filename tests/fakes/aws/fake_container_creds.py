#!/usr/bin/env python3
"""FAKE container-credentials endpoint (EKS Pod Identity agent / ECS agent).

Stands in for ``http://169.254.170.23/v1/credentials`` (EKS Pod Identity,
``AWS_CONTAINER_CREDENTIALS_FULL_URI``) or the ECS agent on 127.0.0.1:

    python3 fake_container_creds.py --aws-state STATE.json
        (--token TOKEN | --token-file FILE) [--path /v1/credentials]
        [--port 0] [--role-arn ARN] [--user admin] [--duration 3600]
        [--session-name S] [--region R] [--aws-endpoint URL]

* Only ``GET <path>`` serves credentials (other methods 405, other paths
  404).  The ``Authorization`` header must equal the configured token
  exactly (no trimming: the client must strip the token file's newline):
  missing or empty -> 401, different -> 403, each with a JSON body
  ``{"code": ..., "message": ...}``.
* Success: ``{"AccessKeyId", "SecretAccessKey", "Token", "AccountId",
  "Expiration"}`` (Expiration RFC 3339 UTC), real temporary credentials
  from the fake AWS's STS ``AssumeRole`` for ``--role-arn`` (default: role
  ``ecr-renew-node`` of the state file) signed with ``--user``'s keys, so
  IAM enforces them.  Cached, renewed 5 minutes before expiry.
* ``--token-file`` is re-read on every request, so a test can rotate the
  token the way the kubelet rotates the projected service-account token.

Admin endpoints (no Authorization, not logged):
  GET/DELETE /_fake/requests   request log: method, path, status,
                               authorization ("missing"|"wrong"|"ok"),
                               User-Agent, fault.  Never a token or a key.
  POST/GET/DELETE /_fake/faults  {"match": "credentials"|"*", "kind":
                               "throttle"|"500"|"503"|"drop"|"delay",
                               "count": n, "seconds": s}; throttle = 429.
  POST /_fake/rotate           hand out fresh credentials from now on
  GET  /_fake/health

DEVIATIONS FROM THE REAL AGENTS: the EKS Pod Identity agent answers a
missing token with 400 and plain text ("Service account token cannot be
empty"), validates the token as a JWT and lets EKS Auth judge it (a bad one
comes back as an EKS Auth error), and only answers when called on
169.254.170.23 / [fd00:ec2::23]; the ECS agent uses its own JSON error
codes.  This fake uses the 401/403 split with a JSON body so tests can tell
"no token" from "wrong token", accepts any opaque token, does not check the
Host it was called on, and plays the Pod Identity service principal with an
IAM user (see fake_aws's docstring).  When AssumeRole fails it answers 500
``{"code": "CredentialsUnavailable", ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
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

log = make_logger("fake_container_creds")
FAULT_KINDS = ("throttle", "500", "503", "drop", "delay")


class ContainerCreds:
    def __init__(self, source: Any, account_id: str, path: str, token: str | None, token_file: str | None):
        self.source = source
        self.account_id = account_id
        self.path = path
        self._token = token
        self._token_file = token_file
        self.faults = FaultTable(FAULT_KINDS)
        self.requests = RequestLog()

    def expected_token(self) -> str:
        if self._token_file:
            with open(self._token_file, encoding="utf-8") as fh:
                return fh.read().strip()
        return self._token or ""

    def document(self) -> tuple[int, dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            creds = self.source.get()
        except (ClientError, BotoCoreError) as err:
            log(f"AssumeRole {self.source.role_arn} failed: {err}")
            return 500, {"code": "CredentialsUnavailable",
                         "message": f"Unable to fetch credentials for role {self.source.role_arn}"}
        return 200, {
            "AccessKeyId": creds["AccessKeyId"],
            "SecretAccessKey": creds["SecretAccessKey"],
            "Token": creds["Token"],
            "AccountId": self.account_id,
            "Expiration": iso_utc(creds["Expiration"]),
        }


def make_handler(cc: ContainerCreds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "eks-pod-identity-agent-fake"
        sys_version = ""

        def log_message(self, fmt: str, *args: Any) -> None:
            pass  # _serve logs one line per request, never headers

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            body = self._body()
            if path.startswith("/_fake/"):
                self._admin(path, body)
                return
            entry = cc.requests.add({"method": self.command, "path": path, "status": None,
                                     "authorization": None, "user_agent": self.headers.get("User-Agent"),
                                     "fault": None})
            status = None
            try:
                status = self._credentials_request(path, entry)
            finally:
                entry["status"] = status
                log(f"{self.command} {path} -> {status} (authorization {entry['authorization']})")

        def _credentials_request(self, path: str, entry: dict[str, Any]) -> int | None:
            fault = cc.faults.take("credentials") if path == cc.path else None
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
                    self._send(status, {"code": "InjectedFault", "message": f"injected {fault.kind}"})
                    return status
            if path != cc.path:
                self._send(404, {"code": "NotFound", "message": f"no such path {path}"})
                return 404
            if self.command != "GET":
                self._send(405, {"code": "MethodNotAllowed", "message": "only GET is supported"})
                return 405
            presented = self.headers.get("Authorization")
            if not presented:
                entry["authorization"] = "missing"
                self._send(401, {"code": "MissingAuthorization",
                                 "message": "Service account token cannot be empty"})
                return 401
            if presented != cc.expected_token():
                entry["authorization"] = "wrong"
                self._send(403, {"code": "AccessDenied",
                                 "message": "Access Denied. The service account token is not valid"})
                return 403
            entry["authorization"] = "ok"
            status, payload = cc.document()
            self._send(status, payload)
            return status

        def _admin(self, path: str, body: bytes) -> None:
            try:
                spec = json.loads(body) if body.strip() else {}
                key = (self.command, path.rstrip("/"))
                routes = {
                    ("GET", "/_fake/health"): lambda: {"ok": True},
                    ("GET", "/_fake/requests"): cc.requests.snapshot,
                    ("DELETE", "/_fake/requests"): lambda: (cc.requests.clear(), {"cleared": True})[1],
                    ("POST", "/_fake/faults"): lambda: cc.faults.add(spec).describe(),
                    ("GET", "/_fake/faults"): cc.faults.describe,
                    ("DELETE", "/_fake/faults"): lambda: (cc.faults.clear(), {"cleared": True})[1],
                    ("POST", "/_fake/rotate"): lambda: (cc.source.rotate(), {"rotated": True})[1],
                }
                if key not in routes:
                    self._send(404, {"error": f"no admin route {key[0]} {key[1]}"})
                    return
                self._send(200, routes[key]())
            except (ValueError, TypeError) as err:
                self._send(400, {"error": str(err)})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake EKS Pod Identity / ECS credentials endpoint.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--path", default="/v1/credentials", help="credentials path (default /v1/credentials)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--token", help="the exact Authorization value to accept")
    group.add_argument("--token-file", help="file holding it (re-read per request, trailing newline ignored)")
    add_role_source_arguments(parser, default_session="eks-pod-identity-fake")
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    source, state = role_source_from_args(args)
    cc = ContainerCreds(source, state["account_id"], args.path, args.token, args.token_file)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(cc))
    server.daemon_threads = True
    return serve_until_signalled(server, server.server_address[1])


if __name__ == "__main__":
    sys.exit(main())
