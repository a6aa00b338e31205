#!/usr/bin/env python3
"""chdb_server.py — a current ClickHouse engine behind ClickHouse's HTTP interface, for dbkit's tests.

    python3 scripts/chdb_server.py --port 58124 --data DIR [--pid-file FILE]

chDB (PyPI's `chdb-core`) embeds ClickHouse 26.x in-process. This front speaks as much of the HTTP
interface (https://clickhouse.com/docs/interfaces/http) as the `clickhouse` Rust crate (0.15) and
`curl` use, so that dbkit's ClickHouse suite runs against a current engine as well as against
Debian's 18.16 server. `scripts/servers` installs the package and runs this file (test
infrastructure, not part of dbkit):

* `GET /ping`, `GET /` -> `Ok.`
* the query in the POST body, in `query=`, or both (`query=` first, then a newline and the body);
  in a `multipart/form-data` body (`query` and `param_*` fields, as the crate sends server-side
  parameters), with `param_<name>=` URL parameters as well
* `database=`, `default_format=` (or `X-ClickHouse-Format`), default `TabSeparated`; a `FORMAT`
  clause in the query wins, as on a server
* `INSERT INTO t (cols) FORMAT <fmt>` followed by data: RowBinary, RowBinaryWithNamesAndTypes (the
  crate's validated inserts) or any input format chDB reads, streamed in through chDB's inserter;
  `decompress=1` bodies in ClickHouse's compressed framing (LZ4 or none), `Transfer-Encoding:
  chunked`, `Content-Encoding: gzip`/`deflate`
* settings: URL parameters that only mean something to an HTTP server (`wait_end_of_query`,
  `query_id`, `session_id`, `compress`, `enable_http_compression`, ...) are accepted and ignored;
  every other parameter is a query setting, applied with `SET` for that request alone and reset
  after it, so an unknown one fails as on a server (`Code: 115 ... UNKNOWN_SETTING`)
* user `default` with an empty password (`X-ClickHouse-User`/`-Key`, Basic auth or `user=`/
  `password=`); anything else is `Code: 516 ... AUTHENTICATION_FAILED`, HTTP 401
* errors: chDB's own `Code: N. DB::Exception: ... (NAME)` text plus `(version ...)`, the HTTP
  status a server gives that code, and the `X-ClickHouse-Exception-Code` header

One chDB session over one data directory serves every request, so tables persist across requests
and restarts; a lock serializes the requests (chDB runs one query at a time per session). The
whole result is computed before the response starts, so an error is never sent after rows.
Responses are never compressed (`Accept-Encoding: lz4` is ignored, as 18.16 does).
"""

import argparse
import base64
import os
import re
import signal
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Before chDB loads: DateTime columns without a time zone, and text conversions, are UTC, as on the
# 18.16 test server (its config says <timezone>UTC</timezone>).
os.environ["TZ"] = "UTC"

import chdb  # noqa: E402
import chdb.session  # noqa: E402

try:
    import lz4.block  # noqa: E402
except ImportError:  # only `decompress=1` inserts with LZ4 need it
    lz4 = None

VERSION = "?"  # the engine's `version()`, read at start

# URL parameters that configure the HTTP exchange rather than the query.
HTTP_ONLY = {
    "query", "database", "default_format", "user", "password", "quota_key", "query_id",
    "session_id", "session_timeout", "session_check", "compress", "decompress",
    "enable_http_compression", "http_zlib_compression_level", "http_native_compression_disable_checksumming_on_decompress",
    "wait_end_of_query", "buffer_size", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "send_timeout", "receive_timeout", "role",
    "http_response_buffer_size", "http_wait_end_of_query", "client_protocol_version",
    "http_write_exception_in_output_format", "add_http_cors_header", "cancel_http_readonly_queries_on_client_close",
}

# The HTTP status a server answers an exception code with (ClickHouse's
# exceptionCodeToHTTPStatus, the codes dbkit's tests meet); anything else is 500.
STATUS = {
    **dict.fromkeys([192, 193, 194, 516], 401),  # unknown user, wrong/required password, auth failed
    **dict.fromkeys([164, 497], 403),  # readonly, access denied
    **dict.fromkeys([6, 26, 27, 32, 33, 36, 38, 41, 42, 43, 53, 62, 69, 70, 72, 115, 117, 130, 184, 190, 352], 400),
    **dict.fromkeys([16, 46, 47, 50, 60, 73, 81, 82, 83, 85, 86, 211], 404),
    48: 501,  # not implemented
    159: 500,
    160: 500,
}

