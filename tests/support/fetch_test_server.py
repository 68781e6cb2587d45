#!/usr/bin/env python3
"""A loopback HTTP server for the unit tests of the parallel downloader (lib/distill/fetch).

Usage: fetch_test_server.py ROOT

Binds 127.0.0.1 on a port the system picks, prints that port on stdout as its first line, and
serves the files under ROOT over HTTP/1.1, one thread per connection. It exits when its standard
input closes, so it never outlives the test process that started it (which holds the other end
of a pipe), even when that process crashes.

Rules make a path misbehave; control URLs set them and read what the server saw. Control
requests are not counted.

  /_control/rule?path=/a.deb&status=500&times=2  answer 500 to the first 2 requests, then serve
  /_control/rule?path=/a.deb&status=404          answer 404 to every request (times: forever)
  /_control/rule?path=/a.deb&drop=1&times=1      send the headers and half the body, then cut
                                                 the connection (once)
  /_control/rule?path=/a.deb&corrupt=1           serve the file with every byte inverted
  /_control/rule?path=/a.deb&delay=0.3           wait 0.3 s before answering
  /_control/count?path=/a.deb                    how many requests that path had
  /_control/total                                how many requests all paths had
  /_control/peak                                 the most requests in flight at once
  /_control/log                                  the paths requested, one a line, in order

Standard library only.
"""

import http.server
import os
import socket
import sys
import threading
import time
import urllib.parse


class State:
    """What the handler threads share, under one lock."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.lock = threading.Lock()
        self.rules = {}  # path -> {"status", "drop", "corrupt", "delay", "times", "seen"}
        self.counts = {}  # path -> requests so far
        self.log = []  # paths in the order their requests arrived
        self.in_flight = 0
        self.peak = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real mirrors do
    # Headers and body go out in separate writes: without TCP_NODELAY every answer on a kept-alive
    # connection waits for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # the tests' output stays clean
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path.startswith("/_control/"):
            self.control(path, urllib.parse.parse_qs(url.query))
        else:
            self.serve(path)

    def send_body(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def control(self, path, query):
        state = self.server.state
        target = query.get("path", [""])[0]
        with state.lock:
            if path == "/_control/rule":
                rule = {"seen": 0}  # requests since the rule was set
                if "status" in query:
                    rule["status"] = int(query["status"][0])
                if "drop" in query:
                    rule["drop"] = query["drop"][0] == "1"
                if "corrupt" in query:
                    rule["corrupt"] = query["corrupt"][0] == "1"
                if "delay" in query:
                    rule["delay"] = float(query["delay"][0])
                if "times" in query:
                    rule["times"] = int(query["times"][0])
                state.rules[target] = rule
                answer = "ok"
            elif path == "/_control/count":
                answer = str(state.counts.get(target, 0))
            elif path == "/_control/total":
                answer = str(sum(state.counts.values()))
            elif path == "/_control/peak":
                answer = str(state.peak)
            elif path == "/_control/log":
                answer = "".join(line + "\n" for line in state.log)
            else:
                self.send_body(400, b"unknown control request\n")
                return
        self.send_body(200, answer.encode())

    def serve(self, path):
        state = self.server.state
        with state.lock:
            state.counts[path] = state.counts.get(path, 0) + 1
            state.log.append(path)
            rule = state.rules.get(path, {"seen": 0})
            rule["seen"] += 1
            rule = dict(rule)
            state.in_flight += 1
            state.peak = max(state.peak, state.in_flight)
        try:
            time.sleep(rule.get("delay", 0.0))
            misbehave = rule["seen"] <= rule.get("times", rule["seen"])
            if "status" in rule and misbehave:
                # An error page longer than most test files: the client must not take it for
                # (the start of) the file.
                text = f"{rule['status']} from the test server for {path}\n" * 4
                self.send_body(rule["status"], text.encode())
                return
            local = os.path.realpath(os.path.join(state.root, path.lstrip("/")))
            if not local.startswith(state.root + os.sep) or not os.path.isfile(local):
                self.send_body(404, f"404 not found: {path}\n".encode() * 4)
                return
            with open(local, "rb") as file:
                body = file.read()
            if rule.get("corrupt"):
                body = bytes(byte ^ 0xFF for byte in body)  # the same size, other bytes
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if rule.get("drop") and misbehave:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)
        finally:
            with state.lock:
                state.in_flight -= 1


class Server(http.server.ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: more connections at once overflow it, and the
    # client's connect waits a second for the SYN to be sent again.
    request_queue_size = 64
    daemon_threads = True


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} ROOT")
    server = Server(("127.0.0.1", 0), Handler)
    server.state = State(sys.argv[1])
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
