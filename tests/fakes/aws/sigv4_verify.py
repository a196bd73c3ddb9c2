"""Server-side AWS Signature Version 4 verification for the fake AWS endpoint.

This is the verifier half of SigV4, written for ``fake_aws.py``: given the
request exactly as it arrived on the wire (method, request target, header
list, body bytes) and the secret key of the access key named in the
``Authorization`` header, it recomputes the signature the way an AWS
service does and says whether it matches.  It is pure: no I/O, no clock
(the caller passes "now"), so ``test_fakes.py`` can replay the official AWS
SigV4 test suite against it.

Why not reuse moto's check?  moto rebuilds the request through botocore's
*client-side* signer, which (1) never signs ``User-Agent``, ``Expect`` or
``Transfer-Encoding`` even when the client listed them in SignedHeaders, so a
correct signature over those is rejected; (2) re-encodes form bodies from the
parsed parameters, so a body encoded differently from Python's ``urlencode``
fails although AWS accepts it; (3) trusts a signed ``x-amz-content-sha256``
header instead of hashing the body.  Here the canonical request is built from
the raw bytes and exactly the SignedHeaders the client named.

Rules implemented (non-S3 services, i.e. STS, IAM, ECR):
  * canonical URI: the path as sent, dot segments removed and duplicate
    slashes collapsed, then every segment URI-encoded once more (so a path
    sent as ``/a%20b`` canonicalises to ``/a%2520b``, as AWS does for
    non-S3 services; a raw ``/a b`` becomes ``/a%20b``);
  * canonical query: decoded, re-encoded (unreserved ``A-Za-z0-9-._~`` kept),
    sorted by encoded name then value, a bare ``key`` becomes ``key=``;
  * canonical headers: exactly the SignedHeaders, names lower-cased, values
    trimmed with inner whitespace runs collapsed, repeated headers joined by
    ``,`` in arrival order;
  * payload hash: SHA-256 of the body actually received.

Deviations from AWS: only the ``Authorization`` header form is accepted (no
presigned query-string form, no SigV4a); the timestamp must come from
``X-Amz-Date`` (AWS also accepts a ``Date`` header); obsolete header line
folding is not supported.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# AWS services refuse requests whose X-Amz-Date is more than 15 minutes off.
MAX_CLOCK_SKEW_SECONDS = 15 * 60

_UNRESERVED = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
)
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


class SigV4Error(Exception):
    """A request that cannot be verified.

    ``code`` is the AWS query-protocol error code (``IncompleteSignature``,
    ``SignatureDoesNotMatch``, ``MissingAuthenticationToken``); the caller
    maps it to the service's own wire form.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Authorization:
    """The parsed ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key_id: str
    date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class WireRequest:
    """A request as received: nothing decoded, nothing reordered."""

    method: str
    target: bytes  # request-target from the request line: path[?query]
    headers: tuple[tuple[str, str], ...]  # (name, value) in arrival order
    body: bytes

    def header(self, name: str) -> str | None:
        """All values of one header joined by ',' (None when absent)."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise SigV4Error("MissingAuthenticationToken", "Missing Authentication Token")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SigV4Error(
            "IncompleteSignature",
            f"Unsupported AWS 'algorithm': '{algorithm}'",
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(required):
            raise SigV4Error(
                "IncompleteSignature",
                f"Authorization header requires '{required}' parameter. "
                f"Authorization={value}"[:200],
            )
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        raise SigV4Error(
            "IncompleteSignature",
            "Credential should be scoped to a valid region, service and "
            "terminated by 'aws4_request'.",
        )
    if not re.fullmatch(r"\d{8}", scope[1]):
        raise SigV4Error(
            "IncompleteSignature",
            "Credential should be scoped with a valid date (YYYYMMDD).",
        )
    # Canonicalise the list the way AWS does (lower-case, sorted): a client
    # that signed in another order then simply fails the comparison.
    signed = tuple(sorted({h.strip().lower() for h in fields["SignedHeaders"].split(";")}))
    return Authorization(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=signed,
        signature=fields["Signature"].lower(),
    )


