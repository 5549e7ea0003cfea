"""The lab's AWS session: region, bucket, execution role and configured clients.

On AWS (SageMaker Studio) everything is found from the environment: the region of the Studio
domain, the execution role the notebook runs as, and SageMaker's default bucket
``sagemaker-<region>-<account>``. Offline, the same code runs against the kit's stand-in because
boto3 honours ``AWS_ENDPOINT_URL``; nothing here knows which world it is in.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from helpers import botocore_cache
from helpers.errors import ConfigurationError, InputError, unreachable
from helpers.names import check_bucket_name, check_region, check_run_id, new_run_id

log = logging.getLogger(__name__)

USER_AGENT = "video-moderation-kit/0.1"
#: Retries for throttling and transient errors: botocore's standard mode, 8 attempts.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    user_agent_extra=USER_AGENT,
)

_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<name>[\w+=,.@-]+)/"
)
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]+$")


_loader: botocore.loaders.Loader | None = None
_loader_lock = threading.Lock()


def _shared_loader(core: botocore.session.Session) -> botocore.loaders.Loader:
    """One botocore data loader for the whole process, made as botocore makes its own (it
    honours ``AWS_DATA_PATH`` as ``core`` saw it when first asked for), whose parsed models are
    also kept between processes (:mod:`helpers.botocore_cache`)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore_cache.loader(core.get_config_variable("data_path"))
        return _loader


