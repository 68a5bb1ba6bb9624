"""Serving the console with uvicorn (the only module that imports it)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


def serve(app: FastAPI, host: str, port: int, *, proxy: bool = False) -> None:
    """Run until interrupted. ``proxy``: trust X-Forwarded-* from 127.0.0.1 (a TLS proxy)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=proxy,
        forwarded_allow_ips="127.0.0.1" if proxy else None,
        server_header=False,
        log_level="warning",
    )
