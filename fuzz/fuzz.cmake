# The libFuzzer smoke test: scripts/fuzz.sh --smoke builds the harnesses in
# fuzz/ with clang++-14 (ASan + UBSan) into build-fuzz/ and fuzzes each target
# for 30 seconds. A finding fails the test; without clang++-14 or libFuzzer
# (libclang-rt-14-dev) the script exits 77 and CTest reports the test skipped,
# with the reason in its output.
#   7 targets x 30 s + a cold build of the harnesses (about 5 min on a loaded
#   2-core machine) + libFuzzer's start-up per target.
# Each build tree fuzzes in its own directory (BUILD/fuzz), so two test runs
# (build/, build-sanitize/) never share the harness objects or corpora.
# Included from the top-level CMakeLists.txt, inside if(MEDFORGET_TESTS).
add_test(NAME fuzz.smoke COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh --smoke)
set_tests_properties(fuzz.smoke PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 PROCESSORS 1 LABELS fuzz
                     ENVIRONMENT "FUZZ_BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz")
