"""Schemathesis hooks for the conformance runs (test/schemathesis.test.ts, scripts/schemathesis.ts).

Each narrow and documented (README, "Conformance and robustness"):

1. The known deviation: the references answer a missing or invalid API key with **400**, where
   schemathesis' `ignored_auth` and `missing_required_header` checks expect 401/403. Both checks
   stay on; a 400 counts as the refusal only when its `detail` is one of the API's own key messages
   (api/route.ts, AUTH_MESSAGES). Any other answer to a request without a valid key still fails.
2. Rules the OpenAPI 3.0 document states in words but cannot put in a schema: reading timestamps
   are at most 24 h ahead of the server's clock and not before 2000, an API key's `expiresAt` is in
   the future. Generated `date-time` values are drawn from the next 23 hours (with offsets up to
   ±14:00), which meets both; everything else about them is RFC 3339 as documented.
3. Rules that depend on the deployment or on the data in a way a schema cannot state, each stated
   in the field's description and tolerated only as the 422 that rule gives, for data that really
   breaks it (DATA_RULES below): a language other than en/de/nl/fr/pl on a server without an LLM;
   a webhook URL whose host is a literal non-public IP address, or an `xn--` label that is not
   valid Punycode; an energy price while neither the request nor the stored organization has a
   currency. Every other 422 on schema-valid data still fails the run.
4. The run's own identity stays usable: a generated request that would revoke the run's key,
   remove or demote its member, or lower its organization's rate limits is pointed elsewhere
   (another id; the service default limits), so the rest of the run is not 400s and 429s.
"""
import ipaddress
import json
import os
import re
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

AUTH_DETAILS = re.compile(
    r"^(Missing Authorization header|Malformed Authorization header|Invalid API key|API key has been revoked|API key has expired)"
)

_enforces_auth = openapi_checks._enforces_auth


def _detail(response):
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _enforces_auth_with_400(response, authenticated):
    """The references' convention: a refused key is a 400 naming the key problem."""
    if response.status_code == 400 and isinstance(_detail(response), str) and AUTH_DETAILS.match(_detail(response)):
        return True
    return _enforces_auth(response, authenticated)


openapi_checks._enforces_auth = _enforces_auth_with_400


def _date_time(delta_seconds, offset_minutes, micros):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    tz = timezone(timedelta(minutes=offset_minutes))
    value = (now + timedelta(seconds=delta_seconds, microseconds=micros)).astimezone(tz)
    text = value.isoformat(timespec="milliseconds" if micros else "seconds")
    return text.replace("+00:00", "Z") if offset_minutes == 0 else text


schemathesis.openapi.format(
    "date-time",
    st.builds(
        _date_time,
        st.integers(min_value=120, max_value=23 * 3600),
        st.sampled_from([0, 0, 60, -300, 330, 600, 840, -720]),
        st.sampled_from([0, 0, 250_000]),
    ),
)

OWN_KEY_ID = os.environ.get("EVNI_ST_KEY_ID", "")
OWN_MEMBER_ID = os.environ.get("EVNI_ST_MEMBER_ID", "")
ELSEWHERE = "00000000-0000-4000-8000-000000000000"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    params = case.path_parameters or {}
    if case.method == "DELETE" and case.path == "/v1/api-keys/{key_id}" and params.get("key_id") == OWN_KEY_ID:
        params["key_id"] = ELSEWHERE
    if case.path == "/v1/members/{user_id}" and params.get("user_id") == OWN_MEMBER_ID:
        params["user_id"] = ELSEWHERE
    if case.method == "PUT" and case.path == "/v1/organization" and isinstance(case.body, dict):
        for name in ("rateLimits", "rate_limits"):
            if name in case.body and case.body[name] is not None:
                case.body[name] = None


def _errors(response):
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return []
    return body.get("errors") or [] if isinstance(body, dict) else []


def _at(value, loc):
    for part in loc:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def _parse(text):
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (TypeError, ValueError):
        return None


TIME_RULES = (
    ("must be in the future", lambda t, now: t <= now),
    ("more than a day in the future", lambda t, now: t > now + timedelta(days=1)),
    ("is before 2000-01-01", lambda t, now: t < datetime(2000, 1, 1, tzinfo=timezone.utc)),
)


def _only_time_rules(case, response):
    """A 422 whose every error is one of the documented time rules (item 2 above), each true of what was sent.
    The stateful phase reuses timestamps of earlier responses (e.g. a createdAt as an expiresAt)."""
    errors = _errors(response)
    if response.status_code != 422 or not errors:
        return False
    now = datetime.now(timezone.utc)
    for error in errors:
        loc, msg = error.get("loc") or [], error.get("msg") or ""
        sent = _parse(_at(case.body, loc[1:])) if loc[:1] == ["body"] else None
        if sent is None or sent.tzinfo is None:
            return False
        if not any(phrase in msg and broken(sent, now) for phrase, broken in TIME_RULES):
            return False
    return True


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """The 400-for-auth deviation in `missing_required_header` (which expects exactly 401 for a missing
    Authorization header): kept out only when the answer is a 400 naming the key problem. And a
    schema-valid request refused only for a documented time rule its data really breaks."""
    name = type(failure).__name__
    if name == "MissingHeaderNotRejected" and getattr(failure, "header_name", "").lower() == "authorization":
        detail = _detail(response)
        if response.status_code == 400 and isinstance(detail, str) and AUTH_DETAILS.match(detail):
            return False
    if name == "RejectedPositiveData" and _only_time_rules(case, response):
        return False
    if name == "RejectedPositiveData" and _only_errors_at(response, STATE_RULES.get((case.method, case.path), ())):
        return False
    if name == "RejectedPositiveData" and _only_data_rules(case, response):
        return False
    return True


