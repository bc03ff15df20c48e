"""The one Tracer of the package (Logger and Metrics are created in the handler).

Every module uses this instance: a second ``Tracer()`` without ``patch_modules`` would
patch every supported library, ``http.client`` included, and record the signed
CloudFormation ResponseURL in traces. Only botocore is patched.
"""

from aws_lambda_powertools import Tracer

tracer = Tracer(patch_modules=("botocore",))
