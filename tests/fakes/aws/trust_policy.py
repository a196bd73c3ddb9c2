"""Role trust-policy evaluation for the fake STS (pure, no I/O).

moto 5.2.1 checks trust policies only for ``sts:AssumeRole`` and only in a
rough way: a statement whose principal does not match *denies* (so a second
statement for another principal can never allow), a ``Principal`` without an
``AWS`` key crashes with a TypeError (HTTP 500), ``Service``/``Federated``
principals and ``StringLike`` are not understood, ``Effect: Deny`` in a
statement without ``Resource`` counts as Allow, and
``AssumeRoleWithWebIdentity`` ignores the trust policy altogether.
``fake_aws.py`` replaces those checks with this evaluator for both actions.

What is implemented, following the IAM policy evaluation logic:
  * a statement applies when its Action/NotAction matches (case-insensitive,
    ``*`` and ``?`` wildcards), its Principal matches, and all its
    Conditions hold; an applicable Deny wins, else an applicable Allow
    allows, else the request is denied (implicit deny);
  * principals: ``"*"``; ``AWS`` as ``*``, a 12-digit account id or
    ``arn:<p>:iam::<acct>:root`` (any principal of that account), a user ARN,
    or a role ARN (matches sessions of that role); ``Service`` (matches only
    a caller that is that service: never a moto access key); ``Federated``
    (the IAM OIDC provider ARN presented by AssumeRoleWithWebIdentity);
  * condition operators: StringEquals, StringNotEquals,
    StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
    StringNotLike, Bool, Null, each optionally with the ``IfExists`` suffix
    and the ``ForAnyValue:``/``ForAllValues:`` qualifiers; all operators and
    all keys of a statement must hold, any value of a key may match; key
    names are case-insensitive, as in IAM.  A missing key fails every
    operator except the negated ones, ``...IfExists`` and ``Null``.

Deviations: ``NotPrincipal`` and other operators (numeric, date, IP, ARN)
are not implemented: a statement using them never applies (``unsupported``
lists them so the fake can log a warning).  Policy variables
(``${aws:username}``) are not expanded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

ARN_ROLE_RE = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")
ARN_ASSUMED_RE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/")


@dataclass(frozen=True)
class Caller:
    """Who asks to assume the role.

    kind is "AWS" (an IAM user or assumed-role session, ``arn`` is its ARN),
    "Federated" (``arn`` is the OIDC provider ARN) or "Service".
    """

    kind: str
    arn: str
    account_id: str = ""


@dataclass
class Decision:
    allowed: bool
    reason: str
    unsupported: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def _action_matches(stmt: dict[str, Any], action: str) -> bool:
    if "NotAction" in stmt:
        return not any(_wildcard(p, action, True) for p in _as_list(stmt["NotAction"]))
    return any(_wildcard(p, action, True) for p in _as_list(stmt.get("Action")))


def _aws_principal_matches(entry: str, caller: Caller) -> bool:
    if entry == "*":
        return True
    if re.fullmatch(r"\d{12}", entry) or re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:root", entry):
        return caller.account_id == re.search(r"\d{12}", entry).group(0)
    if entry == caller.arn:
        return True
    role = ARN_ROLE_RE.match(entry)
    session = ARN_ASSUMED_RE.match(caller.arn)
    # A role ARN in a trust policy matches every session of that role.
    return bool(role and session and role.group(2, 3) == session.group(2, 3))


def _principal_matches(stmt: dict[str, Any], caller: Caller) -> bool:
    principal = stmt.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if caller.kind == "AWS":
        return any(_aws_principal_matches(p, caller) for p in _as_list(principal.get("AWS")))
    return caller.arn in _as_list(principal.get(caller.kind))


_STRING_OPS = {
    "StringEquals": (lambda e, a: e == a, False),
    "StringNotEquals": (lambda e, a: e == a, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), True),
    "StringLike": (lambda e, a: _wildcard(e, a, False), False),
    "StringNotLike": (lambda e, a: _wildcard(e, a, False), True),
    "Bool": (lambda e, a: e.lower() == a.lower(), False),
}


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool | None:
    """True/False, or None when the operator is not implemented."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists") and op != "IfExists"
    if if_exists:
        op = op[: -len("IfExists")]
    lowered = {k.lower(): v for k, v in context.items()}
    present = key.lower() in lowered
    actual = [str(v) for v in _as_list(lowered.get(key.lower()))]
    expected_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    if op == "Null":
        want_missing = expected_values[0].lower() == "true"
        return (not present) == want_missing
    if op not in _STRING_OPS:
        return None
    match, negated = _STRING_OPS[op]
    if not present:
        return if_exists or negated
    if qualifier == "ForAllValues":
        hits = [any(match(e, a) for e in expected_values) for a in actual]
        return all(not h for h in hits) if negated else all(hits)
    hit = any(match(e, a) for e in expected_values for a in actual)
    return not hit if negated else hit


def _conditions_hold(stmt: dict[str, Any], context: dict[str, Any], unsupported: list[str]) -> bool:
    for operator, keys in (stmt.get("Condition") or {}).items():
        for key, expected in keys.items():
            holds = _condition_holds(operator, key, expected, context)
            if holds is None:
                unsupported.append(operator)
                return False
            if not holds:
                return False
    return True


def evaluate(document: str | dict[str, Any], action: str, caller: Caller, context: dict[str, Any]) -> Decision:
    """Decide whether ``caller`` may perform ``action`` under a trust policy."""
    policy = json.loads(document) if isinstance(document, str) else document
    unsupported: list[str] = []
    allowed_by = None
    for index, stmt in enumerate(_as_list(policy.get("Statement"))):
        if "NotPrincipal" in stmt:
            unsupported.append("NotPrincipal")
            continue
        if not (_action_matches(stmt, action) and _principal_matches(stmt, caller)):
            continue
        if not _conditions_hold(stmt, context, unsupported):
            continue
        sid = stmt.get("Sid", f"#{index}")
        if stmt.get("Effect") == "Deny":
            return Decision(False, f"explicit deny in statement {sid}", unsupported)
        if stmt.get("Effect") == "Allow":
            allowed_by = sid
    if allowed_by is not None:
        return Decision(True, f"allowed by statement {allowed_by}", unsupported)
    return Decision(False, "no statement of the trust policy allows it", unsupported)
