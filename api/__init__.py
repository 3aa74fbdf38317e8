"""The HTTP API of the Public Records Registry: a FastAPI app over the service layer.

`create_app()` builds it; `registry serve` runs it under uvicorn with the anchoring worker.
"""

from api.app import create_app

__all__ = ["create_app"]
