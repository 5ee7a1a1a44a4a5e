"""Scripted MongoDB faults for Tendril's fault tests (issue 6; docs/reliability.md).

    python scenario.py NAME

Starts a mockupdb server on a free loopback port and prints `port N` on the first line of
stdout. It then answers the client as the scenario NAME scripts until its stdin closes (the
test is done) or 45 seconds pass, and prints one line of JSON: what it saw (counts of
commands, the write payloads it received) for the test to check. Every handshake reply says
maxWireVersion 17 (MongoDB 6.0), which libmongoc 1.23 needs; the replica-set scenarios add
setName/hosts so libmongoc treats the server as a primary and retries writes.
"""

import json
import struct
import sys
import threading
import time

from bson import ObjectId
from mockupdb import Matcher, MockupDB

HANDSHAKES = {"ismaster", "hello"}
DEADLINE_SECONDS = 45  # under the tests' one-minute limit


class Scenario:
    """Answers every request; subclasses script the ones their fault is about."""

    replica_set = False

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.report = {}
        self.server = None

    # Handshakes and housekeeping -------------------------------------------------------------

    def handshake(self, request):
        reply = {
            "ismaster": True,
            "isWritablePrimary": True,
            "helloOk": True,
            "minWireVersion": 0,
            "maxWireVersion": 17,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "logicalSessionTimeoutMinutes": 30,
        }
        if self.replica_set:
            me = "%s:%d" % (self.server.host, self.server.port)
            reply.update(setName="rs", hosts=[me], primary=me, me=me, setVersion=1,
                         electionId=ObjectId("7fffffff0000000000000001"))
        request.reply(reply)

    def dispatch(self, request):
        name = (request.command_name or "").lower()
        if name in HANDSHAKES:
            self.handshake(request)
            return True
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            seen = self.counts[name]
        handler = getattr(self, "on_" + name, None)
        if handler is not None:
            handler(request, seen)
        elif name == "killcursors":
            request.reply({"cursorsKilled": request.doc.get("cursors", []), "cursorsNotFound": [],
                           "cursorsAlive": [], "cursorsUnknown": []})
        else:
            request.reply({})  # endSessions, ping, ...: {ok: 1}
        return True

    def finish(self):
        """Called when the test is done; the report goes to stdout."""

    def result(self):
        result = {"counts": self.counts}
        result.update(self.report)
        return result


def namespace(request):
    return "%s.%s" % (request.doc.get("$db", "test"), request.doc[request.command_name])


def first_batch(request, documents, cursor_id=0):
    return {"cursor": {"id": cursor_id, "ns": namespace(request), "firstBatch": documents}}


class CursorNotFound(Scenario):
    """find opens a cursor with two documents; its getMore fails with error 43."""

    def on_find(self, request, seen):
        request.reply(first_batch(request, [{"_id": ObjectId(), "n": 1}, {"_id": ObjectId(), "n": 2}], cursor_id=4242))

    def on_getmore(self, request, seen):
        request.command_err(code=43, errmsg="cursor id 4242 not found", codeName="CursorNotFound")


class WriteHangupReplicaSet(Scenario):
    """A replica-set primary that hangs up on the first insert and acknowledges the retry."""

    replica_set = True

    def __init__(self):
        super().__init__()
        self.report["inserts"] = []

    def on_insert(self, request, seen):
        with self.lock:
            self.report["inserts"].append({
                "documents": [dict(d) for d in request.docs[1:]] or request.doc.get("documents"),
                "lsid": str(request.doc.get("lsid")),
                "txnNumber": request.doc.get("txnNumber"),
            })
        if seen == 1:
            request.hangup()
        else:
            request.reply({"n": 1})


class WriteHangupStandalone(Scenario):
    """A standalone server: find returns one person; the first update hangs up, later ones land."""

    def __init__(self):
        super().__init__()
        self.report["updates"] = []
        self.person_id = ObjectId()
        self.report["id"] = str(self.person_id)

    def on_find(self, request, seen):
        request.reply(first_batch(request, [{"_id": self.person_id, "name": "Ada", "age": 36}]))

    def on_update(self, request, seen):
        updates = [dict(d) for d in request.docs[1:]] or request.doc.get("updates")
        with self.lock:
            self.report["updates"].append(json.dumps(updates, default=str, sort_keys=True))
        if seen == 1:
            request.hangup()
        else:
            request.reply({"n": 1, "nModified": 1})


class InsertStoredReplyLost(Scenario):
    """A standalone server that stores the first insert and then hangs up, so the client never
    hears it landed; later inserts of a stored _id fail as duplicates, and find by _id returns
    what was stored."""

    def __init__(self):
        super().__init__()
        self.stored = {}
        self.report["insertedIDs"] = []

    def on_insert(self, request, seen):
        documents = request.docs[1:] or request.doc.get("documents")
        with self.lock:
            self.report["insertedIDs"] += [str(d["_id"]) for d in documents]
            duplicates = [i for i, d in enumerate(documents) if d["_id"] in self.stored]
            for document in documents:
                self.stored.setdefault(document["_id"], document)
            self.report["storedCount"] = len(self.stored)
        if seen == 1:
            request.hangup()
        elif duplicates:
            request.reply({"n": len(documents) - len(duplicates), "writeErrors": [
                {"index": i, "code": 11000, "keyPattern": {"_id": 1},
                 "errmsg": "E11000 duplicate key error index: _id_"} for i in duplicates]})
        else:
            request.reply({"n": len(documents)})

    def on_find(self, request, seen):
        wanted = request.doc.get("filter", {}).get("_id")
        with self.lock:
            found = [self.stored[wanted]] if wanted in self.stored else []
        request.reply(first_batch(request, found))


