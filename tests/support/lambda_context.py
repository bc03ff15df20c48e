"""A Lambda context object with a real, ticking deadline."""

from __future__ import annotations

import time
import uuid


class FakeLambdaContext:
    function_name = "registration-attachment-monitor"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = (
        "arn:aws:lambda:us-east-1:123456789012:function:registration-attachment-monitor"
    )
    log_group_name = "/aws/lambda/registration-attachment-monitor"
    log_stream_name = "2026/12/04/[$LATEST]0123456789abcdef"

    def __init__(self, seconds: float = 120.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)
