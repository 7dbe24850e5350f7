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
  medforget::cli::register_finetune(app);
  medforget::cli::register_eval(app);
  medforget::cli::register_unlearn(app);
  medforget::cli::register_attack(app);
  medforget::cli::register_mia(app);
  medforget::cli::register_report(app);
  medforget::cli::register_label(app);
  medforget::cli::register_run(app);
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