class SlowServer(Scenario):
    """Every find is read and never answered."""

    def on_find(self, request, seen):
        pass  # no reply: the client's socketTimeoutMS must end the wait


class ManyWaiters(Scenario):
    """Holds every find until WAITERS of them are outstanding at once, then answers them all.
    Only a client whose waiting tasks do not occupy Swift's cooperative threads gets there."""

    WAITERS = 64

    def __init__(self):
        super().__init__()
        self.pending = []
        self.report["mostOutstanding"] = 0

    def on_find(self, request, seen):
        with self.lock:
            self.pending.append(request)
            self.report["mostOutstanding"] = max(self.report["mostOutstanding"], len(self.pending))
            ready = len(self.pending) >= self.WAITERS
            batch, self.pending = (self.pending, []) if ready else ([], self.pending)
        for waiting in batch:
            waiting.reply(first_batch(waiting, [{"_id": 1}]))

    def finish(self):
        with self.lock:
            batch, self.pending = self.pending, []
        for waiting in batch:  # release anything still held so the client is not left waiting
            waiting.reply(first_batch(waiting, []))


def raw_document(pairs):
    """BSON bytes from (key, type byte, value bytes) triples, so strings can hold bytes that
    are not UTF-8 (which no Python str can, and which pymongo's encoder refuses)."""
    body = b"".join(bytes([kind]) + key + b"\x00" + value for key, kind, value in pairs) + b"\x00"
    return (len(body) + 4).to_bytes(4, "little") + body


def bson_string(raw):
    return (len(raw) + 1).to_bytes(4, "little") + raw + b"\x00"


def send_raw_op_msg(request, document):
    """Replies with `document` (BSON bytes) as is. mockupdb decodes every reply to log it,
    which fails on bytes that are not UTF-8, so this writes the OP_MSG frame itself."""
    data = (0).to_bytes(4, "little") + b"\x00" + document  # flagBits, section kind 0, body
    header = struct.pack("<iiii", 16 + len(data), 1, request.request_id, 2013)  # OP_MSG
    request._client.sendall(header + data)


def send_raw_first_batch(request, documents):
    """Replies to a find with `documents` (BSON bytes, sent as they are) as its only batch."""
    batch = raw_document([(str(i).encode(), 0x03, document) for i, document in enumerate(documents)])
    cursor = raw_document([(b"id", 0x12, (0).to_bytes(8, "little")),
                           (b"ns", 0x02, bson_string(namespace(request).encode())),
                           (b"firstBatch", 0x04, batch)])
    send_raw_op_msg(request, raw_document([(b"cursor", 0x03, cursor),
                                           (b"ok", 0x01, struct.pack("<d", 1.0))]))


class InvalidUTF8(Scenario):
    """find returns a valid person, then one whose name holds bytes that are not UTF-8, then one
    whose embedded address's city does."""

    def __init__(self):
        super().__init__()
        self.ids = [ObjectId() for _ in range(3)]
        self.report["ids"] = [str(i) for i in self.ids]

    def person(self, index, name, city=None):
        pairs = [(b"_id", 0x07, self.ids[index].binary), (b"name", 0x02, bson_string(name)),
                 (b"age", 0x12, (36).to_bytes(8, "little"))]
        if city is not None:
            pairs.append((b"address", 0x03, raw_document([(b"city", 0x02, bson_string(city))])))
        return raw_document(pairs)

    def on_find(self, request, seen):
        people = [self.person(0, b"Ada"), self.person(1, b"Gr\xffce"), self.person(2, b"Alan", city=b"Lond\xc3")]
        send_raw_first_batch(request, people)


class TooDeep(Scenario):
    """Chains of embedded documents ({"label": ..., "child": {...}}) stored by another client:
    a find by `_id` (a `get`, a reference) returns one whose root nests 101 levels deep; any
    other find returns a valid chain, then that one, then one 200 levels deep."""

    def __init__(self):
        super().__init__()
        self.ids = [ObjectId() for _ in range(3)]
        self.report["ids"] = [str(i) for i in self.ids]

    def chain(self, index, depth):
        node = raw_document([(b"label", 0x02, bson_string(b"leaf"))])
        for _ in range(depth - 1):
            node = raw_document([(b"label", 0x02, bson_string(b"node")), (b"child", 0x03, node)])
        return raw_document([(b"_id", 0x07, self.ids[index].binary), (b"name", 0x02, bson_string(b"chain")),
                             (b"root", 0x03, node)])

    def on_find(self, request, seen):
        if "_id" in request.doc.get("filter", {}):
            documents = [self.chain(1, 101)]
        else:
            documents = [self.chain(0, 3), self.chain(1, 101), self.chain(2, 200)]
        send_raw_first_batch(request, documents)


SCENARIOS = {
    "too-deep": TooDeep,
    "cursor-not-found": CursorNotFound,
    "write-hangup-replica-set": WriteHangupReplicaSet,
    "write-hangup-standalone": WriteHangupStandalone,
    "insert-stored-reply-lost": InsertStoredReplyLost,
    "slow-server": SlowServer,
    "many-waiters": ManyWaiters,
    "invalid-utf8": InvalidUTF8,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: scenario.py {%s}" % ",".join(sorted(SCENARIOS)))
    scenario = SCENARIOS[sys.argv[1]]()
    server = MockupDB(port=None, request_timeout=DEADLINE_SECONDS)
    server._address = ("127.0.0.1", None)  # loopback only (mockupdb binds "localhost" otherwise)
    scenario.server = server
    server.autoresponds(Matcher(), scenario.dispatch)
    port = server.run()
    print("port %d" % port, flush=True)

    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(DEADLINE_SECONDS)
    scenario.finish()
    print(json.dumps(scenario.result(), default=str), flush=True)
    server.stop()


if __name__ == "__main__":
    main()
