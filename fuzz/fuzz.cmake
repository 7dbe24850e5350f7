# The libFuzzer smoke tests: fuzz.build builds the harnesses in fuzz/ with
# clang++-14 (ASan + UBSan) into BUILD/fuzz, then fuzz.smoke.<target> fuzzes each
# target for 30 seconds, as separate tests so that CTest spreads them over the
# cores beside the rest of the suite. A finding fails its test; without clang++-14
# or libFuzzer (libclang-rt-14-dev) the scripts exit 77 and CTest reports the
# tests skipped, with the reason in their output.
# Each build tree fuzzes in its own directory (BUILD/fuzz), so two test runs
# (build/, build-sanitize/) never share the harness objects or corpora.
# Included from the top-level CMakeLists.txt, inside if(MEDFORGET_TESTS).
set(MEDFORGET_FUZZ_TARGETS safetensors model_config tokenizer csv report_parser items corpus run_config)
add_test(NAME fuzz.build COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh --build-only)
set_tests_properties(fuzz.build PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 LABELS fuzz
                     FIXTURES_SETUP fuzz_harnesses ENVIRONMENT "FUZZ_BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz")
foreach(target IN LISTS MEDFORGET_FUZZ_TARGETS)
  add_test(NAME fuzz.smoke.${target} COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh --smoke --run-only ${target})
  # COST: start the 30-second runs early, beside the many short tests.
  set_tests_properties(fuzz.smoke.${target} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 PROCESSORS 1 LABELS fuzz
                       COST 60 FIXTURES_REQUIRED fuzz_harnesses
                       ENVIRONMENT "FUZZ_BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz")
endforeach()
