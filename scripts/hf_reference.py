#!/usr/bin/env python3
"""Reference fixtures for medforget's Qwen2.5-VL parity tests, produced by Hugging Face transformers.

Run once, offline, on a machine with python3, torch, transformers 5.x, peft, safetensors and numpy:

    python3 scripts/hf_reference.py OUT_DIR          (or: OUT=/dir bash scripts/hf_reference.sh)

Everything runs on the CPU in float32 with eager attention, from fixed seeds. It writes, under OUT_DIR:

    model_a/, model_b/          two tiny random Qwen2_5_VLForConditionalGeneration checkpoints (save_pretrained)
                                with preprocessor_config.json and generation_config.json
    lora_a/, lora_a_text/       PEFT LoRA adapters for model A (save_pretrained)
    images_ref.safetensors      synthetic uint8 images and the image processor's pixel_values / image_grid_thw
    model_a_ref.safetensors     batched and unbatched forward / rope-index / generation references for model A
    model_b_ref.safetensors     the same for model B (tied embeddings, several images per row, a text-only row)
    lora_a_ref.safetensors      logits of model A with each adapter, and with lora_a merged (merge_and_unload())
    meta.json                   every file, tensor (dtype, shape, meaning), config, version, class and check
    README.md                   the format, for tests/fixtures/hf/

Every section runs inside its own try/except: a failure logs the full traceback, is recorded in
meta.json ("sections", "errors") and the script goes on with whatever does not depend on it.
Exit status: 0 when every section, optional step and check passed; 2 when every section passed but an
optional step failed or a check exceeded its tolerance; 1 when a section failed. The fixtures written
are kept in every case.
"""

import copy
import datetime
import hashlib
import importlib
import inspect
import json
import math
import os
import platform
import sys
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

T0 = time.time()


def log(*parts):
    print(f"[{time.time() - T0:7.2f}s]", *parts, flush=True)


# ---------------------------------------------------------------------------------------------
# Constants: token ids, image geometry, the two model specifications, the sequences.
# ---------------------------------------------------------------------------------------------

SEED = 20250611
VOCAB = 600
# Special ids follow medforget's tokenizer (docs/MODEL.md): control symbols 1-6; video pad added at 7.
PAD_ID = 1  # <|endoftext|>: padding, bos
IM_START = 2  # <|im_start|>
IM_END = 3  # <|im_end|>: eos
VISION_START = 4  # <|vision_start|>
IMAGE_PAD = 5  # <|image_pad|>
VISION_END = 6  # <|vision_end|>
VIDEO_PAD = 7  # <|video_pad|>
FIRST_TEXT_ID = 8  # ordinary text ids are drawn from [8, VOCAB)
SUPPRESSED_IN_GENERATION = [VISION_START, IMAGE_PAD, VISION_END, VIDEO_PAD]

PATCH = 14
MERGE = 2
TEMPORAL_PATCH = 2
FACTOR = PATCH * MERGE  # 28
MIN_PIXELS = 56 * 56  # 3136: one merged token
MAX_PIXELS = 28 * 28 * 16  # 12544: at most 64 patches = 16 merged tokens per image
MAX_POSITIONS = 512
NEW_TOKENS = 8

# (name, height, width, kind). Expected grids (t, h, w) in patches follow smart_resize.
IMAGE_SPECS = [
    ("rgb_60x100", 60, 100, "rgb"),  # -> 56x112, grid (1,4,8), 8 tokens
    ("rgb_57x113", 57, 113, "rgb"),  # -> 56x112, grid (1,4,8), 8 tokens, odd sizes
    ("rgb_224x224", 224, 224, "rgb"),  # -> 112x112 forced DOWN by max_pixels, grid (1,8,8), 16 tokens
    ("rgb_30x40", 30, 40, "rgb"),  # -> 56x84 forced UP by min_pixels, grid (1,4,6), 6 tokens
    ("gray_64x48", 64, 48, "gray"),  # grayscale replicated to 3 channels -> 56x56, grid (1,4,4), 4 tokens
    ("rgb_56x56", 56, 56, "rgb"),  # already a multiple of 28: resize to the same size
]

SPECS = {
    "model_a": {
        "description": "untied embeddings; vision depth 4, windowed attention (window_size 56 = 2x2 merged "
        "tokens per window) with full attention in blocks 1 and 3; GQA 4 heads / 2 kv heads",
        "vision": dict(depth=4, hidden_size=32, intermediate_size=64, num_heads=2, window_size=56,
                       fullatt_block_indexes=[1, 3]),
        "text": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, mrope_section=[2, 3, 3], rope_theta=1000000.0),
        "tie": False,
        "seed": SEED + 1,
    },
    "model_b": {
        "description": "tied embeddings; vision depth 3, window_size 84 (3x3 merged tokens per window, so "
        "windows are partial) with full attention in block 2; MQA 4 heads / 1 kv head; 3 decoder layers",
        "vision": dict(depth=3, hidden_size=48, intermediate_size=96, num_heads=3, window_size=84,
                       fullatt_block_indexes=[2]),
        "text": dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                     num_key_value_heads=1, mrope_section=[4, 2, 2], rope_theta=10000.0),
        "tie": True,
        "seed": SEED + 2,
    },
}

# Each row is a list of segments: ("tok", id), ("text", n random ids), ("image", image name)
# which becomes <|vision_start|> <|image_pad|> x N <|vision_end|>.
CASES = {
    "model_a": {
        "batch": [
            [("tok", IM_START), ("text", 5), ("image", "rgb_60x100"), ("text", 7), ("tok", IM_END),
             ("tok", IM_START), ("text", 2)],
            [("tok", IM_START), ("text", 3), ("image", "rgb_224x224"), ("text", 4), ("tok", IM_END),
             ("tok", IM_START), ("text", 2)],
            [("tok", IM_START), ("text", 9), ("image", "rgb_30x40"), ("text", 12), ("tok", IM_END),
             ("tok", IM_START), ("text", 1)],
        ],
    },
    "model_b": {
        "batch": [
            [("tok", IM_START), ("text", 4), ("image", "rgb_57x113"), ("text", 6), ("tok", IM_END),
             ("tok", IM_START), ("text", 2)],
            [("tok", IM_START), ("text", 14), ("tok", IM_END), ("tok", IM_START), ("text", 1)],
            [("tok", IM_START), ("text", 2), ("image", "gray_64x48"), ("text", 3), ("image", "rgb_30x40"),
             ("text", 5), ("tok", IM_END), ("tok", IM_START), ("text", 2)],
        ],
        "textonly": [
            [("tok", IM_START), ("text", 10), ("tok", IM_END), ("tok", IM_START), ("text", 1)],
        ],
    },
}

LORA_TARGETS_LIST = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_TARGETS_TEXT_REGEX = (
    r"(?:.*\.)?(?:language_model|model)\.layers\.\d+\.(?:self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)"
)

# ---------------------------------------------------------------------------------------------
# Bookkeeping: sections, soft steps, fixture files, meta.json
# ---------------------------------------------------------------------------------------------

META = {
    "format_version": 1,
    "producer": "medforget scripts/hf_reference.py",
    "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    "sections": {},
    "errors": [],
    "soft_failures": [],
    "warnings": [],
    "checks": {},
    "files": {},
    "constants": {
        "seed": SEED, "vocab_size": VOCAB,
        "special_ids": {"<|endoftext|> (pad, bos)": PAD_ID, "<|im_start|>": IM_START, "<|im_end|> (eos)": IM_END,
                        "<|vision_start|>": VISION_START, "<|image_pad|>": IMAGE_PAD,
                        "<|vision_end|>": VISION_END, "<|video_pad|>": VIDEO_PAD},
        "first_text_id": FIRST_TEXT_ID,
        "patch_size": PATCH, "spatial_merge_size": MERGE, "temporal_patch_size": TEMPORAL_PATCH,
        "min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS, "new_tokens": NEW_TOKENS,
        "suppressed_in_generation": SUPPRESSED_IN_GENERATION,
    },
}
STATE = {}
FIXTURES = {}
DESCRIPTIONS = {}
NOTES = {}

if len(sys.argv) != 2:
    print("usage: python3 scripts/hf_reference.py OUT_DIR", file=sys.stderr)
    sys.exit(2)
OUT = os.path.abspath(sys.argv[1])
os.makedirs(OUT, exist_ok=True)


def run_section(name, fn, needs=()):
    log(f"==== {name} ====")
    t = time.time()
    missing = [n for n in needs if n not in STATE]
    if missing:
        msg = f"skipped: needs {missing}, which an earlier section did not produce"
        log(f"---- {name}: {msg}")
        META["sections"][name] = {"status": "skipped", "reason": msg}
        return
    try:
        fn()
        META["sections"][name] = {"status": "ok", "seconds": round(time.time() - t, 2)}
        log(f"---- {name}: ok ({time.time() - t:.1f}s)")
    except Exception as e:  # noqa: BLE001 - every failure is logged and recorded
        tb = traceback.format_exc()
        log(f"!!!! {name}: FAILED\n{tb}")
        META["sections"][name] = {"status": "failed", "error": repr(e), "seconds": round(time.time() - t, 2)}
        META["errors"].append({"section": name, "error": repr(e), "traceback": tb})


