"""`make demo` works offline and shows what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_alerts_once_then_answers_cloudformation() -> None:
    # When the demo runs in a fresh process (it starts its own loopback services)
    demo = subprocess.run(
        [sys.executable, "-m", "demo"], cwd=REPO, capture_output=True, text=True, timeout=120
    )

    # Then the first run alerts 12 failed and 5 stuck uploads, the second none
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    alerts = [line for line in lines if line.strip().startswith("alert ")]
    assert sum("ATTACHMENT_UPLOAD_FAILED" in line for line in alerts) == 12
    assert sum("ATTACHMENT_UPLOAD_STUCK" in line for line in alerts) == 5
    assert "  alerts published: 0" in lines
    # And the custom resource's answer is the JSON printed last
    answer = json.loads(demo.stdout[demo.stdout.index("{") :])
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["TotalCount"] == "300"
    assert answer["Data"]["UploadFailedCount"] == "12"
    assert "Content-Type ''" in demo.stdout
    assert demo.stderr == ""
