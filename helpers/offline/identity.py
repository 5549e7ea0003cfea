"""A SageMaker-Studio-like identity for the offline access key.

In Studio, STS GetCallerIdentity answers ``arn:aws:sts::<acct>:assumed-role/<role>/SageMaker``
and the notebook finds its execution role's ARN with IAM GetRole. Offline, the access key
:data:`~helpers.offline.settings.OFFLINE_ACCESS_KEY_ID` gets that answer for role
:data:`~helpers.offline.settings.OFFLINE_ROLE_NAME`, and the role (trusting
``sagemaker.amazonaws.com``, path ``/service-role/``) appears in moto's IAM the first time STS or
IAM is asked about it. Other access keys keep moto's behaviour.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from moto.iam.models import IAMBackend, Role, iam_backends
from moto.sts.models import STSBackend
from moto.utilities.utils import get_partition

from helpers.offline import settings
from helpers.offline.locks import STATE_LOCK

LOG = logging.getLogger("helpers.offline")

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
_LOCK = STATE_LOCK
_MARK = "__vmk_offline__"


def ensure_offline_role(iam: IAMBackend) -> Role:
    """The offline execution role in ``iam``, created when missing."""
    with _LOCK:
        for role in iam.get_roles():
            if role.name == settings.OFFLINE_ROLE_NAME:
                return role
        LOG.info(
            "creating offline execution role %s in account %s",
            settings.OFFLINE_ROLE_NAME,
            iam.account_id,
        )
        return iam.create_role(
            role_name=settings.OFFLINE_ROLE_NAME,
            assume_role_policy_document=json.dumps(TRUST_POLICY),
            path=settings.OFFLINE_ROLE_PATH,
            permissions_boundary=None,
            description="Execution role of the video moderation kit's notebooks (offline stand-in)",
            tags=[],
            max_session_duration="3600",
        )


def _get_caller_identity(
    original: Callable[..., tuple[str, str, str]],
) -> Callable[..., tuple[str, str, str]]:
    @functools.wraps(original)
    def get_caller_identity(
        self: STSBackend, access_key_id: str, region: str
    ) -> tuple[str, str, str]:
        if access_key_id != settings.OFFLINE_ACCESS_KEY_ID:
            return original(self, access_key_id, region)
        partition = get_partition(region)
        role = ensure_offline_role(iam_backends[self.account_id][partition])
        arn = settings.offline_assumed_role_arn(self.account_id, partition)
        return f"{role.id}:{settings.OFFLINE_ROLE_SESSION_NAME}", arn, self.account_id

    setattr(get_caller_identity, _MARK, True)
    return get_caller_identity


def _get_role(original: Callable[..., Role]) -> Callable[..., Role]:
    @functools.wraps(original)
    def get_role(self: IAMBackend, role_name: str) -> Role:
        if role_name == settings.OFFLINE_ROLE_NAME:
            ensure_offline_role(self)
        return original(self, role_name)

    setattr(get_role, _MARK, True)
    return get_role


def _get_role_by_arn(original: Callable[..., Role]) -> Callable[..., Role]:
    @functools.wraps(original)
    def get_role_by_arn(self: IAMBackend, arn: str) -> Role:
        if arn == settings.offline_role_arn(self.account_id, self.partition):
            ensure_offline_role(self)
        return original(self, arn)

    setattr(get_role_by_arn, _MARK, True)
    return get_role_by_arn


def role_problem(account_id: str, region: str, role_arn: str) -> str | None:
    """Why SageMaker could not assume ``role_arn`` (None when it could).

    The role must exist in the account and trust ``sagemaker.amazonaws.com``.
    """
    iam = iam_backends[account_id][get_partition(region)]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:
        return f"Could not assume role {role_arn}: the role does not exist in account {account_id}."
    try:
        document: Any = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        document = {}
    if not _trusts_sagemaker(document):
        return (
            f"Could not assume role {role_arn}. Please ensure that the role exists and allows "
            "principal 'sagemaker.amazonaws.com' to assume the role."
        )
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _trusts_sagemaker(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            return True
        if isinstance(principal, dict):
            services = _as_list(principal.get("Service", []))
            if "sagemaker.amazonaws.com" in services:
                return True
    return False


def register() -> None:
    """Wrap moto's STS and IAM lookups (idempotent)."""
    for cls, name, wrapper in (
        (STSBackend, "get_caller_identity", _get_caller_identity),
        (IAMBackend, "get_role", _get_role),
        (IAMBackend, "get_role_by_arn", _get_role_by_arn),
    ):
        current = getattr(cls, name)
        if not getattr(current, _MARK, False):
            setattr(cls, name, wrapper(current))
