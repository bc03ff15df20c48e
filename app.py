#!/usr/bin/env python3
"""CDK app: one registration attachment monitor stack, configured from context.

Every setting has a default (see stacks/settings.py), so `cdk synth` needs no context.
The stack is environment-agnostic: synth looks nothing up and needs no credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from stacks.monitor_stack import RegistrationAttachmentMonitorStack
from stacks.settings import settings_from_context


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app with its stack; `context` adds to what the CLI passes (tests use it)."""
    app = cdk.App(context=dict(context) if context is not None else None)
    settings = settings_from_context(app.node)
    RegistrationAttachmentMonitorStack(
        app,
        settings.stack_name,
        stack_name=settings.stack_name,
        description="Registration attachment monitor for AWS End User Messaging SMS",
        settings=settings,
    )
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
