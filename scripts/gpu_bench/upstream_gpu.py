#!/usr/bin/env python3
"""Upstream transformers' Xcodec2Model on a GPU (or the CPU), timed as scripts/gpu_bench/bench.ts times ours.

  python3 upstream_gpu.py --model CONVERTED_DIR --clip WAV --out FILE [--clips 8] [--seconds 10] [--repeats 3]
                          [--device cuda|cpu] [--xcodec2-src DIR]

Same protocol and inputs as ours: `clips` clips of `seconds` each, loops of the WAV at offsets i*7919 samples; one
warm-up call of each shape, then `repeats` rounds of the per-clip loop (batch 1) and of one call over all clips; the
figure is a round's median over the clips. Encode includes the feature extractor (numpy, as ours includes its
fbank) and the copy of the codes to the host; decode includes the copy of the audio to the host. Upstream's batches
pad to the longest clip; every clip here is the same length, so its padding leak does not enter the timing.

Where the installed transformers has no xcodec2 (transformers < the release that merged it), --xcodec2-src names a
folder with upstream's five model files (transformers commit 92d02b50, src/transformers/models/xcodec2/): the
installed package is copied to a private folder, the files go into it, and that copy is imported; the installed
one is never changed. Writes {ok, error?, info, runs}; on failure ok is false with the reason, exit status 0, so the
caller's report shows why.
"""

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback


def read_wav(path):
    """16 kHz WAV, PCM 16-bit or float 32-bit (the reference clips are float), downmixed to mono."""
    import struct

    import numpy as np

    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"RIFF" or b[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", b[pos + 8:pos + 24])
        elif cid == b"data":
            data = b[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if rate != 16000:
        raise ValueError(f"{path}: {rate} Hz, 16000 expected")
    if tag == 1 and bits == 16:
        x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif tag == 3 and bits == 32:
        x = np.frombuffer(data, dtype="<f4").astype(np.float32)
    else:
        raise ValueError(f"{path}: format {tag} with {bits} bits; PCM 16 or float 32 expected")
    return x.reshape(-1, channels).mean(axis=1).astype(np.float32)


def clips_from(src, count, seconds):
    import numpy as np

    n = int(round(seconds * 16000))
    idx = np.arange(n)
    return [np.ascontiguousarray(src[(idx + (i * 7919) % len(src)) % len(src)]) for i in range(count)]


def import_xcodec2(src_dir, from_src):
    """Xcodec2Model and its feature extractor: from transformers, else from a private copy with upstream's files."""
    if not from_src:
        try:
            from transformers import Xcodec2FeatureExtractor, Xcodec2Model  # noqa: F401

            return Xcodec2Model, Xcodec2FeatureExtractor, "installed transformers"
        except ImportError:
            pass
    if not src_dir or not os.path.isfile(os.path.join(src_dir, "modeling_xcodec2.py")):
        raise RuntimeError(f"this transformers has no xcodec2 and --xcodec2-src ({src_dir}) holds no modeling_xcodec2.py")
    import importlib.util

    installed = os.path.dirname(importlib.util.find_spec("transformers").origin)
    site = tempfile.mkdtemp(prefix="xcodec2-transformers-")
    atexit.register(shutil.rmtree, site, True)
    shutil.copytree(installed, os.path.join(site, "transformers"), symlinks=True)
    dst = os.path.join(site, "transformers", "models", "xcodec2")
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src_dir):
        if f.endswith(".py"):
            shutil.copy(os.path.join(src_dir, f), dst)
    for m in [k for k in sys.modules if k == "transformers" or k.startswith("transformers.")]:
        del sys.modules[m]
    sys.path.insert(0, site)
    from transformers.models.xcodec2.feature_extraction_xcodec2 import Xcodec2FeatureExtractor
    from transformers.models.xcodec2.modeling_xcodec2 import Xcodec2Model

    return Xcodec2Model, Xcodec2FeatureExtractor, f"upstream files from {src_dir} in a copy of transformers"


def time_both(count, repeats, one, batch, sync):
    one(0)
    batch()
    sync()
    loop, whole = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(count):
            one(i)
        sync()
        loop.append(time.perf_counter() - t)
        t = time.perf_counter()
        batch()
        sync()
        whole.append(time.perf_counter() - t)
    lm, bm = statistics.median(loop), statistics.median(whole)
    return {
        "batch1": {"perClip": lm / count, "rounds": loop},
        "batchN": {"perClip": bm / count, "rounds": whole},
        "batchedSpeedup": lm / bm,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--clip", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default=None, help="cuda when available, else cpu")
    ap.add_argument("--xcodec2-src", default=os.environ.get("XCODEC2_UPSTREAM_SRC"))
    ap.add_argument("--from-src", action="store_true", help="use --xcodec2-src even where transformers has xcodec2")
    a = ap.parse_args()
    result = {"ok": False, "runs": {}, "info": {}}
    try:
        import numpy as np
        import torch
        import transformers

        Model, FE, origin = import_xcodec2(a.xcodec2_src, a.from_src)
        dev = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
        info = result["info"]
        info.update({
            "origin": origin, "torch": torch.__version__, "transformers": transformers.__version__,
            "device": dev, "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else None,
            "allow_tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "allow_tf32_cudnn": torch.backends.cudnn.allow_tf32,
            "torch_threads": torch.get_num_threads(), "dtype": "float32", "mode": "eager, eval, inference_mode",
        })
        t = time.perf_counter()
        model = Model.from_pretrained(a.model).eval().to(dev)
        fe = FE.from_pretrained(a.model)
        info["load_s"] = time.perf_counter() - t
        info["attn_implementation"] = getattr(model.config, "_attn_implementation", None)
        clips = clips_from(read_wav(a.clip), a.clips, a.seconds)
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

        def encode(items):
            x = fe(audio=items, sampling_rate=16000, return_tensors="pt")
            x = {k: v.to(dev) for k, v in x.items()}
            out = model.encode(x["input_values"], x["input_features"], padding_mask=x["padding_mask"],
                               input_features_mask=x["input_features_mask"])
            return out.audio_codes.cpu()

        with torch.inference_mode():
            codes1 = encode([clips[0]])
            k = codes1.shape[-1]
            g = torch.Generator().manual_seed(12345)
            codes = torch.randint(0, 65536, (a.clips, 1, k), generator=g).to(dev)

            def decode(c):
                return model.decode(audio_codes=c).audio_values.cpu()

            result["runs"]["encode fp32"] = time_both(a.clips, a.repeats, lambda i: encode([clips[i]]),
                                                      lambda: encode(clips), sync)
            result["runs"]["decode fp32"] = time_both(a.clips, a.repeats, lambda i: decode(codes[i:i + 1]),
                                                      lambda: decode(codes), sync)
        if dev == "cuda":
            info["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
        result["ok"] = True
    except Exception as e:  # the report says why; the caller still writes its own figures
        result["error"] = f"{type(e).__name__}: {e}".split("\n")[0]
        traceback.print_exc()
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, a.out)
    print(json.dumps({k: result[k] for k in ("ok", "error") if k in result}))


if __name__ == "__main__":
    main()
