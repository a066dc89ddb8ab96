"""Where each serving replica reports what it serves, so any process can see every replica.

A replica writes its state (epoch, what each deployment serves, loaded versions, load failures)
after every route-table swap and as a heartbeat every `MODELGATE_REPLICA_REPORT_SECONDS`; never
on the request path. A report lives for `MODELGATE_REPLICA_TTL_SECONDS`: a replica that stops
reporting (killed, scaled down) drops out of every listing by itself.

- With Redis (`REDIS_URL`): one key per replica with a TTL under `MODELGATE_REPLICA_KEY_PREFIX`;
  readers SCAN the prefix.
- Embedded: one JSON file per replica under `MODELGATE_REPLICA_DIR`, written atomically (temp
  file + rename); readers skip and remove reports older than the TTL. Processes on one machine
  share it, which is what the embedded mode runs.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

_replica_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def replica_id() -> str:
    """This process's replica name: host, pid and a random suffix (pids repeat in containers)."""
    return _replica_id


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _prefix() -> str:
    return settings.MODELGATE_REPLICA_KEY_PREFIX


def _directory() -> Path:
    return Path(settings.MODELGATE_REPLICA_DIR)


def replica_report(state: dict) -> None:
    """Publish this replica's state (adds `replica`, `host`, `pid` and `reported_at`)."""
    document = {
        "replica": replica_id(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "reported_at": time.time(),
        **state,
    }
    payload = json.dumps(document, sort_keys=True)
    ttl = settings.MODELGATE_REPLICA_TTL_SECONDS
    client = _redis()
    if client is not None:
        client.set(_prefix() + replica_id(), payload, ex=max(1, round(ttl)))
        return
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{replica_id()}.tmp"
    temporary.write_text(payload)
    temporary.replace(directory / f"{replica_id()}.json")


def replica_withdraw() -> None:
    """Remove this replica's report (graceful shutdown): it serves nothing any more."""
    client = _redis()
    if client is not None:
        client.delete(_prefix() + replica_id())
        return
    (_directory() / f"{replica_id()}.json").unlink(missing_ok=True)


def replicas_live() -> list[dict]:
    """Every replica that reported within the TTL, sorted by name."""
    client = _redis()
    documents = []
    if client is not None:
        keys = sorted(client.scan_iter(match=_prefix() + "*", count=500))
        oldest = time.time() - settings.MODELGATE_REPLICA_TTL_SECONDS  # Redis' TTL, to the second
        for raw in client.mget(keys) if keys else []:
            if raw is not None and (document := json.loads(raw)).get("reported_at", 0) >= oldest:
                documents.append(document)
    else:
        documents = _read_files()
    return sorted(documents, key=lambda d: d["replica"])


def _read_files() -> list[dict]:
    directory = _directory()
    if not directory.is_dir():
        return []
    # The writer's own `reported_at`, not the file's mtime: one clock for writers and readers.
    oldest = time.time() - settings.MODELGATE_REPLICA_TTL_SECONDS
    documents = []
    for path in directory.glob("*.json"):
        try:
            document = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            continue  # removed or replaced while we read: the next listing sees it
        if document.get("reported_at", 0) < oldest:
            path.unlink(missing_ok=True)  # a replica that stopped reporting
            continue
        documents.append(document)
    return documents