def uri_encode(data: bytes, keep_slash: bool) -> str:
    out = []
    for byte in data:
        if byte in _UNRESERVED or (keep_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def normalize_path(path: bytes) -> bytes:
    """RFC 3986 dot-segment removal plus collapsing of empty segments."""
    if not path:
        return b"/"
    trailing = path.endswith(b"/") and path != b"/"
    out: list[bytes] = []
    for seg in path.split(b"/"):
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if out:
                out.pop()
            continue
        out.append(seg)
    result = b"/" + b"/".join(out)
    if trailing and result != b"/":
        result += b"/"
    return result


def canonical_uri(raw_path: bytes) -> str:
    return uri_encode(normalize_path(raw_path), keep_slash=True)


def canonical_query(raw_query: bytes) -> str:
    pairs = []
    for item in raw_query.split(b"&"):
        if not item:
            continue
        key, _, val = item.partition(b"=")
        pairs.append(
            (
                uri_encode(unquote_to_bytes(key), keep_slash=False),
                uri_encode(unquote_to_bytes(val), keep_slash=False),
            )
        )
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def _trim(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(
    headers: tuple[tuple[str, str], ...], signed_headers: tuple[str, ...]
) -> str:
    lines = []
    for name in signed_headers:
        values = [_trim(v) for k, v in headers if k.lower() == name]
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def canonical_request(req: WireRequest, auth: Authorization) -> str:
    path, _, query = req.target.partition(b"?")
    return "\n".join(
        [
            req.method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers(req.headers, auth.signed_headers),
            ";".join(auth.signed_headers),
            hashlib.sha256(req.body).hexdigest(),
        ]
    )


def string_to_sign(amz_date: str, auth: Authorization, creq: str) -> str:
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, amz_date, auth.scope, digest])


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, auth: Authorization) -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), auth.date)
    key = _hmac(key, auth.region)
    key = _hmac(key, auth.service)
    return _hmac(key, "aws4_request")


def expected_signature(req: WireRequest, auth: Authorization, secret: str) -> str:
    amz_date = req.header("x-amz-date") or ""
    sts = string_to_sign(amz_date, auth, canonical_request(req, auth))
    return hmac.new(signing_key(secret, auth), sts.encode("utf-8"), hashlib.sha256).hexdigest()


def check_structure(req: WireRequest, now: datetime | None) -> Authorization:
    """Checks AWS makes before looking at the key: shape, date, body hash.

    ``now`` None skips the clock-skew check (used when replaying vectors).
    Raises SigV4Error; returns the parsed Authorization on success.
    """
    auth = parse_authorization(req.header("authorization"))
    if "host" not in auth.signed_headers:
        raise SigV4Error(
            "IncompleteSignature",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )
    amz_date = req.header("x-amz-date")
    if amz_date is None:
        raise SigV4Error(
            "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' "
            "or a 'Date' header.",
        )
    if not _AMZ_DATE_RE.match(amz_date):
        raise SigV4Error(
            "IncompleteSignature",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.",
        )
    if amz_date[:8] != auth.date:
        raise SigV4Error(
            "SignatureDoesNotMatch",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
            f"version of date from HTTP: '{auth.date}' != '{amz_date[:8]}', "
            f"from '{amz_date}'.",
        )
    if now is not None:
        _check_skew(amz_date, now)
    declared = req.header("x-amz-content-sha256")
    if declared is not None and declared.lower() != hashlib.sha256(req.body).hexdigest():
        raise SigV4Error(
            "SignatureDoesNotMatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return auth


def _check_skew(amz_date: str, now: datetime) -> None:
    when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    delta = (when - now).total_seconds()
    fmt = "%Y%m%dT%H%M%SZ"
    if delta < -MAX_CLOCK_SKEW_SECONDS:
        raise SigV4Error(
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is now earlier than "
            f"{datetime.fromtimestamp(now.timestamp() - MAX_CLOCK_SKEW_SECONDS, timezone.utc).strftime(fmt)} "
            f"({now.strftime(fmt)} - 15 min.)",
        )
    if delta > MAX_CLOCK_SKEW_SECONDS:
        raise SigV4Error(
            "SignatureDoesNotMatch",
            f"Signature not yet current: {amz_date} is still later than "
            f"{datetime.fromtimestamp(now.timestamp() + MAX_CLOCK_SKEW_SECONDS, timezone.utc).strftime(fmt)} "
            f"({now.strftime(fmt)} + 15 min.)",
        )


def verify(req: WireRequest, secret: str) -> bool:
    """True when the request's signature is right for ``secret``."""
    auth = parse_authorization(req.header("authorization"))
    return hmac.compare_digest(expected_signature(req, auth, secret), auth.signature)
