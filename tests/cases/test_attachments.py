"""Attachments: streamed to disk, typed from the bytes, size-limited, shown only in full."""

import asyncio

import pytest

from app.audit.models import AuditEntry
from app.cases import attachments
from app.cases.models import Attachment
from app.core.config import get_settings
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.cases.factories import make_attachment
from tests.cases.support import API, EXE, HEIC, JPEG, PDF, PNG, WEBP, count, sha


def files_on_disk() -> list[str]:
    root = attachments.storage_root()
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
async def people(factory):
    org = await factory.make_org()
    other = await factory.make_org()
    return {
        "org": org,
        "clinician": await factory.make_user(Role.clinician, organization_id=org.id),
        "clinician_b": await factory.make_user(Role.clinician, organization_id=other.id),
        "specialist": await factory.make_user(Role.specialist),
        "interpreter": await factory.make_user(Role.interpreter),
    }


async def _upload(
    client, factory, who, case_id, content, name="photo.jpg", ctype="image/jpeg", **extra
):
    return await client.post(
        f"{API}/cases/{case_id}/attachments",
        files={"file": (name, content, ctype)},
        headers=factory.headers(who),
        **extra,
    )


@pytest.mark.parametrize(
    "data,expected",
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (PDF, "application/pdf"),
    ],
)
async def test_upload_list_and_download(client, factory, people, data, expected):
    case = await factory.make_case(people["org"].id)
    # The declared type and the name are ignored: the bytes decide.
    r = await _upload(
        client,
        factory,
        people["clinician"],
        case.id,
        data,
        name="../../etc/scan.bin",
        ctype="application/octet-stream",
        data={"description": "Left forearm, day 21"},
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["content_type"] == expected
    assert att["size_bytes"] == len(data)
    assert att["sha256"] == sha(data)
    assert att["filename"] == "scan.bin"
    assert att["description"] == "Left forearm, day 21"
    assert att["uploaded_by_id"] == people["clinician"].id
    assert r.headers["location"] == att["content_url"] == f"{API}/attachments/{att['id']}/content"
    assert files_on_disk() == [f"{case.id}/{att['id']}"]

    listed = await client.get(
        f"{API}/cases/{case.id}/attachments", headers=factory.headers(people["clinician"])
    )
    assert listed.status_code == 200
    assert listed.json()["items"] == [att]

    got = await client.get(att["content_url"], headers=factory.headers(people["clinician"]))
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"].startswith(expected)
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["etag"] == f'"{sha(data)}"'
    assert await count(OutboxEvent, OutboxEvent.type == "case.attachment_added") == 1
    assert await count(AuditEntry, AuditEntry.action == "attachment.create") == 1
    assert await count(AuditEntry, AuditEntry.action == "attachment.read") == 1


async def test_a_file_that_lies_about_its_type_is_refused(client, factory, people):
    case = await factory.make_case(people["org"].id)
    for data, name, ctype in (
        (EXE, "rash.jpg", "image/jpeg"),
        (b"<html><script>alert(1)</script></html>" * 3, "lab.pdf", "application/pdf"),
        (b"GIF89a" + PNG, "ecg.png", "image/png"),
        (b"%PD", "tiny.pdf", "application/pdf"),
    ):
        r = await _upload(client, factory, people["clinician"], case.id, data, name, ctype)
        assert r.status_code == 415, (name, r.text)
        problem = r.json()
        assert problem["type"].endswith("/attachment-type-not-allowed")
        assert "JPEG" in problem["detail"] and "PDF" in problem["detail"]
    assert files_on_disk() == []
    assert await count(Attachment) == 0
    assert await count(OutboxEvent) == 0


async def test_too_large_is_413_and_leaves_nothing(client, factory, people, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_attachment_bytes", 200_000)
    case = await factory.make_case(people["org"].id)
    exact = PNG + b"\0" * (200_000 - len(PNG))
    ok = await _upload(client, factory, people["clinician"], case.id, exact, "big.png")
    assert ok.status_code == 201, ok.text
    over = exact + b"\0"
    r = await _upload(client, factory, people["clinician"], case.id, over, "bigger.png")
    assert r.status_code == 413
    assert r.json()["type"].endswith("/attachment-too-large")
    # Far over: refused on Content-Length by the body-limit middleware before any byte is read.
    far = await _upload(client, factory, people["clinician"], case.id, over * 2, "huge.png")
    assert far.status_code == 413
    # One number, the one she can act on: the file's limit, in the detail and in max_bytes.
    assert far.json()["max_bytes"] == 200_000 and "200000 bytes" in far.json()["detail"]

    # Streamed without a Content-Length: the limit holds as the bytes arrive.
    boundary = "b0undary"

    async def chunked():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="s.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        yield PNG
        for _ in range(10):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await client.post(
        f"{API}/cases/{case.id}/attachments",
        content=chunked(),
        headers={
            **factory.headers(people["clinician"]),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 413
    assert files_on_disk() == [f"{case.id}/{ok.json()['id']}"]
    assert await count(Attachment) == 1


async def test_malformed_uploads(client, factory, people):
    case = await factory.make_case(people["org"].id)
    h = factory.headers(people["clinician"])
    url = f"{API}/cases/{case.id}/attachments"
    empty = await _upload(client, factory, people["clinician"], case.id, b"", "e.png")
    assert empty.status_code == 422
    no_file = await client.post(
        url, data={"description": "nothing"}, files={"x": ("a", b"")}, headers=h
    )
    assert no_file.status_code == 422
    only_field = await client.post(
        url,
        data={"description": "nothing"},
        files={"file": ("a.png", PNG, "image/png"), "file2": ("b.png", PNG, "image/png")},
        headers=h,
    )
    assert only_field.status_code == 422
    two = await client.post(
        url,
        files=[("file", ("a.png", PNG, "image/png")), ("file", ("b.png", PNG, "image/png"))],
        headers=h,
    )
    assert two.status_code == 422
    json_body = await client.post(url, json={"file": "aGVsbG8="}, headers=h)
    assert json_body.status_code == 415
    truncated = await client.post(
        url,
        content=b"--xx\r\nContent-Disposition: form-data; "
        b'name="file"; filename="a.png"\r\n\r\n' + PNG,
        headers={**h, "content-type": "multipart/form-data; boundary=xx"},
    )
    assert truncated.status_code == 400
    long_desc = await _upload(
        client,
        factory,
        people["clinician"],
        case.id,
        PNG,
        "a.png",
        data={"description": "d" * 2000},
    )
    assert long_desc.status_code == 422
    for r in (empty, no_file, only_field, two, json_body, truncated, long_desc):
        assert r.headers["content-type"].startswith("application/problem+json")
    assert files_on_disk() == []
    assert await count(Attachment) == 0


async def test_a_rolled_back_upload_removes_its_file(client, factory, people, monkeypatch):
    from app.core.errors import Conflict

    case = await factory.make_case(people["org"].id)

    async def failing_audit(*a, **kw):
        raise Conflict("the audit log refused the entry")

    monkeypatch.setattr(attachments.audit, "append", failing_audit)
    r = await _upload(client, factory, people["clinician"], case.id, PNG, "a.png")
    assert r.status_code == 409
    assert files_on_disk() == []
    assert await count(Attachment) == 0
    assert await count(OutboxEvent) == 0


async def test_a_rollback_after_the_row_was_flushed_removes_the_file(factory, people):
    """The row and the file stand or fall together, even when the very last step (the
    commit) fails: the request's session then rolls back, and the file goes with it."""
    from app.cases.models import Case
    from app.core.db import sessionmaker
    from app.core.principal import Principal

    case = await factory.make_case(people["org"].id)
    clinician = people["clinician"]
    actor = Principal(
        id=clinician.id, kind="user", role=Role.clinician, organization_id=clinician.organization_id
    )

    async def body():
        yield (
            b'--q\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            b"\r\n" + PNG + b"\r\n--q--\r\n"
        )

    async with sessionmaker()() as s:
        loaded = await s.get(Case, case.id)
        att = await attachments.store(s, actor, loaded, body(), "multipart/form-data; boundary=q")
        assert files_on_disk() == [f"{case.id}/{att.id}"]
        await s.rollback()
    assert files_on_disk() == []
    assert await count(Attachment) == 0


@pytest.mark.parametrize("status", ["closed", "cancelled"])
async def test_no_uploads_to_a_finished_case(client, factory, people, status):
    case = await factory.make_case(people["org"].id, status=status)
    r = await _upload(client, factory, people["clinician"], case.id, PNG, "a.png")
    assert r.status_code == 409
    assert files_on_disk() == []


async def test_only_full_viewers_see_attachments(client, factory, people):
    case = await factory.make_case(people["org"].id, status="offered")
    await factory.make_offer(case.id, people["specialist"].id)
    att = await make_attachment(case.id)
    url = f"{API}/attachments/{att.id}/content"
    for who in ("specialist", "clinician_b", "interpreter"):
        h = factory.headers(people[who])
        assert (await client.get(url, headers=h)).status_code == 404, who
        assert (
            await client.get(f"{API}/cases/{case.id}/attachments", headers=h)
        ).status_code == 404, who
        assert (await _upload(client, factory, people[who], case.id, PNG)).status_code == 404
    missing = await client.get(
        f"{API}/attachments/att_nothere/content", headers=factory.headers(people["clinician"])
    )
    assert missing.status_code == 404
    # Once assigned, the specialist sees them.
    from app.cases.models import Case
    from app.core.db import sessionmaker

    async with sessionmaker()() as s:
        c = await s.get(Case, case.id)
        c.status, c.assigned_specialist_id = "assigned", people["specialist"].id
        await s.commit()
    got = await client.get(url, headers=factory.headers(people["specialist"]))
    assert got.status_code == 200 and got.content == PNG


async def test_large_upload_is_streamed_in_chunks(client, factory, people):
    case = await factory.make_case(people["org"].id)
    data = PDF + bytes(range(256)) * 12_000  # about 3 MB
    r = await _upload(
        client, factory, people["clinician"], case.id, data, "labs.pdf", "application/pdf"
    )
    assert r.status_code == 201
    assert r.json()["sha256"] == sha(data)
    got = await client.get(r.json()["content_url"], headers=factory.headers(people["clinician"]))
    assert got.content == data


async def test_receive_upload_writes_to_disk_while_the_body_arrives():
    """Bytes reach the temporary file before the request body has ended."""
    boundary = b"zz"
    seen_on_disk: list[int] = []

    async def body():
        yield (
            b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + PDF
        )
        for _ in range(8):
            yield b"\1" * 131072
            await asyncio.sleep(0)
            incoming = attachments.storage_root() / ".incoming"
            seen_on_disk.append(sum(p.stat().st_size for p in incoming.glob("*.part")))
        yield b"\r\n--zz--\r\n"

    up = await attachments.receive_upload(
        body(), "multipart/form-data; boundary=" + boundary.decode()
    )
    try:
        assert up.size == len(PDF) + 8 * 131072
        assert up.content_type == "application/pdf"
        # Written in batches as the body arrives, long before it ended.
        assert 0 < seen_on_disk[1] < up.size // 2, seen_on_disk
        assert seen_on_disk == sorted(seen_on_disk)
        assert seen_on_disk[-1] == up.size
    finally:
        up.tmp_path.unlink()


def test_detect_type():
    assert attachments.detect_type(JPEG[:32]) == "image/jpeg"
    assert attachments.detect_type(PNG[:32]) == "image/png"
    assert attachments.detect_type(WEBP[:32]) == "image/webp"
    assert attachments.detect_type(HEIC[:32]) == "image/heic"
    assert attachments.detect_type(b"\0\0\0\x1cftypmif1" + b"\0" * 16) == "image/heif"
    assert attachments.detect_type(b"\0\0\0\x1cftypisom" + b"\0" * 16) is None  # MP4 video
    assert attachments.detect_type(b"RIFF\0\0\0\0WAVEfmt ") is None
    assert attachments.detect_type(PDF[:32]) == "application/pdf"
    assert attachments.detect_type(EXE[:32]) is None
    assert attachments.detect_type(b"") is None


def test_safe_filename():
    assert attachments.safe_filename("../../etc/passwd") == "passwd"
    assert attachments.safe_filename("C:\\Users\\x\\rash.jpg") == "rash.jpg"
    assert attachments.safe_filename('a"b\r\n.png') == "ab.png"
    assert attachments.safe_filename("") == "attachment"
    assert attachments.safe_filename("..") == "attachment"
    assert len(attachments.safe_filename("x" * 1000)) == 255


async def test_an_idempotent_upload_retry_stores_one_file(client, factory, people):
    case = await factory.make_case(people["org"].id)
    h = {**factory.headers(people["clinician"]), "Idempotency-Key": "upload-1"}
    files = {"file": ("ecg.pdf", PDF, "application/pdf")}
    first = await client.post(f"{API}/cases/{case.id}/attachments", files=files, headers=h)
    again = await client.post(f"{API}/cases/{case.id}/attachments", files=files, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await count(Attachment) == 1
    assert files_on_disk() == [f"{case.id}/{first.json()['id']}"]


async def test_api_client_needs_write_scope_to_upload(client, factory, people):
    case = await factory.make_case(people["org"].id)
    reader = await factory.make_client(people["org"].id, ["cases:read"])
    writer = await factory.make_client(people["org"].id, ["cases:read", "cases:write"])
    assert (await _upload(client, factory, reader, case.id, PNG)).status_code == 403
    ok = await _upload(client, factory, writer, case.id, PNG)
    assert ok.status_code == 201
    assert ok.json()["uploaded_by_id"] == writer.id
    listed = await client.get(f"{API}/cases/{case.id}/attachments", headers=factory.headers(reader))
    assert [a["id"] for a in listed.json()["items"]] == [ok.json()["id"]]
    assert files_on_disk() == [f"{case.id}/{ok.json()['id']}"]


def _multipart(boundary: str, content: bytes) -> list[bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    whole = head + content + f"\r\n--{boundary}--\r\n".encode()
    return [whole[i : i + 64 * 1024] for i in range(0, len(whole), 64 * 1024)]


async def test_an_idempotent_upload_is_hashed_on_its_way_not_read_whole(client, factory, people):
    """Issue 16: with an Idempotency-Key the guard read the whole upload into memory before
    the work. It is streamed now, and its fingerprint made on the way."""
    import tracemalloc

    case = await factory.make_case(people["org"].id)
    h = {**factory.headers(people["clinician"]), "Idempotency-Key": "big-upload"}
    content = PDF + bytes(12 * 1024 * 1024)
    url = f"{API}/cases/{case.id}/attachments"

    async def send(boundary: str, data: bytes, chunks: list[bytes] | None = None):
        chunks = chunks or _multipart(boundary, data)

        async def body():
            for c in chunks:
                yield c

        ctype = f"multipart/form-data; boundary={boundary}"
        return await client.post(url, content=body(), headers={**h, "Content-Type": ctype})

    prepared = _multipart("b0undary-first-try", content)  # the client's bytes, made before
    tracemalloc.start()
    try:
        first = await send("b0undary-first-try", content, prepared)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.status_code == 201, first.text
    assert first.json()["size_bytes"] == len(content)
    assert peak < 6 * 1024 * 1024, f"peak {peak} bytes for a {len(content)}-byte upload"

    # The same file again, under another boundary (as clients pick): the first answer.
    again = await send("another-boundary-42", content)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    # Another file under the same key: refused, nothing stored.
    other = await send("b0undary-first-try", PDF + bytes(1024))
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    assert await count(Attachment) == 1