def soft(step, fn, default=None):
    """Run an optional step; log and record its failure, return default."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exc()
        log(f"  (soft failure) {step}:\n{tb}")
        META["soft_failures"].append({"step": step, "error": repr(e), "traceback": tb})
        return default


def warn(msg):
    log(f"  WARNING: {msg}")
    META["warnings"].append(msg)


def check(name, value, tol=None):
    """Record a numeric check (max abs diff etc.) in meta.json; tol marks pass/fail."""
    entry = {"value": value}
    if tol is not None:
        entry["tolerance"] = tol
        entry["pass"] = isinstance(value, (int, float)) and bool(value <= tol)
        if not entry["pass"]:
            warn(f"check {name} = {value} fails tolerance {tol}")
    META["checks"][name] = entry
    log(f"  check {name}: {value}" + ("" if tol is None else f" (tolerance {tol})"))


def put(fname, name, tensor, desc):
    import torch
    t = tensor.detach().cpu()
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    FIXTURES.setdefault(fname, {})[name] = t.contiguous().clone()
    DESCRIPTIONS.setdefault(fname, {})[name] = desc


def note(fname, key, value):
    NOTES.setdefault(fname, {})[key] = value


def flush(fname):
    from safetensors.torch import save_file
    tensors = FIXTURES.get(fname, {})
    path = os.path.join(OUT, fname)
    save_file(tensors, path, metadata={"format": "pt", "producer": "medforget scripts/hf_reference.py"})
    META["files"][fname] = {
        "kind": "safetensors",
        "bytes": os.path.getsize(path),
        "tensors": {
            n: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                "description": DESCRIPTIONS[fname][n]}
            for n, t in sorted(tensors.items())
        },
        "notes": NOTES.get(fname, {}),
    }


def jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


def max_abs_diff(a, b):
    import torch
    if a is None or b is None:
        return None
    if tuple(a.shape) != tuple(b.shape):
        return f"shape mismatch {tuple(a.shape)} vs {tuple(b.shape)}"
    if a.numel() == 0:
        return 0.0
    return float((a.double() - b.double()).abs().max().item()) if a.is_floating_point() or b.is_floating_point() \
        else float((a.to(torch.int64) - b.to(torch.int64)).abs().max().item())


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Section 1: versions and environment
# ---------------------------------------------------------------------------------------------

def sec_versions():
    info = {"python": sys.version, "executable": sys.executable, "platform": platform.platform(),
            "argv": sys.argv, "cwd": os.getcwd(), "cpu_count": os.cpu_count()}
    for mod in ["torch", "transformers", "peft", "tokenizers", "safetensors", "numpy", "huggingface_hub",
                "accelerate", "PIL", "torchvision"]:
        try:
            m = importlib.import_module(mod)
            info[mod] = getattr(m, "__version__", "present, no __version__")
        except Exception as e:  # noqa: BLE001
            info[mod] = f"unavailable: {e!r}"
    META["versions"] = info
    for k, v in info.items():
        log(f"  {k}: {v}")
    import numpy as np
    import torch
    torch.manual_seed(SEED)
    np.random.seed(SEED % (2**32))
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    META["versions"]["torch_num_threads"] = torch.get_num_threads()
    # Source files read by this run (sha256), so a later reader knows exactly which code made the fixtures.
    sources = {}
    for modname in ["transformers.models.qwen2_5_vl.modeling_qwen2_5_vl",
                    "transformers.models.qwen2_5_vl.configuration_qwen2_5_vl",
                    "transformers.models.qwen2_vl.modeling_qwen2_vl",
                    "transformers.models.qwen2_vl.configuration_qwen2_vl",
                    "transformers.models.qwen2_vl.image_processing_qwen2_vl",
                    "transformers.models.qwen2_vl.image_processing_pil_qwen2_vl",
                    "transformers.models.qwen2_vl.image_processing_qwen2_vl_fast",
                    "transformers.models.qwen2_vl.vision_utils",
                    "transformers.vision_utils",
                    "transformers.generation.utils",
                    "peft.tuners.lora.layer"]:
        try:
            m = importlib.import_module(modname)
            path = inspect.getsourcefile(m)
            sources[modname] = {"path": path, "sha256": sha256_file(path)}
        except Exception as e:  # noqa: BLE001
            sources[modname] = f"unavailable: {e!r}"
    META["source_files"] = sources
    import transformers
    from transformers import Qwen2_5_VLForConditionalGeneration
    sigs = {"Qwen2_5_VLForConditionalGeneration.forward":
            str(inspect.signature(Qwen2_5_VLForConditionalGeneration.forward))}
    for owner in ("Qwen2_5_VLModel", "Qwen2_5_VLForConditionalGeneration"):
        cls = getattr(transformers, owner, None)
        if cls is not None and hasattr(cls, "get_rope_index"):
            sigs[f"{owner}.get_rope_index"] = str(inspect.signature(cls.get_rope_index))
    META["signatures"] = sigs
    for k, v in sigs.items():
        log(f"  {k}{v}")
    STATE["accepts_mm_token_type_ids"] = "mm_token_type_ids" in inspect.signature(
        Qwen2_5_VLForConditionalGeneration.forward).parameters
    META["accepts_mm_token_type_ids"] = STATE["accepts_mm_token_type_ids"]
    STATE["versions_ok"] = True


# ---------------------------------------------------------------------------------------------
# Section 2: images and the image processor
# ---------------------------------------------------------------------------------------------

def make_image(rng, h, w, kind):
    import numpy as np
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(3):
        p1, p2 = rng.uniform(0.0, 2 * math.pi, size=2)
        chans.append(128.0 + 90.0 * np.sin(xx / (3.0 + 2.0 * c) + p1) * np.cos(yy / (4.0 + c) + p2))
    img = np.stack(chans, axis=-1) + rng.normal(0.0, 25.0, size=(h, w, 3))
    if kind == "gray":
        img = np.repeat(img.mean(axis=-1, keepdims=True), 3, axis=-1)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def smart_resize_replica(height, width, factor=FACTOR, min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS):
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def find_image_processor_classes():
    import transformers
    names = ["Qwen2VLImageProcessorPil", "Qwen2VLImageProcessor", "Qwen2VLImageProcessorFast",
             "Qwen2_5_VLImageProcessor", "Qwen2_5_VLImageProcessorPil", "Qwen2_5_VLImageProcessorFast"]
    modules = ["transformers.models.qwen2_vl.image_processing_pil_qwen2_vl",
               "transformers.models.qwen2_vl.image_processing_qwen2_vl",
               "transformers.models.qwen2_vl.image_processing_qwen2_vl_fast",
               "transformers.models.qwen2_5_vl.image_processing_qwen2_5_vl"]
    found, report = {}, {}
    for n in names:
        try:
            c = getattr(transformers, n)
            if isinstance(c, type):
                found[n] = c
                report[n] = f"transformers.{n} -> {c.__module__}.{c.__qualname__}"
        except Exception as e:  # noqa: BLE001
            report[n] = f"transformers.{n}: {e!r}"
    for modname in modules:
        try:
            m = importlib.import_module(modname)
        except Exception as e:  # noqa: BLE001
            report[modname] = f"import failed: {e!r}"
            continue
        for n in names:
            c = getattr(m, n, None)
            if isinstance(c, type) and n not in found:
                found[n] = c
                report[n] = f"{modname}.{n}"

    def mro_names(c):
        return [b.__name__ for b in c.__mro__]

    def is_fast(c):
        mro = mro_names(c)
        return (c.__name__.endswith("Fast") or "BaseImageProcessorFast" in mro or "TorchvisionBackend" in mro)

    unique, seen = [], set()
    for n, c in found.items():
        if id(c) in seen:
            continue
        seen.add(id(c))
        unique.append((n, c))
    # The numpy/PIL ("slow") implementation first: it is what the brief asks for as the reference.
    unique.sort(key=lambda nc: (is_fast(nc[1]), 0 if nc[1].__name__.endswith("Pil") else 1, nc[0]))
    META["image_processor_classes"] = {
        "lookup": report,
        "candidates_in_order": [{"name": n, "class": f"{c.__module__}.{c.__qualname__}", "fast": is_fast(c),
                                 "mro": mro_names(c)} for n, c in unique],
    }
    return unique


def make_processor(cls):
    attempts = [dict(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS),
                dict(size={"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}),
                dict(size={"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS})]
    last = None
    for kw in attempts:
        try:
            return cls(**kw), kw
        except Exception as e:  # noqa: BLE001
            last = e
            log(f"  {cls.__name__}({kw}) raised {e!r}")
    raise RuntimeError(f"cannot construct {cls.__name__}: {last!r}")


def run_processor(proc, images):
    out = proc(images=images, return_tensors="pt")
    pv = out["pixel_values"]
    grid = out["image_grid_thw"]
    import torch
    if not isinstance(pv, torch.Tensor):
        pv = torch.as_tensor(pv)
    if not isinstance(grid, torch.Tensor):
        grid = torch.as_tensor(grid)
    return pv, grid.to(torch.int64)


def fallback_process(img):
    """NOT transformers: used only when no transformers image processor works, so that the model
    sections still have pixel values (they are saved, so the model references stay exact)."""
    import torch
    import torch.nn.functional as F
    h, w = img.shape[:2]
    rh, rw = smart_resize_replica(h, w)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].double()
    x = F.interpolate(x, size=(rh, rw), mode="bicubic", align_corners=False, antialias=True)
    x = x.round().clamp(0, 255)[0] / 255.0
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073], dtype=torch.float64)[:, None, None]
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711], dtype=torch.float64)[:, None, None]
    x = ((x - mean) / std).float()
    x = x[None].expand(TEMPORAL_PATCH, -1, -1, -1)  # (T, C, H, W)
    gh, gw = rh // PATCH, rw // PATCH
    x = x.reshape(1, TEMPORAL_PATCH, 3, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gh * gw, 3 * TEMPORAL_PATCH * PATCH * PATCH)
    return x.contiguous(), torch.tensor([[1, gh, gw]], dtype=torch.int64)


def sec_images():
    import numpy as np
    import torch
    rng = np.random.default_rng(SEED)
    images = {}
    fname = "images_ref.safetensors"
    for name, h, w, kind in IMAGE_SPECS:
        img = make_image(rng, h, w, kind)
        images[name] = img
        put(fname, f"image.{name}", torch.from_numpy(img.copy()),
            f"input image {name}: uint8 [height={h}, width={w}, 3] RGB, channels last"
            + (" (grayscale: the three channels are equal)" if kind == "gray" else ""))
    STATE["images"] = images
    note(fname, "image_specs", [{"name": n, "height": h, "width": w, "kind": k,
                                 "expected_resized_hw": list(smart_resize_replica(h, w))}
                                for n, h, w, k in IMAGE_SPECS])
    note(fname, "how_images_were_passed",
         "each image alone as proc(images=[numpy uint8 HxWx3], return_tensors='pt'); the batch check passes "
         "two images in one call")
    flush(fname)

    candidates = find_image_processor_classes()
    log(f"  image processor candidates: {[n for n, _ in candidates]}")
    primary = None
    proc_out = {}
    for cname, cls in candidates:
        try:
            proc, ctor_kwargs = make_processor(cls)
            res = {}
            for name, _, _, _ in IMAGE_SPECS:
                res[name] = run_processor(proc, [images[name]])
        except Exception as e:  # noqa: BLE001
            tb = traceback.format_exc()
            log(f"  image processor {cname} failed:\n{tb}")
            META["soft_failures"].append({"step": f"image processor {cname}", "error": repr(e), "traceback": tb})
            continue
        proc_info = {"name": cname, "class": f"{cls.__module__}.{cls.__qualname__}",
                     "constructor_kwargs": ctor_kwargs, "to_dict": jsonable(soft("to_dict", proc.to_dict, {}))}
        if primary is None:
            primary = (cname, cls, proc)
            META["image_processor_used"] = proc_info
            META["image_processor_used"]["pixel_values_dtype_returned"] = str(res[IMAGE_SPECS[0][0]][0].dtype)
            for name, h, w, _ in IMAGE_SPECS:
                pv, grid = res[name]
                pv = pv.to(torch.float32)  # the vision tower casts to float32 first thing anyway
                proc_out[name] = (pv, grid)
                put(fname, f"processor.{name}.pixel_values", pv,
                    f"{cname} pixel_values of {name} (stored as float32; meta.json image_processor_used."
                    f"pixel_values_dtype_returned is what the processor returned): "
                    f"[grid_t*grid_h*grid_w, 3*{TEMPORAL_PATCH}*{PATCH}*{PATCH}], rows = patches in merge-block "
                    "order (2x2 blocks row-major, patches row-major inside a block), columns = (channel, "
                    "temporal copy, row, column)")
                put(fname, f"processor.{name}.image_grid_thw", grid, f"{cname} image_grid_thw of {name}: [1, 3]")
                exp = smart_resize_replica(h, w)
                got = [int(v) for v in grid[0].tolist()]
                if got != [1, exp[0] // PATCH, exp[1] // PATCH]:
                    warn(f"{cname}: grid of {name} is {got}, smart_resize replica expects "
                         f"[1, {exp[0] // PATCH}, {exp[1] // PATCH}]")
                log(f"  {cname} {name}: grid {got}, pixel_values {tuple(pv.shape)} {pv.dtype}")
        else:
            diffs = {}
            for name, _, _, _ in IMAGE_SPECS:
                pv, grid = res[name]
                pv = pv.to(torch.float32)
                d = max_abs_diff(pv, proc_out[name][0])
                gd = max_abs_diff(grid, proc_out[name][1])
                diffs[name] = {"pixel_values_max_abs_diff_vs_primary": d, "grid_diff": gd}
                if d != 0.0 or gd != 0.0:
                    put(fname, f"processor_alt.{cname}.{name}.pixel_values", pv,
                        f"{cname} (not the primary processor) pixel_values of {name}; differs from the primary")
                    put(fname, f"processor_alt.{cname}.{name}.image_grid_thw", grid,
                        f"{cname} image_grid_thw of {name}")
            proc_info["compared_with_primary"] = diffs
            META.setdefault("image_processor_alternatives", []).append(proc_info)
            log(f"  {cname} vs primary: {json.dumps(diffs)}")
    if primary is None:
        warn("no transformers image processor worked: pixel values come from this script's fallback "
             "(torch bicubic, antialias), NOT from transformers; the model references remain exact for them")
        META["image_processor_used"] = {"name": "FALLBACK (not transformers)"}
        for name, _, _, _ in IMAGE_SPECS:
            proc_out[name] = fallback_process(images[name])
            put(fname, f"fallback.{name}.pixel_values", proc_out[name][0], "fallback pixel values (NOT transformers)")
            put(fname, f"fallback.{name}.image_grid_thw", proc_out[name][1], "fallback grid")
    else:
        cname, cls, proc = primary
        STATE["processor"] = proc

        def batch_call():
            names = ["rgb_60x100", "rgb_30x40"]
            pv, grid = run_processor(proc, [images[n] for n in names])
            pv = pv.to(torch.float32)
            cat_pv = torch.cat([proc_out[n][0] for n in names])
            cat_grid = torch.cat([proc_out[n][1] for n in names])
            check("images.batch_call_vs_single_calls.pixel_values", max_abs_diff(pv, cat_pv), 0.0)
            check("images.batch_call_vs_single_calls.grid", max_abs_diff(grid, cat_grid), 0.0)
        soft("image processor batch call", batch_call)
    STATE["proc_out"] = proc_out
    flush(fname)


# ---------------------------------------------------------------------------------------------
# Section 3: configs, models (random weights), saving
# ---------------------------------------------------------------------------------------------

def text_kwargs(spec):
    t = spec["text"]
    return dict(vocab_size=VOCAB, hidden_size=t["hidden_size"], intermediate_size=t["intermediate_size"],
                num_hidden_layers=t["num_hidden_layers"], num_attention_heads=t["num_attention_heads"],
                num_key_value_heads=t["num_key_value_heads"], hidden_act="silu",
                max_position_embeddings=MAX_POSITIONS, rms_norm_eps=1e-6, use_cache=True,
                use_sliding_window=False, attention_dropout=0.0, initializer_range=0.02,
                bos_token_id=PAD_ID, eos_token_id=IM_END, pad_token_id=PAD_ID)


def vision_kwargs(spec):
    v = spec["vision"]
    return dict(depth=v["depth"], hidden_size=v["hidden_size"], intermediate_size=v["intermediate_size"],
                num_heads=v["num_heads"], hidden_act="silu", in_channels=3, patch_size=PATCH,
                spatial_merge_size=MERGE, temporal_patch_size=TEMPORAL_PATCH, window_size=v["window_size"],
                fullatt_block_indexes=list(v["fullatt_block_indexes"]),
                out_hidden_size=spec["text"]["hidden_size"], tokens_per_second=2, initializer_range=0.02)


def text_config_of(cfg):
    tc = getattr(cfg, "text_config", None)
    if tc is not None:
        return tc
    try:
        return cfg.get_text_config()
    except Exception:  # noqa: BLE001
        return cfg


def rope_info(tc):
    rp = getattr(tc, "rope_parameters", None) or getattr(tc, "rope_scaling", None) or {}
    rp = dict(rp)
    if "mrope_section" not in rp and rp and all(isinstance(v, dict) for v in rp.values()):
        rp = dict(rp.get("full_attention") or next(iter(rp.values())))
    theta = rp.get("rope_theta", getattr(tc, "rope_theta", None))
    return rp.get("mrope_section"), theta, rp


def config_problems(cfg, spec):
    problems = []
    vc = getattr(cfg, "vision_config", None)
    tc = text_config_of(cfg)
    for k, want in vision_kwargs(spec).items():
        got = getattr(vc, k, None)
        if k == "fullatt_block_indexes" and got is not None:
            got = list(got)
        if got != want:
            problems.append(f"vision_config.{k} = {got!r}, wanted {want!r}")
    for k, want in text_kwargs(spec).items():
        got = getattr(tc, k, None)
        if k == "eos_token_id" and isinstance(got, (list, tuple)) and list(got) == [want]:
            continue
        if got != want:
            problems.append(f"text_config.{k} = {got!r}, wanted {want!r}")
    for k, want in dict(image_token_id=IMAGE_PAD, video_token_id=VIDEO_PAD, vision_start_token_id=VISION_START,
                        vision_end_token_id=VISION_END).items():
        got = getattr(cfg, k, None)
        if got != want:
            problems.append(f"{k} = {got!r}, wanted {want!r}")
    ms, theta, _ = rope_info(tc)
    if ms is None or list(ms) != list(spec["text"]["mrope_section"]):
        problems.append(f"mrope_section = {ms!r}, wanted {spec['text']['mrope_section']!r}")
    if theta is None or float(theta) != float(spec["text"]["rope_theta"]):
        problems.append(f"rope_theta = {theta!r}, wanted {spec['text']['rope_theta']!r}")
    return problems


def build_config(spec):
    from transformers import Qwen2_5_VLConfig
    tie = spec["tie"]
    ms = list(spec["text"]["mrope_section"])
    theta = float(spec["text"]["rope_theta"])
    ids = dict(image_token_id=IMAGE_PAD, video_token_id=VIDEO_PAD, vision_start_token_id=VISION_START,
               vision_end_token_id=VISION_END)
    rope_params = {"rope_type": "default", "mrope_section": ms, "rope_theta": theta}
    attempts = [
        ("nested text_config with rope_parameters and tie_word_embeddings at both levels (transformers 5.x)",
         lambda: Qwen2_5_VLConfig(text_config={**text_kwargs(spec), "rope_parameters": dict(rope_params),
                                               "tie_word_embeddings": tie},
                                  vision_config=vision_kwargs(spec), tie_word_embeddings=tie, **ids)),
        ("nested text_config with rope_parameters, tie_word_embeddings at the top only",
         lambda: Qwen2_5_VLConfig(text_config={**text_kwargs(spec), "rope_parameters": dict(rope_params)},
                                  vision_config=vision_kwargs(spec), tie_word_embeddings=tie, **ids)),
        ("nested text_config with rope_scaling {type: mrope} + rope_theta (transformers 4.5x)",
         lambda: Qwen2_5_VLConfig(text_config={**text_kwargs(spec),
                                               "rope_scaling": {"type": "mrope", "mrope_section": ms},
                                               "rope_theta": theta, "tie_word_embeddings": tie},
                                  vision_config=vision_kwargs(spec), tie_word_embeddings=tie, **ids)),
        ("minimal keys only: nested text_config with rope_parameters, no ids/initializer_range/hidden_act",
         lambda: Qwen2_5_VLConfig(
             text_config={k: v for k, v in text_kwargs(spec).items()
                          if k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                   "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                                   "rms_norm_eps")} | {"rope_parameters": dict(rope_params)},
             vision_config={k: v for k, v in vision_kwargs(spec).items()
                            if k not in ("initializer_range", "hidden_act")},
             tie_word_embeddings=tie, **ids)),
        ("flat text kwargs (transformers <= 4.51)",
         lambda: Qwen2_5_VLConfig(vision_config=vision_kwargs(spec),
                                  rope_scaling={"type": "mrope", "mrope_section": ms}, rope_theta=theta,
                                  tie_word_embeddings=tie, **text_kwargs(spec), **ids)),
    ]
    first = None
    record = []
    for label, make in attempts:
        try:
            cfg = make()
        except Exception as e:  # noqa: BLE001
            log(f"  config attempt '{label}' raised {e!r}")
            record.append({"attempt": label, "error": repr(e)})
            continue
        for obj in (cfg, text_config_of(cfg)):
            try:
                obj.tie_word_embeddings = tie
            except Exception as e:  # noqa: BLE001
                log(f"  setting tie_word_embeddings on {type(obj).__name__} raised {e!r}")
        problems = config_problems(cfg, spec)
        record.append({"attempt": label, "problems": problems})
        if not problems:
            return cfg, label, record
        log(f"  config attempt '{label}' built but differs: {problems}")
        if first is None:
            first = (cfg, label)
    if first is not None:
        warn(f"no config attempt matched the specification exactly; using '{first[1]}'")
        return first[0], first[1], record
    raise RuntimeError(f"no Qwen2_5_VLConfig attempt succeeded: {record}")


def parts(model):
    """(visual, language model (embed_tokens/layers/norm/rotary_emb), lm_head) across transformers versions."""
    inner = getattr(model, "model", None)
    visual = getattr(inner, "visual", None)
    if visual is None:
        visual = getattr(model, "visual", None)
    lm = getattr(inner, "language_model", None)
    if lm is None:
        lm = inner
    return visual, lm, model.lm_head


def rope_owner(model):
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "get_rope_index"):
        return inner
    return model


def reset_rope_state(model):
    for m in model.modules():
        if hasattr(m, "rope_deltas"):
            try:
                m.rope_deltas = None
            except Exception:  # noqa: BLE001
                pass


def current_rope_deltas(model):
    for m in model.modules():
        rd = getattr(m, "rope_deltas", None)
        if rd is not None and hasattr(rd, "shape"):
            return rd
    return None


def build_model(cfg):
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration as M
    model = None
    for kw in (dict(attn_implementation="eager", dtype=torch.float32),
               dict(attn_implementation="eager", torch_dtype=torch.float32),
               dict(attn_implementation="eager")):
        try:
            model = M._from_config(cfg, **kw)
            log(f"  built with Qwen2_5_VLForConditionalGeneration._from_config(config, {list(kw)})")
            break
        except Exception as e:  # noqa: BLE001
            log(f"  _from_config({list(kw)}) raised {e!r}")
    if model is None:
        try:
            cfg._attn_implementation = "eager"
        except Exception as e:  # noqa: BLE001
            log(f"  setting config._attn_implementation raised {e!r}")
        model = M(cfg)
        log("  built with Qwen2_5_VLForConditionalGeneration(config)")
    return model.to(torch.float32).eval()


def attn_implementations(model):
    visual, lm, _ = parts(model)
    out = {}
    for label, obj in (("top", model), ("visual", visual), ("language_model", lm)):
        c = getattr(obj, "config", None)
        out[label] = getattr(c, "_attn_implementation", None) if c is not None else None
    return out


def randomize_(model, seed):
    """Every parameter redrawn from a fixed generator so activations are O(1) (the default 0.02 init
    gives near-uniform logits): matrices N(0, 1/fan_in), embeddings N(0, 0.5^2), biases N(0, 0.1^2),
    norm weights 1 + N(0, 0.1^2). Tied parameters are listed once by named_parameters()."""
    import torch
    g = torch.Generator().manual_seed(seed)
    summary = {}
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if p.ndim == 1 and name.endswith("bias"):
                new = torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1
                rule = "bias N(0,0.1^2)"
            elif p.ndim == 1:
                new = 1.0 + torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1
                rule = "norm 1+N(0,0.1^2)"
            elif "embed_tokens" in name:
                new = torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.5
                rule = "embedding N(0,0.5^2)"
            else:
                fan_in = p[0].numel()
                new = torch.randn(p.shape, generator=g, dtype=torch.float64) / math.sqrt(fan_in)
                rule = f"matrix N(0,1/{fan_in})"
            p.copy_(new.to(p.dtype))
            summary[name] = {"shape": list(p.shape), "init": rule}
    return summary


def tie_state(model):
    _, lm, head = parts(model)
    return head.weight.data_ptr() == lm.embed_tokens.weight.data_ptr()


def ensure_tie(model, want, name):
    import torch
    is_tied = tie_state(model)
    if is_tied == want:
        return
    warn(f"{name}: lm_head tied={is_tied} after construction, wanted {want}; fixing by hand")
    _, lm, head = parts(model)
    if want:
        head.weight = lm.embed_tokens.weight
    else:
        g = torch.Generator().manual_seed(SEED + 999)
        w = torch.randn(head.weight.shape, generator=g, dtype=torch.float64) / math.sqrt(head.weight.shape[1])
        head.weight = torch.nn.Parameter(w.to(head.weight.dtype))
    for obj in (model.config, text_config_of(model.config)):
        try:
            obj.tie_word_embeddings = want
        except Exception:  # noqa: BLE001
            pass
    if tie_state(model) != want:
        raise RuntimeError(f"{name}: could not make lm_head tied={want}")


def save_model(model, d):
    try:
        model.save_pretrained(d, safe_serialization=True)
    except Exception as e:  # noqa: BLE001
        log(f"  save_pretrained(safe_serialization=True) raised {e!r}; retrying without it")
        model.save_pretrained(d)


def safetensors_index(path):
    from safetensors import safe_open
    out = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
        for k in sorted(f.keys()):
            t = f.get_tensor(k)
            out[k] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
    return out, meta


def describe_dir(d):
    files = {}
    for fn in sorted(os.listdir(d)):
        p = os.path.join(d, fn)
        entry = {"bytes": os.path.getsize(p)}
        if fn.endswith(".json"):
            entry["content"] = soft(f"read {fn}", lambda: json.load(open(p)), None)
        if fn.endswith(".safetensors"):
            idx = soft(f"index {fn}", lambda: safetensors_index(p), None)
            if idx is not None:
                entry["tensors"], entry["metadata"] = idx
        files[fn] = entry
    return files


def make_model_section(name):
    def sec():
        import torch
        from transformers import GenerationConfig
        spec = SPECS[name]
        cfg, label, record = build_config(spec)
        log(f"  {name}: config built by '{label}'")
        model = build_model(cfg)
        ensure_tie(model, spec["tie"], name)
        init = randomize_(model, spec["seed"])
        ensure_tie(model, spec["tie"], name)
        visual, lm, head = parts(model)
        info = {"description": spec["description"], "config_attempt": label, "config_attempts": record,
                "class": f"{type(model).__module__}.{type(model).__qualname__}",
                "module_paths": {"visual": "model.visual" if getattr(model.model, "visual", None) is visual
                                 else "visual",
                                 "language_model": "model.language_model"
                                 if getattr(model.model, "language_model", None) is lm else "model",
                                 "lm_head": "lm_head"},
                "attn_implementation": attn_implementations(model), "tied": tie_state(model),
                "parameter_init": init,
                "config_to_dict": jsonable(soft("config.to_dict", model.config.to_dict, {}))}
        ms, theta, rp = rope_info(text_config_of(model.config))
        info["rope"] = {"mrope_section": ms, "rope_theta": theta, "parameters": jsonable(rp)}
        hd = spec["text"]["hidden_size"] // spec["text"]["num_attention_heads"]
        inv = getattr(getattr(lm, "rotary_emb", None), "inv_freq", None)
        if inv is not None:
            want = 1.0 / (spec["text"]["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
            check(f"{name}.text_rotary_inv_freq_vs_formula", max_abs_diff(inv.double(), want), 1e-6)
        for k, v in info["attn_implementation"].items():
            if v != "eager":
                warn(f"{name}: attention implementation of {k} is {v!r}, not 'eager'")
        log(f"  {name}: attn {info['attn_implementation']}, tied {info['tied']}, "
            f"params {sum(p.numel() for p in model.parameters())}")
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        save_model(model, d)
        if "processor" in STATE:
            soft(f"{name}: save preprocessor_config.json", lambda: STATE["processor"].save_pretrained(d))
        gen = GenerationConfig(bos_token_id=PAD_ID, eos_token_id=[IM_END, PAD_ID], pad_token_id=PAD_ID,
                               do_sample=False)
        soft(f"{name}: save generation_config.json", lambda: gen.save_pretrained(d))

        def auto_processor():
            from transformers import AutoImageProcessor
            ap = AutoImageProcessor.from_pretrained(d)
            entry = {"class": f"{type(ap).__module__}.{type(ap).__qualname__}"}
            if "images" in STATE and "proc_out" in STATE:
                pv, grid = run_processor(ap, [STATE["images"]["rgb_60x100"]])
                entry["rgb_60x100_max_abs_diff_vs_primary"] = max_abs_diff(pv, STATE["proc_out"]["rgb_60x100"][0])
            info["auto_image_processor"] = entry
            log(f"  AutoImageProcessor.from_pretrained({name}) -> {entry}")
        soft(f"{name}: AutoImageProcessor", auto_processor)
        info["files"] = describe_dir(d)
        META.setdefault("models", {})[name] = info
        META["files"][name + "/"] = {"kind": "Hugging Face model directory (save_pretrained)",
                                     "files": {k: {"bytes": v["bytes"]} for k, v in info["files"].items()}}
        STATE[name] = model
    return sec


# ---------------------------------------------------------------------------------------------
# Section 4: references (batched / text-only / unbatched forward, rope index, generation)
# ---------------------------------------------------------------------------------------------

def make_rows(rng, row_specs, proc_out):
    rows, images, descr = [], [], []
    for spec in row_specs:
        ids, d = [], []
        for kind, arg in spec:
            if kind == "tok":
                ids.append(int(arg))
                d.append(f"id {arg}")
            elif kind == "text":
                ids += [int(x) for x in rng.integers(FIRST_TEXT_ID, VOCAB, size=arg)]
                d.append(f"{arg} text ids")
            elif kind == "image":
                grid = proc_out[arg][1]
                n = int(grid.prod().item()) // (MERGE * MERGE)
                ids += [VISION_START] + [IMAGE_PAD] * n + [VISION_END]
                images.append(arg)
                d.append(f"<|vision_start|> {n} x <|image_pad|> ({arg}) <|vision_end|>")
            else:
                raise ValueError(kind)
        rows.append(ids)
        descr.append({"length": len(ids), "segments": d})
    return rows, images, descr


def collate(rows, images, proc_out):
    import torch
    B, L = len(rows), max(len(r) for r in rows)
    ids = torch.full((B, L), PAD_ID, dtype=torch.int64)
    am = torch.zeros((B, L), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, L - len(r):] = torch.tensor(r, dtype=torch.int64)
        am[i, L - len(r):] = 1
    mm = torch.zeros_like(ids)
    mm[ids == IMAGE_PAD] = 1
    mm[ids == VIDEO_PAD] = 2
    batch = {"input_ids": ids, "attention_mask": am, "mm_token_type_ids": mm}
    if images:
        batch["pixel_values"] = torch.cat([proc_out[n][0] for n in images], dim=0)
        batch["image_grid_thw"] = torch.cat([proc_out[n][1] for n in images], dim=0)
    return batch


def model_kwargs(batch):
    kw = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if "pixel_values" in batch:
        kw["pixel_values"] = batch["pixel_values"]
        kw["image_grid_thw"] = batch["image_grid_thw"]
    if STATE.get("accepts_mm_token_type_ids"):
        kw["mm_token_type_ids"] = batch["mm_token_type_ids"]
    return kw


def forward(model, batch, **extra):
    import torch
    reset_rope_state(model)
    with torch.no_grad():
        return model(**model_kwargs(batch), use_cache=False, **extra)


def rope_index(model, batch):
    owner = rope_owner(model)
    fn = owner.get_rope_index
    params = inspect.signature(fn).parameters
    var_kw = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
    kw = {}
    if "mm_token_type_ids" in params or (var_kw and STATE.get("accepts_mm_token_type_ids")):
        kw["mm_token_type_ids"] = batch["mm_token_type_ids"]
    if "image_grid_thw" in params or var_kw:
        kw["image_grid_thw"] = batch.get("image_grid_thw")
    if "video_grid_thw" in params or var_kw:
        kw["video_grid_thw"] = None
    if "attention_mask" in params or var_kw:
        kw["attention_mask"] = batch["attention_mask"]
    import torch
    with torch.no_grad():
        pos, deltas = fn(batch["input_ids"], **kw)
    return pos, deltas, f"{type(owner).__name__}.get_rope_index"


def greedy(model, batch, use_cache=True):
    import torch
    from transformers import GenerationConfig
    gc = GenerationConfig(do_sample=False, num_beams=1, max_new_tokens=NEW_TOKENS, eos_token_id=None,
                          pad_token_id=PAD_ID, bos_token_id=PAD_ID, suppress_tokens=list(SUPPRESSED_IN_GENERATION),
                          use_cache=use_cache)
    saved = model.generation_config
    model.generation_config = gc
    try:
        reset_rope_state(model)
        with torch.no_grad():
            try:
                out = model.generate(**model_kwargs(batch), generation_config=gc, return_dict_in_generate=True,
                                     output_logits=True)
                steps = out.logits
            except TypeError as e:
                log(f"  generate(output_logits=True) raised {e!r}; retrying with output_scores")
                out = model.generate(**model_kwargs(batch), generation_config=gc, return_dict_in_generate=True,
                                     output_scores=True)
                steps = out.scores
    finally:
        model.generation_config = saved
    seq = out.sequences
    step_logits = torch.stack([s.float() for s in steps], dim=0) if steps else None
    return seq, step_logits


def capture_single(model, batch, fname, prefix):
    """Forward one unpadded sequence with hooks on the vision tower and decoder; store intermediates."""
    import torch
    visual, lm, _ = parts(model)
    rec = {}
    handles = []

    def first(o):
        if isinstance(o, (tuple, list)):
            return o[0]
        if hasattr(o, "last_hidden_state"):
            return o.last_hidden_state
        return o

    def out_hook(key):
        def f(module, args, output):
            rec[key] = first(output).detach().clone()
        return f

    def blk_pre(i):
        def f(module, args, kwargs):
            hs = args[0] if args else kwargs.get("hidden_states")
            rec[f"vision.block{i}.in"] = hs.detach().clone()
            cu = kwargs.get("cu_seqlens", args[1] if len(args) > 1 else None)
            if cu is not None:
                rec[f"vision.block{i}.cu_seqlens"] = torch.as_tensor(cu).detach().clone().to(torch.int64)
            if i == 0:
                pe = kwargs.get("position_embeddings")
                if pe is not None:
                    rec["vision.rope_cos"] = pe[0].detach().clone()
                    rec["vision.rope_sin"] = pe[1].detach().clone()
                rpe = kwargs.get("rotary_pos_emb")
                if rpe is not None:
                    rec["vision.rotary_pos_emb"] = rpe.detach().clone()
        return f

    def layer0_pre(module, args, kwargs):
        hs = args[0] if args else kwargs.get("hidden_states")
        rec["text.inputs_embeds"] = hs.detach().clone()
        pe = kwargs.get("position_embeddings")
        if pe is not None:
            rec["text.rope_cos"] = pe[0].detach().clone()
            rec["text.rope_sin"] = pe[1].detach().clone()

    has_image = "pixel_values" in batch
    if has_image:
        handles.append(visual.patch_embed.register_forward_hook(out_hook("vision.patch_embed.out")))
        for i, blk in enumerate(visual.blocks):
            handles.append(blk.register_forward_pre_hook(blk_pre(i), with_kwargs=True))
            handles.append(blk.register_forward_hook(out_hook(f"vision.block{i}.out")))
        handles.append(visual.merger.register_forward_hook(out_hook("vision.merger.out")))
    handles.append(lm.layers[0].register_forward_pre_hook(layer0_pre, with_kwargs=True))
    for i, layer in enumerate(lm.layers):
        handles.append(layer.register_forward_hook(out_hook(f"text.layer{i}.out")))
    handles.append(lm.norm.register_forward_hook(out_hook("text.norm.out")))
    try:
        out = forward(model, batch)
    finally:
        for h in handles:
            h.remove()
    logits = out.logits

    desc = {
        "vision.patch_embed.out": "patch embedding output [num_patches, vision_hidden], ORIGINAL patch order "
                                  "(the processor's row order)",
        "vision.rope_cos": "cos of the vision 2-D rotary embedding passed to every block, WINDOW order "
                           "[num_patches, vision_head_dim]",
        "vision.rope_sin": "sin, as vision.rope_cos",
        "vision.rotary_pos_emb": "older transformers: rotary angles passed to blocks (window order)",
        "vision.merger.out": "merger output BEFORE the reverse window permutation [num_tokens, text_hidden] "
                             "(window order)",
        "text.inputs_embeds": "decoder input: token embeddings with the image embeddings scattered into the "
                              "<|image_pad|> positions [1, L, hidden]",
        "text.rope_cos": "cos of the decoder M-RoPE as passed to the layers (before the mrope_section "
                         "selection) [3, 1, L, head_dim]",
        "text.rope_sin": "sin, as text.rope_cos",
        "text.norm.out": "final RMSNorm output [1, L, hidden]",
    }
    for k, v in sorted(rec.items()):
        if k.startswith("vision.block") and k.endswith(".in"):
            d = "input hidden states of this vision block [num_patches, vision_hidden], WINDOW order"
        elif k.startswith("vision.block") and k.endswith(".out"):
            d = "output hidden states of this vision block [num_patches, vision_hidden], WINDOW order"
        elif k.endswith(".cu_seqlens"):
            d = ("cumulative sequence lengths this block attends within (full-attention blocks: per image; "
                 "others: per window), int")
        elif k.startswith("text.layer"):
            d = "output of this decoder layer [1, L, hidden]"
        else:
            d = desc.get(k, k)
        put(fname, f"{prefix}.{k}", v, d)

    if has_image:
        def window_index():
            pe = rec["vision.patch_embed.out"]
            b0 = rec["vision.block0.in"]
            n = pe.shape[0] // (MERGE * MERGE)
            a = pe.reshape(n, -1)
            b = b0.reshape(n, -1)
            idx = []
            for j in range(n):
                hits = (a == b[j]).all(dim=1).nonzero().flatten().tolist()
                if len(hits) != 1:
                    raise RuntimeError(f"window index: merged group {j} matches {hits}")
                idx.append(hits[0])
            wi = torch.tensor(idx, dtype=torch.int64)
            put(fname, f"{prefix}.vision.window_index", wi,
                "window permutation of merged tokens (groups of 4 patches): window-order group j = original "
                "group window_index[j]; recovered by matching patch_embed output rows to block 0's input")
            return wi
        wi = soft(f"{prefix}: window index", window_index)

        def image_embeds():
            with torch.no_grad():
                vo = visual(batch["pixel_values"].to(torch.float32), grid_thw=batch["image_grid_thw"])
            emb = getattr(vo, "pooler_output", None)
            if emb is None:
                emb = vo[0] if isinstance(vo, (tuple, list)) else vo
            if isinstance(emb, (tuple, list)):
                emb = torch.cat(list(emb), dim=0)
            put(fname, f"{prefix}.vision.image_embeds", emb,
                "vision tower output = image embeddings (merger output in ORIGINAL token order) "
                "[num_image_tokens, text_hidden]; these replace the <|image_pad|> embeddings")
            if wi is not None and "vision.merger.out" in rec:
                check(f"{prefix}.merger_out_reordered_vs_image_embeds",
                      max_abs_diff(rec["vision.merger.out"][torch.argsort(wi)], emb), 0.0)
            if "text.inputs_embeds" in rec:
                mask = batch["input_ids"][0] == IMAGE_PAD
                check(f"{prefix}.inputs_embeds_at_image_pads_vs_image_embeds",
                      max_abs_diff(rec["text.inputs_embeds"][0][mask], emb), 0.0)
        soft(f"{prefix}: image embeddings", image_embeds)
    return logits


def make_reference_section(name):
    def sec():
        import numpy as np
        import torch
        model = STATE[name]
        proc_out = STATE["proc_out"]
        fname = f"{name}_ref.safetensors"
        rng = np.random.default_rng(SPECS[name]["seed"] + 1000)
        for case, row_specs in CASES[name].items():
            rows, images, descr = make_rows(rng, row_specs, proc_out)
            batch = collate(rows, images, proc_out)
            STATE[f"{name}.{case}.rows"] = rows
            STATE[f"{name}.{case}.images"] = images
            STATE[f"{name}.{case}.batch"] = batch
            note(fname, f"{case}.rows", descr)
            note(fname, f"{case}.images_in_order", images)
            B, L = batch["input_ids"].shape
            log(f"  {name}.{case}: B={B} L={L} lengths={[len(r) for r in rows]} images={images}")
            put(fname, f"{case}.input_ids", batch["input_ids"],
                f"[{B}, {L}] int64, LEFT-padded with {PAD_ID} (<|endoftext|>)")
            put(fname, f"{case}.attention_mask", batch["attention_mask"], "[B, L] int64, 0 on the left padding")
            put(fname, f"{case}.mm_token_type_ids", batch["mm_token_type_ids"],
                "[B, L] int64: 0 text, 1 <|image_pad|>, 2 <|video_pad|> (what the transformers 5.x processor "
                "returns; passed to forward/generate when the model accepts it)")
            if images:
                put(fname, f"{case}.pixel_values", batch["pixel_values"].to(torch.float32),
                    "processor pixel_values of the images, concatenated in the order they occur (row by row, "
                    "left to right), as float32 (the vision tower casts them to its float32 dtype)")
                put(fname, f"{case}.image_grid_thw", batch["image_grid_thw"], "[num_images, 3] int64")

            def positions():
                pos, deltas, fn_name = rope_index(model, batch)
                note(fname, f"{case}.rope_index_function", fn_name)
                put(fname, f"{case}.position_ids", pos,
                    f"[3, B, L] M-RoPE position ids (temporal, height, width) from {fn_name}; values at padding "
                    "positions are whatever transformers leaves there (ignore them)")
                put(fname, f"{case}.rope_deltas", deltas,
                    "[B, 1] rope deltas from get_rope_index: the row's max position + 1 - the row's length as "
                    "that function counts it (transformers 5.x: unpadded tokens; 4.x: padded length); "
                    "generated tokens continue from it in all three sections (see generate.*)")
                return pos, deltas
            got = soft(f"{name}.{case}: get_rope_index", positions)

            out = forward(model, batch)
            logits = out.logits.float()
            put(fname, f"{case}.logits", logits,
                "[B, L, vocab] float32 logits of the batched forward (use_cache=False); rows at padding "
                "positions are meaningless, compare where attention_mask == 1")
            STATE[f"{name}.{case}.logits"] = logits
            rd_forward = current_rope_deltas(model)
            if got is not None and rd_forward is not None:
                check(f"{name}.{case}.rope_deltas_forward_vs_get_rope_index", max_abs_diff(rd_forward, got[1]), 0.0)
            if got is not None:
                def explicit():
                    out2 = forward(model, batch, position_ids=got[0])
                    check(f"{name}.{case}.logits_explicit_position_ids_vs_implicit",
                          max_abs_diff(out2.logits.float() * batch["attention_mask"][..., None],
                                       logits * batch["attention_mask"][..., None]), 1e-5)
                soft(f"{name}.{case}: forward with explicit position_ids", explicit)

            def generation():
                seq, step_logits = greedy(model, batch, use_cache=True)
                put(fname, f"{case}.generate.sequences", seq,
                    f"[B, L+{NEW_TOKENS}] model.generate(do_sample=False, max_new_tokens={NEW_TOKENS}, "
                    f"eos_token_id=None, suppress_tokens={SUPPRESSED_IN_GENERATION}) with the KV cache: the "
                    "prompt followed by the greedy tokens")
                put(fname, f"{case}.generate.new_tokens", seq[:, L:], "[B, new] the generated tokens alone")
                if step_logits is not None:
                    put(fname, f"{case}.generate.step_logits", step_logits,
                        "[steps, B, vocab] raw logits (output_logits=True, before suppress_tokens) of each "
                        "generation step; argmax after setting the suppressed ids to -inf gives new_tokens")
                    check(f"{name}.{case}.generate_step0_logits_vs_forward_last",
                          max_abs_diff(step_logits[0], logits[:, -1, :]), 1e-4)
                if seq.shape[1] != L + NEW_TOKENS:
                    warn(f"{name}.{case}: generate returned {seq.shape[1] - L} new tokens, not {NEW_TOKENS}")
                log(f"  {name}.{case}: generated {seq[:, L:].tolist()}")

                def no_cache():
                    seq2, _ = greedy(model, batch, use_cache=False)
                    check(f"{name}.{case}.generate_without_cache_vs_with_cache_token_diff",
                          max_abs_diff(seq2, seq), 0.0)
                soft(f"{name}.{case}: generate without cache", no_cache)
            soft(f"{name}.{case}: generate", generation)
            flush(fname)

        # Unbatched: row 0 of the batch on its own, with intermediates.
        rows = STATE[f"{name}.batch.rows"]
        images = STATE[f"{name}.batch.images"]
        row0 = rows[0]
        row0_images = images[: sum(1 for t in row0 if t == VISION_START)]
        single = collate([row0], row0_images, proc_out)
        note(fname, "single", f"row 0 of 'batch' alone (no padding), images {row0_images}; "
                              "single.vision.* and single.text.* are intermediates captured with hooks")
        put(fname, "single.input_ids", single["input_ids"], "[1, L0] row 0 of the batch, unpadded")
        put(fname, "single.mm_token_type_ids", single["mm_token_type_ids"], "[1, L0]")
        if row0_images:
            note(fname, "single.pixel_values",
                 f"not stored again: images_ref.safetensors processor.<name>.pixel_values of {row0_images}, "
                 "concatenated (the first rows of batch.pixel_values)")
            put(fname, "single.image_grid_thw", single["image_grid_thw"], "[n, 3]")

        def single_positions():
            pos, deltas, _ = rope_index(model, single)
            put(fname, "single.position_ids", pos, "[3, 1, L0] M-RoPE position ids")
            put(fname, "single.rope_deltas", deltas, "[1, 1]")
        soft(f"{name}.single: get_rope_index", single_positions)
        logits1 = capture_single(model, single, fname, "single")
        put(fname, "single.logits", logits1.float(), "[1, L0, vocab] float32 logits")
        batched = STATE[f"{name}.batch.logits"][0, -len(row0):, :]
        check(f"{name}.single_vs_batched_row0_logits", max_abs_diff(logits1[0].float(), batched), 1e-4)
        flush(fname)
    return sec


# ---------------------------------------------------------------------------------------------
# Section 5: PEFT LoRA on model A
# ---------------------------------------------------------------------------------------------

def sec_lora():
    import peft
    import torch
    from peft import LoraConfig, get_peft_model
    from peft.tuners.lora import LoraLayer
    base = STATE["model_a"]
    batch = STATE["model_a.batch.batch"]
    base_logits = STATE["model_a.batch.logits"]
    fname = "lora_a_ref.safetensors"
    META["lora"] = {"peft_version": getattr(peft, "__version__", "?")}
    variants = [
        ("lora_a", list(LORA_TARGETS_LIST),
         "target_modules as a list of name suffixes: PEFT adapts every Linear whose name ends with one of them, "
         "so besides the decoder's q/k/v/o_proj and mlp gate/up/down_proj it also adapts the VISION blocks' "
         "mlp.gate_proj/up_proj/down_proj (vision attention is attn.qkv/attn.proj and is not matched)"),
        ("lora_a_text", LORA_TARGETS_TEXT_REGEX,
         "target_modules as one regular expression (re.fullmatch on the module name): decoder layers only"),
    ]
    for vi, (vname, targets, why) in enumerate(variants):
        def one(vi=vi, vname=vname, targets=targets, why=why):
            try:
                m = copy.deepcopy(base)
            except Exception as e:  # noqa: BLE001
                log(f"  deepcopy of model A raised {e!r}; reloading it from {OUT}/model_a instead")
                m, _ = load_saved(os.path.join(OUT, "model_a"))
            reset_rope_state(m)
            lcfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets, bias="none")
            pm = get_peft_model(m, lcfg)
            inner = pm.get_base_model()
            adapted = sorted(n for n, mod in inner.named_modules() if isinstance(mod, LoraLayer))
            g = torch.Generator().manual_seed(SEED + 500 + vi)
            with torch.no_grad():
                for n, p in sorted(pm.named_parameters(), key=lambda kv: kv[0]):
                    if "lora_A" in n:
                        p.copy_((torch.randn(p.shape, generator=g, dtype=torch.float64)
                                 / math.sqrt(p.shape[1])).to(p.dtype))
                    elif "lora_B" in n:
                        p.copy_((torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.2).to(p.dtype))
            logits = forward(pm, batch).logits.float()
            am = batch["attention_mask"][..., None]
            check(f"{vname}.adapter_changes_logits_max_abs", max_abs_diff(logits * am, base_logits * am))
            d = os.path.join(OUT, vname)
            os.makedirs(d, exist_ok=True)
            pm.save_pretrained(d)
            put(fname, f"{vname}.logits", logits,
                f"[B, L, vocab] model A + adapter {vname}/ on model_a_ref 'batch' inputs (attention_mask applies)")
            merged = pm.merge_and_unload()
            merged_logits = forward(merged, batch).logits.float()
            if vname == "lora_a":
                put(fname, f"{vname}.logits_merged", merged_logits,
                    "the same after merge_and_unload() (weights W + (alpha/r) B A); equals lora_a.logits within "
                    "the tolerance in meta.json checks")
            check(f"{vname}.merged_vs_adapter_logits", max_abs_diff(merged_logits * am, logits * am), 1e-4)
            STATE[f"{vname}.logits"] = logits
            META["lora"][vname] = {
                "why": why, "target_modules": targets, "r": 4, "lora_alpha": 8, "lora_dropout": 0.0,
                "scaling": 8 / 4, "bias": "none",
                "init": "lora_A ~ N(0, 1/in_features), lora_B ~ N(0, 0.2^2) from a seeded generator (lora_B "
                        "non-zero so the adapter changes the outputs)",
                "adapted_modules": adapted,
                "adapted_vision_modules": [a for a in adapted if "visual" in a],
                "files": describe_dir(d)}
            META["files"][vname + "/"] = {"kind": "PEFT adapter directory (save_pretrained)",
                                          "files": {k: {"bytes": v["bytes"]}
                                                    for k, v in META["lora"][vname]["files"].items()}}
            log(f"  {vname}: {len(adapted)} adapted modules, of which vision: "
                f"{len(META['lora'][vname]['adapted_vision_modules'])}")
            flush(fname)
        soft(f"LoRA variant {vname}", one)
    if "lora_a.logits" not in STATE and "lora_a_text.logits" not in STATE:
        raise RuntimeError("no LoRA variant succeeded")


# ---------------------------------------------------------------------------------------------
# Section 6: self-check by reloading what was saved
# ---------------------------------------------------------------------------------------------

def load_saved(d):
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration as M
    last = None
    for kw in (dict(attn_implementation="eager", dtype=torch.float32),
               dict(attn_implementation="eager", torch_dtype=torch.float32),
               dict(attn_implementation="eager"), {}):
        try:
            return M.from_pretrained(d, **kw).to(torch.float32).eval(), list(kw)
        except Exception as e:  # noqa: BLE001
            last = e
            log(f"  from_pretrained({d}, {list(kw)}) raised {e!r}")
    raise RuntimeError(f"cannot reload {d}: {last!r}")


def sec_self_check():
    for name in ("model_a", "model_b"):
        if name not in STATE:
            continue

        def one(name=name):
            d = os.path.join(OUT, name)
            m2, kw = load_saved(d)
            check(f"selfcheck.{name}.reloaded_tied_matches_spec", int(tie_state(m2) != SPECS[name]["tie"]), 0)
            sd1 = STATE[name].state_dict()
            sd2 = m2.state_dict()
            worst = 0.0
            for k, v in sd1.items():
                if k not in sd2:
                    warn(f"selfcheck {name}: reloaded model lacks {k}")
                    continue
                worst = max(worst, float((v.double() - sd2[k].double()).abs().max().item()))
            check(f"selfcheck.{name}.reloaded_state_dict_max_abs_diff", worst, 0.0)
            for case in CASES[name]:
                batch = STATE.get(f"{name}.{case}.batch")
                ref = STATE.get(f"{name}.{case}.logits")
                if batch is None or ref is None:
                    continue
                logits = forward(m2, batch).logits.float()
                am = batch["attention_mask"][..., None]
                check(f"selfcheck.{name}.{case}.reloaded_logits_max_abs_diff",
                      max_abs_diff(logits * am, ref * am), 1e-5)
            STATE[f"{name}.reloaded"] = m2
        soft(f"self-check {name}", one)

    def lora_reload(vname):
        from peft import PeftModel
        base, _ = load_saved(os.path.join(OUT, "model_a"))
        pm = PeftModel.from_pretrained(base, os.path.join(OUT, vname))
        pm.eval()
        batch = STATE["model_a.batch.batch"]
        logits = forward(pm, batch).logits.float()
        am = batch["attention_mask"][..., None]
        check(f"selfcheck.{vname}.reloaded_adapter_logits_max_abs_diff",
              max_abs_diff(logits * am, STATE[f"{vname}.logits"] * am), 1e-5)
    for vname in ("lora_a", "lora_a_text"):
        if f"{vname}.logits" in STATE:
            soft(f"self-check {vname}", lambda vname=vname: lora_reload(vname))


# ---------------------------------------------------------------------------------------------
# README and meta.json
# ---------------------------------------------------------------------------------------------

README = """# Hugging Face reference fixtures for Qwen2.5-VL parity

