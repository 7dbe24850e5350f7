#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "core/runtime.hpp"

int main(int argc, char** argv) {
  medforget::use_known_blas_core(argv);  // before any work: it may start the program again
  medforget::set_command_line(argc, argv);
  medforget::configure_runtime();
  medforget::warn_if_reference_blas();  // every command, as the issue asks
  CLI::App app{"medforget: hierarchy-aware multimodal unlearning for medical AI"};
  app.require_subcommand(1);
  medforget::cli::register_doctor(app);
  medforget::cli::register_data(app);
  medforget::cli::register_tokenizer(app);
  medforget::cli::register_pretrain(app);
  medforget::cli::register_finetune(app);
  medforget::cli::register_eval(app);
  medforget::cli::register_unlearn(app);
  medforget::cli::register_attack(app);
  medforget::cli::register_mia(app);
  medforget::cli::register_report(app);
  medforget::cli::register_label(app);
  medforget::cli::register_run(app);
  medforget::cli::register_export(app);
  medforget::cli::register_init(app);
  medforget::cli::register_deploy(app);
  if (argc > 1 && argv[1][0] != '-') {  // CLI11 alone says only "A subcommand is required"
    std::string names;
    bool known = false;
    for (const CLI::App* s : app.get_subcommands([](CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + s->get_name();
      known = known || s->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "error: unknown command '" << argv[1] << "' (commands: " << names << "; --help for more)\n";
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const medforget::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
