#!/usr/bin/env python3
"""Writes bench/out/rebuilt-oci: the reference image with its top layer
replaced by a new small one (same base layers), as a rebuild after an
application change makes. Used by bench.py's "rebuilt image" case."""
import gzip, hashlib, io, json, os, shutil, sys, tarfile, time

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "out", "reference-oci")
dst = os.path.join(here, "out", "rebuilt-oci")

def blob(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":"))

idx = json.load(open(os.path.join(src, "index.json")))
md = idx["manifests"][0]
man = json.load(open(blob(src, md["digest"])))
cfg = json.load(open(blob(src, man["config"]["digest"])))
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst)

raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as tf:
    data = ("rebuilt at %f\n" % time.time()).encode()
    ti = tarfile.TarInfo("app/BUILD_ID"); ti.size = len(data); ti.mtime = 1700000000
    tf.addfile(ti, io.BytesIO(data))
rawb = raw.getvalue()
gz = gzip.compress(rawb, mtime=0)
def put(b):
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    open(blob(dst, d), "wb").write(b)
    return d, len(b)
ld, ls = put(gz)
man["layers"][-1] = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}
cfg["rootfs"]["diff_ids"][-1] = "sha256:" + hashlib.sha256(rawb).hexdigest()
cd, cs = put(json.dumps(cfg).encode())
man["config"]["digest"], man["config"]["size"] = cd, cs
mdg, ms = put(json.dumps(man).encode())
idx["manifests"] = [{"mediaType": md["mediaType"], "digest": mdg, "size": ms,
                     "annotations": {"org.opencontainers.image.ref.name": "ref"}}]
json.dump(idx, open(os.path.join(dst, "index.json"), "w"))
print(dst)