Produced by `scripts/hf_reference.py` (transformers {transformers}, torch {torch}, peft {peft}) on the CPU,
float32, eager attention, fixed seeds. `meta.json` lists every file and tensor (dtype, shape, meaning), the
configs, library versions and source-file hashes, the classes and functions used, and the self-checks.

## Files

| path | what |
|---|---|
| `model_a/`, `model_b/` | tiny random `Qwen2_5_VLForConditionalGeneration` checkpoints written by `save_pretrained` (config.json, model.safetensors, generation_config.json, preprocessor_config.json). A: untied lm_head, vision depth 4 with windowed attention (window_size 56 = 2x2 merged tokens) and full attention in blocks 1, 3, GQA. B: tied embeddings, window_size 84 (3x3 windows, partial at the edges), MQA, 3 layers. |
| `lora_a/`, `lora_a_text/` | PEFT LoRA adapters (r=4, alpha=8, dropout 0) for model A, `save_pretrained` layout (adapter_config.json, adapter_model.safetensors). `lora_a` uses the plain suffix list q/k/v/o_proj, gate/up/down_proj, which PEFT also matches in the vision blocks' MLPs; `lora_a_text` is restricted to the decoder by a regex. `meta.json` -> `lora` lists the adapted modules. |
| `images_ref.safetensors` | `image.<name>`: the synthetic input images, uint8 [H, W, 3] RGB; `processor.<name>.pixel_values` / `.image_grid_thw`: what the image processor (`meta.json` -> `image_processor_used`; min_pixels 3136, max_pixels 12544) produced for each image alone. `processor_alt.*` only where another processor class differed. |
| `model_a_ref.safetensors`, `model_b_ref.safetensors` | per case (`batch`; model B also `textonly`): `input_ids` (left-padded with 1), `attention_mask`, `mm_token_type_ids`, `pixel_values`, `image_grid_thw`, `position_ids` [3, B, L] and `rope_deltas` from `get_rope_index`, `logits` [B, L, V], and greedy generation (`generate.sequences`, `generate.new_tokens`, `generate.step_logits`). `single.*`: row 0 alone, with vision-tower and decoder intermediates (`single.vision.*` in window order unless stated, `single.vision.image_embeds` = merger output in original order, `single.text.*`). |
| `lora_a_ref.safetensors` | `<adapter>.logits` on model A's `batch` inputs, and `lora_a.logits_merged` after `merge_and_unload()` (they agree within the tolerance recorded in `meta.json` -> `checks`). |

