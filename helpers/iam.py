"""The kit's IAM policy documents (``templates/iam/``) and what each API call needs.

:func:`render` fills a policy's placeholders for an account; :data:`ACTIONS` maps every API
operation the kit calls to the IAM action that authorises it, so a test can check that the
notebook role's policy covers exactly the calls the kit makes.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from string import Template
from typing import Any

IAM_DIR = Path(__file__).resolve().parent.parent / "templates" / "iam"

#: (botocore service name, operation) → IAM action, where the two differ or need saying.
#: Operations not listed authorise as ``<signing prefix>:<Operation>``.
ACTIONS: dict[tuple[str, str], str | None] = {
    ("sts", "GetCallerIdentity"): None,  # needs no permission
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "GetBucketCors"): "s3:GetBucketCORS",
    ("s3", "PutBucketCors"): "s3:PutBucketCORS",
    ("s3", "DeleteBucketCors"): "s3:PutBucketCORS",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}
#: IAM prefixes of services whose API name differs from the action prefix.
PREFIX = {"sagemaker-a2i-runtime": "sagemaker"}
#: Calls made by something else on the kit's behalf: granted without the kit calling them.
IMPLIED = {
    "sagemaker:AddTags": "tags given to CreateHumanTaskUi / CreateFlowDefinition",
    "sns:TagResource": "tags given to CreateTopic",
    "sqs:TagQueue": "tags given to CreateQueue",
    "iam:PassRole": "the role passed to CreateFlowDefinition and in a NotificationChannel",
    "s3:AbortMultipartUpload": "boto3's transfer manager, when a large upload fails",
}


def action_for(service: str, operation: str) -> str | None:
    """The IAM action that authorises ``operation`` of ``service`` (None: no permission)."""
    if (service, operation) in ACTIONS:
        return ACTIONS[(service, operation)]
    return f"{PREFIX.get(service, service)}:{operation}"


def load(name: str) -> dict[str, Any]:
    """A policy document from ``templates/iam/`` (placeholders unfilled)."""
    return json.loads((IAM_DIR / name).read_text())


def render(name: str, **values: str) -> dict[str, Any]:
    """A policy with ``${Partition}``, ``${Region}``, ``${Account}``, ``${Bucket}``,
    ``${RoleArn}`` filled in. Raises KeyError naming a placeholder left without a value.

    ``${FlowDefinitionRoleArn}`` (the role A2I's flow definition runs as) and
    ``${NoticeRoleArn}`` (the role Rekognition assumes to publish job notices) default to
    ``RoleArn``: give them when you use the separate roles ``templates/iam/README.md``
    recommends, so the notebook role may pass exactly those.
    """
    text = (IAM_DIR / name).read_text()
    if "RoleArn" in values:
        values = {
            "FlowDefinitionRoleArn": values["RoleArn"],
            "NoticeRoleArn": values["RoleArn"],
            **values,
        }
    policy = json.loads(Template(text).substitute({"Partition": "aws", **values}))
    for statement in policy["Statement"]:
        if isinstance(statement.get("Resource"), list):
            statement["Resource"] = list(dict.fromkeys(statement["Resource"]))
    return policy


def actions(policy: dict[str, Any]) -> set[str]:
    """Every action an Allow statement of ``policy`` grants."""
    out: set[str] = set()
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        granted = statement["Action"]
        out.update([granted] if isinstance(granted, str) else granted)
    return out


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM's StringEquals / StringLike (and their ``IfExists`` forms) over ``context``."""
    for operator, tests in conditions.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        if base not in ("StringEquals", "StringLike"):
            raise ValueError(f"condition operator {operator} is not evaluated here")
        for key, wanted in tests.items():
            if key not in context:
                if if_exists:
                    continue
                return False
            value = context[key]
            if base == "StringEquals" and value not in _listed(wanted):
                return False
            if base == "StringLike" and not any(fnmatchcase(value, w) for w in _listed(wanted)):
                return False
    return True


def allows(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether an Allow statement of ``policy`` grants ``action`` on ``resource``.

    A small evaluator for the kit's own policies (and their tests): ``*`` and ``?`` wildcards
    in actions and resources, StringEquals/StringLike conditions on ``context`` keys such as
    ``s3:prefix`` or ``iam:PassedToService``. It has no Deny, NotAction or NotResource (the
    kit's policies use none).
    """
    context = context or {}
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatchcase(action, a) for a in _listed(statement["Action"])):
            continue
        if not any(fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
            continue
        if _conditions_hold(statement.get("Condition", {}), context):
            return True
    return False
