#!/usr/bin/env python3
"""FAKE AWS (IAM + STS + ECR + ECR Public) for ecr-renew's integration tests.

This is a stand-in, not AWS.  It runs moto 5.2.1's server in-process on
127.0.0.1, applies a scenario (users, policies, access keys, roles, IAM OIDC
providers) with authentication off, then switches IAM enforcement on, so
that from then on the secret key, the SigV4 signature and the IAM policies
of every request are checked.  It prints ``READY port=<n>`` once it answers.

    python3 fake_aws.py [--port 0] [--scenario FILE] [--state-out FILE]
                        [--keys-dir DIR]

What it adds to / changes in moto (each patch is small and explained where
it is installed, see ``install_moto_patches``):
  * SigV4 is verified from the raw request bytes by ``sigv4_verify`` (moto's
    own check re-signs a rebuilt request and gets User-Agent, re-encoded form
    bodies and x-amz-content-sha256 wrong).  X-Amz-Date must be within 15
    minutes of the fake's clock and match the credential-scope date;
    ``host`` must be signed; deactivated access keys and expired temporary
    credentials are refused (moto checks neither).
  * Unsigned requests are refused with MissingAuthenticationToken, except
    STS AssumeRoleWithWebIdentity / AssumeRoleWithSAML, which pass unsigned
    as on real STS (moto answers 500 for them under enforcement).
  * AssumeRoleWithWebIdentity validates the JWT like STS: RS256 signature
    against the key this fake generated for the token's ``iss``; the IAM
    OIDC provider for ``iss`` must exist in moto and list the ``aud``;
    ``exp`` must not have passed; the role must exist and its trust policy
    must allow the provider (``Principal.Federated``) with its conditions on
    ``<issuer>:sub`` / ``<issuer>:aud``; DurationSeconds within 900 ..
    MaxSessionDuration.  The credentials it returns are then enforced under
    the role's policies.
  * AssumeRole uses the same trust-policy evaluator (``trust_policy``)
    instead of moto's, refuses roles that do not exist, and checks
    DurationSeconds against MaxSessionDuration.
  * ECR GetAuthorizationToken returns a realistic token: a ~2.4 KB
    base64 password, deterministic for (account, region, generation) so two
    clients of the same run see the same password, a new one after
    ``/_fake/ecr/rotate``; ``expiresAt`` = now + 12 h as a fractional JSON
    number; one entry per ``registryIds`` element (validated: 1-10 ids of
    12 digits) with ``proxyEndpoint`` ``https://<id>.dkr.ecr.<region>.amazonaws.com``,
    the region being the SigV4 scope's.
  * ECR Public, which moto lacks (a signed ``ecr-public`` call to moto
    answers 500), is served here: ``POST /`` with ``X-Amz-Target:
    SpencerFrontendService.GetAuthorizationToken``, signed for
    ``ecr-public`` in ``us-east-1``.  The caller is authenticated by moto's
    IAMRequest with the patched signature check (user keys, assumed-role and
    web-identity sessions, deactivated keys, expired sessions: as for ECR),
    then needs ``ecr-public:GetAuthorizationToken`` and then
    ``sts:GetServiceBearerToken`` on Resource ``*`` (the second evaluated with
    ``sts:AWSServiceName`` = ``ecr-public.amazonaws.com`` as condition
    context); a missing one is AccessDeniedException naming it.  The answer
    is ``{"authorizationData":{"authorizationToken":<base64 AWS:password>,
    "expiresAt":<number>}}``: one object, no ``proxyEndpoint``.  The password
    is deterministic for (account, generation) and differs from every ECR
    password; generation, lifetime and expiresAt form are ECR's
    (``/_fake/ecr/rotate``, ``/_fake/ecr/config``).  The body must be a JSON
    object (botocore sends ``{}``; an empty body is SerializationException);
    the Content-Type must be application/x-amz-json-1.1.
  * The SigV4 scope must name the service a JSON target belongs to: an ECR
    target signed for anything but ``ecr``, or an ECR Public one signed for
    anything but ``ecr-public``, is InvalidSignatureException "Credential
    should be scoped to correct service: '<name>'."; ECR Public signed for a
    region other than us-east-1 is InvalidSignatureException "Credential
    should be scoped to a valid region, not '<region>'."  (checked after the
    date and skew checks, before the key is looked up); any other ECR Public
    target is UnknownOperationException.
  * Errors are put in AWS's wire shape: JSON services (ECR) get
    ``{"__type": ..., "message": ...}`` with ``x-amzn-ErrorType`` even for
    auth failures (moto sends XML); query services (STS, IAM) get
    ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``
    (moto nests an extra ``<Errors>``).
  * ``/moto-api/`` and moto's lax ``/latest/`` metadata routes answer 404:
    real AWS endpoints have neither, and reset-auth would switch IAM off.

Admin endpoints (no auth, never reach moto, never logged):
  POST   /_fake/ecr/rotate     bump the password generation -> {"generation": n}
  POST   /_fake/ecr/config     {"lifetime_seconds": s, "expires_at_format":
                               "fraction"|"exponent"|"integer"} (both optional);
                               GET shows generation, lifetime and format
  POST   /_fake/faults         {"match": action|"*", "kind": "throttle"|"500"|
                               "503"|"drop"|"delay", "count": n, "seconds": s}
  GET    /_fake/faults         faults still armed;  DELETE /_fake/faults clears
  GET    /_fake/requests       request log (JSON list); DELETE clears it
  POST   /_fake/sts/expire     {"access_key_id": id} or {} for all: make
                               temporary credentials expired now
  GET    /_fake/ecr/password?account=A&region=R
                               the ECR password of the current generation
  GET    /_fake/ecr-public/password?account=A
                               the ECR Public password of the current generation
  GET    /_fake/health         {"ok": true}
(the password routes answer {"password": ..., "generation": n}: secrets.)
Fault ``match`` is the action name (``GetAuthorizationToken``,
``AssumeRoleWithWebIdentity``, ``AssumeRole``, ...), the action qualified by
its API's signing name (``ecr:GetAuthorizationToken``,
``sts:AssumeRoleWithWebIdentity``, ``ecr-public:GetAuthorizationToken``) or
``*``.  ECR Public's only action shares ECR's name, so ECR Public requests
answer only to ``ecr-public:GetAuthorizationToken`` and ``*``: a bare
``GetAuthorizationToken`` fault is ECR's and is not used up by ECR Public.
Each armed fault fires on the next ``count`` matching requests, before any auth.
``throttle`` answers 400 ThrottlingException as JSON with x-amzn-ErrorType
for JSON services and as XML ``Throttling`` for query services (that is what
STS sends); ``500``/``503`` answer ServerException/ServiceUnavailable
(JSON) or InternalFailure/ServiceUnavailable (XML); ``drop`` closes the
connection without an answer; ``delay`` sleeps ``seconds`` then serves the
request normally.  The request log holds method, path, service, region,
action, X-Amz-Target, whether signed, SignedHeaders, access key id, whether
a session token was sent, the resolved principal ARN, non-secret parameters
(RoleArn, RoleSessionName, DurationSeconds, registryIds), User-Agent, status,
error code and fault; never secret keys, session tokens, signatures or JWTs.

DEVIATIONS FROM REAL AWS (known and accepted):
  * One endpoint serves IAM, STS, ECR and ECR Public, routed by the SigV4
    scope's service (moto's rule) or, for ECR Public, its target; not by
    host name; region checks on the host are impossible on 127.0.0.1.  The
    scope's region is trusted as is, except for ECR Public, which stands for
    ``api.ecr-public.us-east-1.amazonaws.com`` and refuses other regions
    (AWS also lists a us-west-2 endpoint, which a client reaches by host
    name; every peer pins us-east-1).
  * ECR Public: only GetAuthorizationToken.  Its password is, like ECR's,
    not bound to the caller and not an ``ABIA`` bearer token, and it shares
    ECR's generation, so ``/_fake/ecr/rotate`` rotates both.  Which of the
    two permissions AWS checks first is not known; here the ECR Public one.
    Whether real ECR Public accepts an empty body is unknown: refused here.
    Auth-failure statuses are 400, as for ECR.  The one identity-policy
    condition evaluated is a ``StringEquals`` on ``sts:AWSServiceName`` for
    sts:GetServiceBearerToken (moto's evaluator: an unmet one on an Allow
    statement denies outright, where AWS would only not allow).
  * IAM identity policies are evaluated by moto: Action and Resource only;
    Condition blocks in identity policies are ignored (treated as met),
    permission boundaries, SCPs and session policies (the ``Policy`` /
    ``PolicyArns`` parameters of AssumeRole*) are not enforced.
  * AssumeRole needs both an identity-policy allow and a trust-policy allow,
    even when the trust policy names the caller's ARN (AWS then skips the
    identity check within one account).  Service principals
    (``ec2.amazonaws.com``, ``pods.eks.amazonaws.com``) can never be matched,
    because no caller here is a service: the metadata fakes assume roles
    with an IAM user's keys, so roles they serve must trust that user.
  * Web-identity tokens: only RS256, keys come from this process (one RSA
    key per scenario issuer, no JWKS fetch, thumbprints ignored).  If the
    IAM provider exists but the issuer has no key here the answer is
    IDPCommunicationError.  Error messages are close to, not copies of, STS's.
  * ECR: the password is not bound to the caller (any principal of the
    account gets the same one in a region and generation) and does not
    expire server-side; ``expiresAt`` is informational and follows this
    process's clock.  GetAuthorizationToken insists on ``Content-Type:
    application/x-amz-json-1.1`` (SerializationException otherwise), which
    every SDK sends; whether real ECR tolerates other types is unknown, so
    this may be stricter than AWS.  Other ECR actions are moto's.  ECR auth-failure
    HTTP statuses are 400 (AccessDeniedException, UnrecognizedClientException,
    InvalidSignatureException, ExpiredTokenException, IncompleteSignatureException,
    MissingAuthenticationTokenException), matching what SDK logs of real ECR
    show; clients should key off ``__type``.
  * SigV4: header form only (no presigned URLs, no SigV4a); ``X-Amz-Date``
    required (AWS also takes ``Date``); headers whose names contain ``_`` are
    dropped by the HTTP server before verification.  AccessDenied messages
    are moto's ("User: ... is not authorized to perform: ...").
  * STS: GetSessionToken and GetFederationToken return moto's fixed example
    credentials, which do not authenticate.  Web identity condition keys
    are ``<issuer>:sub``, ``<issuer>:aud`` and ``sts:RoleSessionName`` only
    (no ``amr``, ``azp``, ``oaud``, request tags).  Regional and global STS
    endpoints are the same endpoint.  Injected throttles on query APIs are
    XML ``Throttling`` (as STS sends), not the JSON form.
  * Responses carry werkzeug's ``Server`` header and ``Connection: close``
    (no keep-alive); the request log keeps the last 10000 entries.
  * Account ids other than moto's default 123456789012 are set up through
    moto's ``x-moto-account-id`` header; only the default is exercised by
    the self-tests.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sigv4_verify  # noqa: E402
import trust_policy  # noqa: E402
from fakecommon import FaultTable, RequestLog, make_logger, write_json_atomically  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCENARIO = os.path.join(HERE, "scenario.json")
DEFAULT_ACCOUNT = "123456789012"

UNSIGNED_STS_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}
WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
ECR_TOKEN_LIFETIME = 12 * 3600
ECR_TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921"
ECR_PUBLIC_TARGET_PREFIX = "SpencerFrontendService"
ECR_PUBLIC_SERVICE = "ecr-public"  # SigV4 signing name (endpointPrefix is api.ecr-public)
ECR_PUBLIC_REGION = "us-east-1"  # the endpoint this fake stands for (see DEVIATIONS)
ECR_PUBLIC_BEARER_ACTION = "sts:GetServiceBearerToken"
ECR_PUBLIC_SERVICE_PRINCIPAL = "ecr-public.amazonaws.com"  # value of sts:AWSServiceName
# A JSON 1.1 target prefix names the API, hence the endpoint the request was
# meant for; that endpoint insists on its own signing name in the scope.
TARGET_SIGNING_NAMES = {ECR_TARGET_PREFIX: "ecr", ECR_PUBLIC_TARGET_PREFIX: ECR_PUBLIC_SERVICE}
# Parameters safe to show in the request log; everything else is left out.
LOGGED_PARAMS = ("RoleArn", "RoleSessionName", "DurationSeconds", "registryIds", "Version")

XML_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

# moto raises these auth errors as query-style XML whatever the service; a
# JSON service (ECR) names them differently.  Statuses: see DEVIATIONS.
JSON_AUTH_ERRORS = {
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "AccessDenied": "AccessDeniedException",
    "ExpiredToken": "ExpiredTokenException",
    "IncompleteSignature": "IncompleteSignatureException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
}
QUERY_AUTH_STATUS = {
    "SignatureDoesNotMatch": 403,
    "InvalidClientTokenId": 403,
    "AccessDenied": 403,
    "ExpiredToken": 403,
    "IncompleteSignature": 400,
    "MissingAuthenticationToken": 403,
}


# Diagnostics go to stderr (the harness saves it); stdout is for READY only.
log = make_logger("fake_aws")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def request_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------
# Errors in AWS's wire shapes
# --------------------------------------------------------------------------


@dataclass
class AwsError(Exception):
    code: str
    message: str
    status: int = 400

    def query_body(self, service: str | None, rid: str) -> bytes:
        kind = "Receiver" if self.status >= 500 else "Sender"
        ns = XML_NAMESPACES.get(service or "", XML_NAMESPACES["sts"])
        return (
            f'<ErrorResponse xmlns="{ns}">\n  <Error>\n    <Type>{kind}</Type>\n'
            f"    <Code>{xml_escape(self.code)}</Code>\n"
            f"    <Message>{xml_escape(self.message)}</Message>\n  </Error>\n"
            f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
        ).encode()

    def json_body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message}).encode()


def _moto_http_error(err: AwsError) -> Exception:
    """Wrap an AwsError so moto's call_action passes it through as-is.

    moto turns a werkzeug HTTPException raised by a response method into
    (description, headers+status); our post-processing then reshapes it.
    """
    from werkzeug.exceptions import HTTPException

    exc = HTTPException(description=err.query_body("sts", request_id()).decode())
    exc.code = err.status
    return exc


# --------------------------------------------------------------------------
# Per-request context shared between the WSGI layer and the moto patches.
# werkzeug's threaded server runs each request (and moto's handling of it)
# in one thread, so a thread-local is enough.
# --------------------------------------------------------------------------

CURRENT = threading.local()


def current_wire() -> sigv4_verify.WireRequest | None:
    return getattr(CURRENT, "wire", None)


# --------------------------------------------------------------------------
# OIDC issuers and JWT validation
# --------------------------------------------------------------------------


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issuer_host_path(issuer: str) -> str:
    """IAM names an OIDC provider by the issuer URL without its scheme."""
    return re.sub(r"^https://", "", issuer).rstrip("/")


@dataclass
class Issuer:
    url: str
    kid: str
    private_pem: bytes
    public_key: Any  # cryptography RSAPublicKey

    @classmethod
    def generate(cls, url: str, kid: str | None) -> "Issuer":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pub = key.public_key()
        if not kid:
            der = pub.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            kid = hashlib.sha256(der).hexdigest()[:40]
        return cls(url=url, kid=kid, private_pem=pem, public_key=pub)

    def public_jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()

        def enc(n: int) -> str:
            return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                "n": enc(numbers.n), "e": enc(numbers.e)}


class WebIdentityValidator:
    """Checks a web identity token the way STS does, in STS's order."""

    def __init__(self, issuers: dict[str, Issuer]):
        self.issuers = issuers

    @staticmethod
    def _invalid(message: str) -> AwsError:
        return AwsError("InvalidIdentityToken", message, 400)

    def decode(self, token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
        parts = token.split(".")
        if len(parts) != 3:
            raise self._invalid(
                "The ID Token provided is not a valid JWT. (You may see this error "
                "if you sent an Access Token)"
            )
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            raise self._invalid("The ID Token provided is not a valid JWT.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise self._invalid("The ID Token provided is not a valid JWT.")
        return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature

    def validate(self, token: str, provider_lookup: Callable[[str], Any]) -> tuple[dict[str, Any], Any, str]:
        """Returns (claims, IAM provider, matched audience) or raises AwsError."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header, claims, signing_input, signature = self.decode(token)
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise self._invalid("Missing a required claim: iss")
        provider = provider_lookup(issuer_host_path(iss))
        if provider is None:
            raise self._invalid(f"No OpenIDConnect provider found in your account for {iss}")
        issuer = self.issuers.get(iss.rstrip("/")) or self.issuers.get(iss)
        if issuer is None:
            raise AwsError(
                "IDPCommunicationError",
                "Couldn't retrieve verification key from your identity provider, "
                "please reference AssumeRoleWithWebIdentity documentation for requirements",
                400,
            )
        if header.get("alg") != "RS256":
            raise self._invalid(f"Unsupported token signing algorithm: {header.get('alg')!r}")
        if "kid" in header and header["kid"] != issuer.kid:
            raise self._invalid("Couldn't find a key in the provider's JWKS with the token's kid")
        try:
            issuer.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise self._invalid("Token signature verification failed") from None
        now = int(time.time())
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)):
            raise self._invalid("Missing a required claim: exp")
        if exp <= now:
            raise AwsError(
                "ExpiredTokenException",
                f"Token expired: current date/time {now} must be before the "
                f"expiration date/time {int(exp)}",
                400,
            )
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now + 60:
            raise self._invalid("Token is not yet valid (nbf is in the future)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise self._invalid("Missing a required claim: sub")
        auds = claims.get("aud")
        auds = [auds] if isinstance(auds, str) else auds if isinstance(auds, list) else []
        matched = next((a for a in auds if a in provider.client_id_list), None)
        if matched is None:
            raise self._invalid("Incorrect token audience")
        return claims, provider, matched


# --------------------------------------------------------------------------
# ECR authorization tokens
# --------------------------------------------------------------------------


class EcrTokens:
    """Deterministic ECR passwords: same (account, region, generation) ->
    same password, so the AWS CLI and the program under test agree."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 1
        self.lifetime = ECR_TOKEN_LIFETIME
        self.expires_format = "fraction"

    def rotate(self) -> int:
        with self.lock:
            self.generation += 1
            return self.generation

    def configure(self, lifetime: Any = None, expires_format: Any = None) -> dict[str, Any]:
        with self.lock:
            if lifetime is not None:
                if not isinstance(lifetime, (int, float)) or lifetime <= 0:
                    raise ValueError("lifetime_seconds must be a positive number")
                self.lifetime = lifetime
            if expires_format is not None:
                if expires_format not in ("fraction", "exponent", "integer"):
                    raise ValueError("expires_at_format must be fraction, exponent or integer")
                self.expires_format = expires_format
            return self.describe()

    def describe(self) -> dict[str, Any]:
        return {"generation": self.generation, "lifetime_seconds": self.lifetime,
                "expires_at_format": self.expires_format}

    @staticmethod
    def _stream(seed: str, size: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < size:
            out += hmac.new(b"ecr-renew-fake-ecr", f"{seed}|{counter}".encode(), hashlib.sha256).digest()
            counter += 1
        return out[:size]

    def _envelope(self, seed: str) -> str:
        # Shaped like a real ECR password: base64 of a JSON envelope holding
        # base64 "payload" and "datakey" blobs, about 2.4 KB in total.
        material = self._stream(seed, 1284)
        envelope = {
            "payload": base64.b64encode(material[:1100]).decode(),
            "datakey": base64.b64encode(material[1100:]).decode(),
            "version": "2",
            "type": "DATA_KEY",
        }
        return base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()

    def password(self, account: str, region: str) -> str:
        return self._envelope(f"{account}|{region}|{self.generation}")

    def public_password(self, account: str) -> str:
        """ECR Public's password: same shape and generation, its own seed, so
        it never equals a private registry's password of any region."""
        return self._envelope(f"{ECR_PUBLIC_SERVICE}|{account}|{self.generation}")

    def expires_at_json(self) -> str:
        value = time.time() + self.lifetime
        if self.expires_format == "integer":
            return str(int(value))
        if self.expires_format == "exponent":
            return f"{value:.12E}"
        return f"{value:.3f}"


# --------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------

FAULT_KINDS = ("throttle", "500", "503", "drop", "delay")


# --------------------------------------------------------------------------
# moto patches
# --------------------------------------------------------------------------


class FakeAws:
    """Process-wide state of the fake (moto's backends are global too)."""

    def __init__(self, issuers: dict[str, Issuer]):
        self.issuers = issuers
        self.web_identity = WebIdentityValidator(issuers)
        self.ecr = EcrTokens()
        self.faults = FaultTable(FAULT_KINDS)
        self.requests = RequestLog()


def _iam_backend(account: str, partition: str = "aws") -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account][partition]


def _find_role(role_arn: str) -> Any | None:
    from moto.iam.exceptions import NotFoundException

    m = trust_policy.ARN_ROLE_RE.match(role_arn or "")
    if not m:
        return None
    try:
        return _iam_backend(m.group(2), m.group(1)).get_role_by_arn(role_arn)
    except NotFoundException:
        return None


def _assumed_role_for_key(access_key_id: str) -> Any | None:
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            try:
                backend = sts_backends[account][partition]
            except KeyError:
                continue
            found = backend.get_assumed_role_from_access_key(access_key_id)
            if found is not None:
                return found
    return None


def principal_for_key(access_key_id: str | None) -> str | None:
    """The ARN behind an access key id, for the request log (never secret)."""
    if not access_key_id:
        return None
    from moto.iam.models import get_account_id_from

    assumed = _assumed_role_for_key(access_key_id)
    if assumed is not None:
        return assumed.arn
    user = _iam_backend(get_account_id_from(access_key_id)).get_user_from_access_key_id(access_key_id)
    return user.arn if user else None


def _check_duration(role: Any, raw: Any) -> int:
    try:
        duration = int(raw) if raw not in (None, "") else 3600
    except (TypeError, ValueError):
        raise AwsError("ValidationError", "DurationSeconds must be an integer", 400) from None
    maximum = int(role.max_session_duration or 3600)
    if duration < 900:
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' "
            "failed to satisfy constraint: Member must have value greater than or equal to 900",
            400,
        )
    if duration > maximum:
        raise AwsError(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            400,
        )
    return duration


def install_moto_patches(fake: FakeAws) -> None:
    from moto.core.exceptions import _RESTError
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow as moto_utcnow
    from moto.ecr.responses import ECRResponse
    from moto.iam import access_control as ac
    from moto.sts.responses import TokenResponse

    class ExpiredTokenError(_RESTError):
        code = 403

        def __init__(self) -> None:
            super().__init__("ExpiredToken", "The security token included in the request is expired")

    # (1) Signature: verify the raw request, and refuse what moto lets by:
    # deactivated keys and expired temporary credentials.
    original_check_signature = ac.IAMRequest.check_signature

    def check_signature(self: Any) -> None:
        wire = current_wire()
        if wire is None:  # not a request that came through FakeAwsApp
            return original_check_signature(self)
        key_id = self._access_key._access_key_id
        key = self.backend.access_keys.get(key_id)
        if key is not None and getattr(key, "status", "Active") != "Active":
            self._raise_invalid_access_key("InvalidId")
        if isinstance(self._access_key, ac.AssumedRoleAccessKey):
            assumed = _assumed_role_for_key(key_id)
            if assumed is not None and assumed.expiration <= moto_utcnow():
                raise ExpiredTokenError()
        if not sigv4_verify.verify(wire, self._access_key._secret_access_key):
            self._raise_signature_does_not_match()

    ac.IAMRequest.check_signature = check_signature

    # (2) AssumeRole trust: moto's evaluator mis-handles several principal
    # types (see trust_policy's docstring) and lets callers assume roles that
    # do not exist.  Route every sts:AssumeRole through our evaluator.
    def is_assuming_role_operation(self: Any, resource_arn: str) -> bool:
        return self._action.lower() == "sts:assumerole"

    def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
        role = _find_role(role_arn)
        if role is None:
            log(f"AssumeRole {role_arn}: no such role")
            return False
        caller = trust_policy.Caller("AWS", self._access_key.arn, self.account_id)
        data = self._data or {}

        def first(name: str) -> Any:
            value = data.get(name)
            return value[0] if isinstance(value, list) and value else value

        context = {"aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": self.account_id}
        for key, param in (("sts:ExternalId", "ExternalId"), ("sts:RoleSessionName", "RoleSessionName")):
            if first(param) is not None:
                context[key] = first(param)
        decision = trust_policy.evaluate(role.assume_role_policy_document, "sts:AssumeRole", caller, context)
        for op in decision.unsupported:
            log(f"trust policy of {role_arn} uses unsupported {op}; statement ignored")
        log(f"AssumeRole {role_arn} by {caller.arn}: {decision.reason}")
        return decision.allowed

    ac.IAMRequestBase._is_assuming_role_operation = is_assuming_role_operation
    ac.IAMRequestBase._check_role_trust_relationship = check_role_trust_relationship

    # (3) STS: AssumeRoleWithWebIdentity is unsigned on real STS.  moto's
    # enforcement wants an Authorization header and answers 500 without one.
    original_sts_auth = TokenResponse._authenticate_and_authorize_normal_action

    def sts_auth(self: Any, resource: str = "*") -> None:
        if self._get_action() in UNSIGNED_STS_ACTIONS:
            return None
        return original_sts_auth(self, resource)

    TokenResponse._authenticate_and_authorize_normal_action = sts_auth

    # (4) STS: AssumeRoleWithWebIdentity validated like STS (moto ignores the
    # token and the trust policy, and the role need not exist).
    def assume_role_with_web_identity(self: Any) -> Any:
        try:
            return ActionResult(_web_identity(self, fake))
        except AwsError as err:
            raise _moto_http_error(err) from None

    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity

    # (5) STS AssumeRole: DurationSeconds must fit the role (moto accepts any).
    original_assume_role = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role = _find_role(self._get_param("RoleArn"))
        if role is not None:
            try:
                _check_duration(role, self._get_param("DurationSeconds"))
            except AwsError as err:
                raise _moto_http_error(err) from None
        return original_assume_role(self)

    TokenResponse.assume_role = assume_role

    # (6) ECR GetAuthorizationToken: realistic, rotating, region-correct.
    def get_authorization_token(self: Any) -> Any:
        try:
            return _ecr_token(self, fake)
        except AwsError as err:
            return (err.json_body().decode(),
                    {"status": err.status, "Content-Type": "application/x-amz-json-1.1",
                     "x-amzn-ErrorType": err.code})

    ECRResponse.get_authorization_token = get_authorization_token


def _web_identity(resp: Any, fake: FakeAws) -> dict[str, Any]:
    role_arn = resp._get_param("RoleArn")
    session = resp._get_param("RoleSessionName")
    token = resp._get_param("WebIdentityToken")
    for name, value in (("roleArn", role_arn), ("roleSessionName", session), ("webIdentityToken", token)):
        if not value:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value null at '{name}' failed to "
                "satisfy constraint: Member must not be null",
                400,
            )
    if not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{session}' at 'roleSessionName' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            400,
        )
    m = trust_policy.ARN_ROLE_RE.match(role_arn)
    if not m:
        raise AwsError("ValidationError", f"{role_arn} is invalid", 400)
    partition, account = m.group(1), m.group(2)

    def provider_lookup(host_path: str) -> Any:
        arn = f"arn:{partition}:iam::{account}:oidc-provider/{host_path}"
        return _iam_backend(account, partition).open_id_providers.get(arn)

    claims, provider, audience = fake.web_identity.validate(token, provider_lookup)
    denied = AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    role = _find_role(role_arn)
    if role is None:
        log(f"AssumeRoleWithWebIdentity {role_arn}: no such role")
        raise denied
    host_path = issuer_host_path(claims["iss"])
    caller = trust_policy.Caller("Federated", provider.arn, account)
    context = {
        f"{host_path}:sub": claims["sub"],
        f"{host_path}:aud": audience,
        "sts:RoleSessionName": session,
    }
    decision = trust_policy.evaluate(role.assume_role_policy_document, WEB_IDENTITY_ACTION, caller, context)
    for op in decision.unsupported:
        log(f"trust policy of {role_arn} uses unsupported {op}; statement ignored")
    log(f"AssumeRoleWithWebIdentity {role_arn} sub={claims['sub']}: {decision.reason}")
    if not decision.allowed:
        raise denied
    duration = _check_duration(role, resp._get_param("DurationSeconds"))
    assumed = resp.backend.assume_role_with_web_identity(
        region_name=resp.region,
        role_session_name=session,
        role_arn=role_arn,
        policy=resp._get_param("Policy"),
        duration=duration,
        external_id=None,
    )
    return {
        "Credentials": assumed,
        "SubjectFromWebIdentityToken": claims["sub"],
        "AssumedRoleUser": {"AssumedRoleId": assumed.user_id, "Arn": assumed.arn},
        "PackedPolicySize": 0,
        "Provider": claims["iss"],
        "Audience": audience,
    }