INSERT_FORMAT = re.compile(rb"\s*(INSERT\s+INTO\s.*?)\s+FORMAT\s+(\w+)", re.IGNORECASE | re.DOTALL)
CODE = re.compile(r"Code:\s*(\d+)")


class Failure(Exception):
    """An error answered with ClickHouse's text, code and HTTP status."""

    def __init__(self, code, text):
        super().__init__(text)
        self.code = code
        self.text = text


class Engine:
    """The one chDB session, one request at a time."""

    def __init__(self, path):
        self.session = chdb.session.Session(path)
        self.lock = threading.Lock()

    def close(self):
        with self.lock:
            self.session.close()

    def run(self, database, settings, sql, params, fmt, data):
        """Runs one request; returns (body, summary)."""
        with self.lock:
            started = time.monotonic()
            self._query(f"USE {quote_identifier(database)}")
            applied = []
            try:
                for name, value in settings.items():
                    self._query(f"SET {quote_identifier(name)} = {quote_literal(value)}")
                    applied.append(name)
                if data is not None:
                    return self._insert(sql, fmt, data, started)
                result = self._query(sql, fmt, params)
                body = result.bytes()
                summary = {
                    "read_rows": result.rows_read(),
                    "read_bytes": result.bytes_read(),
                    "written_rows": 0,
                    "written_bytes": 0,
                    "result_bytes": len(body),
                    "elapsed_ns": int((time.monotonic() - started) * 1e9),
                }
                return body, summary
            finally:
                for name in applied:
                    try:
                        self._query(f"SET {quote_identifier(name)} = DEFAULT")
                    except Failure:
                        pass

    def _insert(self, sql, fmt, data, started):
        inserter = self.session.send_insert(sql, fmt)
        try:
            if data:
                inserter.append(data)
            result = inserter.finish()
        except Exception as e:  # noqa: BLE001 - chDB raises RuntimeError and its own ChdbError
            try:
                inserter.cancel()
            except Exception:  # noqa: BLE001
                pass
            raise failure(e) from None
        summary = {
            "read_rows": 0,
            "read_bytes": 0,
            "written_rows": result.rows_written,
            "written_bytes": result.bytes_written,
            "elapsed_ns": int((time.monotonic() - started) * 1e9),
        }
        return b"", summary

    def _query(self, sql, fmt="TabSeparated", params=None):
        try:
            return self.session.query(sql, fmt, params=params or None)
        except Exception as e:  # noqa: BLE001
            raise failure(e) from None


def failure(error):
    text = str(error).strip()
    match = CODE.search(text)
    if not match:
        return Failure(1001, f"Code: 1001. DB::Exception: {text}. (STD_EXCEPTION)")
    return Failure(int(match.group(1)), text)