def _only_errors_at(response, places):
    """A 422 whose every error is located at (or under) one of `places`."""
    errors = _errors(response)
    if response.status_code != 422 or not errors or not places:
        return False
    return all(any(tuple((e.get("loc") or [])[: len(q)]) == q for q in places) for e in errors)


# Rules that depend on stored state, stated in the operation's description: `role` in a key request
# must equal the key's member's current role (a 422 otherwise).
STATE_RULES = {
    ("POST", "/v1/api-keys"): (("body", "role"),),
    # Fine-tuning: the base model must be one this tenant may tune, the batch its own, and the data
    # source must match enough of its analysed sessions (the 422 names the minimum).
    ("POST", "/v1/models/fine-tune"): (("body", "baseModelId"), ("body", "dataSource")),
    # An issue's assignee must be a member of the organization (by email): the stored members decide.
    ("PUT", "/v1/anomalies/issues/{issue_id}"): (("body", "assignedTo"),),
}

OFFLINE_LANGUAGES = ("en", "de", "nl", "fr", "pl")


def _sent(case, loc):
    """The value a 422's `loc` names in the request (body or query)."""
    if loc[:1] == ["body"]:
        return _at(case.body, loc[1:])
    if loc[:1] == ["query"] and len(loc) == 2:
        return (case.query or {}).get(loc[1])
    return None


def _offline_language(case, error):
    """A server without an LLM writes five languages (the `lang` description): the tag sent is
    pattern-valid but its primary subtag is none of them."""
    sent = _sent(case, error.get("loc") or [])
    return isinstance(sent, str) and re.split(r"[-_]", sent.strip())[0].lower() not in OFFLINE_LANGUAGES


def _url_host(case, error):
    sent = _sent(case, error.get("loc") or [])
    match = re.match(r"^https?://([^/?#]*?)(?::[0-9]+)?(?:[/?#]|$)", sent) if isinstance(sent, str) else None
    return match.group(1) if match else None


def _literal_address(host):
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


def _non_public_literal(case, error):
    """The URL's host is an IP literal, and the one the message names (webhooks go to public unicast addresses only)."""
    named = re.match(r"^the host (\S+) is a \w+ address: webhooks go to public addresses only$", error.get("msg") or "")
    sent = _literal_address(_url_host(case, error) or "")
    return bool(named) and sent is not None and _literal_address(named.group(1)) == sent


def _bad_punycode(case, error):
    """A host label beginning `xn--` that the URL parser cannot decode."""
    host = _url_host(case, error) or ""
    return any(label.lower().startswith("xn--") for label in host.split("."))


def _no_currency_anywhere(case, error):
    """energyPrice set (sent, or stored and not cleared) while no currency is sent: the stored organization has none."""
    body = case.body if isinstance(case.body, dict) else {}
    return body.get("currency") is None and body.get("energyPrice", 0) is not None


LANG_RULE = (re.compile(r"^one of en, de, nl, fr, pl without an LLM$"), _offline_language)
URL_RULES = (
    (re.compile(r"^the host \S+ is a \w+ address: webhooks go to public addresses only$"), _non_public_literal),
    (re.compile(r"^the host has an xn-- label that is not valid Punycode$"), _bad_punycode),
)

# (method, path) → {error location: ((message, does the request really break the rule?), ...)}.
DATA_RULES = {
    ("GET", "/v1/sessions/{session_id}/explain"): {("query", "lang"): (LANG_RULE,)},
    ("POST", "/v1/sessions/{session_id}/explain"): {("body", "lang"): (LANG_RULE,)},
    ("POST", "/v1/webhooks"): {("body", "url"): URL_RULES},
    ("PATCH", "/v1/webhooks/{webhook_id}"): {("body", "url"): URL_RULES},
    ("PUT", "/v1/organization"): {("body", "currency"): ((re.compile(r"^required when energyPrice is set"), _no_currency_anywhere),)},
}


def _only_data_rules(case, response):
    """A 422 whose every error is one of DATA_RULES (item 3 above), at its field, true of what was sent."""
    rules = DATA_RULES.get((case.method, case.path))
    errors = _errors(response)
    if response.status_code != 422 or not errors or not rules:
        return False
    for error in errors:
        for_field = rules.get(tuple(error.get("loc") or []), ())
        if not any(message.search(error.get("msg") or "") and broken(case, error) for message, broken in for_field):
            return False
    return True
