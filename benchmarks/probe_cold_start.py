"""Cold start in a fresh process: ``python -m benchmarks.probe_cold_start handler|bare``.

Started by the benchmarks, not by hand. Prints the seconds from before the first import
until three clients are ready:

* ``handler``: import ``lambda_src.handler``, ``runtime()``, then ``.client`` of its api,
  publisher and state adapters;
* ``bare``: a handler without this project's code: import boto3 and create the same three
  clients (same services, region and botocore settings).
"""

import os
import sys
import time
from typing import Any


def handler() -> list[Any]:
    from lambda_src import handler as module

    current = module.runtime()
    return [adapter.client for adapter in (current.api, current.publisher, current.state)]


def bare() -> list[Any]:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        tcp_keepalive=True,
    )
    region = os.environ["AWS_REGION"]
    return [
        boto3.client("pinpoint-sms-voice-v2", region_name=region, config=config),
        boto3.client("sns", region_name=region, config=config),
        boto3.client("dynamodb", region_name=region, config=config),
    ]


if __name__ == "__main__":
    variant = {"handler": handler, "bare": bare}[sys.argv[1]]
    started = time.perf_counter()
    variant()
    print(f"{time.perf_counter() - started:.6f}")
