"""The object store on its own: where bodies go, what survives reopening it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from etl_local import s3_disk
from etl_local.object_store import ObjectStore, StagedFile, in_place_path

REGION = "eu-west-1"
BUCKET = "lake"


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("raw/year=2026/f.json.gz", "raw/year=2026/f.json.gz"),
        ("folder/", None),
        ("a//b", None),
        ("./a", None),
        ("a/../b", None),
        ("/rooted", None),
        (".s3tmp-1234", None),
        ("x" * 256, None),
    ],
)
def test_a_key_is_its_own_path_when_it_can_be(key: str, path: str | None) -> None:
    assert in_place_path(key) == path


def test_a_key_under_another_objects_path_goes_aside(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.create_bucket(BUCKET, "123456789012", REGION)

    file_first = store.put_bytes(BUCKET, "x", b"file")
    under_it = store.put_bytes(BUCKET, "x/y", b"child")
    store.put_bytes(BUCKET, "d/z", b"in d")
    directory_first = store.put_bytes(BUCKET, "d", b"named like a directory")

    assert file_first.path == tmp_path / BUCKET / "x"
    assert under_it.path.is_relative_to(tmp_path / ".aside")
    assert directory_first.path.is_relative_to(tmp_path / ".aside")
    assert [(o.key, store.read(o)) for o in store.list_prefix(BUCKET)] == [
        ("d", b"named like a directory"),
        ("d/z", b"in d"),
        ("x", b"file"),
        ("x/y", b"child"),
    ]


def test_commit_staged_replaces_a_folder_in_one_step(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    store.create_bucket(BUCKET, "123456789012", REGION)
    store.put_bytes(BUCKET, "h/old-1", b"1")
    store.put_bytes(BUCKET, "h/keep", b"k")
    with store.staging_directory("t") as staging:
        (staging / "new").write_bytes(b"n")
        store.commit_staged(BUCKET, [StagedFile(staging / "new", "h/new")], replacing=["h/old-1"])

    assert [o.key for o in store.list_prefix(BUCKET, "h/")] == ["h/keep", "h/new"]
    assert not (tmp_path / BUCKET / "h" / "old-1").exists()
    new = store.get(BUCKET, "h/new")
    assert new is not None and new.etag is None  # computed when first asked for
    assert store.etag(new) == hashlib.md5(b"n").hexdigest()
    assert store.get(BUCKET, "h/new").etag == hashlib.md5(b"n").hexdigest()  # type: ignore[union-attr]


def test_objects_and_their_metadata_survive_reopening_the_store(tmp_path: Path) -> None:
    with mock_aws():
        store = ObjectStore(tmp_path)
        installed = s3_disk.install(store)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=BUCKET, Key="k", Body=b"v", ContentType="text/plain", Metadata={"a": "1"}
        )
        installed.uninstall()
        store.close()
    with mock_aws():
        store = ObjectStore(tmp_path)
        installed = s3_disk.install(store)
        try:
            s3 = boto3.client("s3", region_name=REGION)
            head = s3.head_object(Bucket=BUCKET, Key="k")
            assert (head["ContentType"], head["Metadata"], head["ETag"]) == (
                "text/plain",
                {"a": "1"},
                '"' + hashlib.md5(b"v").hexdigest() + '"',
            )
            assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
        finally:
            installed.uninstall()
            store.close()


def test_staging_left_by_a_killed_process_is_removed_when_the_store_opens(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    with store.staging_directory("glue") as mine:
        abandoned = mine.with_name("glue-999999999-0123abcd")  # no such process
        abandoned.mkdir()
        (abandoned / "part-0.parquet").write_bytes(b"x")
        ObjectStore(tmp_path).close()
        assert mine.is_dir() and not abandoned.exists()  # this process's is still in use
