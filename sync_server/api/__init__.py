"""The device API (`/api/v1/...`): one small router per resource."""

from fastapi import APIRouter

from sync_server.api import config, enrol, indicators, sync

routers: list[APIRouter] = [enrol.router, sync.router, config.router, indicators.router]
