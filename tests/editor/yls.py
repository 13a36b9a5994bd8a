#!/usr/bin/env python3
"""Asks a real yaml-language-server what an editor would show for YAML files: the diagnostics
of each file and, optionally, the completion labels at a line/column of the first file.

usage: yls.py SERVER_JS FILE... [--complete LINE:COL]
Prints one JSON object: {"diagnostics": {path: [{"line", "message"}]}, "completions": [labels]}.
The files' own `# yaml-language-server: $schema=…` lines choose the schema, as in an editor.
"""
import json
import os
import subprocess
import sys
import queue
import threading
import time


def main():
    args = sys.argv[1:]
    complete = None
    if "--complete" in args:
        i = args.index("--complete")
        complete = tuple(int(x) for x in args[i + 1].split(":"))
        del args[i : i + 2]
    server, files = args[0], [os.path.abspath(f) for f in args[1:]]
    proc = subprocess.Popen(
        ["node", server, "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    inbox = queue.Queue()

    def reader():
        out = proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    inbox.put(None)
                    return
                line = line.decode().strip()
                if not line:
                    break
                k, v = line.split(":", 1)
                headers[k.lower()] = v.strip()
            body = out.read(int(headers["content-length"]))
            inbox.put(json.loads(body))

    threading.Thread(target=reader, daemon=True).start()

    def send(msg):
        data = json.dumps(msg).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        proc.stdin.flush()

    settings = {
        "yaml": {
            "validate": True,
            "completion": True,
            "hover": False,
            "schemaStore": {"enable": False},
            "schemas": {},
            "yamlVersion": "1.2",
        }
    }
    pending = {}
    next_id = [0]

    def request(method, params):
        next_id[0] += 1
        pending[next_id[0]] = method
        send({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params})
        return next_id[0]

    request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": None,
            "capabilities": {
                "workspace": {"configuration": True},
                "textDocument": {"publishDiagnostics": {}, "completion": {}},
            },
        },
    )
    diagnostics = {}
    completions = None
    completion_id = None
    opened = False
    deadline = 60
    start = time.time()
    while time.time() - start < deadline:
        try:
            msg = inbox.get(timeout=deadline)
        except queue.Empty:
            break
        if msg is None:
            break
        method = msg.get("method")
        if "id" in msg and method:  # a request from the server
            result = None
            if method == "workspace/configuration":
                # Every section the server asks for ("yaml", "[yaml]", "editor", …) gets
                # the yaml settings; the server reads only the keys it knows.
                result = [settings["yaml"] for _ in msg["params"]["items"]]
            send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            continue
        if method == "textDocument/publishDiagnostics":
            path = msg["params"]["uri"][len("file://") :]
            diagnostics[path] = [
                {"line": d["range"]["start"]["line"], "message": d["message"]}
                for d in msg["params"]["diagnostics"]
            ]
        elif "id" in msg and pending.get(msg["id"]) == "initialize":
            send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": settings}})
            for f in files:
                with open(f) as fh:
                    text = fh.read()
                send(
                    {
                        "jsonrpc": "2.0",
                        "method": "textDocument/didOpen",
                        "params": {
                            "textDocument": {"uri": "file://" + f, "languageId": "yaml", "version": 1, "text": text}
                        },
                    }
                )
            opened = True
            if complete:
                completion_id = request(
                    "textDocument/completion",
                    {"textDocument": {"uri": "file://" + files[0]}, "position": {"line": complete[0], "character": complete[1]}},
                )
        elif completion_id is not None and msg.get("id") == completion_id:
            items = msg.get("result") or []
            if isinstance(items, dict):
                items = items.get("items", [])
            completions = sorted({i["label"] for i in items})
        if opened and all(f in diagnostics for f in files) and (complete is None or completions is not None):
            break
    proc.kill()
    json.dump({"diagnostics": diagnostics, "completions": completions}, sys.stdout)
    missing = [f for f in files if f not in diagnostics]
    if missing:
        sys.exit("yaml-language-server published no diagnostics for %s" % missing)


if __name__ == "__main__":
    main()
