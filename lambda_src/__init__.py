"""Registration attachment monitor: the Lambda package (handler in ``handler.py``)."""
