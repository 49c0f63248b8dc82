"""Unix sockets that misbehave like a sick daemon, for the fault-injection tests (issue 18).

``with HangingSocket(path):`` accepts connections and never answers (a daemon stuck in a lock);
``with ClosingSocket(path):`` accepts and closes each connection at once (a daemon crashing on
every request). Each serves from a thread, bounded in time, and removes its socket on exit.
"""

import os
import socket
import threading


class _Server:
    def __init__(self, path, hold):
        self.path = path
        self.hold = hold
        self.sock = None
        self.thread = None
        self.stopping = threading.Event()
        self.held = []

    def __enter__(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.hold:
                self.held.append(conn)   # read nothing, answer nothing, keep it open
            else:
                conn.close()

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class HangingSocket(_Server):
    def __init__(self, path):
        super().__init__(path, hold=True)


class ClosingSocket(_Server):
    def __init__(self, path):
        super().__init__(path, hold=False)
