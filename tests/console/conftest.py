from collections.abc import AsyncIterator

import pytest

from tests.console.support import close_browser


@pytest.fixture(scope="session", autouse=True)
async def _browser_closed_at_the_end() -> AsyncIterator[None]:
    yield
    await close_browser()
