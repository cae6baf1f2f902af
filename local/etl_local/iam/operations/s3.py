"""Amazon S3: operation -> action, bucket or object ARN, condition keys.

"Actions, resources, and condition keys for Amazon S3" and "Required permissions for
Amazon S3 API operations" (S3 User Guide): object operations act on
`arn:aws:s3:::<bucket>/<key>`, bucket operations on `arn:aws:s3:::<bucket>`; several API
operations share an action (HeadObject is s3:GetObject, every multipart step but Abort and
ListParts is s3:PutObject, HeadBucket and ListObjects(V2) are s3:ListBucket); a request
naming a version needs the *Version action; CopyObject and UploadPartCopy read the source
(s3:GetObject) and write the target (s3:PutObject); DeleteObjects needs s3:DeleteObject for
every key it names, and answers AccessDenied for each key the caller may not delete in an
otherwise successful response (DeleteObjects, "For each key, Amazon S3 performs a delete
operation and returns the result of that delete, success or failure").
"""

from __future__ import annotations

from urllib.parse import unquote

from etl_local.iam.conditions import ContextValue
from etl_local.iam.operations.call import ApiCall, Mapper, Permission, ServerLookups

OBJECT, BUCKET, NO_RESOURCE = "object", "bucket", "none"

# operation -> (action, resource kind). One declaration per operation; special cases below.
ACTIONS: dict[str, tuple[str, str]] = {
    "GetObject": ("s3:GetObject", OBJECT),
    "HeadObject": ("s3:GetObject", OBJECT),
    "GetObjectAttributes": ("s3:GetObjectAttributes", OBJECT),
    "PutObject": ("s3:PutObject", OBJECT),
    "CreateMultipartUpload": ("s3:PutObject", OBJECT),
    "UploadPart": ("s3:PutObject", OBJECT),
    "CompleteMultipartUpload": ("s3:PutObject", OBJECT),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", OBJECT),
    "ListParts": ("s3:ListMultipartUploadParts", OBJECT),
    "DeleteObject": ("s3:DeleteObject", OBJECT),
    "GetObjectTagging": ("s3:GetObjectTagging", OBJECT),
    "PutObjectTagging": ("s3:PutObjectTagging", OBJECT),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", OBJECT),
    "GetObjectAcl": ("s3:GetObjectAcl", OBJECT),
    "PutObjectAcl": ("s3:PutObjectAcl", OBJECT),
    "RestoreObject": ("s3:RestoreObject", OBJECT),
    "ListObjects": ("s3:ListBucket", BUCKET),
    "ListObjectsV2": ("s3:ListBucket", BUCKET),
    "HeadBucket": ("s3:ListBucket", BUCKET),
    "ListObjectVersions": ("s3:ListBucketVersions", BUCKET),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", BUCKET),
    "GetBucketLocation": ("s3:GetBucketLocation", BUCKET),
    "CreateBucket": ("s3:CreateBucket", BUCKET),
    "DeleteBucket": ("s3:DeleteBucket", BUCKET),
    "GetBucketPolicy": ("s3:GetBucketPolicy", BUCKET),
    "PutBucketPolicy": ("s3:PutBucketPolicy", BUCKET),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", BUCKET),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", BUCKET),
    "GetBucketVersioning": ("s3:GetBucketVersioning", BUCKET),
    "PutBucketVersioning": ("s3:PutBucketVersioning", BUCKET),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", BUCKET),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", BUCKET),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "GetBucketTagging": ("s3:GetBucketTagging", BUCKET),
    "PutBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "DeleteBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", BUCKET),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", BUCKET),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", BUCKET),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "GetBucketLogging": ("s3:GetBucketLogging", BUCKET),
    "PutBucketLogging": ("s3:PutBucketLogging", BUCKET),
    "GetBucketAcl": ("s3:GetBucketAcl", BUCKET),
    "PutBucketAcl": ("s3:PutBucketAcl", BUCKET),
    "GetBucketCors": ("s3:GetBucketCORS", BUCKET),
    "PutBucketCors": ("s3:PutBucketCORS", BUCKET),
    "DeleteBucketCors": ("s3:PutBucketCORS", BUCKET),
    "ListBuckets": ("s3:ListAllMyBuckets", NO_RESOURCE),
}
# Requests that name a version need the version action.
VERSION_ACTIONS = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
}
# Request parameters that S3 exposes as condition keys (lower-cased key names).
PARAMETER_KEYS = {
    "Prefix": "s3:prefix",
    "Delimiter": "s3:delimiter",
    "MaxKeys": "s3:max-keys",
    "ACL": "s3:x-amz-acl",
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "StorageClass": "s3:x-amz-storage-class",
    "CopySource": "s3:x-amz-copy-source",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "VersionId": "s3:versionid",
}


def bucket_arn(call: ApiCall, bucket: str) -> str:
    return f"arn:{call.partition}:s3:::{bucket}"


def object_arn(call: ApiCall, bucket: str, key: str) -> str:
    return f"arn:{call.partition}:s3:::{bucket}/{key}"


def _keys(call: ApiCall) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {"s3:resourceaccount": call.account}
    for parameter, key in PARAMETER_KEYS.items():
        value = call.param(parameter)
        if value is not None:
            keys[key] = str(value)
    return keys


def _simple(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    action, kind = ACTIONS[call.operation]
    if call.param("VersionId"):
        action = VERSION_ACTIONS.get(action, action)
    if kind == NO_RESOURCE:
        return [Permission(action, "*")]
    bucket = str(call.param("Bucket"))
    if kind == BUCKET:
        return [Permission(action, bucket_arn(call, bucket), _keys(call))]
    return [Permission(action, object_arn(call, bucket, str(call.param("Key"))), _keys(call))]


def copy_source(value: str) -> tuple[str, str, str | None]:
    """(bucket, key, version) of an x-amz-copy-source value (`bucket/key[?versionId=v]`)."""
    path, _, query = value.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version = query.split("versionId=", 1)[1] if "versionId=" in query else None
    return bucket, key, version


def _copy(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    bucket, key, version = copy_source(str(call.param("CopySource")))
    read = "s3:GetObjectVersion" if version else "s3:GetObject"
    source_keys: dict[str, ContextValue] = {"s3:resourceaccount": call.account}
    if version:
        source_keys["s3:versionid"] = version
    return [
        Permission(read, object_arn(call, bucket, key), source_keys),
        Permission(
            "s3:PutObject",
            object_arn(call, str(call.param("Bucket")), str(call.param("Key"))),
            _keys(call),
        ),
    ]


def _delete_objects(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    bucket = str(call.param("Bucket"))
    objects = (call.param("Delete") or {}).get("Objects") or []
    permissions = []
    for item in objects:
        version = item.get("VersionId")
        action = "s3:DeleteObjectVersion" if version else "s3:DeleteObject"
        keys: dict[str, ContextValue] = {"s3:resourceaccount": call.account}
        if version:
            keys["s3:versionid"] = str(version)
        resource = object_arn(call, bucket, str(item["Key"]))
        permissions.append(Permission(action, resource, keys, per_item=True))
    return permissions


OPERATIONS: dict[str, Mapper] = {
    **{operation: _simple for operation in ACTIONS},
    "CopyObject": _copy,
    "UploadPartCopy": _copy,
    "DeleteObjects": _delete_objects,
}
