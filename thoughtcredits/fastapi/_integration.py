"""One shared ``Client`` per FastAPI app: its lifespan and the dependency that hands it out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from .._client import Client

__all__ = ["ThoughtCreditsClient", "get_client", "lifespan"]

_STATE_KEY = "thoughtcredits_client"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan(
    client_factory: Callable[[], Client] | None = None,
    *,
    then: Lifespan | None = None,
) -> Lifespan:
    """A FastAPI ``lifespan`` that opens one shared ``Client`` and closes it at shutdown.

    Args:
        client_factory: builds the client; by default ``Client()`` configured from
            ``THOUGHTCREDITS_BASE_URL`` and ``THOUGHTCREDITS_API_KEY``.
        then: the app's own lifespan, run inside this one (the client is open during it).

    Example::

        app = FastAPI(lifespan=thoughtcredits.fastapi.lifespan())
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        client = client_factory() if client_factory is not None else Client()
        setattr(app.state, _STATE_KEY, client)
        try:
            async with client:
                if then is None:
                    yield
                else:
                    async with then(app):
                        yield
        finally:
            delattr(app.state, _STATE_KEY)

    return run


def get_client(request: Request) -> Client:
    """The app's shared ``Client``: use as ``Depends(get_client)`` or :data:`ThoughtCreditsClient`.

    Raises:
        RuntimeError: the app was not started with :func:`lifespan`.
    """
    client = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(client, Client):
        raise RuntimeError(
            "no thoughtcredits client: create the app with "
            "FastAPI(lifespan=thoughtcredits.fastapi.lifespan())"
        )
    return client


ThoughtCreditsClient = Annotated[Client, Depends(get_client)]
"""A route parameter annotation that receives the app's shared ``Client``."""