def new_boto_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` whose clients read botocore's service models (JSON files of
    up to a few MB: sagemaker's takes 0.05–0.1 s to parse) once per process, not once per
    session, and from a parsed copy kept between processes.

    botocore supports sharing its ``data_loader`` between sessions; boto3 adds its own data
    folder to the loader's search path with each session, so it is added once here.
    """
    core = botocore.session.get_session()
    loader = _shared_loader(core)
    core.register_component("data_loader", loader)
    session = boto3.Session(botocore_session=core, **kwargs)
    with _loader_lock:
        paths = loader.search_paths
        while len(paths) > len(set(paths)):
            paths.pop()  # boto3's folder, appended again
    return session


@dataclass
class KitSession:
    """Everything the helpers need to talk to AWS for one run of the lab."""

    region: str
    account_id: str
    bucket: str
    role_arn: str
    run_id: str
    boto_session: boto3.Session = field(repr=False)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in the session's region, with the kit's retries."""
        return self.boto_session.client(service, region_name=self.region, config=RETRY_CONFIG)

    @cached_property
    def s3(self) -> Any:
        return self.client("s3")

    @cached_property
    def rekognition(self) -> Any:
        return self.client("rekognition")

    @cached_property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")

    @cached_property
    def a2i(self) -> Any:
        return self.client("sagemaker-a2i-runtime")

    @property
    def prefix(self) -> str:
        """The S3 key prefix under which this run keeps its objects."""
        return f"video-moderation-kit/{self.run_id}"

    def summary(self) -> dict[str, str]:
        """A small table of the session's settings, for display."""
        return {
            "region": self.region,
            "bucket": self.bucket,
            "execution role": self.role_arn.rsplit("/", 1)[-1],
            "run id": self.run_id,
            "S3 prefix": f"s3://{self.bucket}/{self.prefix}/",
        }


def connect(
    region: str | None = None,
    bucket: str | None = None,
    role_arn: str | None = None,
    run_id: str | None = None,
    *,
    create_bucket: bool = True,
    boto_session: boto3.Session | None = None,
) -> KitSession:
    """Find region, account, execution role and bucket, and return a :class:`KitSession`.

    Every argument left ``None`` is discovered: the region from the boto3 configuration, the
    role from the caller's identity (in Studio, the execution role), the bucket as SageMaker's
    default ``sagemaker-<region>-<account>``, created when missing. The bucket must be in
    ``region`` (Rekognition cannot read a bucket of another region).
    """
    # Checked before any call: a region or bucket name AWS would refuse gives the fix here,
    # not a botocore error (a trailing space in a region is an InvalidRegionError in botocore).
    if region is not None:
        check_region(region)
    if bucket is not None:
        check_bucket_name(bucket)
    if run_id is not None:
        check_run_id(run_id)
    try:
        bs = boto_session or new_boto_session(region_name=region)
        region = region or bs.region_name
    except BotoCoreError as err:  # a malformed region in the environment or ~/.aws/config
        raise ConfigurationError(
            f"The AWS configuration cannot be used: {err}",
            "fix AWS_DEFAULT_REGION / AWS_REGION or the profile's region (no spaces, e.g. "
            "us-east-1), or set `region` in the parameters cell",
        ) from None
    if not region:
        raise ConfigurationError(
            "No AWS region is configured",
            "set `region` in the parameters cell, or AWS_DEFAULT_REGION in the environment",
        )
    try:
        check_region(region)
    except InputError as err:
        raise ConfigurationError(
            f"The configured region: {err.what}",
            "fix AWS_DEFAULT_REGION / AWS_REGION or the profile's region, or set `region` in "
            "the parameters cell",
        ) from None
    sts = bs.client("sts", region_name=region, config=RETRY_CONFIG)
    try:
        identity = sts.get_caller_identity()
    except (EndpointConnectionError, BotoConnectionError, HTTPClientError) as err:
        raise unreachable(err, "connecting (sts:GetCallerIdentity)") from None
    except NoCredentialsError:
        raise ConfigurationError(
            "No AWS credentials were found",
            "run in SageMaker Studio, configure credentials (aws configure), or start the "
            "offline stand-in with `make serve` and export the environment it prints",
        ) from None
    account = identity["Account"]
    role = role_arn or resolve_execution_role(bs, identity["Arn"], region)
    if not _ROLE_ARN.match(role):
        raise ConfigurationError(
            f"`{role}` is not an IAM role ARN",
            "give role_arn as arn:aws:iam::<account>:role/<name>",
        )
    session = KitSession(
        region=region,
        account_id=account,
        bucket=bucket or default_bucket_name(region, account),
        role_arn=role,
        run_id=run_id or new_run_id(),
        boto_session=bs,
    )
    ensure_bucket(session.s3, session.bucket, region, create=create_bucket)
    return session


def default_bucket_name(region: str, account_id: str) -> str:
    """SageMaker's default bucket name, as the SageMaker Python SDK makes it."""
    return f"sagemaker-{region}-{account_id}"


def resolve_execution_role(bs: boto3.Session, caller_arn: str, region: str) -> str:
    """The IAM role ARN behind the caller's identity.

    In SageMaker Studio the caller is ``assumed-role/<execution role>/SageMaker``: the role's
    full ARN (with its path) comes from IAM GetRole, or is built from the name when the role may
    not call GetRole. When the caller is not a role, the SageMaker Python SDK is asked, if it
    is importable; otherwise the error says to pass ``role_arn``.
    """
    match = _ASSUMED_ROLE.match(caller_arn)
    if match:
        name = match["name"]
        try:
            iam = bs.client("iam", region_name=region, config=RETRY_CONFIG)
            return iam.get_role(RoleName=name)["Role"]["Arn"]
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code == "NoSuchEntity":
                raise ConfigurationError(
                    f"Role `{name}` of the caller does not exist in IAM", "pass role_arn explicitly"
                ) from None
            log.info("iam:GetRole not allowed (%s); building the role ARN from its name", code)
            return f"arn:{match['partition']}:iam::{match['account']}:role/{name}"
    sdk_role = _sdk_execution_role()
    if sdk_role:
        return sdk_role
    raise ConfigurationError(
        f"The caller `{caller_arn}` is not an assumed role, so the execution role is unknown",
        "set `role_arn` in the parameters cell to a role that trusts sagemaker.amazonaws.com "
        "and may read and write the bucket",
    )


def _sdk_execution_role() -> str | None:
    """The SageMaker Python SDK's execution role (v2 or v3 import path), if it can tell."""
    for module, attr in (
        ("sagemaker", "get_execution_role"),
        ("sagemaker.core.helper.session_helper", "get_execution_role"),
    ):
        try:
            mod = __import__(module, fromlist=[attr])
            return str(getattr(mod, attr)())
        except Exception as err:  # the SDK is optional and raises many kinds of errors
            log.debug("SageMaker SDK route %s.%s unavailable: %s", module, attr, err)
    return None


def ensure_bucket(s3: Any, bucket: str, region: str, *, create: bool = True) -> None:
    """Check that ``bucket`` exists in ``region``; create it there when missing and allowed.

    The name is checked against S3's naming rules first (no call is made for a bad one).
    """
    check_bucket_name(bucket)
    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code not in ("NoSuchBucket", "404") or not create:
            raise ConfigurationError(
                f"Bucket `{bucket}` cannot be used ({code})",
                "check the bucket name and that your role may access it, or leave `bucket` "
                "empty to use SageMaker's default bucket",
            ) from None
        args: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**args)
        log.info("created bucket %s in %s", bucket, region)
        return
    if location == "EU":
        location = "eu-west-1"
    if location != region:
        raise ConfigurationError(
            f"Bucket `{bucket}` is in {location}, not in {region}",
            f"Rekognition reads only buckets of its own region: use a bucket in {region}, "
            f"or set `region` to {location}",
        )
