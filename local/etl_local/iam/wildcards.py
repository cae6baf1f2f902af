"""Wildcard matching as IAM does it: actions, resource ARNs, StringLike and ArnLike values.

IAM has one wildcard syntax (`*` any run of characters, `?` any single character) but
applies it three ways:

- Action / NotAction: case-insensitive, over the whole `service:Action` string
  ("IAM JSON policy elements: Action": action names are not case sensitive).
- Resource / NotResource: case-sensitive, within the colon-separated ARN segments; "If the
  `*` wildcard is the last character of a resource ARN segment, it can expand to match
  beyond the colon boundaries" ("IAM JSON policy elements: Resource", "Using wildcards in
  resource ARNs"). A `*` inside a segment therefore stays inside it, and `?` is one
  character of the segment.
- Condition operators: StringLike matches case-sensitively anywhere in the string;
  ArnLike/ArnEquals check "each of the six colon-delimited components of the ARN
  separately" ("IAM JSON policy elements: Condition operators", ARN condition operators).

Patterns are compiled once (policies are few, requests many).
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)


def glob_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """`*`/`?` matching over the whole string (StringLike; Action when case-insensitive)."""
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """An Action/NotAction entry against a requested action such as `s3:GetObject`."""
    return pattern == "*" or glob_match(pattern, action, case_sensitive=False)


@functools.lru_cache(maxsize=4096)
def _resource(pattern: str) -> re.Pattern[str]:
    segments = []
    for segment in pattern.split(":"):
        parts = []
        last = len(segment) - 1
        for position, char in enumerate(segment):
            if char == "*":
                # Only a trailing `*` may run on past the segment's colons.
                parts.append(".*" if position == last else "[^:]*")
            elif char == "?":
                parts.append("[^:]")
            else:
                parts.append(re.escape(char))
        segments.append("".join(parts))
    return re.compile(":".join(segments), re.DOTALL)


def resource_matches(pattern: str, resource: str) -> bool:
    """A Resource/NotResource entry against a requested resource ARN (or `*`)."""
    if pattern == "*":
        return True
    return _resource(pattern).fullmatch(resource) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: the six ARN components compared one by one, each with wildcards."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))
