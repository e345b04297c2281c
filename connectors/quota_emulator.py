"""A local server for the quota API contract, serving $SOURCES_DIR/quota/*.jsonl."""

import bisect
import json
import logging
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)
DEFAULT_TOKEN = "quotalink-local"
STREAMS = {
    "/api/v1/declarations": ("declarations.jsonl", "declaration_id"),
    "/api/v1/declared-employees": ("declared-employees.jsonl", "employee_record_id"),
}


class QuotaEmulator:
    """Serves the contract's two endpoints over real HTTP on 127.0.0.1 (a free port)."""

    def __init__(self, quota_dir: Path, token: str = DEFAULT_TOKEN, port: int = 0):
        self.quota_dir, self.token = Path(quota_dir), token
        # Injected responses, FIFO; status 0 is a hang: the answer comes after headers["sleep"] s.
        self.faults: deque[tuple[int, dict[str, str]]] = deque()
        self.outage_from: int | None = None  # from this request number on, every answer is 503
        self.requests: list[str] = []
        self._items: dict[str, list[dict]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL (scheme://host:port)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "QuotaEmulator":
        """Serve in a background thread."""
        self.reload()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "QuotaEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reload(self) -> None:
        """Re-read the JSON Lines files (a new delivery may have been dropped)."""
        decl_year: dict[str, int] = {}
        for path, (name, _key) in STREAMS.items():
            items = []
            file = self.quota_dir / name
            if file.exists():
                with file.open(encoding="utf-8") as fh:
                    for line in fh:
                        if line.strip():
                            try:
                                items.append(json.loads(line))
                            except json.JSONDecodeError:
                                log.warning("emulator: unreadable line in %s skipped", name)
            self._items[path] = items
        for item in self._items["/api/v1/declarations"]:
            if isinstance(item, dict) and item.get("declaration_id"):
                decl_year[item["declaration_id"]] = item.get("declaration_year")
        self._decl_year = decl_year
        self._sorted: dict[tuple[str, str], tuple[list[str], list[dict]]] = {}

    def _by_year(self, path: str, year: str) -> tuple[list[str], list[dict]]:
        """Items of one stream and year in (updated_at, id) order, with their updated_at keys."""
        cached = self._sorted.get((path, year))
        if cached is None:
            _, key = STREAMS[path]
            items = []
            for item in self._items[path]:
                if not isinstance(item, dict):
                    continue
                y = item.get("declaration_year")
                if y is None and not path.endswith("declarations"):
                    y = self._decl_year.get(item.get("declaration_id"))
                if str(y) == year:
                    items.append(item)
            items.sort(key=lambda i: (str(i.get("updated_at") or ""), str(i.get(key) or "")))
            cached = self._sorted[(path, year)] = ([str(i.get("updated_at") or "") for i in items], items)
        return cached

    def _select(self, path: str, query: dict[str, str]) -> tuple[int, dict]:
        year = query.get("declaration_year")
        if not year or not year.isdigit():
            return 400, {"error": "bad_request", "message": "declaration_year is required"}
        try:
            page = int(query.get("page", "1"))
            size = int(query.get("page_size", "100"))
        except ValueError:
            return 400, {"error": "bad_request", "message": "page and page_size are integers"}
        if page < 1 or not 1 <= size <= 1000:
            return 400, {"error": "bad_request", "message": "page >= 1, 1 <= page_size <= 1000"}
        since = query.get("updated_since") or ""
        order, items = self._by_year(path, year)
        items = items[bisect.bisect_left(order, since):] if since else items
        chunk = items[(page - 1) * size : page * size]
        return 200, {"page": page, "page_size": size, "total": len(items), "items": chunk}

    def _handler(self):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the terminal quiet
                return

            def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a hang it timed out on)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                emulator.requests.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {emulator.token}":
                    self._send(401, {"error": "unauthorized", "message": "missing or wrong token"})
                    return
                if emulator.outage_from is not None and len(emulator.requests) >= emulator.outage_from:
                    self._send(503, {"error": "unavailable", "message": "outage"})
                    return
                if emulator.faults:
                    status, headers = emulator.faults.popleft()
                    if status == 0:
                        time.sleep(float(headers.get("sleep", "5")))
                    else:
                        self._send(status, {"error": str(status), "message": "injected"}, headers)
                        return
                path = parts.path.rstrip("/")
                matched = next((p for p in STREAMS if path.endswith(p)), None)
                if matched is None:
                    self._send(404, {"error": "not_found", "message": path})
                    return
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, body = emulator._select(matched, query)
                self._send(status, body)

        return Handler
