"""Conditional requests (RFC 9110 section 13): If-Match and If-None-Match.

The syntax is checked against the RFC's grammar first (Werkzeug's parser is lenient: it
takes an unquoted `abc` as the tag "abc" and skips what it cannot read), then parsed and
compared with Werkzeug's `parse_etags` and `ETags`.
"""

import functools
import hashlib
import re
from dataclasses import dataclass
from enum import Enum

from flask import Response, request
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags, quote_etag

from server.errors import ApiError, PreconditionFailed

# "*" / #entity-tag, entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 8.8.3, 13.1):
# a list of zero or more tags, whose empty elements a recipient must accept (5.6.1.2).
# etagc is kept to visible ASCII: obs-text bytes are no one's tags here. OWS is spaces
# and tabs.
_TAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
_OWS = r"[ \t]*"
ENTITY_TAGS_PATTERN = rf"^(?:\*|{_OWS}(?:{_TAG}{_OWS})?(?:,{_OWS}(?:{_TAG}{_OWS})?)*)$"
_ENTITY_TAGS = re.compile(ENTITY_TAGS_PATTERN)
ENTITY_TAGS_RULE = 'Must be * or a comma-separated list of quoted entity tags, e.g. "5d41402a".'
IF_MATCH, IF_NONE_MATCH = "If-Match", "If-None-Match"


class MalformedHeader(ApiError):
    """A request header that breaks its grammar; `errors` names the header."""

    status, slug = 400, "bad-request"


class Failure(Enum):
    """Which precondition failed, and why (the answer's detail depends on it)."""

    # If-Match: there is nothing to match, the current tag is not listed, only weak tags
    # were sent (If-Match compares strongly, so those never match), or none at all.
    MISSING = "missing"
    CHANGED = "changed"
    WEAK_ONLY = "weak_only"
    NO_TAGS = "no_tags"
    # If-None-Match: "*" and the resource exists, or the current tag is listed.
    EXISTS = "exists"
    UNCHANGED = "unchanged"


# What each failed precondition of a write means for a day's record; {0} and {1} name
# If-Match and If-None-Match as the client sent them (headers, or a batch item's fields),
# {thing} names what is kept per day ("check-in", "response").
REFUSALS = {
    Failure.MISSING: (
        "There is no {thing} for this day yet, so {0} cannot match: leave {0} out, or send "
        "{1}: * to create the day only if it is still missing.",
        "There is no {thing} for this day yet.",
    ),
    Failure.CHANGED: (
        "The {thing} changed since you last fetched it ({0} does not match its ETag).",
        "Does not match the current ETag.",
    ),
    Failure.WEAK_ONLY: (
        '{0} compares entity tags strongly, so a weak tag (W/"...") never matches.',
        "Weak entity tags never match.",
    ),
    Failure.NO_TAGS: (
        "{0} lists no entity tag, so nothing can match it.",
        "Lists no entity tag.",
    ),
    Failure.EXISTS: (
        "A {thing} for this day exists already ({1}: * only creates a missing day).",
        "A {thing} for this day exists already.",
    ),
    Failure.UNCHANGED: (
        "The {thing} is still at a version listed in {1}.",
        "Lists the current ETag.",
    ),
}


def parse_entity_tags(value: str) -> ETags:
    """Parse an If-Match / If-None-Match value; ValueError if it breaks the grammar."""
    if not _ENTITY_TAGS.fullmatch(value):
        raise ValueError(ENTITY_TAGS_RULE)
    return parse_etags(value)


