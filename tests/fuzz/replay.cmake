# Replays every fuzz target's seed corpus and past crashers (tests/fuzz/corpus/<name>,
# tests/fuzz/regressions/<name>) with the normal compiler, as one ctest per target labelled
# "fuzz": include it from tests/CMakeLists.txt (include(${PROJECT_SOURCE_DIR}/tests/fuzz/replay.cmake)).
# Under MLCTL_SANITIZE (scripts/test --sanitize) the replay runs with ASan and UBSan.
set(mlctl_fuzz_dir "${CMAKE_CURRENT_LIST_DIR}")
file(GLOB mlctl_fuzz_sources CONFIGURE_DEPENDS "${mlctl_fuzz_dir}/*_fuzz.cpp")
foreach(source IN LISTS mlctl_fuzz_sources)
  get_filename_component(name "${source}" NAME_WE)
  string(REGEX REPLACE "_fuzz$" "" name "${name}")
  add_executable(${name}_replay "${source}" "${mlctl_fuzz_dir}/replay_main.cpp")
  target_link_libraries(${name}_replay PRIVATE mlctl)
  add_test(NAME fuzz_replay.${name}
           COMMAND ${name}_replay "${mlctl_fuzz_dir}/corpus/${name}" "${mlctl_fuzz_dir}/regressions/${name}")
  set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()
