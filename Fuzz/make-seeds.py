"""Writes the fuzzer's seed corpus into the folder given: every valid, degenerate and
decode-error document of MongoDB's BSON corpus (../shared/bson-corpus), and documents shaped
like the fuzz target's model (valid, missing its required field, wrongly typed, deeply nested).
"""
import glob
import hashlib
import json
import os
import struct
import sys

out = sys.argv[1]
corpus = sys.argv[2]
os.makedirs(out, exist_ok=True)


def write(data: bytes) -> None:
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


count = 0
for path in sorted(glob.glob(os.path.join(corpus, "*.json"))):
    with open(path) as f:
        spec = json.load(f)
    for case in spec.get("valid", []):
        for key in ("canonical_bson", "degenerate_bson", "converted_bson"):
            if key in case:
                write(bytes.fromhex(case[key]))
                count += 1
    for case in spec.get("decodeErrors", []):
        write(bytes.fromhex(case["bson"]))
        count += 1


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def document(elements: list) -> bytes:
    body = b"".join(elements) + b"\0"
    return struct.pack("<i", len(body) + 4) + body


def string(key: str, value: str) -> bytes:
    encoded = value.encode() + b"\0"
    return b"\x02" + cstring(key) + struct.pack("<i", len(encoded)) + encoded


def int64(key: str, value: int) -> bytes:
    return b"\x12" + cstring(key) + struct.pack("<q", value)


def int32(key: str, value: int) -> bytes:
    return b"\x10" + cstring(key) + struct.pack("<i", value)


def embedded(key: str, value: bytes, array: bool = False) -> bytes:
    return (b"\x04" if array else b"\x03") + cstring(key) + value


def oid(key: str, seed: int) -> bytes:
    return b"\x07" + cstring(key) + bytes((seed + i) % 256 for i in range(12))


def address(depth: int) -> bytes:
    elements = [string("city", "Lisbon"), embedded("lines", document([string("0", "a"), string("1", "b")]), array=True)]
    if depth > 0:
        elements.append(embedded("inner", address(depth - 1)))
    return document(elements)


person = [oid("_id", 1), string("name", "Ada"), int64("age", 36), int32("small", 7), string("email", "a@b.c"),
          embedded("tags", document([string("0", "x")]), array=True),
          embedded("counts", document([int64("a", 1), int64("b", 2)])),
          embedded("address", address(3)), oid("friend", 9),
          embedded("friends", document([oid("0", 3), oid("1", 4)]), array=True)]
write(document(person))
write(document([e for e in person if not e.startswith(b"\x02email")]))   # required field missing
write(document([oid("_id", 2), string("age", "not a number"), string("email", "x")]))   # wrong type
write(document([oid("_id", 3), string("email", "x"), embedded("address", address(120))]))   # too deep
count += 4
print(f"{count} seeds written to {out}")
