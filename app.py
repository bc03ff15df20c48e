#!/usr/bin/env python3
"""CDK app: registration attachment monitor stack(s), configured from context.

Every setting has a default (see stacks/settings.py and the README's Deploy section), so
`cdk synth` needs no context. Without `environments` there is one environment-agnostic
stack (synth looks nothing up and needs no credentials); with `environments`, one stack
per account/region, named `<stackName>-<region>`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from stacks.monitor_stack import RegistrationAttachmentMonitorStack
from stacks.settings import ContextError, all_settings_from_context

DESCRIPTION = "Registration attachment monitor for AWS End User Messaging SMS"


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app with its stack(s); `context` adds to what the CLI passes (tests use it)."""
    app = cdk.App(context=dict(context) if context is not None else None)
    for settings in all_settings_from_context(app.node):
        environment = (
            cdk.Environment(account=settings.account, region=settings.region)
            if settings.region is not None
            else None
        )
        RegistrationAttachmentMonitorStack(
            app,
            settings.stack_name,
            stack_name=settings.stack_name,
            env=environment,
            description=DESCRIPTION,
            settings=settings,
        )
    return app


def main() -> None:
    try:
        app = build_app()
    except ContextError as error:  # a bad cdk.json / -c value: say which, without a traceback
        sys.exit(f"app.py: {error}")
    app.synth()


if __name__ == "__main__":
    main()
