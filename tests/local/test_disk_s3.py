"""moto's S3 served from the disk-backed object store: the S3 API as a client sees it.

Bodies are files at their keys, ETags are S3's (MD5; multipart: MD5 of the parts' MD5s and
the part count), listings follow S3's ordering and pagination rules, and concurrent
writers never leave a torn or half-indexed object.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_aws_support import BUCKET, REGION, Aws

from etl_local.object_store import TEMP_PREFIX, StagedFile


def md5(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest() + '"'


def keys_of(s3: Any, **kwargs: Any) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, **kwargs)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_put_get_head_serve_the_file_at_its_key(aws: Aws) -> None:
    body = b"line\n" * 1000
    put = aws.s3.put_object(
        Bucket=BUCKET,
        Key="raw/year=2026/f.json",
        Body=body,
        ContentType="application/json",
        Metadata={"origin": "test"},
    )

    head = aws.s3.head_object(Bucket=BUCKET, Key="raw/year=2026/f.json")
    got = aws.s3.get_object(Bucket=BUCKET, Key="raw/year=2026/f.json", Range="bytes=5-9")

    assert put["ETag"] == head["ETag"] == md5(body)
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"origin": "test"}
    assert got["Body"].read() == body[5:10]
    path = aws.services.objects.bucket_directory(BUCKET) / "raw/year=2026/f.json"
    assert path.read_bytes() == body
    assert not [p for p in path.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_missing_keys_and_deletes_answer_as_s3(aws: Aws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="a/b/c", Body=b"1")
    aws.s3.put_object(Bucket=BUCKET, Key="a/d", Body=b"2")

    with pytest.raises(botocore.exceptions.ClientError) as missing:
        aws.s3.get_object(Bucket=BUCKET, Key="a/b")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    aws.s3.delete_object(Bucket=BUCKET, Key="a/b/c")
    aws.s3.delete_object(Bucket=BUCKET, Key="never/was")  # S3 answers 204 all the same
    deleted = aws.s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "a/d"}, {"Key": "gone"}]}
    )

    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["a/d", "gone"]
    assert keys_of(aws.s3) == []
    # No empty directory is left behind to block a key named like it.
    assert list(aws.services.objects.bucket_directory(BUCKET).iterdir()) == []
    aws.s3.put_object(Bucket=BUCKET, Key="a/b", Body=b"now a file")
    assert aws.s3.get_object(Bucket=BUCKET, Key="a/b")["Body"].read() == b"now a file"


def test_keys_that_cannot_be_paths_are_objects_all_the_same(aws: Aws) -> None:
    keys = ["dir/", "x", "x/y", "double//slash", "./dot", "trailing/.", "caf\u00e9/\u00fc"]
    for n, key in enumerate(keys):
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=str(n).encode())

    assert keys_of(aws.s3) == sorted(keys, key=lambda k: k.encode())
    for n, key in enumerate(keys):
        assert aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == str(n).encode()


def test_copy_replaces_or_keeps_metadata_and_multipart_etag(aws: Aws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="src", Body=b"data", Metadata={"k": "v"})
    aws.s3.copy_object(Bucket=BUCKET, Key="kept", CopySource={"Bucket": BUCKET, "Key": "src"})
    aws.s3.copy_object(
        Bucket=BUCKET,
        Key="replaced",
        CopySource={"Bucket": BUCKET, "Key": "src"},
        Metadata={"k": "new"},
        MetadataDirective="REPLACE",
    )
    assert aws.s3.head_object(Bucket=BUCKET, Key="kept")["Metadata"] == {"k": "v"}
    assert aws.s3.head_object(Bucket=BUCKET, Key="replaced")["Metadata"] == {"k": "new"}

    parts = [b"a" * (5 * 1024 * 1024), b"tail"]  # S3's minimum part size, then the last part
    upload = aws.s3.create_multipart_upload(Bucket=BUCKET, Key="big")
    etags = [
        aws.s3.upload_part(
            Bucket=BUCKET, Key="big", UploadId=upload["UploadId"], PartNumber=n, Body=part
        )["ETag"]
        for n, part in enumerate(parts, start=1)
    ]
    aws.s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="big",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]},
    )

    combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    head = aws.s3.head_object(Bucket=BUCKET, Key="big")
    assert head["ETag"] == f'"{combined}-2"'
    assert head["ContentLength"] == sum(map(len, parts))
    listed = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="big")["Contents"][0]
    assert listed["ETag"] == head["ETag"]
    body = io.BytesIO()
    aws.s3.download_fileobj(BUCKET, "big", body)
    assert body.getvalue() == b"".join(parts)


def test_versioning_cannot_be_enabled(aws: Aws) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        aws.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert refused.value.response["Error"]["Code"] == "NotImplemented"


def test_files_written_in_place_get_their_etag_when_asked(aws: Aws) -> None:
    objects = aws.services.objects
    with objects.staging_directory("test") as staging:
        (staging / "part-0.parquet").write_bytes(b"PAR1 written by spark")
        objects.commit_staged(BUCKET, [StagedFile(staging / "part-0.parquet", "ods/p.parquet")])

    listed = aws.s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [
        ("ods/p.parquet", 21, md5(b"PAR1 written by spark"))
    ]


def test_concurrent_writers_leave_whole_objects(aws: Aws) -> None:
    bodies = [bytes([n]) * (100_000 + n) for n in range(8)]
    errors: list[BaseException] = []

    def write(body: bytes) -> None:
        client = boto3.client("s3", endpoint_url=aws.s3.meta.endpoint_url, region_name=REGION)
        try:
            for _ in range(5):
                client.put_object(Bucket=BUCKET, Key="shared", Body=body)
                client.put_object(Bucket=BUCKET, Key=f"own/{body[0]}", Body=body)
        except BaseException as error:  # collected for the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    final = aws.s3.get_object(Bucket=BUCKET, Key="shared")
    body = final["Body"].read()
    assert body in bodies and final["ETag"] == md5(body) and final["ContentLength"] == len(body)
    assert keys_of(aws.s3, Prefix="own/") == sorted(f"own/{n}" for n in range(8))
    leftovers = [p for p in aws.services.objects.root.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert leftovers == []


# -- listings: S3's rules, against a model of them -----------------------------------------


def expected_listing(keys: list[str], prefix: str, delimiter: str | None, after: str) -> list[str]:
    """S3's listing of `keys`: the keys under prefix after `after`, in UTF-8 binary order,
    each group of keys sharing prefix + ...delimiter listed once as that common prefix."""
    entries: list[str] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix) or key <= after:
            continue
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if common > after and (not entries or entries[-1] != common):
                entries.append(common)
        else:
            entries.append(key)
    return entries


def listed(s3: Any, version: int, **kwargs: Any) -> list[str]:
    operation = "list_objects_v2" if version == 2 else "list_objects"
    pages = s3.get_paginator(operation).paginate(Bucket=LISTING_BUCKET, **kwargs)
    entries: list[str] = []
    for page in pages:
        entries += [item["Key"] for item in page.get("Contents", [])]
        entries += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    return sorted(entries, key=lambda k: k.encode())


LISTING_BUCKET = "listing-bucket"


@pytest.fixture(scope="module")
def listing_lake(local_services: Any) -> Iterator[Any]:
    """A bucket of keys for the listing properties, written once (hypothesis runs many
    examples; the `aws` fixture would reset it for each)."""
    endpoint = f"http://{local_services.endpoint}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    s3.create_bucket(
        Bucket=LISTING_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    for key in LISTING_KEYS:
        s3.put_object(Bucket=LISTING_BUCKET, Key=key, Body=b"")
    yield s3


LISTING_KEYS = sorted(
    {
        f"{top}/{mid}{sep}{leaf}"
        for top in ("a", "a-b", "b")
        for mid in ("x", "x=1", "y")
        for sep in ("/", "-")
        for leaf in ("1", "2", "z/3")
    }
    | {"a", "a/", "b/x/"}
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(["", "a", "a/", "a/x", "b/x/", "c"]),
    delimiter=st.sampled_from([None, "/", "-", "=1"]),
    start_after=st.sampled_from(["", "a/", "a/x/1", "a/x=", "b"]),
    page_size=st.integers(min_value=1, max_value=7),
    version=st.sampled_from([1, 2]),
)
def test_listings_follow_s3s_order_grouping_and_pagination(
    listing_lake: Any,
    prefix: str,
    delimiter: str | None,
    start_after: str,
    page_size: int,
    version: int,
) -> None:
    kwargs: dict[str, Any] = {"Prefix": prefix, "PaginationConfig": {"PageSize": page_size}}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    if start_after:
        kwargs["StartAfter" if version == 2 else "Marker"] = start_after

    assert listed(listing_lake, version, **kwargs) == expected_listing(
        LISTING_KEYS, prefix, delimiter, start_after
    )
