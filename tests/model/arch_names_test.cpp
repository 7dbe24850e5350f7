// The architecture's names (model/arch_names.hpp) are the model's: every name a
// method asks for is a module the model registered, and the name predicates
// agree with where each module sits.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "model/arch_names.hpp"
#include "model/model.hpp"

using namespace medforget;

TEST(ArchNames, EveryNameTheMethodsUseIsAModuleOfTheModel) {
  for (const std::string preset : {"tiny", "small"}) {
    SCOPED_TRACE(preset);
    const ModelConfig c = model_preset_with_ids(preset, 64);
    MultimodalModel m(c);
    std::set<std::string> modules;
    for (const auto& item : m->named_modules("", false)) modules.insert(item.key());
    std::set<std::string> asked;
    for (int l = 0; l < c.num_hidden_layers; ++l) {
      asked.insert(arch::decoder_layer(l));
      asked.insert(arch::decoder_mlp(l));
      for (const auto proj : arch::kMlpProjections) asked.insert(arch::decoder_mlp_proj(l, proj));
    }
    for (int b = 0; b < c.vision_config.depth; ++b) {
      asked.insert(arch::vision_block(b));
      asked.insert(arch::vision_mlp(b));
      for (const auto proj : arch::kMlpProjections) asked.insert(arch::vision_mlp(b) + "." + std::string(proj));
    }
    asked.insert(arch::merger_fc1());
    asked.insert(arch::merger_fc2());
    for (const auto& name : asked) EXPECT_TRUE(modules.count(name)) << name << " is not a module of the model";
    EXPECT_EQ(modules.count(std::string(arch::kLmHead)), c.tie_word_embeddings ? 0u : 1u);

    // Every module sits where the predicates say: the vision tower's under "visual.",
    // each decoder layer's with its index.
    int vision = 0, decoder = 0;
    for (const auto& name : modules) {
      if (arch::in_vision(name)) {
        ++vision;
        EXPECT_FALSE(arch::decoder_layer_of(name)) << name;
      }
      if (const auto l = arch::decoder_layer_of(name)) {
        ++decoder;
        EXPECT_GE(*l, 0);
        EXPECT_LT(*l, c.num_hidden_layers) << name;
        EXPECT_EQ(name.rfind(arch::decoder_layer(*l), 0), 0u) << name;
      }
    }
    EXPECT_GT(vision, 0);
    EXPECT_GT(decoder, 0);
  }
}

TEST(ArchNames, LayerIndicesAndTransformers5Layout) {
  EXPECT_EQ(arch::decoder_layer_of("model.layers.12.mlp.up_proj"), 12);
  EXPECT_EQ(arch::decoder_layer_of("model.layers.3"), 3);
  EXPECT_FALSE(arch::decoder_layer_of("model.layers.12x.mlp"));
  EXPECT_FALSE(arch::decoder_layer_of("model.layers."));
  EXPECT_FALSE(arch::decoder_layer_of("model.layers.-1.mlp"));
  EXPECT_FALSE(arch::decoder_layer_of("model.norm"));
  EXPECT_FALSE(arch::decoder_layer_of("visual.blocks.0.mlp"));
  EXPECT_TRUE(arch::in_merger(arch::merger_fc1()));
  EXPECT_FALSE(arch::in_merger(arch::vision_mlp(0)));

  for (const std::string name : {"model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight",
                                 "visual.blocks.1.mlp.up_proj.bias", "visual.merger.mlp.0.weight", "lm_head.weight"}) {
    const std::string t5 = arch::to_transformers5(name);
    EXPECT_EQ(arch::from_transformers5(t5), name);
    EXPECT_EQ(arch::from_transformers5(name), name);  // already the 4.x layout
  }
  EXPECT_EQ(arch::to_transformers5("model.layers.0.mlp"), "model.language_model.layers.0.mlp");
  EXPECT_EQ(arch::to_transformers5("visual.merger.mlp.0"), "model.visual.merger.mlp.0");
  EXPECT_EQ(arch::to_transformers5("lm_head"), "lm_head");
}
