"""Lambda settings shared by every function of the monitor, in one place.

Change the runtime, architecture or Powertools pin here and nowhere else: the layer
name is derived from the runtime and architecture below.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

# The latest Python runtime of this aws-cdk-lib (cdk-nag AwsSolutions-L1 compares against
# `Runtime.ALL`); the Powertools layer is published for it (python314).
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
MEMORY_SIZE_MB: Final = 256
TIMEOUT: Final = Duration.minutes(2)
LOG_RETENTION: Final = logs.RetentionDays.THREE_MONTHS
LOGGING_FORMAT: Final = lambda_.LoggingFormat.JSON
TRACING: Final = lambda_.Tracing.ACTIVE

# Powertools for AWS Lambda (Python), official public layer (no Docker, nothing to build).
# The layer version number is NOT the package version. Mapping used here:
#   layer 40 = aws-lambda-powertools 3.37.0 (the version requirements.txt pins and the
#   tests run against).
# Source: the layer numbers are sequential, one per PyPI release, for every runtime
# (docs/getting-started/install.md and the "docs(layer): update layer version number"
# PRs of aws-powertools/powertools-lambda-python): 3.4.1 = 6 ... 3.23.0 = 27 (the last
# Python 3.9 layer, issue #8434; layer 27 confirmed for 3.23.0 in issue #7689), then
# 3.24.0 = 28 ... 3.31.1 = 36, and PyPI has no 3.32/3.33, so 3.34.0 = 37, 3.35.0 = 38,
# 3.36.0 = 39, 3.37.0 = 40. Layer 40 itself was inferred, not read off a published table:
# confirm with
#   aws ssm get-parameter --name /aws/service/powertools/python/arm64/python3.14/3.37.0
# or `aws lambda get-layer-version-by-arn` (the Description ends with the package version)
# before relying on it, and bump both pins together.
POWERTOOLS_PACKAGE_VERSION: Final = "3.37.0"
POWERTOOLS_LAYER_VERSION: Final = 40
POWERTOOLS_LAYER_ACCOUNT: Final = "017000801446"  # the aws partition's publisher account

POWERTOOLS_SERVICE_NAME: Final = "registration-attachment-monitor"
POWERTOOLS_METRICS_NAMESPACE: Final = "RegistrationAttachmentMonitor"
POWERTOOLS_LOG_LEVEL: Final = "INFO"


def powertools_layer_name() -> str:
    """`AWSLambdaPowertoolsPythonV3-python314-arm64`, derived from RUNTIME and ARCHITECTURE."""
    python = RUNTIME.name.replace(".", "")  # "python3.14" -> "python314"
    return f"AWSLambdaPowertoolsPythonV3-{python}-{ARCHITECTURE.name}"


def powertools_layer_arn(scope: Construct) -> str:
    """The pinned layer version ARN in the stack's region (a token: env-agnostic stacks work)."""
    region = Stack.of(scope).region
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{powertools_layer_name()}:{POWERTOOLS_LAYER_VERSION}"
    )


def powertools_environment() -> dict[str, str]:
    """Environment variables Powertools reads (service name, metrics namespace, log level)."""
    return {
        "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVEL,
    }
