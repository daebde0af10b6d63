"""The device API (`/api/v1/...`): one small router per resource."""

from fastapi import APIRouter

from sync_server.api import config, enrol, health, heartbeat, indicators, sync, token

routers: list[APIRouter] = [
    enrol.router,
    sync.router,
    config.router,
    heartbeat.router,
    token.router,
    health.router,
    indicators.router,
]
