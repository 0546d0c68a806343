"""FastAPI helpers: one shared ``Client`` per app, a dependency, and SDK errors as HTTP errors.

Install with ``pip install 'thoughtcredits[fastapi]'``::

    from fastapi import FastAPI
    from thoughtcredits.fastapi import ThoughtCreditsClient, install_error_handlers, lifespan

    app = FastAPI(lifespan=lifespan())
    install_error_handlers(app)

    @app.get("/accounts/{account_id}/batches")
    async def batches(client_id: str, account_id: str, client: ThoughtCreditsClient) -> list[str]:
        listing = client.credit_batches.list(client_id, credit_account_id=account_id)
        return [batch.name or "" async for batch in listing]
"""

from __future__ import annotations

from ._errors import error_response, install_error_handlers
from ._integration import ThoughtCreditsClient, get_client, lifespan

__all__ = [
    "ThoughtCreditsClient",
    "error_response",
    "get_client",
    "install_error_handlers",
    "lifespan",
]