def _require_json11(service: str, content_type: str | None) -> None:
    """ECR and ECR Public speak AWS JSON 1.1: any other body type is refused
    as AWS refuses it."""
    content_type = content_type or ""
    if not content_type.lower().startswith("application/x-amz-json-1.1"):
        raise AwsError(
            "SerializationException",
            f"fake_aws: {service} speaks AWS JSON 1.1; Content-Type must be "
            f"application/x-amz-json-1.1, not {content_type!r}",
            400,
        )


def _ecr_token(resp: Any, fake: FakeAws) -> tuple[str, dict[str, Any]]:
    auth = sigv4_verify.parse_authorization(resp.headers.get("Authorization"))
    region = auth.region  # moto's own guess may come from the URL or User-Agent
    _require_json11("ECR", resp.headers.get("Content-Type"))
    registry_ids = resp._get_param("registryIds")
    if registry_ids is None:
        registry_ids = [resp.current_account]
    elif (
        not isinstance(registry_ids, list)
        or not 1 <= len(registry_ids) <= 10
        or not all(isinstance(r, str) and re.fullmatch(r"[0-9]{12}", r) for r in registry_ids)
    ):
        raise AwsError(
            "InvalidParameterException",
            "Invalid parameter at 'registryIds' failed to satisfy constraint: "
            "'Member must satisfy constraint: [Member must satisfy regular expression "
            "pattern: [0-9]{12}], Member must have length between 1 and 10'",
            400,
        )
    password = fake.ecr.password(resp.current_account, region)
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    expires = fake.ecr.expires_at_json()
    entries = [
        f'{{"authorizationToken":"{token}","expiresAt":{expires},'
        f'"proxyEndpoint":"https://{rid}.dkr.ecr.{region}.amazonaws.com"}}'
        for rid in registry_ids
    ]
    # Written by hand so the number keeps the exact JSON form asked for.
    body = '{"authorizationData":[' + ",".join(entries) + "]}"
    return body, {"status": 200, "Content-Type": "application/x-amz-json-1.1"}


