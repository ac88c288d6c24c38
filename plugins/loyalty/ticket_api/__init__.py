"""A small simulator of the ticketing REST API (SOURCES.md section 3).

``TicketApiServer`` serves the latest version of every ticket in a JSON Lines file
(the generator's ``tickets.jsonl``) over HTTP, with bearer-token auth, opaque cursors
and switchable faults (429, 5xx, expired cursors) so the client's recovery can be tested.
Standard library only.
"""

from __future__ import annotations

from loyalty.ticket_api.server import TicketApiServer

__all__ = ["TicketApiServer"]
