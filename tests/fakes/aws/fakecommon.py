"""Pieces shared by the AWS fakes: fault table, request log, serving loop,
and the role-credential source the metadata fakes hand out.

Nothing here is AWS behaviour; it is test plumbing.  The conventions every
fake follows: listen on 127.0.0.1 only, print exactly one line
``READY port=<n>`` on stdout once answering, log diagnostics to stderr,
exit 0 on SIGTERM/SIGINT, keep a request log that never holds secrets.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable


def make_logger(name: str) -> Callable[[str], None]:
    def log(msg: str) -> None:
        sys.stderr.write(f"{name}: {msg}\n")
        sys.stderr.flush()

    return log


def iso_utc(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_json_atomically(path: str, data: Any) -> None:
    """Readers never see a half-written file; mode 0600 (it holds keys)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


@dataclass
class Fault:
    match: str
    kind: str
    remaining: int
    seconds: float = 0.0
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        return {"match": self.match, "kind": self.kind, "remaining": self.remaining,
                "seconds": self.seconds, "fired": self.fired}


class FaultTable:
    """Armed faults; each fires on the next ``count`` matching requests."""

    def __init__(self, kinds: tuple[str, ...]):
        self.kinds = kinds
        self.lock = threading.Lock()
        self.faults: list[Fault] = []

    def add(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise ValueError("fault must be a JSON object")
        match, kind, count = spec.get("match"), spec.get("kind"), spec.get("count", 1)
        if not isinstance(match, str) or not match:
            raise ValueError("'match' must be a name or '*'")
        if kind not in self.kinds:
            raise ValueError(f"'kind' must be one of {', '.join(self.kinds)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("'count' must be a positive integer")
        seconds = spec.get("seconds", 0)
        if kind == "delay" and (not isinstance(seconds, (int, float)) or not 0 < seconds <= 120):
            raise ValueError("'delay' needs 'seconds' in (0, 120]")
        fault = Fault(match=match, kind=kind, remaining=count, seconds=float(seconds or 0))
        with self.lock:
            self.faults.append(fault)
        return fault

    def take(self, *names: str | None) -> Fault | None:
        """The first armed fault whose ``match`` is ``*`` or one of ``names``
        (a request may answer to several, e.g. ``X`` and ``service:X``)."""
        with self.lock:
            for fault in self.faults:
                if fault.match == "*" or fault.match in names:
                    fault.remaining -= 1
                    fault.fired += 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self.lock:
            return [f.describe() for f in self.faults]

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()


class RequestLog:
    """What the fake saw.  Callers put only non-secret fields in entries."""

    LIMIT = 10000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        self.seq = 0

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry.setdefault("time", now_stamp())
            self.entries.append(entry)
            del self.entries[: -self.LIMIT]
        return entry

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.entries]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def serve_until_signalled(server: Any, port: int) -> int:
    """Announce readiness, then serve until SIGTERM/SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="fake-http", daemon=True).start()
    print(f"READY port={port}", flush=True)
    sys.stdout = sys.stderr  # nobody reads stdout after READY
    while not stop.wait(0.5):
        pass
    server.shutdown()
    return 0


class RoleCredentials:
    """Temporary credentials for one role, from the fake AWS's STS.

    The metadata fakes call STS AssumeRole, signed with an IAM user's keys
    from the fake AWS's state file, so what they hand out are real moto
    session credentials, enforced under the role's policies.  Cached until
    ``refresh_margin`` seconds before expiry (EC2 also rotates ahead of
    time), or until ``rotate()``.
    """

    def __init__(self, endpoint: str, region: str, access_key_id: str, secret_access_key: str,
                 role_arn: str, session_name: str, duration: int, refresh_margin: int = 300):
        self.endpoint = endpoint
        self.region = region
        self.role_arn = role_arn
        self.session_name = session_name
        self.duration = duration
        self.refresh_margin = refresh_margin
        self._keys = (access_key_id, secret_access_key)
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None

    def _assume(self) -> dict[str, Any]:
        import boto3
        from botocore.config import Config

        sts = boto3.client(
            "sts", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self._keys[0], aws_secret_access_key=self._keys[1],
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )
        creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName=self.session_name,
                                DurationSeconds=self.duration)["Credentials"]
        return {
            "AccessKeyId": creds["AccessKeyId"],
            "SecretAccessKey": creds["SecretAccessKey"],
            "Token": creds["SessionToken"],
            "Expiration": creds["Expiration"],
            "LastUpdated": datetime.now(timezone.utc),
        }

    def get(self) -> dict[str, Any]:
        """Current credentials; raises botocore ClientError when STS refuses."""
        with self._lock:
            cached = self._cached
            if cached is None or (cached["Expiration"] - datetime.now(timezone.utc)).total_seconds() < self.refresh_margin:
                self._cached = cached = self._assume()
            return dict(cached)

    def rotate(self) -> None:
        with self._lock:
            self._cached = None


def load_aws_state(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def add_role_source_arguments(parser: Any, default_session: str) -> None:
    parser.add_argument("--aws-state", required=True,
                        help="state file written by fake_aws.py --state-out (endpoint, keys, roles)")
    parser.add_argument("--aws-endpoint", help="override the fake AWS endpoint from the state file")
    parser.add_argument("--user", default="admin",
                        help="IAM user of the state file whose keys call sts:AssumeRole (default admin)")
    parser.add_argument("--role-arn", help="role to serve credentials for (default: role ecr-renew-node)")
    parser.add_argument("--session-name", default=default_session)
    parser.add_argument("--duration", type=int, default=3600, help="DurationSeconds for AssumeRole")
    parser.add_argument("--region", help="region (default: the state file's)")


def role_source_from_args(args: Any) -> tuple[RoleCredentials, dict[str, Any]]:
    state = load_aws_state(args.aws_state)
    role_arn = args.role_arn or state["roles"]["ecr-renew-node"]["arn"]
    keys = state["users"][args.user]["access_keys"][0]
    source = RoleCredentials(
        endpoint=args.aws_endpoint or state["endpoint"],
        region=args.region or state["region"],
        access_key_id=keys["AccessKeyId"],
        secret_access_key=keys["SecretAccessKey"],
        role_arn=role_arn,
        session_name=args.session_name,
        duration=args.duration,
    )
    return source, state
