# The sanitizer build (issue 13): configured in a folder of its own with
# clang and -DPA_FUZZ=ON (scripts/fuzz.sh does it; `make test` runs that as
# the CTest test `fuzz`). Everything is compiled with AddressSanitizer,
# UndefinedBehaviorSanitizer (float-cast-overflow included) and libFuzzer's
# coverage; the manifest is read into an ordinary exact-size allocation
# (PA_MANIFEST_ON_HEAP) so that ASan sees a read past it. Included before any
# target is defined so that every library gets the flags, however the
# libraries are cut.
option(PA_FUZZ "Build with ASan and UBSan, plus the libFuzzer harnesses in tests/fuzz (clang)" OFF)
if(PA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PA_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(PA_MANIFEST_ON_HEAP)
endif()
