# Builds a dbt project with pa-gen and Ninja as one target of a CMake build
# (a superbuild, or a project that ships a warehouse beside its code).
#
#   include(path/to/pa-gen/templates/pa-gen.cmake)
#   pa_gen_add_dbt_project(warehouse
#     PROJECT_DIR ${CMAKE_SOURCE_DIR}/dbt       # the dbt project
#     [PA_GEN /path/to/pa-gen]                  # default: pa-gen on PATH
#     [NINJA /path/to/ninja]                    # default: ninja on PATH
#     [PA_GEN_ARGS --target prod --threads 8]   # more pa-gen options
#     [NINJA_ARGS -j8])                         # more ninja options
#
# build.ninja goes to ${CMAKE_CURRENT_BINARY_DIR}/<target>/; stamps and state
# stay in the dbt project's .pa/. The target always runs: pa-gen and ninja
# themselves decide, in milliseconds, that nothing needs doing.
function(pa_gen_add_dbt_project target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PROJECT_DIR;PA_GEN;NINJA" "PA_GEN_ARGS;NINJA_ARGS")
  if(NOT arg_PROJECT_DIR)
    message(FATAL_ERROR "pa_gen_add_dbt_project(${target}): PROJECT_DIR is required")
  endif()
  if(NOT arg_PA_GEN)
    find_program(arg_PA_GEN pa-gen REQUIRED)
  endif()
  if(NOT arg_NINJA)
    find_program(arg_NINJA ninja REQUIRED)
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${target})
  add_custom_target(${target} ALL
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${arg_PA_GEN} --project-dir ${arg_PROJECT_DIR} -o ${out_dir}/build.ninja ${arg_PA_GEN_ARGS}
    COMMAND ${arg_NINJA} -C ${out_dir} ${arg_NINJA_ARGS}
    COMMENT "dbt project ${arg_PROJECT_DIR} (pa-gen + ninja)"
    USES_TERMINAL
    VERBATIM)
endfunction()
