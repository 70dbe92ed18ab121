"""A real HTTP server on 127.0.0.1 that speaks the parts of the OpenAI API the critic uses.

It answers `/v1/models`, `/v1/chat/completions`, `/v1/files` (upload and list),
`/v1/files/{id}`, `/v1/files/{id}/content`, `/v1/batches` (create and list, newest
first, paged with `after`/`limit`), `/v1/batches/{id}` and
`/v1/batches/{id}/cancel` with the real JSON shapes. Chat answers come from a
script: a queue of `Reply` objects consumed one per request, then a `responder`
callable, then an error. A `Reply` can inject a status (429 with `Retry-After`,
500, ...), a delay longer than the client's timeout, a malformed body or a
truncated completion (`finish_reason: "length"`). Every request is recorded
(thread-safe) with its arrival time, so tests can count calls exactly.
`schema_responder` answers from the request's strict `response_format` alone, as a
server whose constrained decoder honours the schema to the letter and no further.

To stop a client at a known point (a test that kills the worker there), `hold_after(n)`
answers the next n chat requests and holds every later one until `release()`, and
`hold_batch_create` holds the answer to `POST /v1/batches` after the batch exists;
`held()` counts the requests being held.

Run standalone (used by the benchmark, to keep the server off the client's core):
    python -m tests.support.openai_server --latency 0.2 --responder critique
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import json
import random
import re
import threading
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass
class Reply:
    """One scripted answer to a chat completion request."""

    status: int = 200
    content: str | list[str] = ""  # a list gives one choice per element
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (on top of the server latency)
    body: bytes | None = None  # raw body, sent as is (e.g. malformed JSON)
    error_message: str = ""
    usage: tuple[int, int] | None = None  # (prompt_tokens, completion_tokens)

    @classmethod
    def ok(cls, content: str | list[str], **kw: Any) -> Reply:
        return cls(content=content, **kw)

    @classmethod
    def json(cls, payload: Any, **kw: Any) -> Reply:
        return cls(content=json.dumps(payload), **kw)

    @classmethod
    def rate_limited(cls, retry_after: str | None = None, retry_after_ms: str | None = None) -> Reply:
        headers = {}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        if retry_after_ms is not None:
            headers["retry-after-ms"] = retry_after_ms
        return cls(status=429, headers=headers, error_message="Rate limit reached")

    @classmethod
    def error(cls, status: int, message: str = "") -> Reply:
        return cls(status=status, error_message=message or f"scripted error {status}")

    @classmethod
    def slow(cls, delay: float, content: str = "{}") -> Reply:
        return cls(content=content, delay=delay)

    @classmethod
    def malformed(cls) -> Reply:
        return cls(body=b'{"id": "chatcmpl-broken", "choices": [')

    @classmethod
    def truncated(cls, content: str) -> Reply:
        return cls(content=content, finish_reason="length")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON for JSON requests, raw bytes otherwise
    received_at: float  # time.time() at arrival

    @property
    def prompt(self) -> str:
        """All message contents of a chat request, joined."""
        if not isinstance(self.body, dict):
            return ""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


Responder = Callable[[RecordedRequest], Reply]

_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


def chat_completion_body(request: dict[str, Any], reply: Reply, seq: int) -> dict[str, Any]:
    """The JSON of a chat completion answering `request` with `reply`."""
    contents = reply.content if isinstance(reply.content, list) else [reply.content]
    prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
    if reply.usage is not None:
        prompt_tokens, completion_tokens = reply.usage
    else:
        prompt_tokens = _count_tokens(prompt)
        completion_tokens = sum(_count_tokens(c) for c in contents)
    return {
        "id": f"chatcmpl-{seq}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": c, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
            for i, c in enumerate(contents)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": _STATUS_TYPES.get(status, "server_error"),
            "param": None,
            "code": None,
        }
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: the constructor calls listen(request_queue_size), so it must be
    # set on the class. With the default of 5, a burst of new connections overflowed it
    # and the kernel dropped SYNs, which clients retry after a 1 s timeout.
    request_queue_size = 1024


class FakeOpenAI:
    """The server's state: script, recorded requests, files and batches."""

    def __init__(self, *, latency: float = 0.0, models: tuple[str, ...] = ("fake-model",)):
        self.latency = latency
        self.models = models
        self.responder: Responder | None = None
        self.batch_polls_before_done = 1  # GET /v1/batches/{id} answers "in_progress" this often
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.files: dict[str, dict[str, Any]] = {}
        self.file_data: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._batch_polls: dict[str, int] = {}
        # chat requests being answered now, counted per reset() so that slow answers
        # left over from an earlier test do not count
        self._generation = 0
        self._in_flight: Counter[int] = Counter()
        self.max_in_flight = 0
        # With `gate = n`, a chat request is held until n are in flight at once (or
        # `gate_timeout` passes): a test of concurrency then does not depend on timing.
        self.gate: int | None = None
        self.gate_timeout = 10.0
        self._gate_open = threading.Condition(self._lock)
        # hold_after / release / hold_batch_create: see the module docstring
        self._hold_budget: int | None = None
        self._released = threading.Event()
        self.hold_batch_create = False
        self._held = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.responder = None
            self.latency = 0.0
            self.batch_polls_before_done = 1
            self.max_in_flight = 0
            self.gate = None
            self._generation += 1
            self._hold_budget = None
            self.hold_batch_create = False
            self.files.clear()
            self.file_data.clear()
            self.batches.clear()
            self._batch_polls.clear()
        self._released.set()  # nothing stays held across tests
        self._released = threading.Event()

    def hold_after(self, n: int) -> None:
        """Answer the next `n` chat requests as usual, then hold each one until `release()`."""
        with self._lock:
            self._hold_budget = n

    def release(self) -> None:
        """Let every held request (and every later one) through."""
        with self._lock:
            self._hold_budget = None
            self.hold_batch_create = False
        self._released.set()

    def held(self) -> int:
        with self._lock:
            return self._held

    def _hold(self, *, chat: bool) -> None:
        with self._lock:
            if chat:
                if self._hold_budget is None:
                    return
                if self._hold_budget > 0:
                    self._hold_budget -= 1
                    return
            elif not self.hold_batch_create:
                return
            released = self._released
            self._held += 1
        try:
            released.wait(timeout=120)  # bounded: a test that forgets to release still ends
        finally:
            with self._lock:
                self._held -= 1

    def next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        if responder is not None:
            return responder(request)
        return Reply.error(500, "fake server: no scripted reply left")

    # --- records ---------------------------------------------------------
    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self, path: str | None = CHAT_PATH) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def calls(self, path: str | None = CHAT_PATH) -> int:
        return len(self.requests(path))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._seq)}"

    # --- lifecycle -------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self, port: int = 0) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- batches ---------------------------------------------------------
    def run_batch(self, batch: dict[str, Any]) -> None:
        """Answer every line of the batch's input file through the chat script."""
        output, errors = [], []
        for line in self.file_data[batch["input_file_id"]].decode().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            rec = RecordedRequest("POST", CHAT_PATH, {}, entry["body"], time.time())  # counted as a chat call
            self.record(rec)
            reply = self.next_reply(rec)
            seq = next(self._seq)
            if reply.status == 200 and reply.body is None:
                body = chat_completion_body(entry["body"], reply, seq)
                output.append(
                    {
                        "id": f"batch_req_{seq}",
                        "custom_id": entry["custom_id"],
                        "response": {"status_code": 200, "request_id": f"req_{seq}", "body": body},
                        "error": None,
                    }
                )
            else:
                status = reply.status if reply.status != 200 else 500
                errors.append(
                    {
                        "id": f"batch_req_{seq}",
                        "custom_id": entry["custom_id"],
                        "response": {
                            "status_code": status,
                            "request_id": f"req_{seq}",
                            "body": _error_body(status, reply.error_message or "bad body"),
                        },
                        "error": None,
                    }
                )
        batch["request_counts"] = {
            "total": len(output) + len(errors),
            "completed": len(output),
            "failed": len(errors),
        }
        batch["output_file_id"] = self._store_file(output, "batch_output") if output else None
        batch["error_file_id"] = self._store_file(errors, "batch_error") if errors else None
        batch["status"] = "completed"
        batch["completed_at"] = int(time.time())

    def _store_file(self, lines: list[dict[str, Any]], purpose: str) -> str:
        data = "".join(json.dumps(x) + "\n" for x in lines).encode()
        return self.add_file(data, filename=f"{purpose}.jsonl", purpose=purpose)["id"]

    def add_file(self, data: bytes, *, filename: str, purpose: str) -> dict[str, Any]:
        fid = self.next_id("file")
        obj = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        with self._lock:
            self.files[fid] = obj
            self.file_data[fid] = data
        return obj


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing --------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_{time.monotonic_ns()}")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer

    def _record(self, body: Any) -> RecordedRequest:
        rec = RecordedRequest(
            self.command,
            self.path.split("?")[0],
            {k.lower(): v for k, v in self.headers.items()},
            body,
            time.time(),
        )
        self.fake.record(rec)
        return rec

    # --- routes ----------------------------------------------------------
    def do_GET(self) -> None:
        if self.path == "/_fake/calls":  # test hook, not part of the API
            return self._send(200, {"chat": self.fake.calls(), "cpu": time.process_time()})
        rec = self._record(None)
        path = rec.path
        if path == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.fake.models
            ]
            return self._send(200, {"object": "list", "data": models})
        if path == "/v1/files":
            return self._list(self._query(), list(self.fake.files.values()), key="purpose")
        if path == "/v1/batches":
            return self._list(self._query(), list(self.fake.batches.values()))
        if m := re.fullmatch(r"/v1/files/([\w-]+)/content", path):
            data = self.fake.file_data.get(m[1])
            if data is None:
                return self._send(404, _error_body(404, f"No such file: {m[1]}"))
            return self._send(200, raw=data, content_type="application/octet-stream")
        if m := re.fullmatch(r"/v1/files/([\w-]+)", path):
            obj = self.fake.files.get(m[1])
            return self._send(200, obj) if obj else self._send(404, _error_body(404, "no file"))
        if m := re.fullmatch(r"/v1/batches/([\w-]+)", path):
            return self._batch_poll(m[1])
        self._send(404, _error_body(404, f"Unknown path {path}"))

    def do_POST(self) -> None:
        self._arrived = time.monotonic()
        raw = self._read_body()
        ctype = self.headers.get("content-type", "")
        body: Any = raw
        if ctype.startswith("application/json"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._record(raw)
                return self._send(400, _error_body(400, "request body is not JSON"))
        rec = self._record(body)
        if rec.path == CHAT_PATH:
            return self._chat(rec)
        if rec.path == "/v1/files":
            return self._upload(raw, ctype)
        if rec.path == "/v1/batches":
            return self._batch_create(body)
        if m := re.fullmatch(r"/v1/batches/([\w-]+)/cancel", rec.path):
            batch = self.fake.batches.get(m[1])
            if batch is None:
                return self._send(404, _error_body(404, "no batch"))
            batch["status"] = "cancelled"
            return self._send(200, batch)
        self._send(404, _error_body(404, f"Unknown path {rec.path}"))

    def _chat(self, rec: RecordedRequest) -> None:
        if not isinstance(rec.body, dict) or "messages" not in rec.body:
            return self._send(400, _error_body(400, "'messages' is required"))
        fake = self.fake
        with fake._lock:
            gen = fake._generation
            fake._in_flight[gen] += 1
            fake.max_in_flight = max(fake.max_in_flight, fake._in_flight[gen])
            if (gate := fake.gate) is not None:
                fake._gate_open.notify_all()
                fake._gate_open.wait_for(lambda: fake.max_in_flight >= gate, timeout=fake.gate_timeout)
                started = time.monotonic()  # the latency runs from the gate's opening
            else:
                started = self._arrived
        try:
            fake._hold(chat=True)
            reply = fake.next_reply(rec)
            if reply.body is not None:
                status, payload, raw = reply.status, None, reply.body
            elif reply.status != 200:
                status, payload, raw = reply.status, _error_body(reply.status, reply.error_message), None
            else:
                status, raw = 200, None
                payload = chat_completion_body(rec.body, reply, next(self.fake._seq))
            # The answer leaves `latency` after the request arrived: the server's own
            # work (parsing, building the answer) is inside the latency, not added to it.
            wait = max(0.0, fake.latency - (time.monotonic() - started)) + reply.delay
            if wait:
                time.sleep(wait)
        finally:
            with fake._lock:
                fake._in_flight[gen] -= 1
        self._send(status, payload, raw=raw, headers=reply.headers)

    def _upload(self, raw: bytes, ctype: str) -> None:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"content-type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        if "file" not in fields:
            return self._send(400, _error_body(400, "'file' is required"))
        filename, data = fields["file"]
        purpose = fields.get("purpose", (None, b"batch"))[1].decode()
        obj = self.fake.add_file(data, filename=filename or "upload.jsonl", purpose=purpose)
        self._send(200, obj)

    def _batch_create(self, body: Any) -> None:
        if not isinstance(body, dict) or body.get("input_file_id") not in self.fake.files:
            return self._send(400, _error_body(400, "input_file_id does not exist"))
        bid = self.fake.next_id("batch")
        now = int(time.time())
        batch = {
            "id": bid,
            "object": "batch",
            "endpoint": body.get("endpoint", CHAT_PATH),
            "errors": None,
            "input_file_id": body["input_file_id"],
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86400,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        with self.fake._lock:
            self.fake.batches[bid] = batch
            self.fake._batch_polls[bid] = 0
        self.fake._hold(chat=False)  # the batch exists; its answer may be held
        self._send(200, batch)

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}

    def _list(self, query: dict[str, str], objects: list[dict[str, Any]], key: str | None = None) -> None:
        """A cursor page of `objects`, newest first (or oldest with `order=asc`)."""
        if key is not None and key in query:
            objects = [o for o in objects if o.get(key) == query[key]]
        seq = {o["id"]: int(o["id"].rsplit("-", 1)[1]) for o in objects}
        objects.sort(key=lambda o: seq[o["id"]], reverse=query.get("order", "desc") == "desc")
        if "after" in query:
            ids = [o["id"] for o in objects]
            objects = objects[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
        limit = int(query.get("limit", "20"))
        page = objects[:limit]
        self._send(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(objects) > limit,
            },
        )

    def _batch_poll(self, bid: str) -> None:
        batch = self.fake.batches.get(bid)
        if batch is None:
            return self._send(404, _error_body(404, f"No batch {bid}"))
        if batch["status"] in ("validating", "in_progress"):
            polls = self.fake._batch_polls[bid] = self.fake._batch_polls[bid] + 1
            if polls > self.fake.batch_polls_before_done:
                self.fake.run_batch(batch)
            else:
                batch["status"] = "in_progress"
                batch["in_progress_at"] = batch["in_progress_at"] or int(time.time())
        self._send(200, batch)


# --- ready-made responders --------------------------------------------------

_STEP_TAG = re.compile(r"<step_(\d+)>")
_CRITERION = re.compile(r"^- name: (.+)$", re.MULTILINE)


def critique_responder(request: RecordedRequest) -> Reply:
    """A well-formed step critique labelling every numbered step of the prompt correct
    (read from the prompt, so it works with and without a response format)."""
    indexes = sorted({int(i) for i in _STEP_TAG.findall(request.prompt)})
    return Reply.json({"steps": {f"step_{i}": 1 for i in indexes}, "first_error": -1})


def rubric_responder(score: int = 4) -> Responder:
    """A well-formed rubric rating giving `score` to every criterion listed in the prompt."""

    def respond(request: RecordedRequest) -> Reply:
        names = [n.strip() for n in _CRITERION.findall(request.prompt)]
        payload = json.dumps({n: {"rationale": "fine", "score": score} for n in names})
        n = int((request.body or {}).get("n") or 1)
        return Reply.ok([payload] * n)

    return respond


# --- a server that honours a strict schema to the letter, and no further ------------

FREE_STRING = "free text"  # what such a server writes where the schema allows any string
FREE_INTEGER = 1_000_000  # ... and any integer


def answer_from_schema(schema: dict[str, Any], pick: str | random.Random = "first") -> Any:
    """A value that matches `schema` and nothing more than it says: every declared
    property in order, enum and const values (the first, the last, or drawn from a
    `random.Random`), and where the schema leaves a value free, something no prompt asked
    for: the string FREE_STRING, the integer FREE_INTEGER (or a declared bound), false,
    an array of `minItems` items (at least one). What a constrained decoder may produce."""

    def choose(values: list[Any]) -> Any:
        if isinstance(pick, random.Random):
            return pick.choice(values)
        return values[0] if pick == "first" else values[-1]

    def gen(node: dict[str, Any]) -> Any:
        if "$ref" in node:
            ref = node["$ref"]
            return gen(schema if ref == "#" else schema["$defs"][ref.removeprefix("#/$defs/")])
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return choose(node["enum"])
        if "anyOf" in node:
            return gen(choose(node["anyOf"]))
        kind = node.get("type")
        kind = choose(kind) if isinstance(kind, list) else kind
        if kind == "object":
            return {k: gen(v) for k, v in node.get("properties", {}).items()}
        if kind == "array":
            return [gen(node["items"]) for _ in range(max(1, node.get("minItems", 1)))]
        if kind in ("integer", "number"):
            for bound in ("maximum", "minimum") if pick == "last" else ("minimum", "maximum"):
                if bound in node:
                    return node[bound]
            return FREE_INTEGER
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return FREE_STRING

    return gen(schema)


def schema_responder(pick: str | random.Random = "first") -> Responder:
    """Answers every chat request with `answer_from_schema` of its strict response
    format (one answer per choice asked for with `n`); a request without one gets 400."""

    def respond(request: RecordedRequest) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        fmt = body.get("response_format") or {}
        if fmt.get("type") != "json_schema":
            return Reply.error(400, "this server answers structured-output requests only")
        schema = fmt["json_schema"]["schema"]
        n = int(body.get("n") or 1)
        return Reply.ok([json.dumps(answer_from_schema(schema, pick)) for _ in range(n)])

    return respond


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--responder", choices=["critique", "rubric", "schema"], default="critique")
    args = parser.parse_args()
    fake = FakeOpenAI(latency=args.latency)
    fake.responder = {
        "critique": critique_responder,
        "rubric": rubric_responder(),
        "schema": schema_responder(),
    }[args.responder]
    fake.start(args.port)
    print(fake.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
