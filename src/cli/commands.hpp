#pragma once
// One register function per subcommand file.
#include <CLI/CLI.hpp>

namespace medforget::cli {

void register_doctor(CLI::App& app);
void register_data(CLI::App& app);
void register_tokenizer(CLI::App& app);
void register_pretrain(CLI::App& app);
void register_finetune(CLI::App& app);
void register_eval(CLI::App& app);
void register_unlearn(CLI::App& app);
void register_attack(CLI::App& app);
void register_mia(CLI::App& app);
void register_report(CLI::App& app);
void register_label(CLI::App& app);
void register_run(CLI::App& app);
void register_export(CLI::App& app);
void register_init(CLI::App& app);
void register_deploy(CLI::App& app);  // deploy, request, ledger, token, serve

}  // namespace medforget::cli
