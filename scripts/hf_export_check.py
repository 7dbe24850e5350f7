#!/usr/bin/env python3
"""Loads a directory written by `medforget export` into transformers and records its logits.

    python3 scripts/hf_export_check.py EXPORT_DIR MODEL_A_REF.safetensors OUT.safetensors

transformers' Qwen2_5_VLForConditionalGeneration.from_pretrained(EXPORT_DIR) (float32, eager
attention, CPU) runs model A's left-padded `batch` inputs (input_ids, attention_mask,
mm_token_type_ids, pixel_values, image_grid_thw from the reference fixture); its logits go to
OUT as `export_a.logits`. AutoTokenizer.from_pretrained(EXPORT_DIR) must load, and its chat
template must render the conversation medforget encodes; the ids it gives are stored as
`export_a.chat_ids` for HfWorkflow.ExportLoadsIntoTransformersWithMedforgetsLogits to compare.
Exit status 0 when everything loaded."""
import json
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration

export_dir, ref_file, out_file = sys.argv[1:4]
ref = load_file(ref_file)
model = Qwen2_5_VLForConditionalGeneration.from_pretrained(export_dir, torch_dtype=torch.float32,
                                                           attn_implementation="eager").eval()
kw = {k: ref[f"batch.{k}"] for k in ("input_ids", "attention_mask", "pixel_values", "image_grid_thw")}
if f"batch.mm_token_type_ids" in ref:
    try:
        import inspect
        if "mm_token_type_ids" in inspect.signature(model.forward).parameters:
            kw["mm_token_type_ids"] = ref["batch.mm_token_type_ids"]
    except Exception:
        pass
with torch.no_grad():
    logits = model(**kw, use_cache=False).logits.float()
tok = AutoTokenizer.from_pretrained(export_dir)
messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the findings."}]},
            {"role": "assistant", "content": "No pleural effusion."}]
text = tok.apply_chat_template(messages, tokenize=False)
ids = tok(text, add_special_tokens=False)["input_ids"]
save_file({"export_a.logits": logits.contiguous(), "export_a.chat_ids": torch.tensor(ids, dtype=torch.int64)},
          out_file, metadata={"chat_text": text, "transformers": __import__("transformers").__version__})
print(json.dumps({"logits": list(logits.shape), "chat_tokens": len(ids), "chat_text": text}))
