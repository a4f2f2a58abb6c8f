// Register latency without process start or artifact copy, for bench/models.sh (issue 4:
// "register under 5 ms excluding the artifact copy"). Each run opens the registry and registers
// one version whose artifact is already stored; the floor is the same SQL (the file
// bench/models.sh takes from the registry's source) run by the sqlite3 library on the same file.
// mlctl and the floor alternate, after 2 warm-up runs each.
//
// usage: register_latency DB MODEL FLOOR_SQL RUNS
// prints: register-inproc <TAB> median ms <TAB> floor median ms <TAB> min <TAB> max <TAB> floor min <TAB> floor max
#include <mlctl/core/fs.hpp>
#include <mlctl/models/registry.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace models = mlctl::models;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "register_latency: %s\n", message.c_str());
  std::exit(1);
}

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double register_with_mlctl(const std::string& db, const std::string& model) {
  auto start = Clock::now();
  auto registry = models::Registry::open(db, models::OpenMode::existing);
  if (!registry) die(registry.error().message());
  models::NewVersion version{.name = model,
                             .artifact = {.uri = "file:///bench/artifact",
                                          .digest = "sha256:" + std::string(64, '0'),
                                          .size = 15}};
  auto registered = registry->register_version(version, {.actor = "bench", .reason = ""});
  if (!registered) die(registered.error().message());
  return elapsed_ms(start);
}

double register_with_sqlite(const std::string& db, const std::string& sql) {
  auto start = Clock::now();
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) die(sqlite3_errmsg(handle));
  sqlite3_busy_timeout(handle, 30'000);
  char* error = nullptr;
  if (sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) die(error ? error : "sqlite3_exec");
  sqlite3_close(handle);
  return elapsed_ms(start);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) die("usage: register_latency DB MODEL FLOOR_SQL RUNS");
  std::string db = argv[1], model = argv[2];
  auto sql = mlctl::core::read_file(argv[3]);
  if (!sql) die(sql.error().message());
  int runs = std::atoi(argv[4]);
  if (runs < 1) die("RUNS must be a positive number");

  for (int i = 0; i < 2; ++i) {
    register_with_mlctl(db, model);
    register_with_sqlite(db, *sql);
  }
  std::vector<double> mine, floor;
  for (int i = 0; i < runs; ++i) {
    mine.push_back(register_with_mlctl(db, model));
    floor.push_back(register_with_sqlite(db, *sql));
  }
  auto [mine_min, mine_max] = std::minmax_element(mine.begin(), mine.end());
  auto [floor_min, floor_max] = std::minmax_element(floor.begin(), floor.end());
  std::printf("register-inproc\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", median(mine), median(floor), *mine_min,
              *mine_max, *floor_min, *floor_max);
}