# --------------------------------------------------------------------------
# ECR Public (moto 5.2.1 has no ecr-public backend: a signed call gets 500)
# --------------------------------------------------------------------------


def _ecr_public_account(headers: Any, access_key_id: str) -> str:
    """The caller's account, the way moto picks ``current_account``."""
    from moto.iam.models import get_account_id_from

    return headers.get("x-moto-account-id") or get_account_id_from(access_key_id)


def _ecr_public_authorize(headers: Any, wire: sigv4_verify.WireRequest, path: str, account: str) -> None:
    """Authenticate with moto's IAMRequest (so user keys, assumed-role and
    web-identity sessions, deactivated keys and expired sessions behave as on
    every other service here), then require both actions on Resource "*".

    Raises moto's HTTPException errors (XML bodies, query-style codes).
    """
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.access_control import IAMPolicy, IAMRequest, PermissionResult

    request = IAMRequest(account_id=account, method=wire.method, path=path, data={}, body=wire.body,
                         headers=headers, action="GetAuthorizationToken")
    request.check_signature()  # the patched check: raw-bytes SigV4, key state, session expiry
    principal = request._access_key.arn
    policies = request._access_key.collect_policies()
    for action, context in (
        (f"{ECR_PUBLIC_SERVICE}:GetAuthorizationToken", None),
        # "the AWS service requests a bearer token on your behalf": the
        # service's name is the condition key policies may test.
        (ECR_PUBLIC_BEARER_ACTION, {"sts:AWSServiceName": ECR_PUBLIC_SERVICE_PRINCIPAL}),
    ):
        permitted = False
        for policy in policies:
            result = IAMPolicy(policy).is_action_permitted(action, "*", None, context)
            if result == PermissionResult.DENIED:
                permitted = False
                break
            permitted = permitted or result == PermissionResult.PERMITTED
        if not permitted:
            log(f"ECR Public GetAuthorizationToken by {principal}: {action} not allowed")
            raise AccessDeniedError(user_arn=principal, action=action)


