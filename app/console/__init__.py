"""The web console: server-rendered pages (Jinja2) for every role, at the root of the site.

The pages are shells: each one's data comes from the public API (/api/v1), fetched by a
small vendored-free ES module with the access token it holds in memory, so the console
sees exactly what the API lets its user see and no visibility rule is written twice.
"""
