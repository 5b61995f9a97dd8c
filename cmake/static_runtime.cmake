# -DPA_STATIC_RUNTIME=ON (the wheel's build, pyproject.toml): a pa-gen binary
# that needs nothing but glibc, so that a wheel built here runs on a machine
# without the Debian packages it was built with. libstdc++ and libgcc are
# linked statically; fmt is used header-only; yaml-cpp from its static archive
# (libyaml-cpp-dev ships one); simdjson, whose Debian package has only the
# shared library, from its amalgamated source of the same release
# (third_party/simdjson: simdjson.cpp of v3.0.1, whose simdjson.h is
# byte-identical to Debian's /usr/include/simdjson.h).
#
# Sets PA_FMT, PA_YAML_CPP and PA_SIMDJSON to the targets the layers link.
option(PA_STATIC_RUNTIME "Link libstdc++, libgcc and the C++ libraries statically (the wheel)" OFF)
if(NOT PA_STATIC_RUNTIME)
  set(PA_FMT fmt::fmt)
  set(PA_YAML_CPP yaml-cpp)
  set(PA_SIMDJSON simdjson::simdjson)
  return()
endif()

set(PA_FMT fmt::fmt-header-only)

find_library(PA_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a REQUIRED)
add_library(pa_yaml_cpp_static STATIC IMPORTED)
set_target_properties(pa_yaml_cpp_static PROPERTIES
  IMPORTED_LOCATION ${PA_YAML_CPP_ARCHIVE}
  INTERFACE_INCLUDE_DIRECTORIES "$<TARGET_PROPERTY:yaml-cpp,INTERFACE_INCLUDE_DIRECTORIES>")
set(PA_YAML_CPP pa_yaml_cpp_static)

add_library(pa_simdjson_static STATIC ${CMAKE_CURRENT_LIST_DIR}/../third_party/simdjson/simdjson.cpp)
target_include_directories(pa_simdjson_static SYSTEM PUBLIC
  "$<TARGET_PROPERTY:simdjson::simdjson,INTERFACE_INCLUDE_DIRECTORIES>")
target_compile_definitions(pa_simdjson_static PUBLIC SIMDJSON_THREADS_ENABLED=1)
target_compile_options(pa_simdjson_static PRIVATE -w)
find_package(Threads REQUIRED)
target_link_libraries(pa_simdjson_static PUBLIC Threads::Threads)
set(PA_SIMDJSON pa_simdjson_static)

add_link_options(-static-libstdc++ -static-libgcc)