def quote_identifier(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def quote_literal(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def decompress(body):
    """ClickHouse's compressed framing: blocks of checksum (16) | method (1) | compressed size
    (4, header included) | size (4) | payload."""
    out = bytearray()
    at = 0
    while at < len(body):
        if len(body) - at < 25:
            raise Failure(432, "Code: 432. DB::Exception: Truncated compressed block. (UNKNOWN_CODEC)")
        method = body[at + 16]
        compressed, size = struct.unpack_from("<II", body, at + 17)
        payload = body[at + 25 : at + 16 + compressed]
        if method == 0x82:
            if lz4 is None:
                raise Failure(432, "Code: 432. DB::Exception: LZ4 needs the lz4 package. (UNKNOWN_CODEC)")
            out += lz4.block.decompress(payload, uncompressed_size=size)
        elif method == 0x02:
            out += payload
        else:
            raise Failure(432, f"Code: 432. DB::Exception: Unknown codec family code: {method}. (UNKNOWN_CODEC)")
        at += 16 + compressed
    return bytes(out)


def multipart(content_type, body):
    """The fields of a multipart/form-data body, as {name: text}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise Failure(36, "Code: 36. DB::Exception: multipart body without a boundary. (BAD_ARGUMENTS)")
    delimiter = b"--" + match.group(1).encode()
    fields = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = value[:-2] if value.endswith(b"\r\n") else value
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-front"
    engine = None  # set in main()

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.handle_request()

    def do_POST(self):  # noqa: N802
        self.handle_request()

    def log_message(self, format, *args):  # noqa: A002 - quiet: the test suite sends thousands
        pass

    def handle_request(self):
        try:
            url = urllib.parse.urlsplit(self.path)
            body = self.read_body()
            if url.path == "/ping" or (url.path == "/" and not url.query and not body):
                return self.answer(200, b"Ok.\n")
            if url.path not in ("/", ""):
                return self.answer(404, b"There is no handle " + url.path.encode() + b"\n")
            self.answer_query(urllib.parse.parse_qsl(url.query, keep_blank_values=True), body)
        except Failure as f:
            self.fail(f)
        except Exception as e:  # noqa: BLE001 - a bug here must reach the client, not hang it
            self.fail(Failure(1001, f"Code: 1001. DB::Exception: chdb_server: {type(e).__name__}: {e}. (STD_EXCEPTION)"))

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding in ("gzip", "deflate"):
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        return body

    def answer_query(self, pairs, body):
        params = dict(pairs)
        self.authenticate(params)
        if params.get("decompress") == "1":
            body = decompress(body)
        query = params.get("query", "").encode()
        content_type = self.headers.get("Content-Type", "")
        query_params = {k[len("param_"):]: v for k, v in params.items() if k.startswith("param_")}
        if content_type.startswith("multipart/form-data"):
            fields = multipart(content_type, body)
            body = b""
            query = fields.pop("query", query)
            query_params.update({k[len("param_"):]: v.decode() for k, v in fields.items() if k.startswith("param_")})
        settings = {k: v for k, v in params.items() if k not in HTTP_ONLY and not k.startswith("param_")}
        fmt = params.get("default_format") or self.headers.get("X-ClickHouse-Format") or "TabSeparated"
        database = params.get("database") or self.headers.get("X-ClickHouse-Database") or "default"

        insert = INSERT_FORMAT.match(query) if query else None
        if insert and not query[insert.end():].strip():
            sql, fmt, data = insert.group(1), insert.group(2), body  # the data is the whole body
        elif query:
            sql, data = query + b"\n" + body if body else query, None
        else:
            sql, data = body, None
        if data is None:
            insert = INSERT_FORMAT.match(sql)
            if insert:
                rest = sql[insert.end():]
                # The data starts after the format name and one whitespace character.
                sql, fmt, data = insert.group(1), insert.group(2), rest[1:] if rest[:1].isspace() else rest
        if not sql.strip():
            raise Failure(62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
        sql = sql.decode("utf-8", "surrogateescape")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        out, summary = self.engine.run(database, settings, sql, query_params, fmt, data)
        headers = {
            "Content-Type": "application/octet-stream" if "Binary" in fmt or fmt == "Native" else "text/plain; charset=UTF-8",
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Summary": "{" + ",".join(f'"{k}":"{v}"' for k, v in summary.items()) + "}",
        }
        self.answer(200, out, headers)

    def authenticate(self, params):
        user, password = "default", ""
        authorization = self.headers.get("Authorization", "")
        if authorization.lower().startswith("basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        user = self.headers.get("X-ClickHouse-User") or params.get("user") or user
        password = self.headers.get("X-ClickHouse-Key") or params.get("password") or password
        if user != "default" or password != "":
            raise Failure(
                516,
                f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, "
                "or there is no user with such name. (AUTHENTICATION_FAILED)",
            )

    def fail(self, failure):
        text = f"{failure.text} (version {VERSION})\n".encode()
        headers = {"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(failure.code)}
        self.answer(STATUS.get(failure.code, 500), text, headers)

    def answer(self, status, body, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=58124)
    parser.add_argument("--data", required=True, help="chDB's data directory (created if missing)")
    parser.add_argument("--pid-file")
    args = parser.parse_args()

    global VERSION
    Handler.engine = Engine(args.data)
    VERSION = Handler.engine.run("default", {}, "SELECT version()", {}, "TabSeparated", None)[0].decode().strip()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")

    def stop(signum, _frame):
        # shutdown() waits for serve_forever() to return, so not from the thread that runs it.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"chdb_server: ClickHouse {VERSION} (chDB {chdb.__version__}) on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        Handler.engine.close()
        print("chdb_server: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
