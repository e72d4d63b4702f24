import shutil

import pytest


@pytest.fixture(autouse=True)
def _empty_attachment_store():
    """Each test starts with no attachment files, as the tables start empty."""
    from app.cases.attachments import storage_root

    shutil.rmtree(storage_root(), ignore_errors=True)
    yield
