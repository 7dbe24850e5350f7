#pragma once
// Qwen2.5-VL's module and parameter names, in one place. The model registers its
// modules under these names (Hugging Face's checkpoint layout for transformers
// 4.x: "model.layers.N…", "visual.blocks.N…", "visual.merger.mlp.0"); unlearning
// methods, taps, LoRA and the checkpoint readers ask here for the names they
// edit, hook or translate instead of assembling strings of their own, so a layout
// change (transformers 5 moved the towers under "model.language_model." and
// "model.visual.") is made here once. No torch here.
#include <optional>
#include <string>
#include <string_view>

namespace medforget::arch {

inline constexpr std::string_view kVision = "visual.";               // the vision tower and merger
inline constexpr std::string_view kMerger = "visual.merger.";        // the patch merger
inline constexpr std::string_view kDecoderLayers = "model.layers.";  // the Qwen2 decoder's layers
inline constexpr std::string_view kLmHead = "lm_head";

// The gated MLP's projections (both towers): down(silu(gate(x)) * up(x)).
inline constexpr std::string_view kMlpProjections[] = {"gate_proj", "up_proj", "down_proj"};

std::string decoder_layer(int layer);                                 // "model.layers.3"
std::string decoder_mlp(int layer);                                   // "model.layers.3.mlp"
std::string decoder_mlp_proj(int layer, std::string_view proj);       // "model.layers.3.mlp.up_proj"
std::string vision_block(int block);                                  // "visual.blocks.1"
std::string vision_mlp(int block);                                    // "visual.blocks.1.mlp"
// The merger's two Linears around its GELU: mlp.0 (fc1) and mlp.2 (fc2).
std::string merger_fc1();  // "visual.merger.mlp.0"
std::string merger_fc2();  // "visual.merger.mlp.2"

bool in_vision(std::string_view name);  // the vision tower or the merger
bool in_merger(std::string_view name);
// The decoder layer a name lies in ("model.layers.12.mlp.up_proj" → 12); nullopt
// for names outside the decoder's layers (embedding, final norm, LM head, vision).
std::optional<int> decoder_layer_of(std::string_view name);

// transformers 5 checkpoints (and PEFT adapters written there) nest both towers
// under the model: "model.language_model.layers.N…", "model.visual.…".
std::string to_transformers5(const std::string& name);
// Either layout → the names above (a name already in them is returned as it is).
std::string from_transformers5(const std::string& name);

}  // namespace medforget::arch
