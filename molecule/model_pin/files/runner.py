"""Stand-in model runner: loads the model the `current` link names at start and serves it on /health."""
import http.server
import json
import os
import sys

MODEL_DIR, PORT = sys.argv[1], int(sys.argv[2])
MODEL = os.readlink(os.path.join(MODEL_DIR, "current"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok", "model": MODEL, "pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
