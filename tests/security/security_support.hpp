#pragma once

#include <mlctl/core/process.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <support/sqlite_rows.hpp>

namespace mlctl::test::security {

// The busybox base image layout (tests/fixtures/make-base-image busybox), made once into
// MLCTL_SECURITY_CACHE and shared by every test process: CTest runs each test in its own process,
// and making it takes seconds. Keyed by the script's digest, published by rename so concurrent
// tests never see half of one. Fails the test (and returns an empty path) when it cannot be made.
std::filesystem::path busybox_base();

// The environment of an mlctl run that may only use what the test gives it: HOME, TMPDIR,
// MLCTL_CACHE_DIR and DOCKER_CONFIG under `dir`, no registry credentials or CA settings from this
// machine, the registry and base the shell-app example names, and a fixed epoch.
std::map<std::string, std::string> isolated_env(const std::filesystem::path& dir, const std::string& registry,
                                                const std::string& base);

// The line of `err` that reports the error (progress lines come before it), or "".
std::string error_line(const std::string& err);
// The "hint: " line right after the error line, or "".
std::string hint_line(const std::string& err);

// Where each of `secrets` shows up in what a run printed: "stdout contains 'SECRET'". Compared
// case-insensitively, so "authorization:" finds "Authorization:" too.
std::vector<std::string> leaks_in_output(const core::Completed& run, const std::vector<std::string>& secrets);
// The same for every file under `root` except those under `skip` (where the test keeps the
// secrets it hands mlctl): "FILE contains 'SECRET'", FILE relative to `root`.
std::vector<std::string> leaks_in_files(const std::filesystem::path& root,
                                        const std::vector<std::filesystem::path>& skip,
                                        const std::vector<std::string>& secrets);

using test::sql_rows;  // tests/support/sqlite_rows.hpp


}  // namespace mlctl::test::security