@dataclass(frozen=True)
class Preconditions:
    """The If-Match and If-None-Match of one write or read, parsed; None when absent.

    `names` are what the conditions were called where they came from (header names, or a
    batch item's field names), so an answer can name them.
    """

    if_match: ETags | None = None
    if_none_match: ETags | None = None
    names: tuple[str, str] = (IF_MATCH, IF_NONE_MATCH)

    @property
    def create_only(self) -> bool:
        """If-None-Match: * (write only if nothing is there yet)."""
        return self.if_none_match is not None and self.if_none_match.star_tag

    def failure(self, current: str | None) -> Failure | None:
        """Evaluate both conditions against the current (unquoted) tag, None if nothing exists.

        RFC 9110 13.2.2 order: If-Match first (strong comparison), then If-None-Match
        (weak comparison).
        """
        if self.if_match is not None:
            if current is None:
                return Failure.MISSING
            if not self.if_match.contains(current):
                if self.if_match.as_set(include_weak=False):
                    return Failure.CHANGED
                return Failure.WEAK_ONLY if self.if_match.as_set(True) else Failure.NO_TAGS
        if self.if_none_match is not None and current is not None:
            if self.if_none_match.star_tag:
                return Failure.EXISTS
            if self.if_none_match.contains_weak(current):
                return Failure.UNCHANGED
        return None


def preconditions_from(if_match: str | None, if_none_match: str | None, names=None):
    """Parse the two conditions; ValueError names the one that is malformed (as args[1])."""
    names = names or (IF_MATCH, IF_NONE_MATCH)
    parsed = []
    for name, value in zip(names, (if_match, if_none_match), strict=True):
        if value is None:
            parsed.append(None)
            continue
        try:
            parsed.append(parse_entity_tags(value))
        except ValueError as error:
            raise ValueError(str(error), name) from None
    return Preconditions(*parsed, names=tuple(names))


def request_preconditions() -> Preconditions:
    """The request's If-Match and If-None-Match headers, or a 400 naming a malformed one."""
    try:
        return preconditions_from(
            request.headers.get(IF_MATCH), request.headers.get(IF_NONE_MATCH)
        )
    except ValueError as error:
        message, header = error.args
        raise MalformedHeader(
            f"The {header} header is malformed.", errors={header: [message]}
        ) from None


def precondition_refusal(
    preconditions: Preconditions, failure: Failure, etag: str | None, thing: str
) -> PreconditionFailed:
    """The 412 of a write ruled out by If-Match or If-None-Match, saying which case it is.

    `etag` is the current (quoted) tag of what exists, repeated in the answer; None if nothing.
    """
    detail, rule = REFUSALS[failure]
    if_match, if_none_match = preconditions.names
    named = if_none_match if failure in (Failure.EXISTS, Failure.UNCHANGED) else if_match
    return PreconditionFailed(
        detail.format(if_match, if_none_match, thing=thing),
        errors={named: [rule.format(thing=thing)]},
        headers={"ETag": etag} if etag else None,
    )


def not_modified(etag: str) -> Response:
    """304: the client's copy is current (the ETag is repeated, there is no body)."""
    response = Response(status=304)
    response.headers["ETag"] = etag
    return response


def answer_conditional_read(preconditions: Preconditions, etag: str) -> Response | None:
    """For a GET of a representation with `etag` (quoted): a 304, a 412, or None to serve it."""
    failure = preconditions.failure(etag.strip('"'))
    if failure in (Failure.EXISTS, Failure.UNCHANGED):
        return not_modified(etag)
    if failure is not None:
        raise PreconditionFailed(
            "The resource changed since you last fetched it (If-Match does not match).",
            errors={preconditions.names[0]: ["Does not match the current ETag."]},
            headers={"ETag": etag},
        )
    return None


def body_etag(body: bytes) -> str:
    """Strong entity tag of a response body: the first 128 bits of its SHA-256, quoted."""
    return quote_etag(hashlib.sha256(body).hexdigest()[:32])


def etag_of_body(view):
    """Tag a view's 200 with a strong ETag of its body; answer 304 when If-None-Match has it.

    For representations computed on each request (status, trends) that have no stored
    version: equal bytes mean an equal representation, which is what a strong tag says.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        preconditions = request_preconditions()  # a malformed header fails before the work
        response = view(*args, **kwargs)
        if response.status_code != 200:
            return response
        etag = body_etag(response.get_data())
        response.headers["ETag"] = etag
        return answer_conditional_read(preconditions, etag) or response

    return wrapper