## Conventions

- Special ids (medforget's tokenizer layout): 1 `<|endoftext|>` (pad, bos), 2 `<|im_start|>`, 3 `<|im_end|>` (eos),
  4 `<|vision_start|>`, 5 `<|image_pad|>`, 6 `<|vision_end|>`, 7 `<|video_pad|>`; text ids are 8..599.
- Logits at padding positions are meaningless: compare where `attention_mask == 1`.
- Generation is greedy with `suppress_tokens` = the vision/video markers (as medforget never emits them) and no eos,
  so every row gets exactly 8 new tokens; `generate.step_logits` are the raw logits before suppression.
- Random weights are redrawn so activations are O(1) (see `meta.json` -> `models.*.parameter_init`), which keeps
  greedy choices far from ties.
- Images were given to the processor as numpy uint8 HxWx3 arrays, one at a time.
"""


def write_meta_and_readme():
    META["finished_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    META["seconds"] = round(time.time() - T0, 2)
    total = 0
    for root, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    META["total_bytes_before_meta"] = total
    v = META.get("versions", {})
    try:
        with open(os.path.join(OUT, "README.md"), "w") as f:
            f.write(README.format(transformers=v.get("transformers", "?"), torch=v.get("torch", "?"),
                                  peft=v.get("peft", "?")))
        META["files"]["README.md"] = {"kind": "markdown", "description": "format description"}
    except Exception:  # noqa: BLE001
        log(traceback.format_exc())
    META["files"]["meta.json"] = {"kind": "json", "description": "this file"}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(jsonable(META), f, indent=1, sort_keys=True)
    log(f"wrote {OUT}/meta.json; fixture set {total / 1e6:.2f} MB before meta.json")
    if total > 8e6:
        log("WARNING: the fixture set is over 8 MB")


def main():
    try:
        run_section("versions", sec_versions)
        run_section("images and image processor", sec_images, needs=("versions_ok",))
        for name in ("model_a", "model_b"):
            run_section(f"build and save {name}", make_model_section(name), needs=("versions_ok",))
        for name in ("model_a", "model_b"):
            run_section(f"reference {name}", make_reference_section(name), needs=(name, "proc_out"))
        run_section("PEFT LoRA on model A", sec_lora, needs=("model_a", "model_a.batch.batch", "model_a.batch.logits"))
        run_section("self-check (reload from disk)", sec_self_check, needs=("versions_ok",))
    finally:
        write_meta_and_readme()
    failed = [k for k, v in META["sections"].items() if v.get("status") != "ok"]
    bad_checks = [k for k, v in META["checks"].items() if v.get("pass") is False]
    log(f"sections not ok: {failed or 'none'}; checks over tolerance: {bad_checks or 'none'}; "
        f"soft failures: {len(META['soft_failures'])}; warnings: {len(META['warnings'])}")
    if failed:
        return 1
    return 2 if (bad_checks or META["soft_failures"]) else 0


if __name__ == "__main__":
    sys.exit(main())