def _ecr_public_token(fake: FakeAws, wire: sigv4_verify.WireRequest, account: str) -> bytes:
    _require_json11("ECR Public", wire.header("content-type"))
    try:
        request = json.loads(wire.body) if wire.body.strip() else None
    except ValueError:
        request = None
    if not isinstance(request, dict):
        raise AwsError(
            "SerializationException",
            "fake_aws: GetAuthorizationToken takes a JSON object as its body ({} as botocore "
            f"sends it), not {wire.body[:40]!r}",
            400,
        )
    token = base64.b64encode(f"AWS:{fake.ecr.public_password(account)}".encode()).decode()
    # One object, not a list, and no proxyEndpoint (botocore's ecr-public model).
    return (f'{{"authorizationData":{{"authorizationToken":"{token}",'
            f'"expiresAt":{fake.ecr.expires_at_json()}}}}}').encode()


# --------------------------------------------------------------------------
# The WSGI layer in front of moto
# --------------------------------------------------------------------------


@dataclass
class RequestInfo:
    method: str
    path: str
    protocol: str  # "json" when X-Amz-Target is present, else "query"
    action: str | None
    target: str | None
    auth: sigv4_verify.Authorization | None
    auth_error: sigv4_verify.SigV4Error | None
    params: dict[str, Any] = field(default_factory=dict)
    # The API addressed: the signing name its target prefix implies, else the
    # SigV4 scope's service ("sts" for unsigned calls).  Used for fault names.
    api: str | None = None

    def fault_names(self) -> tuple[str | None, ...]:
        """What a fault's ``match`` may say to hit this request.

        ``service:Action`` always works.  The bare action name works too,
        except for ECR Public: its one action has the same name as ECR's
        (GetAuthorizationToken), and a fault meant for ECR must not be used up
        by an ECR Public call or the other way round.
        """
        qualified = f"{self.api}:{self.action}" if self.api and self.action else None
        if self.api == ECR_PUBLIC_SERVICE:
            return (qualified,)
        return (self.action, qualified)


