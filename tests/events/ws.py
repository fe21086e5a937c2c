"""A small graphql-transport-ws client for the scenarios (the protocol of
github.com/enisdenjo/graphql-ws, PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class Socket:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str, params: dict[str, Any] | None) -> Socket:
        conn = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        socket = cls(conn)
        await socket.send({"type": "connection_init", "payload": params or {}})
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(message))

    async def receive(self, within: float = 15.0) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(self.conn.recv(), within)
        except ConnectionClosed as err:
            rcvd = err.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        message: dict[str, Any] = json.loads(raw)
        return message

    async def acknowledged(self) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == "connection_ack", message
        return message

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {
                "id": id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next(self, within: float = 15.0) -> dict[str, Any]:
        """The next message that is not a ping."""
        while True:
            message = await self.receive(within)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def closed(self, within: float = 15.0) -> Closed:
        try:
            while True:
                await self.receive(within)
        except Closed as closed:
            return closed

    async def close(self) -> None:
        await self.conn.close()


async def connected(url: str, token: str | None = None, **params: Any) -> Socket:
    if token is not None:
        params["Authorization"] = f"Bearer {token}"
    socket = await Socket.open(url, params)
    await socket.acknowledged()
    return socket
