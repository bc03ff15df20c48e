"""The monitor's deployment package: the `lambda_src` package's `.py` files, nothing else.

Lambda imports the handler as `lambda_src.handler` (the package uses relative imports), so
the asset keeps the package folder at its root. The asset is the repository root filtered
by glob exclusions (no bundling, no Docker): everything is excluded, then the package's
modules are let back in. CDK's glob strategy applies the patterns in order (the last match
wins), matches patterns without a slash against the basename, never descends into an
excluded directory, and does not let `*`/`**` match names starting with a dot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import IgnoreMode
from aws_cdk import aws_lambda as lambda_

REPOSITORY_ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGE: Final = "lambda_src"
HANDLER: Final = f"{PACKAGE}.handler.lambda_handler"

ASSET_EXCLUDE: Final[tuple[str, ...]] = (
    "*",  # every entry of the repository root (and, below, of the package)...
    ".*",  # ...including dot entries, which `*` does not match
    f"!{PACKAGE}",  # the package folder itself
    f"!{PACKAGE}/**",  # its subpackages (and, for now, every file in them)
    f"{PACKAGE}/**/*.*",  # drop every file with an extension...
    f"!{PACKAGE}/**/*.py",  # ...except the modules
    "__pycache__",  # caches and hidden entries inside the package
    ".*",
)


def lambda_code() -> lambda_.Code:
    """A zip asset with `lambda_src/**/*.py` at its root (tests check the staged folder)."""
    return lambda_.Code.from_asset(
        str(REPOSITORY_ROOT),
        exclude=list(ASSET_EXCLUDE),
        ignore_mode=IgnoreMode.GLOB,
    )