def _wire_headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value != "":
            headers.append((key.replace("_", "-").lower(), value))
    return tuple(headers)


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _describe(environ: dict[str, Any], wire: sigv4_verify.WireRequest) -> RequestInfo:
    target = wire.header("x-amz-target")
    params: dict[str, Any] = {}
    content_type = (wire.header("content-type") or "").lower()
    if target:
        action = target.split(".")[-1]
        try:
            body = json.loads(wire.body or b"{}")
            if isinstance(body, dict):
                params = {k: v for k, v in body.items() if k in LOGGED_PARAMS}
        except ValueError:
            pass
    else:
        form = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if content_type.startswith("application/x-www-form-urlencoded"):
            form.update(parse_qsl(wire.body.decode("utf-8", "replace"), keep_blank_values=True))
        action = form.get("Action")
        params = {k: v for k, v in form.items() if k in LOGGED_PARAMS}
    auth = auth_error = None
    if wire.header("authorization") is not None:
        try:
            auth = sigv4_verify.parse_authorization(wire.header("authorization"))
        except sigv4_verify.SigV4Error as err:
            auth_error = err
    api = TARGET_SIGNING_NAMES.get(target.split(".")[0]) if target else None
    if api is None:
        api = auth.service if auth else ("sts" if action in UNSIGNED_STS_ACTIONS else None)
    return RequestInfo(
        method=wire.method,
        path=environ.get("PATH_INFO", ""),
        protocol="json" if target or api == ECR_PUBLIC_SERVICE else "query",
        action=action,
        target=target,
        auth=auth,
        auth_error=auth_error,
        params=params,
        api=api,
    )


