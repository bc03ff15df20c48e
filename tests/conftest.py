"""Process-wide test settings, applied before any test module imports the handler.

In Lambda these variables exist before the module is imported (Powertools reads them at
import), so they are set here at import time, not in a fixture. Fake credentials make
sure nothing can ever authenticate against a real account.
"""

import os

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "registration-attachment-monitor",
    "POWERTOOLS_METRICS_NAMESPACE": "RegistrationAttachmentMonitorTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ[_name] = _value
