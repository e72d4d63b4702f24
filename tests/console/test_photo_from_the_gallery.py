"""A photo or a PDF for a case can come from the phone's gallery or files, not only from
its camera: `capture` made many phones open the camera alone, so a photo taken earlier (or
sent by a colleague) and a PDF lab report could not be attached."""

import re


async def test_the_file_inputs_do_not_force_the_camera(client):
    for path in ("/cases/new", "/cases/case_any"):
        r = await client.get(path)
        assert r.status_code == 200, r.text
        inputs = re.findall(r"<input[^>]*type=\"file\"[^>]*>", r.text)
        assert inputs, path
        for tag in inputs:
            assert "capture" not in tag, tag
