"""Wildcards as IAM applies them to actions, resource ARNs and condition values."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from etl_local.iam.wildcards import action_matches, arn_like, glob_match, resource_matches

# Characters of ARN segments, without ":" (the separator) and without fnmatch's "[]".
SEGMENT_CHARS = st.sampled_from("abcXYZ019-_/.")
segment = st.text(SEGMENT_CHARS, min_size=1, max_size=6)


# -- examples from "IAM JSON policy elements: Resource" ------------------------------------


def test_every_object_of_a_bucket() -> None:
    assert resource_matches(
        "arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/a/b.jpg"
    )
    assert not resource_matches(
        "arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket"
    )


def test_star_expands_over_slashes_within_a_segment() -> None:
    pattern = "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"
    for key in (
        "1/test/object.jpg",
        "1/2/test/object.jpg",
        "1/2/test/3/object.jpg",
        "1/2/3/test/4/object.jpg",
        "1///test///object.jpg",
        "1/test/.jpg",
        "/test/object.jpg",
        "1/test/",
    ):
        assert resource_matches(pattern, f"arn:aws:s3:::amzn-s3-demo-bucket/{key}"), key
    for key in ("1-test/object.jpg", "test/object.jpg"):
        assert not resource_matches(pattern, f"arn:aws:s3:::amzn-s3-demo-bucket/{key}"), key


def test_users_under_a_path() -> None:
    pattern = "arn:aws:iam::123456789012:user/accounting/*"
    assert resource_matches(pattern, "arn:aws:iam::123456789012:user/accounting/alice")
    assert not resource_matches(pattern, "arn:aws:iam::123456789012:user/sales/bob")


def test_trailing_star_of_a_segment_crosses_colons() -> None:
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f"
    assert resource_matches(f"{group}:*", f"{group}:log-stream:2026/01/01/abc")
    assert resource_matches(
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers*",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers:log-stream:x",
    )


def test_inner_star_stays_inside_its_segment() -> None:
    assert not resource_matches("arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a:c/x")
    assert not resource_matches("arn:aws:glue:*x:1:catalog", "arn:aws:glue:eu:west-x:1:catalog")


def test_resources_are_case_sensitive_actions_are_not() -> None:
    assert not resource_matches("arn:aws:iam::1:user/Bob", "arn:aws:iam::1:user/bob")
    assert action_matches("S3:getobject", "s3:GetObject")
    assert action_matches("s3:Get*", "s3:GetObjectVersion")
    assert not action_matches("s3:Get*", "s3:PutObject")
    assert action_matches("*", "glue:GetTable")


def test_only_a_star_matches_a_request_without_resource() -> None:
    assert resource_matches("*", "*")
    assert not resource_matches("arn:aws:s3:::*", "*")


def test_arn_like_compares_the_six_components() -> None:
    assert arn_like(
        "arn:aws:states:*:123456789012:stateMachine:*",
        "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
    )
    assert not arn_like(
        "arn:aws:states:*:123456789012:*", "arn:aws:states:eu-west-1:999999999999:stateMachine:m"
    )
    assert not arn_like("arn:aws:s3:::bucket", "not-an-arn")


def test_string_like_spans_the_whole_value() -> None:
    assert glob_match("ods/traffic/*", "ods/traffic/year=2026/x.parquet")
    assert glob_match("ods/traffic/?", "ods/traffic/a")
    assert not glob_match("ods/traffic/?", "ods/traffic/ab")
    assert not glob_match("ods/traffic/*", "ODS/traffic/x")


# -- properties ------------------------------------------------------------------------------


@given(st.lists(segment, min_size=6, max_size=8))
def test_an_arn_matches_itself(segments: list[str]) -> None:
    arn = ":".join(segments)
    assert resource_matches(arn, arn)


@given(st.lists(segment, min_size=6, max_size=8), st.data())
def test_a_whole_segment_star_matches_any_value_there(
    segments: list[str], data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(segments) - 1))
    pattern = segments.copy()
    pattern[position] = "*"
    assert resource_matches(":".join(pattern), ":".join(segments))


@given(st.lists(segment, min_size=6, max_size=8), st.lists(segment, min_size=6, max_size=8))
def test_without_trailing_stars_segments_match_one_by_one(
    patterns: list[str], values: list[str]
) -> None:
    # Inner stars only: a reference matcher compares segment by segment.
    inner = [p[:-1] + "*" + p[-1] if len(p) > 1 else p for p in patterns]
    expected = len(inner) == len(values) and all(
        fnmatchcase(v, p) for p, v in zip(inner, values, strict=False)
    )
    assert resource_matches(":".join(inner), ":".join(values)) == expected


@given(st.text(SEGMENT_CHARS, min_size=1, max_size=10), st.data())
def test_question_mark_is_one_character(value: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(value) - 1))
    pattern = value[:position] + "?" + value[position + 1 :]
    assert glob_match(pattern, value)
    assert not glob_match(pattern, value + "x")


@given(st.from_regex(r"[a-z0-9]{2,8}:[A-Za-z]{2,12}", fullmatch=True))
def test_actions_ignore_case(action: str) -> None:
    assert action_matches(action.upper(), action.lower())
    assert action_matches(action.split(":")[0] + ":*", action)
