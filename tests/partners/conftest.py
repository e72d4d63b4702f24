from collections.abc import AsyncIterator

import httpx
import pytest

from tests.partners.support import Receiver, Served


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Served(Receiver()) as r:
        yield r


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as c:
        yield c
