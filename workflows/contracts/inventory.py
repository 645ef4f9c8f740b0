"""CpanelInventorySyncWorkflow's payloads."""

from dataclasses import dataclass


@dataclass
class InventorySyncInput:
    chunk_size: int = 50


@dataclass
class InventoryChunk:
    domains: list[str]


@dataclass
class InventorySyncResult:
    domains: int = 0
    forwarders: int = 0
    mailboxes: int = 0
