"""AWS errors the stand-in answers with.

Every error is a moto ``ServiceException`` carrying an error code that botocore's model of the
service knows (or one of the common codes such as ``ValidationException``). moto serialises it
through the model's error shape, so the client sees the real HTTP status and botocore raises the
real modelled exception class (``client.exceptions.ConflictException`` and so on).
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException

# Rekognition
INVALID_PARAMETER = "InvalidParameterException"
INVALID_S3_OBJECT = "InvalidS3ObjectException"
INVALID_PAGINATION_TOKEN = "InvalidPaginationTokenException"
IDEMPOTENT_MISMATCH = "IdempotentParameterMismatchException"
LIMIT_EXCEEDED = "LimitExceededException"
VIDEO_TOO_LARGE = "VideoTooLargeException"
# Rekognition and the A2I runtime
RESOURCE_NOT_FOUND_EXCEPTION = "ResourceNotFoundException"
# SageMaker and the A2I runtime
VALIDATION = "ValidationException"
# SageMaker
RESOURCE_NOT_FOUND = "ResourceNotFound"
RESOURCE_IN_USE = "ResourceInUse"
RESOURCE_LIMIT_EXCEEDED = "ResourceLimitExceeded"
# A2I runtime
CONFLICT = "ConflictException"
SERVICE_QUOTA_EXCEEDED = "ServiceQuotaExceededException"


class OfflineServiceError(ServiceException):
    """A shaped AWS error: ``code`` is the error code, ``message`` the text AWS would send."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def service_error(code: str, message: str) -> OfflineServiceError:
    """Build (not raise) the error ``code`` with ``message``."""
    return OfflineServiceError(code, message)