def _error_fields(body: bytes) -> tuple[str | None, str]:
    """(code, message) from a moto error body, JSON or XML."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            code = data.get("__type") or data.get("code") or data.get("Code")
            if code:
                return str(code).split("#")[-1], str(data.get("message") or data.get("Message") or "")
    except ValueError:
        pass
    code = re.search(r"<Code>(.*?)</Code>", text, re.S)
    message = re.search(r"<Message>(.*?)</Message>", text, re.S)
    from xml.sax.saxutils import unescape

    return (
        unescape(code.group(1).strip()) if code else None,
        unescape(message.group(1).strip()) if message else "",
    )


class FakeAwsApp:
    def __init__(self, fake: FakeAws, moto_app: Callable[..., Any]):
        self.fake = fake
        self.moto_app = moto_app
        self.admin = AdminApi(fake)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fake/"):
            return self.admin(environ, start_response)
        body = _read_body(environ)
        raw_target = environ.get("RAW_URI", path).encode("latin-1")
        wire = sigv4_verify.WireRequest(environ["REQUEST_METHOD"], raw_target, _wire_headers(environ), body)
        info = _describe(environ, wire)
        entry = self._log_entry(info, wire)
        try:
            status, headers, out = self._handle(environ, wire, info, entry)
        except ConnectionAbortedError:
            entry["status"] = None
            raise
        entry["status"] = status
        if status >= 400:
            entry["error_code"] = _error_fields(out)[0]
        if entry.get("access_key_id") and entry["principal"] is None:
            entry["principal"] = principal_for_key(entry["access_key_id"])
        shown = f"{info.api}:{info.action}" if info.api == ECR_PUBLIC_SERVICE else info.action
        log(f"{info.method} {info.path} {shown or '-'} -> {status}"
            + (f" {entry['error_code']}" if entry.get("error_code") else ""))
        # moto leaks a "status" pseudo-header and a second Server header; AWS
        # answers with a Content-Length, not chunked, so set one.
        headers = [(k, v) for k, v in headers
                   if k.lower() not in ("status", "server", "content-length", "transfer-encoding", "connection")]
        headers.append(("Content-Length", str(len(out))))
        start_response(f"{status} {_reason(status)}", headers)
        return [out]

    def _log_entry(self, info: RequestInfo, wire: sigv4_verify.WireRequest) -> dict[str, Any]:
        auth = info.auth
        return self.fake.requests.add({
            "time": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "method": info.method,
            "path": info.path,
            "service": auth.service if auth else ("sts" if info.action in UNSIGNED_STS_ACTIONS else None),
            "region": auth.region if auth else None,
            "action": info.action,
            "target": info.target,
            "signed": wire.header("authorization") is not None,
            "signed_headers": list(auth.signed_headers) if auth else [],
            "access_key_id": auth.access_key_id if auth else None,
            "session_token": wire.header("x-amz-security-token") is not None,
            "principal": None,
            "params": info.params,
            "user_agent": wire.header("user-agent"),
            "status": None,
            "error_code": None,
            "fault": None,
        })

    def _handle(self, environ: dict[str, Any], wire: sigv4_verify.WireRequest,
                info: RequestInfo, entry: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        service = info.auth.service if info.auth else "sts"
        fault = self.fake.faults.take(*info.fault_names())
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind == "drop":
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                raise ConnectionAbortedError("fault: drop")
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            else:
                return self._fault_response(fault.kind, info.protocol, service)
        if info.path.startswith(("/moto-api", "/latest/", "/favicon.ico")):
            return 404, [("Content-Type", "text/plain")], b"Not Found\n"
        if wire.header("authorization") is None:
            if info.action not in UNSIGNED_STS_ACTIONS:
                return self._error(AwsError("MissingAuthenticationToken", "Missing Authentication Token", 403),
                                   info.protocol, service)
            if info.method == "GET":
                # Real STS takes the query API by GET too; moto would route an
                # unsigned GET to S3, so hand it over as the equivalent POST.
                environ["REQUEST_METHOD"] = "POST"
                body = environ.get("QUERY_STRING", "").encode()
                environ["QUERY_STRING"] = ""
                environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
                wire = sigv4_verify.WireRequest("POST", wire.target, wire.headers, body)
        else:
            try:
                sigv4_verify.check_structure(wire, utcnow())
            except sigv4_verify.SigV4Error as err:
                return self._error(AwsError(err.code, err.message, QUERY_AUTH_STATUS.get(err.code, 400)),
                                   info.protocol, service)
            assert info.auth is not None
            wanted = TARGET_SIGNING_NAMES.get((info.target or "").split(".")[0])
            if wanted is not None and info.auth.service != wanted:
                # Sent to that API's host but signed for another service.
                return self._error(AwsError("SignatureDoesNotMatch",
                                            f"Credential should be scoped to correct service: '{wanted}'. "),
                                   info.protocol, service)
            if info.api == ECR_PUBLIC_SERVICE:
                return self._ecr_public(environ, wire, info)
        environ["wsgi.input"] = io.BytesIO(wire.body)
        environ["CONTENT_LENGTH"] = str(len(wire.body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        CURRENT.wire = wire
        try:
            status, headers, out = self._call_moto(environ)
        finally:
            CURRENT.wire = None
        if status >= 400:
            status, headers, out = self._reshape_error(status, headers, out, info.protocol, service)
        if not any(k.lower() == "x-amzn-requestid" for k, _ in headers):
            headers.append(("x-amzn-RequestId", request_id()))
        return status, headers, out

    def _ecr_public(self, environ: dict[str, Any], wire: sigv4_verify.WireRequest,
                    info: RequestInfo) -> tuple[int, list[tuple[str, str]], bytes]:
        """ECR Public (moto has none): scope, then IAM, then the request."""
        from werkzeug.datastructures import EnvironHeaders
        from werkzeug.exceptions import HTTPException

        auth = info.auth
        assert auth is not None
        if auth.region != ECR_PUBLIC_REGION:
            return self._error(AwsError("SignatureDoesNotMatch",
                                        f"Credential should be scoped to a valid region, not '{auth.region}'. "),
                               "json", ECR_PUBLIC_SERVICE)
        if info.target != f"{ECR_PUBLIC_TARGET_PREFIX}.GetAuthorizationToken":
            return self._error(AwsError("UnknownOperationException",
                                        "fake_aws implements only GetAuthorizationToken of ECR Public "
                                        f"(X-Amz-Target {info.target!r})"),
                               "json", ECR_PUBLIC_SERVICE)
        headers = EnvironHeaders(environ)
        account = _ecr_public_account(headers, auth.access_key_id)
        CURRENT.wire = wire
        try:
            _ecr_public_authorize(headers, wire, info.path, account)
        except HTTPException as exc:
            code, message = _error_fields((exc.description or "").encode())
            return self._error(AwsError(code or "AccessDenied", message, exc.code or 403),
                               "json", ECR_PUBLIC_SERVICE)
        finally:
            CURRENT.wire = None
        try:
            body = _ecr_public_token(self.fake, wire, account)
        except AwsError as err:
            return self._error(err, "json", ECR_PUBLIC_SERVICE)
        return 200, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id())], body

    def _call_moto(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.moto_app(environ, start_response)
        try:
            out = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "connection")]
        return int(captured["status"].split()[0]), headers, out

    def _reshape_error(self, status: int, headers: list[tuple[str, str]], body: bytes,
                       protocol: str, service: str) -> tuple[int, list[tuple[str, str]], bytes]:
        code, message = _error_fields(body)
        if code is None:
            return status, headers, body
        if protocol == "json":
            if code in JSON_AUTH_ERRORS:
                code, status = JSON_AUTH_ERRORS[code], 400
            elif body.lstrip().startswith(b"{"):
                if not any(k.lower() == "x-amzn-errortype" for k, _ in headers):
                    headers = headers + [("x-amzn-ErrorType", code)]
                return status, headers, body
        return self._error(AwsError(code, message, status), protocol, service)

    @staticmethod
    def _error(err: AwsError, protocol: str, service: str) -> tuple[int, list[tuple[str, str]], bytes]:
        rid = request_id()
        if protocol == "json":
            code = JSON_AUTH_ERRORS.get(err.code, err.code)
            status = 400 if code != err.code else err.status
            body = AwsError(code, err.message).json_body()
            return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                            ("x-amzn-RequestId", rid)], body
        return err.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], err.query_body(service, rid)

    def _fault_response(self, kind: str, protocol: str, service: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if protocol == "json":
            code, status, message = {
                "throttle": ("ThrottlingException", 400, "Rate exceeded"),
                "500": ("ServerException", 500, "Internal server error (injected fault)"),
                "503": ("ServiceUnavailableException", 503, "Service unavailable (injected fault)"),
            }[kind]
        else:
            code, status, message = {
                "throttle": ("Throttling", 400, "Rate exceeded"),
                "500": ("InternalFailure", 500, "Internal failure (injected fault)"),
                "503": ("ServiceUnavailable", 503, "Service unavailable (injected fault)"),
            }[kind]
        return self._error(AwsError(code, message, status), protocol, service)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class AdminApi:
    """``/_fake/...``: test controls.  Unauthenticated, loopback only."""

    def __init__(self, fake: FakeAws):
        self.fake = fake

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ["PATH_INFO"]
        try:
            body = _read_body(environ)
            spec = json.loads(body) if body.strip() else {}
            if method == "GET":  # GET routes take their arguments from the query
                spec = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            status, result = self.route(method, path, spec)
        except (ValueError, TypeError) as err:
            status, result = 400, {"error": str(err)}
        out = json.dumps(result).encode()
        start_response(f"{status} {_reason(status)}", [("Content-Type", "application/json"),
                                                       ("Content-Length", str(len(out)))])
        return [out]

    def route(self, method: str, path: str, spec: Any) -> tuple[int, Any]:
        f = self.fake
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "/_fake/health"): lambda: {"ok": True},
            ("POST", "/_fake/ecr/rotate"): lambda: {"generation": f.ecr.rotate()},
            ("POST", "/_fake/ecr/config"): lambda: f.ecr.configure(
                spec.get("lifetime_seconds"), spec.get("expires_at_format")),
            ("GET", "/_fake/ecr/config"): f.ecr.describe,
            ("GET", "/_fake/ecr/password"): lambda: {
                "password": f.ecr.password(_required(spec, "account"), _required(spec, "region")),
                "generation": f.ecr.generation},
            ("GET", "/_fake/ecr-public/password"): lambda: {
                "password": f.ecr.public_password(_required(spec, "account")),
                "generation": f.ecr.generation},
            ("POST", "/_fake/faults"): lambda: f.faults.add(spec).describe(),
            ("GET", "/_fake/faults"): f.faults.describe,
            ("DELETE", "/_fake/faults"): lambda: (f.faults.clear(), {"cleared": True})[1],
            ("GET", "/_fake/requests"): f.requests.snapshot,
            ("DELETE", "/_fake/requests"): lambda: (f.requests.clear(), {"cleared": True})[1],
            ("POST", "/_fake/sts/expire"): lambda: {"expired": expire_sessions(spec.get("access_key_id"))},
        }
        handler = routes.get((method, path.rstrip("/")))
        if handler is None:
            return 404, {"error": f"no admin route {method} {path}"}
        return 200, handler()


def _required(spec: dict[str, Any], name: str) -> str:
    value = spec.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"query parameter {name!r} is required")
    return value


def expire_sessions(access_key_id: str | None) -> int:
    """Backdate temporary credentials so the next use fails ExpiredToken."""
    from moto.sts.models import sts_backends

    count = 0
    from moto.core.utils import utcnow as moto_utcnow

    past = moto_utcnow() - timedelta(seconds=1)  # moto keeps naive UTC times
    for account in list(sts_backends.keys()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            try:
                backend = sts_backends[account][partition]
            except KeyError:
                continue
            for assumed in backend.assumed_roles:
                if access_key_id in (None, assumed.access_key_id):
                    assumed.expiration = past
                    count += 1
    return count


# --------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------


def load_scenario(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        raw = fh.read()
    account = json.loads(raw).get("account_id", DEFAULT_ACCOUNT)
    # ${account_id} may appear anywhere (ARNs in trust policies, ...).
    scenario = json.loads(raw.replace("${account_id}", account))
    scenario.setdefault("account_id", account)
    scenario.setdefault("region", "us-east-1")
    return scenario


def _doc(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def apply_scenario(endpoint: str, scenario: dict[str, Any], issuers: dict[str, Issuer]) -> dict[str, Any]:
    """Create the scenario's IAM objects through the (still open) API."""
    import boto3
    from botocore.config import Config

    account = scenario["account_id"]
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="AKIAFAKESETUP0000000", aws_secret_access_key="setup-only",
        config=Config(retries={"total_max_attempts": 1}),
    )
    if account != DEFAULT_ACCOUNT:
        iam.meta.events.register(
            "before-sign.iam.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    partition = scenario.get("partition", "aws")
    state: dict[str, Any] = {"users": {}, "roles": {}, "managed_policies": {}, "oidc_issuers": {}}

    for pol in scenario.get("managed_policies", []):
        arn = iam.create_policy(PolicyName=pol["name"], Path=pol.get("path", "/"),
                                PolicyDocument=_doc(pol["document"]))["Policy"]["Arn"]
        state["managed_policies"][pol["name"]] = arn

    def policy_arn(ref: str) -> str:
        return ref if ref.startswith("arn:") else state["managed_policies"].get(
            ref, f"arn:{partition}:iam::{account}:policy/{ref}")

    for spec in scenario.get("oidc_issuers", []):
        url = spec["issuer"]
        issuer = issuers[url]
        info = {
            "issuer": url,
            "host_path": issuer_host_path(url),
            "client_ids": spec.get("client_ids", ["sts.amazonaws.com"]),
            "kid": issuer.kid,
            "provider_arn": f"arn:{partition}:iam::{account}:oidc-provider/{issuer_host_path(url)}",
            "registered": bool(spec.get("register_provider", True)),
            "public_jwk": issuer.public_jwk(),
        }
        if info["registered"]:
            info["provider_arn"] = iam.create_open_id_connect_provider(
                Url=url, ClientIDList=info["client_ids"],
                ThumbprintList=spec.get("thumbprints", ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]),
            )["OpenIDConnectProviderArn"]
        state["oidc_issuers"][url] = info

    for user in scenario.get("users", []):
        name = user["name"]
        arn = iam.create_user(UserName=name, Path=user.get("path", "/"))["User"]["Arn"]
        for pname, doc in user.get("inline_policies", {}).items():
            iam.put_user_policy(UserName=name, PolicyName=pname, PolicyDocument=_doc(doc))
        for ref in user.get("managed_policies", []):
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arn(ref))
        keys = []
        for _ in range(int(user.get("access_keys", 1))):
            key = iam.create_access_key(UserName=name)["AccessKey"]
            keys.append({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]})
        state["users"][name] = {"arn": arn, "access_keys": keys}

    for role in scenario.get("roles", []):
        name = role["name"]
        kwargs: dict[str, Any] = {"RoleName": name, "Path": role.get("path", "/"),
                                  "AssumeRolePolicyDocument": _doc(role["trust_policy"]),
                                  "MaxSessionDuration": int(role.get("max_session_duration", 3600))}
        arn = iam.create_role(**kwargs)["Role"]["Arn"]
        for pname, doc in role.get("inline_policies", {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=_doc(doc))
        for ref in role.get("managed_policies", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn(ref))
        state["roles"][name] = {"arn": arn, "max_session_duration": kwargs["MaxSessionDuration"]}
    return state


def enable_iam_enforcement() -> None:
    """From now on every request's signature and permissions are checked.

    In-process we can set what /moto-api/reset-auth would set, without
    exposing that endpoint (which would let anyone switch enforcement off).
    """
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def _write_keys(issuers: dict[str, Issuer], keys_dir: str, state: dict[str, Any]) -> None:
    os.makedirs(keys_dir, mode=0o700, exist_ok=True)
    for url, issuer in issuers.items():
        name = re.sub(r"[^A-Za-z0-9]+", "_", issuer_host_path(url)).strip("_") + ".pem"
        path = os.path.join(keys_dir, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(issuer.private_pem)
        state["oidc_issuers"][url]["private_key_pem"] = path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake AWS (moto + strict patches) for tests.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario JSON file")
    parser.add_argument("--state-out", help="write keys, ARNs, issuers ... as JSON here")
    parser.add_argument("--keys-dir", help="where issuer private keys go (default: next to --state-out)")
    args = parser.parse_args(argv)

    scenario = load_scenario(args.scenario)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    issuers = {spec["issuer"].rstrip("/"): Issuer.generate(spec["issuer"], spec.get("kid"))
               for spec in scenario.get("oidc_issuers", [])}
    for spec in scenario.get("oidc_issuers", []):
        spec["issuer"] = spec["issuer"].rstrip("/")
    fake = FakeAws(issuers)
    install_moto_patches(fake)
    app = FakeAwsApp(fake, DomainDispatcherApplication(create_backend_app))

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass  # FakeAwsApp logs one line per request itself

    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)
    port = server.server_port
    endpoint = f"http://127.0.0.1:{port}"
    threading.Thread(target=server.serve_forever, name="fake-aws-http", daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    try:
        state = apply_scenario(endpoint, scenario, issuers)
    except Exception as err:  # a broken scenario must fail loudly, not hang the harness
        log(f"scenario setup failed: {err!r}")
        server.shutdown()
        return 2
    enable_iam_enforcement()
    fake.requests.clear()  # setup traffic is not the tests' business
    state.update({
        "endpoint": endpoint, "port": port, "pid": os.getpid(),
        "account_id": scenario["account_id"], "region": scenario["region"],
        "partition": scenario.get("partition", "aws"), "ecr": fake.ecr.describe(),
    })
    keys_dir = args.keys_dir or (os.path.join(os.path.dirname(os.path.abspath(args.state_out)), "oidc-keys")
                                 if args.state_out else None)
    if keys_dir:
        _write_keys(issuers, keys_dir, state)
    if args.state_out:
        write_json_atomically(args.state_out, state)

    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_fake/health", timeout=10) as resp:
        resp.read()
    print(f"READY port={port}", flush=True)
    # moto print()s now and then; stdout is only for READY, and nobody reads
    # the pipe after it, so send any later output to the log instead.
    sys.stdout = sys.stderr
    while not stop.wait(0.5):
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
